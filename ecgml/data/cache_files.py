"""The cache's signal file: appending rows, checkpointing the index, compacting.

``signals.f32`` grows by appends; ``index.csv`` is replaced atomically at each
checkpoint and says which rows are live (:mod:`ecgml.data.cache`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgml.data.cache_reader import INDEX, INDEX_COLUMNS, SIGNALS
from ecgml.files import atomic_write


class Writer:
    """Appends windows to ``signals.f32`` and checkpoints the index."""

    def __init__(self, out: Path, shape: tuple[int, int]) -> None:
        self.out = out
        self.row_bytes = int(np.prod(shape)) * 4
        path = out / SIGNALS
        path.touch()
        self.n_rows = path.stat().st_size // self.row_bytes
        self.file = open(path, "r+b")  # noqa: SIM115 -- closed in close()
        self.file.truncate(self.n_rows * self.row_bytes)  # drop a torn last row
        self.file.seek(0, os.SEEK_END)

    def append(self, windows: np.ndarray) -> int:
        row = self.n_rows
        self.file.write(np.ascontiguousarray(windows, dtype=np.float32).tobytes())
        self.n_rows += windows.shape[0]
        return row

    def checkpoint(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        self.file.flush()
        os.fsync(self.file.fileno())
        extra = sorted({key for row in rows for key in row} - set(INDEX_COLUMNS))
        index = pd.DataFrame(rows, columns=[*INDEX_COLUMNS, *extra])
        atomic_write(self.out / INDEX, lambda p: index.to_csv(p, index=False))
        return index

    def close(self) -> None:
        self.file.close()


def compact(out: Path, index: pd.DataFrame, shape: tuple[int, int]) -> pd.DataFrame:
    """Rewrite ``signals.f32`` with only the rows the index references.

    Two-phase: the new signals and the new index are written beside the old
    ones, then renamed, signals first. :func:`recover_compaction` finishes or
    undoes a compaction that a crash interrupted.
    """
    old = np.memmap(out / SIGNALS, dtype=np.float32, mode="r").reshape(-1, *shape)
    new_rows = np.zeros(len(index), dtype=np.int64)
    with open(out / (SIGNALS + ".tmp"), "wb") as f:
        row = 0
        for i, (start, count) in enumerate(zip(index["row"], index["n_windows"], strict=True)):
            f.write(np.ascontiguousarray(old[start : start + count]).tobytes())
            new_rows[i] = row
            row += count
        f.flush()
        os.fsync(f.fileno())
    del old
    index = index.assign(row=new_rows)
    atomic_write(out / (INDEX + ".compact"), lambda p: index.to_csv(p, index=False))
    os.replace(out / (SIGNALS + ".tmp"), out / SIGNALS)
    os.replace(out / (INDEX + ".compact"), out / INDEX)
    return index


def recover_compaction(out: Path) -> None:
    """Finish or undo a compaction that stopped half-way."""
    signals_tmp, index_compact = out / (SIGNALS + ".tmp"), out / (INDEX + ".compact")
    if signals_tmp.exists():  # the old signals are still in place: undo
        signals_tmp.unlink()
        index_compact.unlink(missing_ok=True)
    elif index_compact.exists():  # the new signals are in place: finish
        os.replace(index_compact, out / INDEX)
