"""Fixed, saved cross-validation folds: multilabel-stratified, grouped by patient."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold
from sklearn.model_selection import StratifiedKFold

from ecgml.files import write_json


def make_folds(
    y_true: np.ndarray,
    *,
    n_folds: int = 5,
    seed: int = 42,
    groups: Sequence[str] | None = None,
) -> np.ndarray:
    """Assign every record to a fold.

    Records that share a group (a patient) land in the same fold. Groups are
    stratified on the union of their records' labels with iterative
    stratification (Sechidis et al., 2011; ``iterative-stratification``); with one
    class (a yes/no task), on that class with scikit-learn's ``StratifiedKFold``,
    as the iterative splitter takes two classes or more.

    Args:
        y_true: multi-hot labels, shape ``(n_records, n_classes)``.
        n_folds: number of folds.
        seed: shuffling seed; the same inputs and seed give the same folds.
        groups: one group id per record; empty or ``None`` ids are their own group.

    Returns:
        int array, shape ``(n_records,)``: the fold of each record, ``0 .. n_folds - 1``.
    """
    y_true = np.asarray(y_true)
    n = y_true.shape[0]
    if n < n_folds:
        raise ValueError(f"{n} records cannot make {n_folds} folds")
    keys = [g if g else f"\0record{i}" for i, g in enumerate(groups or [None] * n)]
    unique, group_of = np.unique(np.asarray(keys, dtype=object).astype(str), return_inverse=True)
    if len(unique) < n_folds:
        raise ValueError(f"{len(unique)} patients cannot make {n_folds} folds")
    y_group = np.zeros((len(unique), y_true.shape[1]), dtype=np.int64)
    np.maximum.at(y_group, group_of, y_true.astype(np.int64))
    if y_group.shape[1] == 1:
        splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        y_group = y_group[:, 0]
    else:
        splitter = MultilabelStratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    fold_of_group = np.zeros(len(unique), dtype=np.int64)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(unique)), y_group)):
        fold_of_group[test] = fold
    return fold_of_group[group_of]


HELD_OUT = -1
UNUSED = -2
TRAIN_ONLY = -3  # in every fold's training part, in none's validation (a predefined split)


def in_training(folds: np.ndarray, fold: int) -> np.ndarray:
    """Which records fold ``fold`` trains on: the other folds' and the train-only ones."""
    folds = np.asarray(folds)
    return ((folds != fold) & (folds >= 0)) | (folds == TRAIN_ONLY)


def save_folds(path: Path, record_ids: Sequence[str], folds: np.ndarray, **info) -> None:
    """Write ``folds.json``: the record ids of each fold, and how they were made.

    A record whose fold is ``HELD_OUT`` (-1) goes to the ``"test"`` list: the
    run never trains or validates on it (a benchmark's outer test part, a
    held-out source, or a standard split's test part). One whose fold is
    ``UNUSED`` (-2) goes to the ``"unused"`` list: in neither part of a
    standard split. One whose fold is ``TRAIN_ONLY`` (-3) goes to the ``"train"``
    list: every fold trains on it and none validates on it (a predefined split).
    """
    folds = np.asarray(folds)
    n_folds = int(folds.max()) + 1
    data = {
        **info,
        "n_folds": n_folds,
        "folds": [
            [rid for rid, f in zip(record_ids, folds, strict=True) if f == k]
            for k in range(n_folds)
        ],
    }
    for name, value in (("test", HELD_OUT), ("unused", UNUSED), ("train", TRAIN_ONLY)):
        ids = [rid for rid, f in zip(record_ids, folds, strict=True) if f == value]
        if ids:
            data[name] = ids
    write_json(path, data, indent=1)


def load_folds(path: Path, record_ids: Sequence[str]) -> np.ndarray:
    """Read ``folds.json`` back as one fold per record of ``record_ids``
    (``HELD_OUT`` for the records of its ``"test"`` list).

    Raises:
        FileNotFoundError: no such file.
        ValueError: not a folds file, or the saved folds do not cover exactly these
            records (the cache changed since the run began).
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"folds file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("folds"), list):
        raise ValueError(f"{path} is not a folds file (no 'folds' list of record ids)")
    fold_of = {rid: k for k, ids in enumerate(data["folds"]) for rid in ids}
    fold_of |= {rid: HELD_OUT for rid in data.get("test", [])}
    fold_of |= {rid: UNUSED for rid in data.get("unused", [])}
    fold_of |= {rid: TRAIN_ONLY for rid in data.get("train", [])}
    missing = [rid for rid in record_ids if rid not in fold_of]
    if missing or len(fold_of) != len(record_ids):
        raise ValueError(
            f"{path} does not match the cache: {len(missing)} cached records have no fold, "
            f"{len(fold_of) - (len(record_ids) - len(missing))} fold records are not cached; "
            "start a new run folder, or rebuild the cache it was made from"
        )
    return np.array([fold_of[rid] for rid in record_ids], dtype=np.int64)
