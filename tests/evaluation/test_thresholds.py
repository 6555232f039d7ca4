"""ThresholdOptimizer: known optima, brute-force agreement, fallback, challenge ascent."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.evaluation import metrics
from ecgml.evaluation.thresholds import ThresholdOptimizer


def _brute_best_f(y: np.ndarray, s: np.ndarray, beta: float, candidates: np.ndarray) -> float:
    best = 0.0
    for t in candidates:
        tp, fp, fn, _ = metrics.confusion_counts(y[:, None], (s >= t)[:, None])
        best = max(best, float(np.nan_to_num(metrics.f_beta_from_counts(tp, fp, fn, beta))[0]))
    return best


def test_separable_class_gets_the_midpoint_and_f1_of_one() -> None:
    y_true = np.array([[0], [0], [0], [1], [1]])
    y_score = np.array([[0.1], [0.3], [0.4], [0.6], [0.9]])
    opt = ThresholdOptimizer().fit(y_true, y_score)
    assert opt.thresholds_[0] == pytest.approx(0.5)
    assert opt.class_scores_[0] == 1.0 and opt.score_ == 1.0
    np.testing.assert_array_equal(opt.predict(y_score)[:, 0], [0, 0, 0, 1, 1])


def test_known_optimum_with_an_overlap() -> None:
    # positives at 0.9, 0.7, 0.2; negatives at 0.8, 0.1. Cuts: >=0.9 F1 .5, >=0.8 .4,
    # >=0.7 .667, >=0.2 .857 (tp 3 fp 1), all 0.75: best between 0.2 and 0.1
    y_true = np.array([[1], [0], [1], [1], [0]])
    y_score = np.array([[0.9], [0.8], [0.7], [0.2], [0.1]])
    opt = ThresholdOptimizer().fit(y_true, y_score)
    assert opt.thresholds_[0] == pytest.approx(0.15)
    assert opt.class_scores_[0] == pytest.approx(6 / 7)


@pytest.mark.parametrize("objective,beta", [("f1", 1.0), ("fbeta", 2.0), ("fbeta", 0.5)])
def test_exact_search_equals_brute_force_over_every_score(objective: str, beta: float) -> None:
    rng = np.random.default_rng(0)
    y_true = rng.random((300, 4)) < [0.05, 0.2, 0.5, 0.8]
    y_score = np.round(np.clip(y_true * 0.3 + rng.random((300, 4)) * 0.7, 0, 1), 3)
    opt = ThresholdOptimizer(objective, beta=beta).fit(y_true, y_score)
    for k in range(4):
        best = _brute_best_f(y_true[:, k], y_score[:, k], beta, np.unique(y_score[:, k]))
        assert opt.class_scores_[k] == pytest.approx(best, abs=1e-12)


def test_grid_search_equals_brute_force_over_the_grid() -> None:
    rng = np.random.default_rng(1)
    y_true = rng.random((200, 3)) < 0.3
    y_score = np.clip(y_true * 0.25 + rng.random((200, 3)) * 0.75, 0, 1)
    opt = ThresholdOptimizer(grid=11).fit(y_true, y_score)
    grid = np.linspace(0, 1, 11)
    for k in range(3):
        assert opt.thresholds_[k] in grid
        assert opt.class_scores_[k] == pytest.approx(
            _brute_best_f(y_true[:, k], y_score[:, k], 1.0, grid), abs=1e-12
        )


def test_class_without_positives_gets_the_fallback_and_is_flagged() -> None:
    y_true = np.array([[1, 0], [0, 0], [1, 0]])
    y_score = np.array([[0.8, 0.9], [0.2, 0.1], [0.7, 0.3]])
    opt = ThresholdOptimizer(fallback=0.4).fit(y_true, y_score)
    np.testing.assert_array_equal(opt.fallback_, [False, True])
    assert opt.thresholds_[1] == 0.4 and np.isnan(opt.class_scores_[1])
    assert opt.score_ == 1.0  # the macro skips the fallback class


def test_a_threshold_between_adjacent_floats_keeps_the_lower_score_negative() -> None:
    lo = 0.5
    hi = np.nextafter(lo, 1.0)
    opt = ThresholdOptimizer().fit(np.array([[1], [0]]), np.array([[hi], [lo]]))
    np.testing.assert_array_equal(opt.predict(np.array([[hi], [lo]]))[:, 0], [1, 0])


def _challenge_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, c = 150, 4  # class 3 is the normal class
    y_true = rng.random((n, c)) < [0.3, 0.2, 0.15, 0.0]
    y_true[:, 3] = ~y_true[:, :3].any(axis=1)
    y_score = np.round(np.clip(y_true * 0.3 + rng.random((n, c)) * 0.7, 0, 1), 2)
    weights = rng.uniform(0.2, 0.6, (c, c))
    weights = (weights + weights.T) / 2
    np.fill_diagonal(weights, 1.0)
    return y_true, y_score, weights


def test_challenge_ascent_reaches_a_coordinate_wise_optimum() -> None:
    y_true, y_score, weights = _challenge_data()
    opt = ThresholdOptimizer("challenge", weights=weights, normal_index=3).fit(y_true, y_score)
    best = opt.score_
    assert best == pytest.approx(metrics.challenge_metric(y_true, opt.predict(y_score), weights, 3))
    for k in range(4):  # no single threshold can be moved to a better score
        for t in np.append(np.unique(y_score[:, k]), 2.0):
            thresholds = opt.thresholds_.copy()
            thresholds[k] = t
            moved = metrics.challenge_metric(y_true, y_score >= thresholds, weights, 3)
            assert moved <= best + 1e-9


def test_challenge_ascent_never_does_worse_than_its_f1_start() -> None:
    for seed in range(5):
        y_true, y_score, weights = _challenge_data(seed)
        f1 = ThresholdOptimizer("f1").fit(y_true, y_score)
        start = metrics.challenge_metric(y_true, f1.predict(y_score), weights, 3)
        opt = ThresholdOptimizer("challenge", weights=weights, normal_index=3).fit(y_true, y_score)
        assert opt.score_ >= start - 1e-12
        assert opt.n_sweeps_ >= 1


def test_bad_arguments_are_clear_errors() -> None:
    y, s = np.array([[1], [0]]), np.array([[0.6], [0.2]])
    with pytest.raises(ValueError, match="objective must be"):
        ThresholdOptimizer("accuracy").fit(y, s)
    with pytest.raises(ValueError, match="reward matrix"):
        ThresholdOptimizer("challenge").fit(y, s)
    with pytest.raises(ValueError, match="same shape"):
        ThresholdOptimizer().fit(y, np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        ThresholdOptimizer().predict(s)
    with pytest.raises(ValueError, match="expected scores"):
        ThresholdOptimizer().fit(y, s).predict(np.zeros((2, 3)))
