"""The tabular input: a vector of numbers per record, beside its signal.

A run's ``tabular`` section builds it from up to four blocks, in this order:

* ``features``: columns of the cache's index as they are (a beat cache's RR
  features, :data:`ecgml.data.beats.RR_FEATURES`);
* ``metadata``: the record's age, sex, height and weight, each as a value and a
  0/1 indicator of whether it is missing (``age``, ``age_missing``,
  ``sex_male``, ``sex_missing``, ...);
* ``baseline``: the hand-crafted features of :mod:`ecgml.baseline` (rhythm,
  intervals, median-beat morphology, QRS axis) of the record's first window,
  computed by ``ecgml prepare`` and cached as index columns ``f_<name>``;
* ``notes``: a hashed bag of words of the record's free-text notes (PTB-XL's
  ``report``), scikit-learn's ``HashingVectorizer``: stateless, so no
  vocabulary is learned from any record. Off by default: a report is a
  cardiologist's reading of the same ECG and gives diagnostic labels away.

Missing values stay NaN here; the model replaces them with the training fold's
mean and standardises every column with the training fold's statistics
(:func:`ecgml.models.fusion.with_tabular`), so a prediction needs nothing but
this vector.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

METADATA = ("age", "sex", "height", "weight")
BASELINE_PREFIX = "f_"
NOTES_PREFIX = "note_"
# what the metadata block already holds, left out of the baseline block
_BASELINE_DUPLICATES = ("age", "sex_male")


@dataclasses.dataclass(frozen=True)
class TabularConfig:
    """A second model input (module docstring), fused late with any signal model.

    Attributes:
        features: index columns taken as they are; empty for none.
        metadata: any of ``"age"``, ``"sex"``, ``"height"``, ``"weight"``.
        baseline: the hand-crafted features of :mod:`ecgml.baseline`, cached by
            ``ecgml prepare`` (a cache prepared without them is refused).
        notes: buckets of the hashed bag of words of the record's notes; 0 for
            none. Leaks the diagnosis where the notes are a report of the ECG.
        units: units of the dense layer of the tabular branch.
        dropout: dropout after it.
    """

    features: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    baseline: bool = False
    notes: int = 0
    units: int = 16
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"features names a column twice: {self.features}")
        unknown = [m for m in self.metadata if m not in METADATA]
        if unknown or len(set(self.metadata)) != len(self.metadata):
            raise ValueError(
                f"metadata must name each of {METADATA} at most once, got {self.metadata}"
            )
        if self.notes < 0:
            raise ValueError(f"notes must be 0 (off) or a number of buckets, got {self.notes}")
        if self.units < 1 or not 0.0 <= self.dropout < 1.0:
            raise ValueError(
                f"units must be positive and dropout in [0, 1), got {self.units}, {self.dropout}"
            )

    @property
    def enabled(self) -> bool:
        """Whether the model takes a tabular input at all."""
        return bool(self.features or self.metadata or self.baseline or self.notes)


NOTES_WARNING = (
    "WARNING: tabular.notes feeds each record's free-text notes to the model. Where the "
    "notes are a report of the same ECG (PTB-XL's 'report'), they state the diagnosis, and "
    "scores on diagnostic labels then measure reading the report, not the ECG."
)


def warn_notes_leak(config: TabularConfig) -> None:
    """Say loudly, on the console, that a run with notes learns from what may be the answer."""
    if config.notes:
        bar = "!" * 78
        print(f"{bar}\n{NOTES_WARNING}\n{bar}", file=sys.stderr)


def baseline_names(leads: Sequence[str]) -> list[str]:
    """The ``baseline`` block's column names for a model's leads."""
    from ecgml.baseline import feature_names

    return [f"{BASELINE_PREFIX}{n}" for n in feature_names(leads) if n not in _BASELINE_DUPLICATES]


def column_names(config: TabularConfig, leads: Sequence[str]) -> list[str]:
    """The names of the tabular vector's columns, in order."""
    names = list(config.features)
    for item in config.metadata:
        names += ["sex_male", "sex_missing"] if item == "sex" else [item, f"{item}_missing"]
    if config.baseline:
        names += baseline_names(leads)
    names += [f"{NOTES_PREFIX}{k}" for k in range(config.notes)]
    return names


def record_columns(
    header: Any,
    first_window: np.ndarray | None,
    fs: float,
    leads: Sequence[str],
    *,
    baseline: bool,
) -> dict[str, Any]:
    """What ``ecgml prepare`` caches for the tabular input, as index columns.

    Args:
        header: the record's :class:`~ecgml.data.records.RecordHeader`.
        first_window: its first preprocessed window ``(window, n_leads)``, for the
            baseline features; ``None`` when ``baseline`` is off.
        fs: the window's rate in Hz.
        leads: the window's lead names.
        baseline: compute the hand-crafted features.

    Returns:
        ``height``, ``weight`` (NaN when unknown), ``notes`` (text), and with
        ``baseline`` every ``f_<name>`` column.
    """
    row: dict[str, Any] = {
        "height": math.nan if header.height is None else float(header.height),
        "weight": math.nan if header.weight is None else float(header.weight),
        "notes": header.notes,
    }
    if baseline:
        row.update(baseline_values(first_window, fs, leads, age=header.age, sex=header.sex))
    return row


def baseline_values(
    window: np.ndarray, fs: float, leads: Sequence[str], *, age: float | None, sex: str | None
) -> dict[str, float]:
    """The baseline block of one record, ``{f_<name>: value}`` (NaN where not measurable)."""
    from ecgml.baseline import extract_features, feature_names

    values = extract_features(window, fs, leads, age=age, sex=sex)
    return {
        f"{BASELINE_PREFIX}{n}": round(float(v), 6)
        for n, v in zip(feature_names(leads), values, strict=True)
        if n not in _BASELINE_DUPLICATES
    }


def _sex_male(values: pd.Series) -> np.ndarray:
    code = (
        values.astype(str)
        .str.strip()
        .str.lower()
        .map({"male": 1.0, "m": 1.0, "female": 0.0, "f": 0.0})
    )
    return code.to_numpy(np.float64, na_value=np.nan, copy=True)


def hash_notes(texts: Sequence[str], n_buckets: int) -> np.ndarray:
    """Word counts of each text in ``n_buckets`` hashed buckets, ``(len(texts), n_buckets)``."""
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(n_features=n_buckets, alternate_sign=False, norm=None)
    return vectorizer.transform([str(t) for t in texts]).toarray().astype(np.float32)


def tabular_matrix(rows: pd.DataFrame, config: TabularConfig, leads: Sequence[str]) -> np.ndarray:
    """The tabular input of every row, float32 ``(len(rows), len(column_names(...)))``.

    Args:
        rows: a cache's index (or one row per new record with the same columns:
            ``age``, ``sex``, ``height``, ``weight``, ``notes``, ``f_*``, and the
            ``features`` columns).
        config: the run's ``tabular`` section.
        leads: the model's leads (names of the baseline columns).

    NaN marks a missing metadata value (its indicator column is 1) or a baseline
    feature that could not be measured; the model fills both.

    Raises:
        ValueError: a column the rows do not have (a cache prepared without the
            baseline features, or an older cache), or an empty ``features`` value.
    """
    n = len(rows)
    blocks: list[np.ndarray] = []
    if config.features:
        numeric = [
            c
            for c in rows.columns
            if c not in ("row", "n_windows", "sample") and pd.api.types.is_numeric_dtype(rows[c])
        ]
        missing = [c for c in config.features if c not in numeric]
        if missing:
            raise ValueError(f"no feature column(s) {missing}; the rows have {numeric}")
        values = rows[list(config.features)].to_numpy(np.float64)
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            example = rows["record_id"].iloc[int(np.argmax(bad))]
            raise ValueError(
                f"{int(bad.sum())} row(s) lack a value of {list(config.features)}, "
                f"for example {example}"
            )
        blocks.append(values)
    for item in config.metadata:
        if item not in rows.columns:
            raise ValueError(f"no {item!r} column; prepare the records again with this ecgml")
        if item == "sex":
            value = _sex_male(rows["sex"])
        else:
            value = pd.to_numeric(rows[item].replace("", np.nan), errors="coerce").to_numpy(
                np.float64, na_value=np.nan, copy=True
            )
            value[value <= 0] = np.nan  # an age, height or weight of 0 means unknown
        blocks.append(np.column_stack([value, np.isnan(value).astype(np.float64)]))
    if config.baseline:
        names = baseline_names(leads)
        missing = [c for c in names if c not in rows.columns]
        if missing:
            raise ValueError(
                f"no baseline feature columns ({len(missing)} of {len(names)} missing, e.g. "
                f"{missing[0]}); prepare the cache with a config whose tabular.baseline or "
                "stack.forest is on"
            )
        blocks.append(rows[names].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64))
    if config.notes:
        texts = rows["notes"].fillna("") if "notes" in rows.columns else [""] * n
        blocks.append(hash_notes(list(texts), config.notes))
    if not blocks:
        return np.zeros((n, 0), np.float32)
    return np.concatenate(blocks, axis=1).astype(np.float32)


def metadata_row(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new record's metadata as one row of :func:`tabular_matrix`'s input: ``age``,
    ``sex``, ``height``, ``weight`` (missing: NaN or ``""``) and ``notes``."""
    metadata = dict(metadata or {})
    unknown = sorted(set(metadata) - {*METADATA, "notes"})
    if unknown:
        raise ValueError(f"unknown metadata {unknown}; expected some of {[*METADATA, 'notes']}")

    def number(key: str) -> float:
        value = metadata.get(key)
        try:
            return math.nan if value is None or value == "" else float(value)
        except (TypeError, ValueError):
            raise ValueError(f"metadata {key} must be a number, got {value!r}") from None

    return {
        "age": number("age"),
        "sex": "" if metadata.get("sex") is None else str(metadata["sex"]),
        "height": number("height"),
        "weight": number("weight"),
        "notes": str(metadata.get("notes") or ""),
    }


def header_metadata(header: Any) -> dict[str, Any]:
    """What a record's header says for the tabular input: ``age``, ``sex``, ``height``,
    ``weight`` and ``notes`` (``None`` or ``""`` where unknown)."""
    return {
        "age": header.age,
        "sex": header.sex,
        "height": header.height,
        "weight": header.weight,
        "notes": header.notes,
    }
