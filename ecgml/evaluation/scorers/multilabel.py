"""Multi-label scorers: per-class and macro figures; CinC 2020 adds the challenge's own
scoring of the same outputs (:mod:`ecgml.evaluation.challenge`)."""

from __future__ import annotations

import numpy as np

from ecgml.evaluation import challenge, metrics
from ecgml.evaluation.bootstrap import N_RESAMPLES, SEED, bootstrap_figures
from ecgml.evaluation.report import evaluate_predictions
from ecgml.evaluation.scorers.base import SCORERS, Scorer


@SCORERS.add
class Cinc2020Scorer(Scorer):
    """The multi-label figures and a ``"challenge"`` block: the CinC 2020 scoring
    (equivalent classes folded, unscored classes dropped, the challenge metric)."""

    name = "cinc2020"
    uses_weights = True
    intervals = ("macro_auroc", "challenge_metric")

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        return evaluate_predictions(
            y_true,
            y_score,
            y_pred,
            class_names,
            abbreviations,
            label_codes=label_codes,
            weights=weights,
        )

    def confidence_intervals(
        self,
        y_true,
        y_score,
        y_pred,
        class_names,
        abbreviations,
        *,
        label_codes=None,
        weights=None,
        groups=None,
        n_resamples=N_RESAMPLES,
        seed=SEED,
    ):
        """As every scorer's, with the challenge's folding of classes done once, for the
        whole test set (so a draw without one code of an equivalent pair is folded as the
        set is): each draw recomputes only the macro AUROC and the challenge metric."""
        folded = None
        if label_codes is not None and weights is not None:
            label_classes, labels = challenge.multi_hot(label_codes)
            codes, source = challenge.output_codes(class_names)
            classes, labels, binary, _, w = challenge.scored_arrays(
                label_classes,
                labels,
                codes,
                np.asarray(y_pred)[:, source],
                np.asarray(y_score)[:, source],
                weights=weights,
            )
            if challenge.NORMAL_CLASS in classes:
                folded = labels, binary, w, classes.index(challenge.NORMAL_CLASS)

        def figures(index: np.ndarray) -> dict[str, float]:
            auroc = metrics.auroc_by_ranks(y_true[index], y_score[index])
            out = {"macro_auroc": metrics.nanmean(auroc)}
            if folded is not None:
                labels, binary, w, normal = folded
                out["challenge_metric"] = metrics.challenge_metric(
                    labels[index], binary[index], w, normal
                )
            return out

        return bootstrap_figures(
            figures, len(y_true), groups=groups, n_resamples=n_resamples, seed=seed
        )


@SCORERS.add
class MultilabelScorer(Scorer):
    """AUROC, AUPRC, F1, precision, recall, F-beta and G-beta per class and their macro
    means; weighted F1 and exact-match accuracy."""

    name = "multilabel"

    def score(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        return evaluate_predictions(y_true, y_score, y_pred, class_names, abbreviations)

    def figures(
        self, y_true, y_score, y_pred, class_names, abbreviations, *, label_codes=None, weights=None
    ):
        return {"macro_auroc": metrics.nanmean(metrics.auroc_by_ranks(y_true, y_score))}
