"""Scorers: the multi-class F1 and the CinC 2017 score against hand-computed arrays."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.evaluation.report import evaluate_predictions, json_safe
from ecgml.evaluation.scorers import SCORER_NAMES, get_scorer
from ecgml.evaluation.scorers.cinc2017 import cinc2017_score

NAMES = ("N", "A", "O", "~")


def one_hot(classes: list[int], k: int = 4) -> np.ndarray:
    return np.eye(k, dtype=np.uint8)[classes]


# true:    N N N N A A O O O ~
# decided: N N N A A O O O N ~
TRUE = one_hot([0, 0, 0, 0, 1, 1, 2, 2, 2, 3])
PRED = one_hot([0, 0, 0, 1, 1, 2, 2, 2, 0, 3])


def test_cinc2017_scorer_f1_and_score_by_hand():
    result = get_scorer("cinc2017").score(TRUE, TRUE.astype(float), PRED, NAMES, NAMES)
    o = result["overall"]
    # N: TP 3, FP 1 (an O), FN 1 (decided A) -> 6 / 8; A: TP 1, FP 1, FN 1 -> 2 / 4
    # O: TP 2, FP 1, FN 1 -> 4 / 6; ~: TP 1 -> 1
    assert o["f1_N"] == pytest.approx(0.75)
    assert o["f1_A"] == pytest.approx(0.5)
    assert o["f1_O"] == pytest.approx(2 / 3)
    assert o["f1_~"] == pytest.approx(1.0)
    assert o["cinc2017_score"] == pytest.approx((0.75 + 0.5 + 2 / 3) / 3)
    assert o["accuracy"] == pytest.approx(0.7)
    assert o["macro_f1"] == pytest.approx((0.75 + 0.5 + 2 / 3 + 1) / 4)
    assert result["confusion_matrix"]["rows_true_columns_decided"] == [
        [3, 1, 0, 0],
        [0, 1, 1, 0],
        [1, 0, 2, 0],
        [0, 0, 0, 1],
    ]
    assert result["per_class"]["N"]["precision"] == pytest.approx(0.75)
    assert result["per_class"]["A"]["recall"] == pytest.approx(0.5)


def test_cinc2017_score_ignores_the_noisy_class():
    assert cinc2017_score({"N": 1.0, "A": 0.4, "O": 0.1, "~": 0.0}) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="needs the classes"):
        cinc2017_score({"N": 1.0, "A": 0.4})


def test_multiclass_scorer_refuses_rows_without_exactly_one_class():
    bad = PRED.copy()
    bad[0] = [1, 1, 0, 0]
    with pytest.raises(ValueError, match="exactly one class per record"):
        get_scorer("multiclass").score(TRUE, TRUE.astype(float), bad, NAMES, NAMES)


def test_cinc2020_scorer_is_the_report_with_the_challenge_block():
    rng = np.random.default_rng(0)
    y_true = (rng.random((20, 3)) < 0.4).astype(np.uint8)
    y_score = rng.random((20, 3))
    y_pred = (y_score > 0.5).astype(np.uint8)
    names, abbr = ("164889003", "426783006", "59118001"), ("AF", "NSR", "RBBB")
    codes = [[n for n, t in zip(names, row, strict=True) if t] for row in y_true]
    scored = get_scorer("cinc2020").score(y_true, y_score, y_pred, names, abbr, label_codes=codes)
    expected = evaluate_predictions(y_true, y_score, y_pred, names, abbr, label_codes=codes)
    assert json_safe(scored) == json_safe(expected) and "challenge" in scored
    plain = get_scorer("multilabel").score(y_true, y_score, y_pred, names, abbr, label_codes=codes)
    assert "challenge" not in plain and plain["overall"] == expected["overall"]


def test_scorers_are_registered_by_name():
    assert SCORER_NAMES == (
        "cinc2020",
        "multilabel",
        "multiclass",
        "cinc2017",
        "aami",
        "binary",
        "chagas",
    )
    with pytest.raises(ValueError, match="unknown scorer"):
        get_scorer("cinc2018")


def test_aami_scorer_sensitivity_and_positive_predictivity_by_hand():
    aami = ("N", "S", "V", "F", "Q")
    # true:    N N N N S S V V V F       (no Q beat)
    # decided: N N N S S N V V F F
    true = one_hot([0, 0, 0, 0, 1, 1, 2, 2, 2, 3], k=5)
    pred = one_hot([0, 0, 0, 1, 1, 0, 2, 2, 3, 3], k=5)
    result = get_scorer("aami").score(true, true.astype(float), pred, aami, aami)
    per = result["per_class"]
    # N: Se 3/4, +P 3/4; S: Se 1/2, +P 1/2; V: Se 2/3, +P 1; F: Se 1, +P 1/2
    assert [per[c]["sensitivity"] for c in "NSVF"] == pytest.approx([0.75, 0.5, 2 / 3, 1.0])
    assert [per[c]["positive_predictivity"] for c in "NSVF"] == pytest.approx([0.75, 0.5, 1.0, 0.5])
    assert np.isnan(per["Q"]["sensitivity"])  # no Q beat: no sensitivity, not 0
    o = result["overall"]
    assert o["macro_sensitivity"] == pytest.approx((0.75 + 0.5 + 2 / 3 + 1.0) / 4)
    assert o["accuracy"] == pytest.approx(0.7)
    assert len(result["confusion_matrix"]["rows_true_columns_decided"]) == 5


def test_binary_scorer_leads_with_the_first_class_recall():
    names = ("MI", "other")
    true = one_hot([0, 0, 0, 0, 1, 1], k=2)
    pred = one_hot([0, 0, 0, 1, 0, 1], k=2)
    score = np.array([0.9, 0.8, 0.7, 0.4, 0.6, 0.1])
    y_score = np.stack([score, 1 - score], axis=1)
    result = get_scorer("binary").score(true, y_score, pred, names, names)
    o = result["overall"]
    assert o["positive_class"] == "MI"
    assert o["recall"] == pytest.approx(0.75) and o["precision"] == pytest.approx(0.75)
    # positives 0.9 0.8 0.7 0.4 against negatives 0.6 0.1: 7 of 8 pairs ordered
    assert o["auroc"] == pytest.approx(7 / 8)
    with pytest.raises(ValueError, match="two classes"):
        get_scorer("binary").score(TRUE, TRUE.astype(float), PRED, NAMES, NAMES)


def test_the_chagas_score_is_the_share_of_positives_in_the_top_five_percent():
    from ecgml.evaluation.scorers.chagas import top_fraction_recall

    # 40 records: the capacity is 2; three positives, ranked 1st, 5th and 9th
    score = np.linspace(1.0, 0.0, 40)
    truth = np.zeros(40, dtype=np.uint8)
    truth[[0, 4, 8]] = 1
    assert top_fraction_recall(truth, score) == pytest.approx(1 / 3)
    assert top_fraction_recall(truth, score, fraction=0.25) == pytest.approx(1.0)  # top 10
    # 20 records, capacity 1: the two highest scores tie, one of them positive, of two
    # positives in all: the positive is taken half the time
    score, truth = np.linspace(0.0, 0.5, 20), np.zeros(20, dtype=np.uint8)
    score[[3, 7]] = 0.9
    truth[[3, 11]] = 1
    assert top_fraction_recall(truth, score) == pytest.approx(0.25)
    assert np.isnan(top_fraction_recall(np.zeros(20), score))  # no positive
    assert top_fraction_recall(truth, score, fraction=0.04) == 0.0  # no capacity
    with pytest.raises(ValueError, match="y_true has 20 records, y_score 19"):
        top_fraction_recall(truth, score[:19])


def test_the_chagas_scorer_leads_with_the_challenge_score_of_its_one_class():
    scorer = get_scorer("chagas")
    y_true = np.zeros((40, 1), dtype=np.uint8)
    y_true[[0, 4, 8]] = 1
    y_score = np.linspace(1.0, 0.0, 40)[:, None]
    result = scorer.score(y_true, y_score, (y_score > 0.9).astype(np.uint8), ["chagas"], ["CD"])
    assert scorer.headline == "challenge_score"
    assert result["overall"]["challenge_score"] == pytest.approx(1 / 3)
    assert result["overall"]["macro_auroc"] == pytest.approx(result["per_class"]["chagas"]["auroc"])
    with pytest.raises(ValueError, match="takes one class"):
        scorer.score(np.zeros((4, 2)), np.zeros((4, 2)), np.zeros((4, 2)), ["a", "b"], ["a", "b"])
