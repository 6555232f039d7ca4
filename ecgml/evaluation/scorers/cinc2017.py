"""Multi-class scorers: per-class F1 and the confusion matrix; CinC 2017 adds its score.

The PhysioNet/CinC Challenge 2017 (Clifford et al., 2017) scored the mean of
the F1 of the normal (N), AF (A) and other-rhythm (O) classes; the noisy class
(~) has an F1 of its own but is not in the score. Each F1 is
``2 TP / (2 TP + FP + FN)`` of one class against the others, from the confusion
matrix of the decided classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from ecgml.evaluation import metrics
from ecgml.evaluation.scorers.base import SCORERS, Scorer

CINC2017_SCORED = ("N", "A", "O")


def decided_class(y: np.ndarray) -> np.ndarray:
    """Class index per record from one-hot rows ``(n, n_classes)``.

    Raises:
        ValueError: a row without exactly one class.
    """
    y = np.asarray(y)
    if (y.sum(axis=1) != 1).any():
        raise ValueError("multi-class labels and decisions need exactly one class per record")
    return y.argmax(axis=1)


def multiclass_scores(
    y_true: np.ndarray,
    y_score: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
    abbreviations: Sequence[str],
) -> dict[str, Any]:
    """Per-class precision, recall, F1 and one-vs-rest AUROC/AUPRC; overall accuracy,
    macro F1 and macro AUROC; the confusion matrix (rows true, columns decided)."""
    true, pred = decided_class(y_true), decided_class(y_pred)
    k = len(class_names)
    labels = np.arange(k)
    precision, recall, f1, support = precision_recall_fscore_support(
        true, pred, labels=labels, zero_division=np.nan
    )
    # a class absent from both the labels and the decisions has no F1
    f1 = np.where((support == 0) & (np.bincount(pred, minlength=k) == 0), np.nan, f1)
    auroc, auprc = metrics.auroc_auprc(y_true, y_score)
    matrix = confusion_matrix(true, pred, labels=labels)
    per_class = {
        name: {
            "abbreviation": abbreviations[c],
            "n_positive": int(support[c]),
            "n_predicted": int(matrix[:, c].sum()),
            "precision": precision[c],
            "recall": recall[c],
            "f1": f1[c],
            "auroc": auroc[c],
            "auprc": auprc[c],
        }
        for c, name in enumerate(class_names)
    }
    overall = {
        "accuracy": float((true == pred).mean()),
        "macro_f1": metrics.nanmean(f1),
        "macro_auroc": metrics.nanmean(auroc),
        "macro_auprc": metrics.nanmean(auprc),
        "classes_with_positives": int((support > 0).sum()),
    }
    return {
        "overall": overall,
        "per_class": per_class,
        "confusion_matrix": {
            "classes": list(class_names),
            "rows_true_columns_decided": matrix.tolist(),
        },
    }


def cinc2017_score(f1_by_class: dict[str, float]) -> float:
    """The CinC 2017 score: the mean F1 of N, A and O."""
    missing = [c for c in CINC2017_SCORED if c not in f1_by_class]
    if missing:
        raise ValueError(
            f"the CinC 2017 score needs the classes {CINC2017_SCORED}; {missing} absent"
        )
    return float(np.mean([f1_by_class[c] for c in CINC2017_SCORED]))


@SCORERS.add
class MulticlassScorer(Scorer):
    """:func:`multiclass_scores`; the headline is macro F1."""

    name = "multiclass"
    headline = "macro_f1"
    intervals = ("macro_f1",)

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        return multiclass_scores(y_true, y_score, y_pred, class_names, abbreviations)


@SCORERS.add
class Cinc2017Scorer(MulticlassScorer):
    """The multi-class figures, per-class F1 of N, A, O and ~, and the CinC 2017 score."""

    name = "cinc2017"
    headline = "cinc2017_score"
    example_classes = ("N", "A", "O", "~")
    intervals = ("cinc2017_score",)

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        result = multiclass_scores(y_true, y_score, y_pred, class_names, abbreviations)
        f1 = {name: v["f1"] for name, v in result["per_class"].items()}
        result["overall"] = (
            {"cinc2017_score": cinc2017_score(f1)}
            | {f"f1_{name}": value for name, value in f1.items()}
            | result["overall"]
        )
        return result
