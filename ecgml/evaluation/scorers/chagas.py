"""The George B. Moody PhysioNet Challenge 2025 score: Chagas disease from the ECG.

Serological tests for Chagas disease are scarce, so the challenge (Reyna et al.,
2025) asked which records to send for one: a model ranks the records by its
probability, the top 5 % are tested, and the score is the share of all positive
records that falls among them, the true-positive rate at that capacity. The
capacity is ``floor(0.05 n)`` records; records tied at the capacity's edge are
taken in random order, and this scorer gives the expected rate over those orders
exactly (the challenge's own code estimates it from random permutations).

The task has one class (positive or not); the multi-label figures (AUROC, AUPRC,
F1 of the thresholded decisions, ...) stand beside the challenge score.
"""

from __future__ import annotations

import numpy as np

from ecgml.evaluation import metrics
from ecgml.evaluation.report import evaluate_predictions
from ecgml.evaluation.scorers.base import SCORERS, Scorer

CAPACITY = 0.05


def top_fraction_recall(
    y_true: np.ndarray, y_score: np.ndarray, fraction: float = CAPACITY
) -> float:
    """The share of positives among the ``floor(fraction * n)`` highest scores, ties at
    the edge shared in expectation; NaN without a positive.

    Args:
        y_true: 0/1, shape ``(n,)`` or ``(n, 1)``.
        y_score: the scores, the same shape.
        fraction: the share of records the capacity allows.
    """
    truth = np.asarray(y_true).reshape(-1).astype(bool)
    score = np.asarray(y_score, dtype=np.float64).reshape(-1)
    if truth.shape != score.shape:
        raise ValueError(f"y_true has {truth.size} records, y_score {score.size}")
    n_positive = int(truth.sum())
    if n_positive == 0:
        return float("nan")
    capacity = int(fraction * len(score))
    if capacity == 0:
        return 0.0
    edge = np.sort(score)[::-1][capacity - 1]
    above, tied = score > edge, score == edge
    # the records tied at the edge fill what is left of the capacity in random order
    share = (capacity - int(above.sum())) / int(tied.sum())
    expected = truth[above].sum() + share * truth[tied].sum()
    return float(expected / n_positive)


@SCORERS.add
class ChagasScorer(Scorer):
    """The challenge score of the one class, with the multi-label figures."""

    name = "chagas"
    headline = "challenge_score"
    intervals = ("challenge_score", "macro_auroc")
    example_classes = ("chagas",)

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        if len(class_names) != 1:
            raise ValueError(f"the chagas scorer takes one class, got {list(class_names)}")
        result = evaluate_predictions(y_true, y_score, y_pred, class_names, abbreviations)
        result["overall"] = {
            "challenge_score": top_fraction_recall(y_true, y_score),
            "capacity": CAPACITY,
        } | result["overall"]
        return result

    def figures(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        return {
            "challenge_score": top_fraction_recall(y_true, y_score),
            "macro_auroc": metrics.nanmean(metrics.auroc_by_ranks(y_true, y_score)),
        }
