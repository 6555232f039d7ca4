"""Synthetic records in the CinC 2017 layout: single lead, 300 Hz, a header whose
record line has an ISO date before the time (the validation set's headers) or
no date at all (the training set's), and a ``REFERENCE.csv``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecgml.data.records import write_record

FS = 300.0


def beat_train(beat_times: np.ndarray, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Narrow Gaussian R waves at the given times (s), with a small T wave and noise (mV)."""
    t = np.arange(n_samples) / FS
    x = np.zeros(n_samples)
    for b in beat_times:
        x += 1.0 * np.exp(-0.5 * ((t - b) / 0.012) ** 2)
        x += 0.2 * np.exp(-0.5 * ((t - b - 0.25) / 0.04) ** 2)
    return x + rng.normal(0, 0.02, n_samples)


def synthetic_signal(label: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """N: regular at 70 bpm; A: irregular RR; O: regular at 130 bpm; ~: noise only."""
    n = int(seconds * FS)
    if label == "~":
        return rng.normal(0, 0.4, n)
    if label == "A":
        rr = rng.uniform(0.45, 1.1, size=int(seconds / 0.45) + 2)
    else:
        rr = np.full(int(seconds / 0.4) + 2, 60 / (130 if label == "O" else 70))
    times = np.cumsum(rr)
    return beat_train(times[times < seconds - 0.3], n, rng)


def write_cinc2017(
    directory: Path,
    labels: Sequence[str],
    *,
    seed: int = 0,
    seconds: Sequence[float] | None = None,
    reference: bool = True,
    dated: bool = True,
) -> list[Path]:
    """Write records ``A00001...`` with the given labels; returns their header paths.
    ``dated``: the record line ends with an ISO date and a time; otherwise with the
    number of samples, as in the training set's headers."""
    rng = np.random.default_rng(seed)
    seconds = seconds or [float(rng.uniform(9, 20)) for _ in labels]
    paths = []
    for i, (label, length) in enumerate(zip(labels, seconds, strict=True), start=1):
        rid = f"A{i:05d}"
        path = write_record(
            directory, rid, synthetic_signal(label, length, rng)[:, None], FS, ["ECG"], dx=()
        )
        lines = path.read_text().splitlines()
        # the CinC 2017 header: ISO date, then the time, or neither; no #Dx comments
        lines[0] = f"{rid} 1 300 {int(length * FS)}" + (" 2014-05-08 05:05:15" if dated else "")
        path.write_text("\n".join(line for line in lines if not line.startswith("#")) + "\n")
        paths.append(path)
    if reference:
        (directory / "REFERENCE.csv").write_text(
            "".join(f"A{i:05d},{label}\n" for i, label in enumerate(labels, start=1))
        )
    return paths
