"""Per-class decision thresholds learned from out-of-fold validation predictions.

A record is positive for class ``k`` when ``y_score[:, k] >= thresholds_[k]``.

The search is exact by default: every cut between two distinct sorted scores of a
class is a candidate, and the objective at all of them comes from cumulative
sums after one sort, so a class of ``n`` records costs ``O(n log n)``. With
``grid=G`` the candidates are ``G`` evenly spaced values in ``[0, 1]`` instead.
The chosen threshold is the midpoint between the two scores around the best cut
(ties in the objective go to the highest threshold).

Objectives:

* ``"f1"``, ``"fbeta"``: each class on its own, maximising its F-beta.
* ``"youden"``: each class on its own, maximising Youden's J, sensitivity +
  specificity - 1 (the ROC point farthest above the chance diagonal).
* ``"sensitivity:X"`` (``0 < X <= 1``): each class's highest threshold whose
  sensitivity is at least ``X``, which gives the best specificity among them.
  ``"specificity:X"``: the lowest threshold whose specificity is at least ``X``,
  which gives the best sensitivity among them. Both are always reachable (every
  record positive has sensitivity 1, none positive specificity 1).
* ``"challenge"``: the CinC 2020 challenge metric, which couples the classes
  (a record's credit is divided by its number of positive labels and outputs).
  Coordinate ascent: start from the per-class F1 thresholds, then, class by
  class, move one threshold to its best cut with the others fixed, until a sweep
  changes nothing. Each sweep can only raise the score. Equivalent pairs are not
  folded here; the reward matrix gives the two codes of a pair full credit for
  each other.

A class without a positive example has no meaningful threshold: it gets
``fallback`` (0.5 by default), stays fixed, and is flagged in ``fallback_``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecgml.evaluation import metrics

OBJECTIVES = ("f1", "fbeta", "challenge", "youden", "sensitivity:X", "specificity:X")
_TARGETED = ("sensitivity", "specificity")


def parse_objective(objective: str) -> tuple[str, float | None]:
    """``"sensitivity:0.9"`` -> ``("sensitivity", 0.9)``; ``"f1"`` -> ``("f1", None)``.

    Raises:
        ValueError: an unknown objective or a target outside ``(0, 1]``.
    """
    name, _, value = str(objective).partition(":")
    if name in _TARGETED:
        try:
            target = float(value)
        except ValueError:
            target = float("nan")
        if not 0 < target <= 1:
            raise ValueError(f"objective {objective!r} needs a target in (0, 1], e.g. '{name}:0.9'")
        return name, target
    if value or name not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return name, None


def _class_objective(
    name: str,
    target: float | None,
    beta: float,
    tp: np.ndarray,
    fp: np.ndarray,
    n_pos: int,
    n_neg: int,
) -> np.ndarray:
    """One class's objective at each candidate cut, from its counts."""
    if name in ("f1", "fbeta", "challenge"):
        return metrics.f_beta_from_counts(tp, fp, n_pos - tp, beta)
    sensitivity = tp / n_pos
    specificity = 1 - fp / n_neg if n_neg else np.ones_like(sensitivity)
    if name == "youden":
        return sensitivity + specificity - 1
    tolerance = 1e-12  # a target met exactly counts as met
    if name == "sensitivity":
        return np.where(sensitivity >= target - tolerance, specificity, -np.inf)
    return np.where(specificity >= target - tolerance, sensitivity, -np.inf)


@dataclass(frozen=True)
class _Cuts:
    """One class's candidate cuts: positives ``n_pos[j]`` = records ranked above cut j."""

    order: np.ndarray  # records by descending score
    n_pos: np.ndarray  # number of top-ranked records decided positive, per candidate
    values: np.ndarray  # threshold per candidate


def _cuts(score: np.ndarray, grid: int | None) -> _Cuts:
    order = np.argsort(-score, kind="stable")
    ranked = score[order]
    n = len(score)
    if grid is not None:
        values = np.linspace(0.0, 1.0, grid)[::-1]  # descending, like the exact cuts
        # positives at threshold t: scores >= t, counted in the ascending copy
        n_pos = n - np.searchsorted(ranked[::-1], values, side="left")
        return _Cuts(order, n_pos, values)
    distinct = np.nonzero(ranked[:-1] != ranked[1:])[0] + 1  # cut after these many
    n_pos = np.concatenate(([0], distinct, [n]))
    upper = np.nextafter(ranked[0], np.inf)  # nobody positive
    hi, lo = ranked[distinct - 1], ranked[distinct]
    mid = (hi + lo) / 2
    mid = np.where(mid > lo, mid, hi)  # adjacent floats: take the upper score
    values = np.concatenate(([upper], mid, [ranked[-1]]))
    return _Cuts(order, n_pos, values)


def _best(objective: np.ndarray) -> int:
    return int(np.argmax(np.where(np.isnan(objective), -np.inf, objective)))


class ThresholdOptimizer:
    """Learns one threshold per class, scikit-learn style.

    Args:
        objective: ``"f1"``, ``"fbeta"``, ``"youden"``, ``"sensitivity:X"``,
            ``"specificity:X"`` or ``"challenge"`` (module docstring).
        beta: beta of ``"fbeta"``.
        grid: number of evenly spaced candidate thresholds in ``[0, 1]``; ``None``
            searches every distinct score (exact).
        fallback: threshold of a class without positive examples.
        weights: reward matrix for ``"challenge"``, shape ``(n_classes, n_classes)``,
            aligned with the columns of ``y_true``.
        normal_index: column of the normal class, for ``"challenge"``.
        max_sweeps: coordinate-ascent sweeps at most, for ``"challenge"``.

    Attributes (after :meth:`fit`):
        thresholds_: shape ``(n_classes,)``.
        fallback_: bool, shape ``(n_classes,)``: classes that got ``fallback``.
        class_scores_: per-class objective on the fitting data at ``thresholds_``
            (F-beta; F1 for ``"challenge"``; J for ``"youden"``; the specificity
            reached for ``"sensitivity:X"``, the sensitivity for ``"specificity:X"``);
            ``nan`` for fallback classes.
        sensitivity_, specificity_: per class, on the fitting data at
            ``thresholds_``; ``nan`` where a class has no positives (negatives).
        score_: the objective on the fitting data: the macro mean of
            ``class_scores_`` over non-fallback classes, or the normalised challenge
            metric.
        n_sweeps_: sweeps made (``"challenge"``; 0 otherwise).
    """

    def __init__(
        self,
        objective: str = "f1",
        *,
        beta: float = 2.0,
        grid: int | None = None,
        fallback: float = 0.5,
        weights: np.ndarray | None = None,
        normal_index: int | None = None,
        max_sweeps: int = 20,
    ) -> None:
        self.objective = objective
        self.beta = beta
        self.grid = grid
        self.fallback = fallback
        self.weights = weights
        self.normal_index = normal_index
        self.max_sweeps = max_sweeps

    def _validate(self, y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parse_objective(self.objective)
        if self.grid is not None and self.grid < 2:
            raise ValueError(f"grid must have at least 2 points, got {self.grid}")
        y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=np.float64)
        if y_true.ndim != 2 or y_true.shape != y_score.shape or len(y_true) == 0:
            raise ValueError(
                "y_true and y_score must be non-empty 2-D arrays of the same shape, "
                f"got {y_true.shape} and {y_score.shape}"
            )
        if self.objective == "challenge":
            c = y_true.shape[1]
            if self.weights is None or np.shape(self.weights) != (c, c):
                raise ValueError(
                    f"the challenge objective needs a {c}x{c} reward matrix (weights), "
                    f"got {None if self.weights is None else np.shape(self.weights)}"
                )
            if self.normal_index is None or not 0 <= self.normal_index < c:
                raise ValueError("the challenge objective needs the normal class's column")
        return y_true.astype(bool), y_score

    def fit(self, y_true: np.ndarray, y_score: np.ndarray) -> ThresholdOptimizer:
        """Learn thresholds from labels ``(n, c)`` and scores ``(n, c)``; returns self."""
        y_true, y_score = self._validate(y_true, y_score)
        name, target = parse_objective(self.objective)
        n, n_classes = y_true.shape
        self.fallback_ = ~y_true.any(axis=0)
        self.thresholds_ = np.full(n_classes, float(self.fallback))
        beta = self.beta if name == "fbeta" else 1.0
        cuts = {k: _cuts(y_score[:, k], self.grid) for k in np.nonzero(~self.fallback_)[0]}
        chosen = {}
        for k, cut in cuts.items():
            tp_cum = np.concatenate(([0], np.cumsum(y_true[cut.order, k])))
            tp = tp_cum[cut.n_pos]
            n_pos = int(tp_cum[-1])
            objective = _class_objective(name, target, beta, tp, cut.n_pos - tp, n_pos, n - n_pos)
            chosen[k] = _best(objective)
            self.thresholds_[k] = cut.values[chosen[k]]
        self.n_sweeps_ = 0
        if name == "challenge":
            self._coordinate_ascent(y_true, y_score, cuts, chosen)
        y_pred = self.predict(y_score)
        tp, fp, fn, tn = metrics.confusion_counts(y_true, y_pred)
        with np.errstate(divide="ignore", invalid="ignore"):
            self.sensitivity_ = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
            self.specificity_ = np.where(tn + fp > 0, tn / (tn + fp), np.nan)
        if name in ("f1", "fbeta", "challenge"):
            scores = metrics.f_beta_from_counts(tp, fp, fn, beta)
        elif name == "youden":
            scores = self.sensitivity_ + np.nan_to_num(self.specificity_, nan=1.0) - 1
        else:  # what the other side of the ROC point reached
            scores = self.specificity_ if name == "sensitivity" else self.sensitivity_
        self.class_scores_ = np.where(self.fallback_, np.nan, scores)
        if name == "challenge":
            self.score_ = metrics.challenge_metric(
                y_true, y_pred, np.asarray(self.weights, float), self.normal_index
            )
        else:
            self.score_ = metrics.nanmean(self.class_scores_)
        return self

    def _coordinate_ascent(
        self,
        y_true: np.ndarray,
        y_score: np.ndarray,
        cuts: dict[int, _Cuts],
        chosen: dict[int, int],
    ) -> None:
        weights = np.nan_to_num(np.asarray(self.weights, dtype=np.float64))
        reward = y_true.astype(np.float64) @ weights  # reward[i, k]: credit if k is output
        decided = y_score >= self.thresholds_
        credit = (decided * reward).sum(axis=1)
        union = (decided | y_true).sum(axis=1)
        for sweep in range(1, self.max_sweeps + 1):
            self.n_sweeps_ = sweep
            changed = False
            for k, cut in cuts.items():
                # each record's credit with class k off (r0) and on (r1), others fixed
                credit_off = credit - decided[:, k] * reward[:, k]
                union_off = union - (decided[:, k] & ~y_true[:, k])
                r0 = credit_off / np.maximum(union_off, 1)
                r1 = (credit_off + reward[:, k]) / np.maximum(union_off + ~y_true[:, k], 1)
                gain = np.concatenate(([0.0], np.cumsum((r1 - r0)[cut.order])))[cut.n_pos]
                j = _best(gain)
                if gain[j] <= gain[chosen[k]] + 1e-12:
                    continue
                chosen[k] = j
                self.thresholds_[k] = cut.values[j]
                decided[:, k] = y_score[:, k] >= self.thresholds_[k]
                credit = credit_off + decided[:, k] * reward[:, k]
                union = union_off + (decided[:, k] & ~y_true[:, k])
                changed = True
            if not changed:
                break

    def predict(self, y_score: np.ndarray) -> np.ndarray:
        """0/1 decisions, shape ``(n, c)``, dtype uint8."""
        if not hasattr(self, "thresholds_"):
            raise RuntimeError("ThresholdOptimizer is not fitted; call fit first")
        y_score = np.asarray(y_score)
        if y_score.ndim != 2 or y_score.shape[1] != len(self.thresholds_):
            raise ValueError(
                f"expected scores of shape (n, {len(self.thresholds_)}), got {y_score.shape}"
            )
        return (y_score >= self.thresholds_).astype(np.uint8)
