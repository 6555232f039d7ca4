"""Threshold objectives that pick an ROC point: Youden's J, a sensitivity or a
specificity target, checked against ROC points worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from ecgml.evaluation.thresholds import ThresholdOptimizer, parse_objective

# Ranked by score: P .95, N .90, P .80, P .70, N .60, P .50, N .40, N .30, N .20, P .10
# (5 positives, 5 negatives). Cutting below each score gives (sensitivity, specificity):
#   .95 (.2, 1)  .90 (.2, .8)  .80 (.4, .8)  .70 (.6, .8)  .60 (.6, .6)
#   .50 (.8, .6) .40 (.8, .4)  .30 (.8, .2)  .20 (.8, 0)   .10 (1, 0)
SCORES = np.array([0.95, 0.90, 0.80, 0.70, 0.60, 0.50, 0.40, 0.30, 0.20, 0.10])
LABELS = np.array([1, 0, 1, 1, 0, 1, 0, 0, 0, 1])


def _fit(objective: str) -> ThresholdOptimizer:
    return ThresholdOptimizer(objective).fit(LABELS[:, None], SCORES[:, None])


def test_youden_takes_the_point_farthest_above_the_diagonal() -> None:
    # J: .2 0 .2 .4 .2 .4 .2 0 -.2 0; the tie .70 / .50 goes to the higher threshold
    opt = _fit("youden")
    assert opt.thresholds_[0] == pytest.approx((0.70 + 0.60) / 2)
    assert opt.sensitivity_[0] == pytest.approx(0.6)
    assert opt.specificity_[0] == pytest.approx(0.8)
    assert opt.class_scores_[0] == pytest.approx(0.4) and opt.score_ == pytest.approx(0.4)


def test_youden_matches_the_best_point_of_scikit_learns_roc_curve() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    s = rng.normal(y * 0.8, 1.0)
    fpr, tpr, _ = roc_curve(y, s)
    opt = ThresholdOptimizer("youden").fit(y[:, None], s[:, None])
    assert opt.class_scores_[0] == pytest.approx(np.max(tpr - fpr))


@pytest.mark.parametrize(
    "objective,threshold,sensitivity,specificity",
    [
        ("sensitivity:0.80", (0.50 + 0.40) / 2, 0.8, 0.6),  # first cut reaching .8
        ("sensitivity:0.6", (0.70 + 0.60) / 2, 0.6, 0.8),
        ("sensitivity:1", 0.10, 1.0, 0.0),  # only everything positive reaches 1
        ("specificity:0.8", (0.70 + 0.60) / 2, 0.6, 0.8),  # lowest cut keeping .8
        ("specificity:0.95", (0.95 + 0.90) / 2, 0.2, 1.0),
        ("specificity:0.5", (0.50 + 0.40) / 2, 0.8, 0.6),
    ],
)
def test_targets_meet_their_side_and_do_best_on_the_other(
    objective: str, threshold: float, sensitivity: float, specificity: float
) -> None:
    opt = _fit(objective)
    assert opt.thresholds_[0] == pytest.approx(threshold)
    assert opt.sensitivity_[0] == pytest.approx(sensitivity)
    assert opt.specificity_[0] == pytest.approx(specificity)
    other = specificity if objective.startswith("sensitivity") else sensitivity
    assert opt.class_scores_[0] == pytest.approx(other)


def test_each_class_gets_its_own_point_and_a_class_without_positives_the_fallback() -> None:
    y = np.stack([LABELS, 1 - LABELS, np.zeros(10, int)], axis=1)
    s = np.stack([SCORES, 1 - SCORES, SCORES], axis=1)
    opt = ThresholdOptimizer("sensitivity:0.8", fallback=0.4).fit(y, s)
    assert opt.sensitivity_[0] >= 0.8 and opt.sensitivity_[1] >= 0.8
    assert opt.thresholds_[2] == 0.4 and opt.fallback_.tolist() == [False, False, True]
    assert np.isnan(opt.sensitivity_[2]) and np.isnan(opt.class_scores_[2])


def test_grid_search_meets_the_target_too() -> None:
    opt = ThresholdOptimizer("sensitivity:0.8", grid=21).fit(LABELS[:, None], SCORES[:, None])
    assert opt.sensitivity_[0] >= 0.8
    assert opt.thresholds_[0] == pytest.approx(0.5)  # highest grid value reaching it (>=)


@pytest.mark.parametrize(
    "bad",
    [
        "sensitivity",
        "sensitivity:",
        "specificity:0",
        "sensitivity:1.5",
        "sensitivity:x",
        "youden:0.5",
        "auc",
    ],
)
def test_bad_objectives_are_refused_by_name(bad: str) -> None:
    with pytest.raises(ValueError, match="objective"):
        parse_objective(bad)
    with pytest.raises(ValueError, match="objective"):
        _fit(bad)


def test_parse_objective_reads_the_target() -> None:
    assert parse_objective("specificity:0.95") == ("specificity", 0.95)
    assert parse_objective("youden") == ("youden", None)
