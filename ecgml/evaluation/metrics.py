"""Multi-label classification metrics on arrays, with the CinC 2020 definitions.

Conventions: ``y_true`` and ``y_pred`` are 0/1 arrays of shape
``(n_records, n_classes)``, ``y_score`` probabilities of the same shape. Per-class
values are ``nan`` where the metric is undefined (no positive records for AUROC,
a zero denominator for F), and macro averages skip ``nan``, as the challenge's
scoring did.

References: Perez Alday et al., "Classification of 12-lead ECGs: the
PhysioNet/Computing in Cardiology Challenge 2020", Physiol. Meas. 41 (2020),
and the challenge's published scoring definitions (``evaluate_12ECG_score.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score


def _check(y_true: np.ndarray, other: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    y_true, other = np.asarray(y_true), np.asarray(other)
    if y_true.ndim != 2 or y_true.shape != other.shape:
        raise ValueError(
            f"y_true and {name} must be 2-D arrays of the same shape, "
            f"got {y_true.shape} and {other.shape}"
        )
    return y_true.astype(bool), other


def nanmean(values: np.ndarray) -> float:
    """Mean over the defined entries; ``nan`` when none is defined (no warning)."""
    values = np.asarray(values, dtype=np.float64)
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")


def confusion_counts(
    y_true: np.ndarray, y_pred: np.ndarray, *, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class true/false positives/negatives, each of shape ``(n_classes,)``.

    Args:
        y_true: labels, shape ``(n, c)``.
        y_pred: decisions, shape ``(n, c)``.
        sample_weight: weight per record, shape ``(n,)``; ``None`` counts each once.
    """
    y_true, y_pred = _check(y_true, y_pred, "y_pred")
    y_pred = y_pred.astype(bool)
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, float)
    tp = w @ (y_true & y_pred)
    fp = w @ (~y_true & y_pred)
    fn = w @ (y_true & ~y_pred)
    tn = w @ (~y_true & ~y_pred)
    return tp, fp, fn, tn


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.asarray(num, float), np.asarray(den, float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def f_beta_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, beta: float) -> np.ndarray:
    """F-beta per class: ``(1+b^2) tp / ((1+b^2) tp + fp + b^2 fn)``; ``nan`` if 0/0."""
    b2 = beta * beta
    return _ratio((1 + b2) * tp, (1 + b2) * tp + fp + b2 * fn)


def g_beta_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, beta: float) -> np.ndarray:
    """G-beta per class (the challenge's Jaccard variant): ``tp / (tp + fp + b fn)``."""
    return _ratio(tp, tp + fp + beta * fn)


def precision_recall(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class precision and recall; ``nan`` where nothing was predicted / present."""
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn)


def f1_per_class(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-class F1 (the challenge's F-measure); ``nan`` without positives or predictions."""
    tp, fp, fn, _ = confusion_counts(y_true, y_pred)
    return f_beta_from_counts(tp, fp, fn, 1.0)


def weighted_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 averaged over classes weighted by their positive count (scikit-learn's
    ``average="weighted"``); classes without positives weigh nothing."""
    support = np.asarray(y_true).sum(axis=0).astype(float)
    f1 = np.nan_to_num(f1_per_class(y_true, y_pred))
    return float(f1 @ support / support.sum()) if support.sum() else float("nan")


def exact_match_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of records whose every class decision is right (recording-wise accuracy)."""
    y_true, y_pred = _check(y_true, y_pred, "y_pred")
    return float(np.all(y_true == y_pred.astype(bool), axis=1).mean())


def auroc_auprc(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-class area under the ROC curve (trapezoids) and under the precision-recall
    curve (steps, i.e. average precision), both over every distinct score.

    AUROC is ``nan`` for a class without positives or without negatives; AUPRC is
    ``nan`` for a class without positives. These are the challenge's definitions;
    scikit-learn computes the same areas.
    """
    y_true, y_score = _check(y_true, y_score, "y_score")
    n_classes = y_true.shape[1]
    auroc, auprc = np.full(n_classes, np.nan), np.full(n_classes, np.nan)
    for k in range(n_classes):
        positives = int(y_true[:, k].sum())
        if positives == 0:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn warns on a class without negatives
            auprc[k] = average_precision_score(y_true[:, k], y_score[:, k])
        if positives < len(y_true):
            auroc[k] = roc_auc_score(y_true[:, k], y_score[:, k])
    return auroc, auprc


def challenge_beta_measures(
    y_true: np.ndarray, y_pred: np.ndarray, *, beta: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class F-beta and G-beta as the CinC 2020 scoring computed them.

    Each record's contribution to the confusion counts is divided by its number of
    positive labels (at least 1), so multi-label records do not dominate.
    """
    y_true, y_pred = _check(y_true, y_pred, "y_pred")
    weight = 1.0 / np.maximum(y_true.sum(axis=1), 1)
    tp, fp, fn, _ = confusion_counts(y_true, y_pred, sample_weight=weight)
    return f_beta_from_counts(tp, fp, fn, beta), g_beta_from_counts(tp, fp, fn, beta)


def modified_confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The challenge metric's class-by-class matrix ``A``, shape ``(c, c)``.

    ``A[j, k]`` sums, over records labelled ``j`` and predicted ``k``, one over the
    number of classes positive in the record's labels or outputs (at least 1).
    """
    y_true, y_pred = _check(y_true, y_pred, "y_pred")
    y_pred = y_pred.astype(bool)
    norm = np.maximum((y_true | y_pred).sum(axis=1), 1).astype(float)
    return (y_true / norm[:, None]).T @ y_pred.astype(float)


def challenge_metric(
    y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray, normal_index: int
) -> float:
    """The CinC 2020 challenge metric, normalised so that always predicting only the
    normal class scores 0 and predicting exactly the labels scores 1.

    Args:
        y_true: labels, shape ``(n, c)``.
        y_pred: decisions, shape ``(n, c)``.
        weights: reward matrix, shape ``(c, c)``, rows labels and columns outputs.
        normal_index: column of the normal class (sinus rhythm, 426783006).

    Returns:
        The normalised score; ``nan`` when the perfect and the normal-only
        classifiers score the same.
    """
    y_true, y_pred = _check(y_true, y_pred, "y_pred")
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (y_true.shape[1],) * 2:
        raise ValueError(
            f"weights must be {y_true.shape[1]}x{y_true.shape[1]}, got {weights.shape}"
        )

    def score(outputs: np.ndarray) -> float:
        return float(np.nansum(weights * modified_confusion_matrix(y_true, outputs)))

    inactive = np.zeros_like(y_true)
    inactive[:, normal_index] = True
    observed, correct, baseline = score(y_pred), score(y_true), score(inactive)
    if correct == baseline:
        return float("nan")
    return (observed - baseline) / (correct - baseline)


def auroc_by_ranks(y_true: np.ndarray, y_score: np.ndarray) -> np.ndarray:
    """Per-class AUROC from ranks (the Mann-Whitney U statistic), ties counted half:
    the same areas as :func:`auroc_auprc`, computed for all classes at once, for the
    many recomputations of a bootstrap. ``nan`` for a class without positives or
    without negatives."""
    from scipy.stats import rankdata

    y_true, y_score = _check(y_true, y_score, "y_score")
    positives = y_true.sum(axis=0).astype(np.float64)
    negatives = len(y_true) - positives
    ranks = rankdata(np.asarray(y_score, dtype=np.float64), axis=0)
    rank_sum = (ranks * y_true).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        auroc = (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)
    return np.where((positives > 0) & (negatives > 0), auroc, np.nan)
