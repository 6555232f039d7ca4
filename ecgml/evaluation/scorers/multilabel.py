"""Multi-label scorers: per-class and macro figures; CinC 2020 adds the challenge's own
scoring of the same outputs (:mod:`ecgml.evaluation.challenge`)."""

from __future__ import annotations

from ecgml.evaluation.report import evaluate_predictions
from ecgml.evaluation.scorers.base import Scorer


class MultilabelScorer(Scorer):
    """AUROC, AUPRC, F1, precision, recall, F-beta and G-beta per class and their macro
    means; weighted F1 and exact-match accuracy."""

    name = "multilabel"

    def score(self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None,
              weights=None):  # fmt: skip
        return evaluate_predictions(y_true, y_score, y_pred, class_names, abbreviations)


class Cinc2020Scorer(Scorer):
    """The multi-label figures and a ``"challenge"`` block: the CinC 2020 scoring
    (equivalent classes folded, unscored classes dropped, the challenge metric)."""

    name = "cinc2020"
    uses_weights = True

    def score(self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None,
              weights=None):  # fmt: skip
        return evaluate_predictions(
            y_true, y_score, y_pred, class_names, abbreviations, label_codes=label_codes,
            weights=weights,
        )  # fmt: skip
