"""How fold models' probabilities become decisions, for both target kinds (numpy only).

Multi-label runs (a sigmoid per class): each fold model's own thresholds turn
its scores into decisions, and two rules combine the folds:

* ``"majority"`` (default): a class is decided when at least ``min_votes`` fold
  models decide it. ``min_votes`` defaults to a strict majority,
  ``n_models // 2 + 1``: 3 of 5, and for an even number of models (say 4) also 3,
  so a tie (2 of 4) is negative.
* ``"mean"``: the mean of the fold probabilities against the mean of the fold
  thresholds, per class (what the seed project did).

Multi-class runs (softmax, one class per record) have no thresholds:

* ``"mean"`` (default): the argmax of the mean fold probability.
* ``"majority"``: each fold model votes for its argmax; the class with the most
  votes wins. A tie in votes goes to the tied class with the highest mean
  probability; a tie in that too, to the first in class order.

Under every rule the ensemble's continuous score, used for ROC and PR curves,
is the mean fold probability.
"""

from __future__ import annotations

import numpy as np

VOTE_RULES = ("majority", "mean")


def votes_needed(n_models: int, min_votes: int | None = None) -> int:
    """The votes a class needs under ``"majority"``: ``min_votes``, by default a strict
    majority of ``n_models``."""
    return n_models // 2 + 1 if min_votes is None else min_votes


def _check_scores(fold_scores: np.ndarray) -> np.ndarray:
    fold_scores = np.asarray(fold_scores)
    if fold_scores.ndim != 3:
        raise ValueError(
            f"expected fold scores (n_models, n_records, n_classes), got {fold_scores.shape}"
        )
    return fold_scores


def vote(
    fold_scores: np.ndarray,
    thresholds: np.ndarray,
    *,
    rule: str = "majority",
    min_votes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Combine multi-label fold models (module docstring).

    Args:
        fold_scores: probabilities, shape ``(n_models, n_records, n_classes)``.
        thresholds: per fold and class, shape ``(n_models, n_classes)``.
        rule: ``"majority"`` or ``"mean"``.
        min_votes: votes needed under ``"majority"``; default a strict majority.

    Returns:
        ``y_pred`` (uint8, ``(n_records, n_classes)``) and ``y_score`` (the mean
        probability, float32, same shape).
    """
    fold_scores, thresholds = np.asarray(fold_scores), np.asarray(thresholds, dtype=np.float64)
    if fold_scores.ndim != 3 or thresholds.shape != (fold_scores.shape[0], fold_scores.shape[2]):
        raise ValueError(
            "expected fold scores (n_models, n_records, n_classes) and thresholds "
            f"(n_models, n_classes), got {fold_scores.shape} and {thresholds.shape}"
        )
    n_models = fold_scores.shape[0]
    y_score = fold_scores.astype(np.float64).mean(axis=0).astype(np.float32)
    if rule == "mean":
        return (y_score >= thresholds.mean(axis=0)).astype(np.uint8), y_score
    if rule != "majority":
        raise ValueError(f"rule must be one of {VOTE_RULES}, got {rule!r}")
    needed = votes_needed(n_models, min_votes)
    if not 1 <= needed <= n_models:
        raise ValueError(f"min_votes must be between 1 and {n_models}, got {needed}")
    votes = (fold_scores >= thresholds[:, None, :]).sum(axis=0)
    return (votes >= needed).astype(np.uint8), y_score


def one_hot_argmax(scores: np.ndarray) -> np.ndarray:
    """uint8 one-hot of the argmax along the last axis (first class on ties)."""
    scores = np.asarray(scores)
    out = np.zeros(scores.shape, dtype=np.uint8)
    np.put_along_axis(out, scores.argmax(axis=-1)[..., None], 1, axis=-1)
    return out


def combine_multiclass(
    fold_scores: np.ndarray, *, rule: str = "mean"
) -> tuple[np.ndarray, np.ndarray]:
    """Combine multi-class fold models (module docstring).

    Args:
        fold_scores: softmax probabilities, shape ``(n_models, n_records, n_classes)``.
        rule: ``"mean"`` or ``"majority"``.

    Returns:
        ``y_pred`` (uint8 one-hot, ``(n_records, n_classes)``) and ``y_score`` (the
        mean probability, float32, same shape).
    """
    fold_scores = _check_scores(fold_scores)
    y_score = fold_scores.astype(np.float64).mean(axis=0)
    if rule == "mean":
        return one_hot_argmax(y_score), y_score.astype(np.float32)
    if rule != "majority":
        raise ValueError(f"rule must be one of {VOTE_RULES}, got {rule!r}")
    votes = one_hot_argmax(fold_scores).sum(axis=0)
    tied_best = votes == votes.max(axis=-1, keepdims=True)
    return one_hot_argmax(np.where(tied_best, y_score, -np.inf)), y_score.astype(np.float32)
