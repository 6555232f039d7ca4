"""Synthetic records in the MIT-BIH layout: two leads (MLII and V1) at 360 Hz in a
format-16 ``.dat``, and a ``.atr`` file of beat annotations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecgml.data.annotations import write_annotations
from ecgml.data.records import write_record

FS = 360.0


def write_mitbih(
    directory: Path,
    record_id: str,
    symbols: Sequence[str],
    *,
    rr_s: float = 0.8,
    seed: int = 0,
    leads: Sequence[str] = ("MLII", "V1"),
    tail_s: float = 1.0,
) -> tuple[Path, np.ndarray]:
    """Write a record with one annotation per symbol, every ``rr_s`` seconds from 0.5 s.

    A beat whose symbol is ``V`` is drawn wide and tall, others narrow; non-beat
    symbols (``+``, ``~``) get no wave. Returns the header path and the annotated samples.
    """
    rng = np.random.default_rng(seed)
    samples = np.round((0.5 + rr_s * np.arange(len(symbols))) * FS).astype(np.int64)
    n = int(samples[-1] + tail_s * FS) if len(samples) else int(tail_s * FS)
    t = np.arange(n)
    x = rng.normal(0, 0.01, n)
    for s, sym in zip(samples, symbols, strict=True):
        if sym in ("+", "~"):
            continue
        width, height = (0.04, 2.0) if sym == "V" else (0.012, 1.0)
        x += height * np.exp(-0.5 * ((t - s) / (width * FS)) ** 2)
    signal = np.stack([x * (k + 1) for k in range(len(leads))], axis=1)
    header = write_record(directory, record_id, signal, FS, leads, signal_format="dat", gain=200)
    write_annotations(header, samples, symbols)
    return header, samples
