"""Vote rules of the fold ensemble."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.inference.ensemble import vote


def _scores(*per_model: list[float]) -> np.ndarray:
    return np.array(per_model, dtype=np.float32)[:, None, :]  # (models, 1 record, classes)


def test_majority_of_five_needs_three_votes() -> None:
    scores = _scores([0.9, 0.9], [0.9, 0.9], [0.9, 0.1], [0.1, 0.1], [0.1, 0.1])
    y_pred, y_score = vote(scores, np.full((5, 2), 0.5))
    np.testing.assert_array_equal(y_pred, [[1, 0]])  # class 0: 3 votes, class 1: 2
    np.testing.assert_allclose(y_score, [[0.58, 0.42]], rtol=1e-6)


def test_each_fold_uses_its_own_threshold() -> None:
    scores = _scores([0.6], [0.6], [0.6])
    thresholds = np.array([[0.5], [0.7], [0.7]])
    assert vote(scores, thresholds)[0][0, 0] == 0  # only the first fold says yes
    assert vote(scores, thresholds, min_votes=1)[0][0, 0] == 1


def test_an_even_tie_is_negative_by_default() -> None:
    scores = _scores([0.9], [0.9], [0.1], [0.1])
    assert vote(scores, np.full((4, 1), 0.5))[0][0, 0] == 0
    assert vote(scores, np.full((4, 1), 0.5), min_votes=2)[0][0, 0] == 1


def test_mean_rule_compares_mean_probability_with_mean_threshold() -> None:
    # mean probability 0.5; mean threshold 0.45 -> yes; majority: 1 of 3 -> no
    scores = _scores([0.9], [0.3], [0.3])
    thresholds = np.array([[0.35], [0.5], [0.5]])
    assert vote(scores, thresholds, rule="mean")[0][0, 0] == 1
    assert vote(scores, thresholds, rule="majority")[0][0, 0] == 0


def test_bad_rules_and_shapes_are_clear_errors() -> None:
    scores = _scores([0.9], [0.1], [0.2])
    with pytest.raises(ValueError, match="rule must be"):
        vote(scores, np.full((3, 1), 0.5), rule="any")
    with pytest.raises(ValueError, match="min_votes"):
        vote(scores, np.full((3, 1), 0.5), min_votes=4)
    with pytest.raises(ValueError, match="expected fold scores"):
        vote(scores, np.full((2, 1), 0.5))
