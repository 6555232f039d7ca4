"""Target kinds: everything that differs between multi-label and multi-class tasks.

A task's config names its kind (``task.target``); :func:`get_target` gives the
one object that knows, for that kind, the output activation, the losses, how
labels must look, how a fold model's scores become decisions and how the fold
models of an ensemble combine (:mod:`ecgml.targets.decisions`), and what
reports, exports and model cards say about those decisions. Stages ask this
object instead of checking the kind themselves.

Target kinds sit below training and evaluation: they import numpy and the
losses only. A new kind is a subclass registered with :func:`register_target`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ecgml.losses import MULTICLASS_LOSSES, MULTILABEL_LOSSES
from ecgml.registries import Registry
from ecgml.targets.decisions import (
    VOTE_RULES,
    combine_multiclass,
    one_hot_argmax,
    vote,
    votes_needed,
)


class Target:
    """The behaviour of one target kind.

    Attributes:
        kind: ``"multilabel"`` or ``"multiclass"``.
        activation: the output layer's activation.
        losses: the loss names (``training.loss``) this kind accepts.
        default_rule: the ensemble rule when none is given.
        needs_thresholds: whether decisions need per-class thresholds
            (``threshold.py``).
        confusion: the confusion plot of its decisions: ``"grid"`` (a 2x2 matrix
            per class) or ``"matrix"`` (one class-by-class matrix).
    """

    kind = ""
    activation = ""
    losses: tuple[str, ...] = ()
    default_rule = ""
    needs_thresholds = False
    confusion = "grid"

    def check_options(
        self, rule: str | None, min_votes: int | None, n_models: int, *, run: object = ""
    ) -> str:
        """The ensemble rule to use (``rule`` or the default), once ``min_votes`` is
        known to fit this kind and ``n_models``.

        Raises:
            ValueError: an unknown rule, ``min_votes`` for a kind without votes, or
                one outside ``1..n_models``.
        """
        rule = self.rule(rule)
        if min_votes is not None and not self.needs_thresholds:
            raise ValueError(f"min_votes applies to multilabel runs; {run} is {self.kind}")
        if min_votes is not None and not 1 <= min_votes <= n_models:
            raise ValueError(f"min_votes must be between 1 and {n_models}, got {min_votes}")
        return rule

    def report(self, n_models: int, rule: str, min_votes: int | None = None) -> dict[str, Any]:
        """How the ensemble decided, for ``score.json`` and ``predict.json``."""
        counted = rule == "majority" and self.needs_thresholds
        return {
            "rule": rule,
            "decision": self.describe(n_models, rule, min_votes),
            "min_votes": votes_needed(n_models, min_votes) if counted else None,
        }

    def card(
        self, folds: list[int], thresholds: np.ndarray | None, threshold_info: list[dict]
    ) -> dict[str, Any]:
        """The model card's ``decision`` section (the default rule, for a service)
        of the fold models ``folds``."""
        raise NotImplementedError

    def check_loss(self, loss: str) -> None:
        """Raises ValueError for a loss this kind cannot train with."""
        if loss not in self.losses:
            raise ValueError(
                f"training.loss {loss!r} does not fit a {self.kind} task; use one of {self.losses}"
            )

    def check_labels(self, y_true: np.ndarray, *, where: str) -> None:
        """Raises ValueError when labels do not fit this kind."""

    def make_loss(self, training: Any, y_train: np.ndarray) -> Any:
        """The Keras loss of ``training.loss``, weighted from the training fold's labels."""
        from ecgml.losses import make_loss

        self.check_loss(training.loss)
        return make_loss(
            training.loss,
            y_train,
            focal_gamma=training.focal_gamma,
            focal_alpha=training.focal_alpha,
            max_pos_weight=training.max_pos_weight,
        )

    def rule(self, rule: str | None) -> str:
        """``rule``, or this kind's default; raises ValueError for an unknown one."""
        rule = rule or self.default_rule
        if rule not in VOTE_RULES:
            raise ValueError(f"rule must be one of {VOTE_RULES}, got {rule!r}")
        return rule

    def fold_decisions(self, fold_scores: np.ndarray, thresholds: np.ndarray | None) -> np.ndarray:
        """Each fold model's own decisions, uint8 ``(n_models, n_records, n_classes)``."""
        raise NotImplementedError

    def combine(
        self,
        fold_scores: np.ndarray,
        thresholds: np.ndarray | None,
        *,
        rule: str | None = None,
        min_votes: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's ``(y_pred, y_score)`` from ``(n_models, n_records, n_classes)``."""
        raise NotImplementedError

    def describe(self, n_models: int, rule: str | None = None, min_votes: int | None = None) -> str:
        """The decision rule in words, for reports and the web app."""
        raise NotImplementedError


class MultiLabel(Target):
    """Any number of classes per record: a sigmoid per class, per-class thresholds
    learned on each fold's validation part, majority vote of the folds."""

    kind = "multilabel"
    activation = "sigmoid"
    losses = MULTILABEL_LOSSES
    default_rule = "majority"
    needs_thresholds = True

    def fold_decisions(self, fold_scores, thresholds):
        return (np.asarray(fold_scores) >= np.asarray(thresholds)[:, None, :]).astype(np.uint8)

    def combine(self, fold_scores, thresholds, *, rule=None, min_votes=None):
        return vote(fold_scores, thresholds, rule=self.rule(rule), min_votes=min_votes)

    def describe(self, n_models, rule=None, min_votes=None):
        if self.rule(rule) == "mean":
            return "mean probability against the mean of the fold thresholds"
        return (
            f"majority vote of {n_models} fold models, {votes_needed(n_models, min_votes)} needed"
        )

    def card(self, folds, thresholds, threshold_info):
        n_models = len(folds)
        needed = votes_needed(n_models)
        return {
            "rule": f"majority: a class is decided when at least {needed} of the {n_models} "
            "fold models reach their own threshold (probability >= threshold)",
            "min_votes": needed,
            "thresholds": np.asarray(thresholds).tolist(),
            "fallback_classes": {
                f"fold_{k}": t["fallback_classes"]
                for k, t in zip(folds, threshold_info, strict=True)
            },
        }


class MultiClass(Target):
    """Exactly one class per record: softmax, the argmax of the mean fold
    probability (or a majority vote of the fold argmaxes); nothing to threshold."""

    kind = "multiclass"
    activation = "softmax"
    losses = MULTICLASS_LOSSES
    default_rule = "mean"
    needs_thresholds = False
    confusion = "matrix"

    def check_labels(self, y_true, *, where):
        per_record = np.asarray(y_true).sum(axis=1)
        bad = np.nonzero(per_record != 1)[0]
        if len(bad):
            raise ValueError(
                f"a multiclass task needs exactly one class per record; {len(bad)} records of "
                f"{where} have {sorted(set(per_record[bad].tolist()))} (first: row {bad[0]})"
            )

    def fold_decisions(self, fold_scores, thresholds):
        return one_hot_argmax(fold_scores)

    def combine(self, fold_scores, thresholds, *, rule=None, min_votes=None):
        if min_votes is not None:
            raise ValueError("min_votes applies to multilabel tasks; a multiclass vote is plural")
        return combine_multiclass(fold_scores, rule=self.rule(rule))

    def describe(self, n_models, rule=None, min_votes=None):
        if self.rule(rule) == "mean":
            return f"argmax of the mean probability of {n_models} fold models"
        return (
            f"most votes among the argmaxes of {n_models} fold models "
            "(ties: the highest mean probability)"
        )

    def card(self, folds, thresholds, threshold_info):
        return {
            "rule": self.describe(len(folds)) + ": one class per record",
            "min_votes": None,
            "thresholds": None,
        }


TARGETS: Registry[type[Target]] = Registry(
    "target", {"multilabel": MultiLabel, "multiclass": MultiClass}
)


def register_target(cls: type[Target]) -> type[Target]:
    """Add a target kind under its ``kind`` (usable as a class decorator)."""
    return TARGETS.register(cls.kind, cls)


def get_target(kind: str) -> Target:
    """The target object of a kind (``task.target``); ValueError for an unknown one."""
    return TARGETS.named(kind)()
