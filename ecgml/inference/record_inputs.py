"""What the fold ensemble needs of one recording besides its windows: the tabular
input and the stacked forests' input, both measured as ``ecgml prepare`` measures
them, and a check of the recording's duration against the run's training records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.record_types import RecordHeader
from ecgml.data.tabular import TabularConfig, baseline_values, metadata_row, tabular_matrix
from ecgml.training.layout import MANIFEST
from ecgml.training.stack import FOREST_INPUT

# a record more than this many times longer than the longest training record, or
# shorter than the shortest divided by it, is flagged (a rate read wrong by a factor
# of 5, 500 Hz read as 100 Hz, makes a 10 s record 50 s long)
DURATION_FACTOR = 2.0


def _row(windows: np.ndarray, metadata: dict[str, Any] | None, pre: PreprocessConfig, baseline):
    row = metadata_row(metadata)
    if baseline:
        features = baseline_values(
            windows[0], pre.fs, pre.leads, age=row["age"], sex=row["sex"] or None
        )
        row.update(features)
    return row


def forest_input(
    pre: PreprocessConfig,
    windows: Sequence[np.ndarray],
    metadata: Sequence[dict[str, Any] | None],
) -> np.ndarray:
    """The stacked forests' input of recordings (:data:`~ecgml.training.stack.FOREST_INPUT`):
    age and sex from ``metadata``, the hand-crafted features of each first window."""
    rows = [_row(w, meta, pre, True) for w, meta in zip(windows, metadata, strict=True)]
    return tabular_matrix(pd.DataFrame(rows), FOREST_INPUT, pre.leads)


def record_tabular(
    tab: TabularConfig,
    pre: PreprocessConfig,
    windows: np.ndarray,
    metadata: dict[str, Any] | None = None,
) -> np.ndarray | None:
    """The tabular input of one recording ``(1, n_columns)``, or ``None`` for a
    signal-only run.

    Args:
        tab, pre: the run's tabular and preprocessing config.
        windows: the recording's preprocessed windows (the baseline features are
            measured on the first, as ``ecgml prepare`` does).
        metadata: ``age``, ``sex``, ``height``, ``weight``, ``notes``; what is not
            given counts as missing.

    Raises:
        ValueError: the run's tabular input has index columns (RR features of
            beats), which a recording does not have; or bad metadata.
    """
    if not tab.enabled:
        return None
    if tab.features:
        raise ValueError(
            f"the models take the cache columns {list(tab.features)}, which "
            "cannot be computed for one recording"
        )
    row = _row(windows, metadata, pre, tab.baseline)
    return tabular_matrix(pd.DataFrame([row]), tab, pre.leads)


def duration_warning(header: RecordHeader | None, seconds: dict[str, float] | None) -> str | None:
    """A note for a record whose duration is implausible for the run: more than
    :data:`DURATION_FACTOR` times outside the range of its training records
    (``manifest.json``'s ``record_seconds``); ``None`` where it is plausible,
    where the record has no rate (an image file) or the run predates the range."""
    if header is None or not header.fs or not seconds:
        return None
    duration = header.n_samples / header.fs
    low, high = seconds["min"], seconds["max"]
    if low / DURATION_FACTOR <= duration <= high * DURATION_FACTOR:
        return None
    return (
        f"{duration:g} s at {header.fs:g} Hz is implausible for this run, whose training "
        f"records lasted {low:g}-{high:g} s: check the sampling rate"
    )


def training_seconds(run: Path) -> dict[str, float] | None:
    """The range of the run's training record durations (``manifest.json``'s
    ``record_seconds``); ``None`` for a run written before ecgml recorded it."""
    manifest = Path(run) / MANIFEST
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text()).get("record_seconds")
