"""The metrics of one model's decisions on a labelled set, for ``score.json``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ecgml.evaluation import challenge, metrics


def json_safe(value: Any) -> Any:
    """Nested data with ``nan``/``inf`` as ``None`` and numpy scalars as Python ones."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate_predictions(
    y_true: np.ndarray,
    y_score: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    abbreviations: Sequence[str],
    *,
    label_codes: Sequence[Sequence[str]] | None = None,
    weights: challenge.RewardMatrix | None = None,
) -> dict[str, Any]:
    """Per-class and overall metrics of one model (or the ensemble).

    Args:
        y_true, y_score, y_pred: shape ``(n, n_classes)``.
        class_names, abbreviations: per column.
        label_codes: every record's Dx codes, for the challenge's own scoring of
            the same outputs (equivalent pairs folded, unscored classes dropped).
        weights: reward matrix for the challenge metric.

    Returns:
        ``{"overall": {...}, "per_class": {code: {...}}, "challenge": {...}}``.
        F-beta and G-beta use beta = 2 and the challenge's per-record normalisation.
    """
    auroc, auprc = metrics.auroc_auprc(y_true, y_score)
    precision, recall = metrics.precision_recall(y_true, y_pred)
    f1 = metrics.f1_per_class(y_true, y_pred)
    f_beta, g_beta = metrics.challenge_beta_measures(y_true, y_pred, beta=challenge.BETA)
    n_positive = np.asarray(y_true).sum(axis=0).astype(int)
    n_predicted = np.asarray(y_pred).sum(axis=0).astype(int)
    per_class = {
        name: {
            "abbreviation": abbreviations[k],
            "n_positive": n_positive[k],
            "n_predicted": n_predicted[k],
            "auroc": auroc[k],
            "auprc": auprc[k],
            "f1": f1[k],
            "precision": precision[k],
            "recall": recall[k],
            "f_beta": f_beta[k],
            "g_beta": g_beta[k],
        }
        for k, name in enumerate(class_names)
    }
    overall = {
        "macro_auroc": metrics.nanmean(auroc),
        "macro_auprc": metrics.nanmean(auprc),
        "macro_f1": metrics.nanmean(f1),
        "weighted_f1": metrics.weighted_f1(y_true, y_pred),
        "macro_precision": metrics.nanmean(precision),
        "macro_recall": metrics.nanmean(recall),
        "macro_f_beta": metrics.nanmean(f_beta),
        "macro_g_beta": metrics.nanmean(g_beta),
        "exact_match_accuracy": metrics.exact_match_accuracy(y_true, y_pred),
        "classes_with_positives": int((n_positive > 0).sum()),
    }
    result: dict[str, Any] = {"overall": overall, "per_class": per_class}
    if label_codes is not None:
        scored = challenge_scores(y_score, y_pred, class_names, label_codes, weights)
        result["challenge"] = scored["overall"] | {"classes": scored["classes"]}
    return result


def challenge_scores(
    y_score: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    label_codes: Sequence[Sequence[str]],
    weights: challenge.RewardMatrix | None,
) -> dict[str, Any]:
    """The CinC 2020 scoring of the model's outputs against every record's label codes
    (:func:`ecgml.evaluation.challenge.score_arrays`)."""
    label_classes, labels = challenge.multi_hot(label_codes)
    codes, source = challenge.output_codes(class_names)
    return challenge.score_arrays(
        label_classes,
        labels,
        codes,
        np.asarray(y_pred)[:, source],
        np.asarray(y_score)[:, source],
        weights=weights,
    )
