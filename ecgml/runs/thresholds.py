"""``threshold.py``: per-fold thresholds for a trained run folder.

Fold ``K``'s thresholds are learned from ``fold_K/val_predictions.npz`` only: the
predictions of fold ``K``'s model on fold ``K``'s validation records, which that
model never trained on. Before fitting, the record ids in the file are checked
against the run's ``folds.json``; a file holding any other record is refused.

With ``pooled``, one set of thresholds is learned from every fold's validation
predictions together (each record scored by the one model that did not train
on it) and written for every fold: more records behind each threshold, still
none of the held-out records the ensemble is later scored on. The run's own
out-of-fold figures would no longer be leak-free under them, and ecgml computes
none from thresholds.
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgml import __version__
from ecgml.config import Config, config_from_dict
from ecgml.data.labels import LabelEncoder
from ecgml.evaluation.challenge import NORMAL_CLASS, RewardMatrix
from ecgml.evaluation.thresholds import ThresholdOptimizer, parse_objective
from ecgml.files import write_json
from ecgml.task import Task
from ecgml.training.layout import CONFIG, FOLDS, PREDICTIONS, THRESHOLDS, fold_dir, is_done


def run_info(run: Path) -> tuple[Config, LabelEncoder, list[list[str]]]:
    """A run's config, its label encoder and the validation record ids of each fold."""
    for name in (CONFIG, FOLDS):
        if not (run / name).is_file():
            raise FileNotFoundError(f"{run} is not a run folder (no {name}); train one first")
    config = config_from_dict(json.loads((run / CONFIG).read_text()))
    folds = json.loads((run / FOLDS).read_text())["folds"]
    return config, LabelEncoder.from_config(config.labels), folds


def reward_for_classes(weights: RewardMatrix, class_names: Sequence[str]) -> np.ndarray:
    """The reward matrix for model classes; a merged class ``"a|b"`` takes ``a``'s row."""
    return weights.for_classes([name.split("|")[0] for name in class_names])


def load_validation(run: Path, fold: int, expected_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """``fold_K/val_predictions.npz``, after checking it holds exactly fold K's records."""
    path = fold_dir(run, fold) / PREDICTIONS
    with np.load(path) as data:
        found = {name: data[name] for name in data.files}
    ids = set(found["record_ids"].tolist())
    if ids != set(expected_ids) or len(found["record_ids"]) != len(expected_ids):
        outside = sorted(ids - set(expected_ids))
        raise ValueError(
            f"{path} does not hold exactly fold {fold}'s validation records "
            f"({len(outside)} records from other folds, e.g. {outside[:3]}); "
            "thresholds must not see records the fold model trained on"
        )
    return found


def _listed(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def fit_run_thresholds(
    run: str | Path,
    *,
    objective: str = "f1",
    beta: float = 2.0,
    grid: int | None = None,
    fallback: float = 0.5,
    weights: RewardMatrix | None = None,
    folds: Sequence[int] | None = None,
    pooled: bool = False,
) -> list[dict[str, Any]]:
    """Learn and save ``fold_K/thresholds.json`` for every finished fold.

    Args:
        run: a run folder made by ``model_training.py``.
        objective, beta, grid, fallback: as :class:`ThresholdOptimizer`.
        weights: reward matrix; needed for ``objective="challenge"``.
        folds: only these folds; ``None`` for every finished fold.
        pooled: learn one set from these folds' validation predictions together,
            written for each of them (module docstring).

    Returns:
        What was written, one dict per fold; empty for a run whose target kind
        needs no thresholds (multi-class: decisions are the argmax).
    """
    run = Path(run)
    parse_objective(objective)  # a bad objective costs nothing
    config, encoder, fold_ids = run_info(run)
    if not Task.of(config).target.needs_thresholds:
        return []
    class_names = list(encoder.class_names)
    wanted = range(len(fold_ids)) if folds is None else folds
    done = [k for k in wanted if 0 <= k < len(fold_ids) and is_done(run, k)]
    if not done:
        raise ValueError(f"{run} has no finished fold among {list(wanted)}; train first")
    reward, normal = None, None
    if objective == "challenge":
        if weights is None:
            raise ValueError("the challenge objective needs a reward matrix (--weights)")
        if NORMAL_CLASS not in class_names:
            raise ValueError(
                f"the challenge objective needs the normal class {NORMAL_CLASS} among "
                "the run's classes"
            )
        reward, normal = reward_for_classes(weights, class_names), class_names.index(NORMAL_CLASS)
    parts = {fold: load_validation(run, fold, fold_ids[fold]) for fold in done}
    if pooled:
        together = {
            key: np.concatenate([part[key] for part in parts.values()])
            for key in ("y_true", "y_score")
        }
        parts = dict.fromkeys(done, together)
    settings = {"beta": beta, "grid": grid, "fallback": fallback}
    written, fitted = [], None
    for fold, data in parts.items():
        if fitted is None or not pooled:
            fitted = ThresholdOptimizer(
                objective, **settings, weights=reward, normal_index=normal
            ).fit(data["y_true"], data["y_score"])
        source = f"fold_{fold}/{PREDICTIONS}"
        if pooled:
            source = f"fold_K/{PREDICTIONS} of folds {done}, pooled"
        result = _thresholds_record(fold, objective, settings, encoder, fitted, data, source)
        write_json(fold_dir(run, fold) / THRESHOLDS, result, indent=1)
        written.append(result)
    return written


def _thresholds_record(
    fold: int,
    objective: str,
    settings: dict[str, Any],
    encoder: LabelEncoder,
    optimizer: ThresholdOptimizer,
    data: dict[str, np.ndarray],
    source: str,
) -> dict[str, Any]:
    """What ``fold_K/thresholds.json`` holds."""
    class_names = list(encoder.class_names)
    return {
        "fold": fold,
        "objective": objective,
        "beta": settings["beta"] if objective == "fbeta" else None,
        "grid": settings["grid"],
        "fallback": settings["fallback"],
        "class_names": class_names,
        "abbreviations": list(encoder.abbreviations),
        "thresholds": optimizer.thresholds_.tolist(),
        "fallback_classes": [c for c, f in zip(class_names, optimizer.fallback_, strict=True) if f],
        "class_scores": _listed(optimizer.class_scores_),
        # what a "yes" meant on the validation records, class by class
        "sensitivity": _listed(optimizer.sensitivity_),
        "specificity": _listed(optimizer.specificity_),
        "validation_score": None if np.isnan(optimizer.score_) else optimizer.score_,
        "n_validation": len(data["y_true"]),
        "n_sweeps": optimizer.n_sweeps_,
        "learned_from": source,
        "ecgml_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


OPERATING_POINTS = "operating_points.csv"


def operating_points(threshold_info: Sequence[dict[str, Any]]) -> pd.DataFrame | None:
    """What each class's decision threshold meant on validation, one row per class.

    Every fold model's threshold was learned on, and measured on, its own
    validation part (or every fold's together, with ``pooled``). The table gives,
    per class, the mean, lowest and highest threshold over the folds and the mean,
    lowest and highest validation sensitivity and specificity at it, with the
    number of folds that had positives. The ensemble's vote itself has no
    leak-free validation figure: every training record was trained on by the
    other folds' models.

    Returns:
        ``None`` for thresholds written before ``thresholds.json`` kept the
        sensitivity and specificity (threshold the run again to get them).
    """
    if not threshold_info or any("sensitivity" not in t for t in threshold_info):
        return None
    first = threshold_info[0]
    table = pd.DataFrame({"code": first["class_names"], "class": first["abbreviations"]})
    for name in ("thresholds", "sensitivity", "specificity"):
        values = np.array(
            [[np.nan if v is None else v for v in t[name]] for t in threshold_info],
            dtype=np.float64,
        )
        column = name.removesuffix("s")
        with warnings.catch_warnings():  # a class without positives in every fold
            warnings.simplefilter("ignore", RuntimeWarning)
            table[f"{column}_mean"] = np.nanmean(values, axis=0).round(4)
            table[f"{column}_min"] = np.nanmin(values, axis=0).round(4)
            table[f"{column}_max"] = np.nanmax(values, axis=0).round(4)
    fallback = [set(t["fallback_classes"]) for t in threshold_info]
    table["folds_with_positives"] = [sum(c not in f for f in fallback) for c in table["code"]]
    table["objective"] = first["objective"]
    return table
