"""Per-beat output tables of a beat task: ``beats/RECORD.csv`` and ``beats/summary.csv``,
and the one prediction path of a beat record (:func:`predict_beat_table`), which
``ecgml predict`` and the web app share."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from ecgml.data.loading import PreparedRecord
    from ecgml.inference.ensemble import Ensemble

# AAMI EC57's ectopic classes (supraventricular, ventricular, fusion)
ECTOPIC = ("S", "V", "F")


def beat_table(
    samples: np.ndarray,
    fs: float,
    y_score: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One record's beats: ``sample`` (R peak at the record's rate), ``time_s``,
    ``class`` (decided), ``label`` (the annotated class, where known) and
    ``p_<class>`` per class."""
    classes = list(classes)
    table = pd.DataFrame(
        {
            "sample": np.asarray(samples, dtype=np.int64),
            "time_s": np.round(np.asarray(samples, dtype=np.float64) / fs, 4),
            "class": np.asarray(classes, dtype=object)[np.asarray(y_pred).argmax(axis=1)],
            "label": list(labels) if labels is not None else [""] * len(samples),
            **{f"p_{c}": np.round(y_score[:, k], 5) for k, c in enumerate(classes)},
        }
    )
    return table


def beat_counts(table: pd.DataFrame, classes: Sequence[str]) -> dict[str, Any]:
    """The number of beats, the count of each decided class, and the share of
    ectopic beats (decided S, V or F)."""
    counts = table["class"].value_counts()
    ectopic = sum(int(counts.get(c, 0)) for c in ECTOPIC if c in classes)
    return {
        "beats": len(table),
        **{c: int(counts.get(c, 0)) for c in classes},
        "ectopic_share": round(ectopic / len(table), 4) if len(table) else None,
    }


def write_beat_tables(
    folder: Path,
    index: pd.DataFrame,
    y_score: np.ndarray,
    y_pred: np.ndarray,
    classes: Sequence[str],
) -> pd.DataFrame:
    """Write :func:`beat_table` per record of a beat cache, and ``summary.csv`` of
    :func:`beat_counts` per record.

    Args:
        folder: created if needed.
        index: the cache rows of the beats (``path``, ``sample``, ``fs``, ``dx``).
        y_score, y_pred: shape ``(n_beats, n_classes)``.
        classes: the class of each column.

    Returns:
        The summary table.
    """
    folder.mkdir(parents=True, exist_ok=True)
    records = np.array([Path(p).stem for p in index["path"]], dtype=object)
    rows = []
    for record in sorted(set(records)):
        mine = np.nonzero(records == record)[0]
        part = index.iloc[mine]
        table = beat_table(
            part["sample"].to_numpy(),
            float(part["fs"].iloc[0]),
            y_score[mine],
            y_pred[mine],
            classes,
            part["dx"].tolist(),
        )
        table.to_csv(folder / f"{record}.csv", index=False)
        rows.append({"record": record, **beat_counts(table, classes)})
    summary = pd.DataFrame(rows)
    summary.to_csv(folder / "summary.csv", index=False)
    return summary


def predict_beat_table(
    ensemble: Ensemble, prepared: PreparedRecord, *, rule: str | None = None
) -> pd.DataFrame:
    """A beat run's decisions for the beats of one record (read by its sample kind's
    :meth:`~ecgml.data.samples.SampleKind.read_for_prediction`), as :func:`beat_table`."""
    fold_scores = ensemble.predict_proba(
        prepared.windows, batch_size=512, features=prepared.beat_features
    )
    y_pred, y_score = ensemble.decide(fold_scores, rule=rule)
    return beat_table(
        prepared.beat_samples,
        prepared.header.fs,
        y_score,
        y_pred,
        list(ensemble.abbreviations),
        prepared.beat_labels,
    )
