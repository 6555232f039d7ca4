"""Target kinds and their decision and ensemble rules, against hand-computed arrays."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.targets import get_target
from ecgml.targets.decisions import combine_multiclass, one_hot_argmax

# three fold models, two records, three classes
SCORES = np.array(
    [
        [[0.6, 0.3, 0.1], [0.2, 0.5, 0.3]],
        [[0.1, 0.8, 0.1], [0.4, 0.3, 0.3]],
        [[0.5, 0.4, 0.1], [0.1, 0.45, 0.45]],
    ]
)


def test_multiclass_mean_rule_is_the_argmax_of_the_mean():
    y_pred, y_score = combine_multiclass(SCORES, rule="mean")
    # record 0 mean: [0.4, 0.5, 0.1] -> class 1; record 1: [0.233, 0.417, 0.35] -> class 1
    np.testing.assert_allclose(y_score[0], [0.4, 0.5, 0.1], rtol=1e-6)
    np.testing.assert_array_equal(y_pred, [[0, 1, 0], [0, 1, 0]])


def test_multiclass_majority_rule_counts_fold_argmaxes():
    # record 0: folds vote 0, 1, 0 -> class 0 wins 2 to 1, although the mean favours 1
    y_pred, _ = combine_multiclass(SCORES, rule="majority")
    np.testing.assert_array_equal(y_pred[0], [1, 0, 0])


def test_multiclass_majority_tie_goes_to_the_higher_mean_probability():
    # record 1: folds vote 1, 0, 1 (fold 2's 0.45/0.45 tie goes to the first class, 1)
    scores = np.array([[[0.2, 0.5, 0.3]], [[0.4, 0.3, 0.3]], [[0.1, 0.2, 0.7]]])
    # votes: 1, 0, 2 -> one each; means 0.233, 0.333, 0.433 -> class 2
    y_pred, _ = combine_multiclass(scores, rule="majority")
    np.testing.assert_array_equal(y_pred, [[0, 0, 1]])
    two_way = np.array([[[0.6, 0.4]], [[0.3, 0.7]]])  # one vote each; means 0.45, 0.55
    np.testing.assert_array_equal(combine_multiclass(two_way, rule="majority")[0], [[0, 1]])


def test_one_hot_argmax_takes_the_first_of_equal_scores():
    np.testing.assert_array_equal(one_hot_argmax(np.array([[0.5, 0.5, 0.0]])), [[1, 0, 0]])


def test_multiclass_target_has_softmax_and_no_thresholds():
    target = get_target("multiclass")
    assert target.activation == "softmax" and not target.needs_thresholds
    assert target.default_rule == "mean"
    np.testing.assert_array_equal(
        target.fold_decisions(SCORES, None)[:, 0], [[1, 0, 0], [0, 1, 0], [1, 0, 0]]
    )
    with pytest.raises(ValueError, match="min_votes applies to multilabel"):
        target.combine(SCORES, None, min_votes=2)


def test_multilabel_target_keeps_the_threshold_vote():
    target = get_target("multilabel")
    thresholds = np.full((3, 3), 0.45)
    y_pred, _ = target.combine(SCORES, thresholds)
    # record 0 class 0: 0.6, 0.1, 0.5 -> 2 of 3 folds at 0.45 or more -> decided
    np.testing.assert_array_equal(y_pred, [[1, 0, 0], [0, 1, 0]])
    assert target.describe(3) == "majority vote of 3 fold models, 2 needed"


def test_multiclass_labels_need_exactly_one_class():
    target = get_target("multiclass")
    target.check_labels(np.eye(3, dtype=np.uint8), where="x")
    with pytest.raises(ValueError, match="exactly one class per record; 2 records"):
        target.check_labels(np.array([[1, 1, 0], [0, 0, 0], [0, 1, 0]]), where="x")


def test_a_loss_of_the_other_kind_is_refused():
    with pytest.raises(ValueError, match="'weighted_bce' does not fit a multiclass task"):
        get_target("multiclass").check_loss("weighted_bce")
    with pytest.raises(ValueError, match="'cce' does not fit a multilabel task"):
        get_target("multilabel").check_loss("cce")
    with pytest.raises(ValueError, match="target must be one of"):
        get_target("ordinal")
