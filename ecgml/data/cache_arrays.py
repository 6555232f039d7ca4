"""A cache from windows already in memory (synthetic data of a chosen size, for
benchmarks and tests), in the layout ``ecgml prepare`` writes (:mod:`ecgml.data.cache`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.data.cache import write_labels, write_meta
from ecgml.data.cache_files import Writer
from ecgml.data.cache_reader import META, Cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.samples import sample_kind_of

__all__ = ["write_cache_arrays"]


def write_cache_arrays(
    out: str | Path,
    chunks: Iterable[tuple[np.ndarray, Sequence[str]]],
    preprocess: PreprocessConfig,
    labels: LabelConfig,
    *,
    reader: str = "cinc2020",
    source: str = "synthetic",
) -> Cache:
    """A cache from windows already in memory, one window per record, for benchmarks
    of synthetic data of a chosen size.

    Args:
        out: the cache folder (created; must not hold a cache).
        chunks: ``(windows, label_tokens)`` pairs: float32 windows of shape
            ``(n, preprocess.window, len(preprocess.leads))`` and one comma-joined
            label string per window.
        preprocess, labels: the settings written to ``meta.json``.
        reader: the reader name recorded in ``meta.json``.
        source: the ``source`` and ``folder`` of every record.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if (out / META).exists():
        raise ValueError(f"{out} already holds a cache")
    shape = sample_kind_of(preprocess).row_shape(preprocess)
    writer = Writer(out, shape)
    rows: list[dict[str, Any]] = []
    try:
        for windows, dx in chunks:
            if windows.shape[1:] != shape or len(windows) != len(dx):
                raise ValueError(
                    f"expected windows (n, {shape[0]}, {shape[1]}) with n labels, got "
                    f"{windows.shape} and {len(dx)}"
                )
            first = writer.append(windows)
            for k, codes in enumerate(dx):
                rid = f"S{len(rows):07d}"
                rows.append(
                    {
                        "record_id": rid,
                        "folder": source,
                        "source": source,
                        "path": rid,
                        "patient_id": "",
                        "age": "",
                        "sex": "",
                        "fs": preprocess.fs,
                        "n_samples": preprocess.window,
                        "dx": codes,
                        "row": first + k,
                        "n_windows": 1,
                        "fingerprint": "",
                        "warnings": "",
                        "sample": -1,
                    }
                )
        index = writer.checkpoint(rows)
    finally:
        writer.close()
    write_labels(out, index, labels)
    write_meta(out, preprocess, labels, reader, complete=True)
    return Cache(out)
