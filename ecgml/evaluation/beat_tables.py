"""Per-beat output tables of a beat task: ``beats/RECORD.csv`` and ``beats/summary.csv``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# AAMI EC57's ectopic classes (supraventricular, ventricular, fusion)
ECTOPIC = ("S", "V", "F")


def write_beat_tables(
    folder: Path,
    index: pd.DataFrame,
    y_score: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
) -> pd.DataFrame:
    """Write one CSV per record, one row per beat, and a summary per record.

    ``RECORD.csv`` columns: ``sample`` (R peak at the record's rate), ``time_s``,
    ``class`` (decided), ``label`` (the annotated class, where known) and
    ``p_<class>`` per class. ``summary.csv``: per record, the number of beats,
    the count of each decided class and the share of ectopic beats (S, V, F).

    Args:
        folder: created if needed.
        index: the cache rows of the beats (``path``, ``sample``, ``fs``, ``dx``).
        y_score, y_pred: shape ``(n_beats, n_classes)``.
        classes: the class of each column.

    Returns:
        The summary table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    classes = list(classes)
    decided = np.asarray(classes, dtype=object)[np.asarray(y_pred).argmax(axis=1)]
    table = pd.DataFrame({
        "record": [Path(p).stem for p in index["path"]],
        "sample": index["sample"].to_numpy(np.int64),
        "time_s": np.round(index["sample"].to_numpy(float) / index["fs"].to_numpy(float), 4),
        "class": decided,
        "label": index["dx"].to_numpy(),
        **{f"p_{c}": np.round(y_score[:, k], 5) for k, c in enumerate(classes)},
    })  # fmt: skip
    rows = []
    for record, beats in table.groupby("record", sort=True):
        beats.drop(columns="record").to_csv(folder / f"{record}.csv", index=False)
        counts = beats["class"].value_counts()
        ectopic = sum(int(counts.get(c, 0)) for c in ECTOPIC if c in classes)
        rows.append({
            "record": record, "beats": len(beats),
            **{c: int(counts.get(c, 0)) for c in classes},
            "ectopic_share": round(ectopic / len(beats), 4),
        })  # fmt: skip
    summary = pd.DataFrame(rows)
    summary.to_csv(folder / "summary.csv", index=False)
    return summary
