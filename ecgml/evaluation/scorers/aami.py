"""The AAMI EC57 heartbeat figures (de Chazal et al., 2004; ANSI/AAMI EC57).

Per class: sensitivity (Se, the recall), positive predictivity (+P, the
precision) and F1. Overall: accuracy, macro sensitivity (the mean Se of the
classes present; the headline, as accuracy is mostly the N class) and macro F1.
The 5x5 confusion matrix (rows annotated, columns decided) is in
``confusion_matrix`` and ``confusion.png``.
"""

from __future__ import annotations

from ecgml.evaluation import metrics
from ecgml.evaluation.scorers.base import SCORERS
from ecgml.evaluation.scorers.cinc2017 import MulticlassScorer, multiclass_scores


@SCORERS.add
class AamiScorer(MulticlassScorer):
    """The multi-class figures under AAMI's names, with macro sensitivity."""

    name = "aami"
    headline = "macro_sensitivity"
    example_classes = ("N", "S", "V", "F")
    intervals = ("macro_sensitivity",)

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        result = multiclass_scores(y_true, y_score, y_pred, class_names, abbreviations)
        for figures in result["per_class"].values():
            figures["sensitivity"] = figures["recall"]
            figures["positive_predictivity"] = figures["precision"]
        per_class = result["per_class"].values()
        result["overall"] = {
            "macro_sensitivity": metrics.nanmean([c["sensitivity"] for c in per_class]),
            "macro_positive_predictivity": metrics.nanmean(
                [c["positive_predictivity"] for c in per_class]
            ),
        } | result["overall"]
        return result
