"""Two-class detection figures: the first class is the one detected (MI for PTB).

Recall (sensitivity) of that class is the headline, as in a screening test; its
precision, F1 and AUROC stand beside it, with accuracy and the 2x2 confusion matrix.
"""

from __future__ import annotations

from ecgml.evaluation.scorers.base import SCORERS
from ecgml.evaluation.scorers.cinc2017 import MulticlassScorer, multiclass_scores


@SCORERS.add
class BinaryScorer(MulticlassScorer):
    """The multi-class figures of two classes, led by the first class's recall."""

    name = "binary"
    headline = "recall"
    intervals = ("recall",)
    example_classes = ("no", "MI")

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        if len(class_names) != 2:
            raise ValueError(f"the binary scorer takes two classes, got {list(class_names)}")
        result = multiclass_scores(y_true, y_score, y_pred, class_names, abbreviations)
        positive = result["per_class"][class_names[0]]
        result["overall"] = {
            "positive_class": class_names[0],
            "recall": positive["recall"],
            "precision": positive["precision"],
            "f1": positive["f1"],
            "auroc": positive["auroc"],
        } | result["overall"]
        return result
