"""Bootstrap intervals and the rank AUROC they recompute, against hand-computed cases."""

import numpy as np
import pytest

from ecgml.evaluation import metrics
from ecgml.evaluation.bootstrap import bootstrap_figures, bootstrap_interval
from ecgml.evaluation.scorers import get_scorer


def test_interval_of_the_mean_is_the_percentiles_of_the_same_draws():
    values = np.array([0.0, 1.0, 1.0, 3.0, 5.0])
    out = bootstrap_interval(lambda i: values[i].mean(), 5, n_resamples=200, seed=7)
    rng = np.random.default_rng(7)  # the same draws, by hand
    means = [values[rng.integers(0, 5, size=5)].mean() for _ in range(200)]
    assert out["estimate"] == pytest.approx(2.0)
    assert (out["low"], out["high"]) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    assert (out["n_resamples"], out["n_valid"], out["seed"], out["unit"]) == (200, 200, 7, "sample")


def test_a_constant_figure_has_a_zero_width_interval():
    out = bootstrap_interval(lambda i: 0.5, 10, n_resamples=50)
    assert out["low"] == out["high"] == out["estimate"] == 0.5


def test_groups_are_drawn_whole():
    # samples 0-2 are one patient, 3-4 another: a draw holds all of a patient or none
    groups = ["a", "a", "a", "b", "b"]

    def figure(index):
        counts = np.bincount(index, minlength=5)
        assert len(set(counts[:3])) == 1 and len(set(counts[3:])) == 1
        return float(len(index))

    out = bootstrap_interval(figure, 5, groups=groups, n_resamples=100)
    assert out["unit"] == "group"
    assert {out["low"], out["high"]} <= {4.0, 5.0, 6.0}  # 2+2, 3+2, 3+3 samples


def test_undefined_draws_are_counted_and_left_out():
    # a figure undefined unless sample 0 is drawn: about 1 - (4/5)^5 = 67 % of draws have it
    out = bootstrap_interval(lambda i: 1.0 if 0 in i else np.nan, 5, n_resamples=400)
    assert 0.55 * 400 < out["n_valid"] < 0.8 * 400
    assert out["low"] == out["high"] == 1.0
    rare = bootstrap_interval(lambda i: 1.0 if (i == 0).all() else np.nan, 5, n_resamples=100)
    assert rare["low"] is None and rare["high"] is None


def test_several_figures_share_draws():
    values = np.arange(6.0)
    out = bootstrap_figures(
        lambda i: {"mean": values[i].mean(), "twice": 2 * values[i].mean()}, 6, n_resamples=100
    )
    assert out["twice"]["low"] == pytest.approx(2 * out["mean"]["low"])
    assert out["twice"]["high"] == pytest.approx(2 * out["mean"]["high"])


def test_rank_auroc_equals_the_trapezoid_auroc_with_ties():
    rng = np.random.default_rng(0)
    y_true = (rng.random((60, 4)) < 0.3).astype(np.uint8)
    y_true[:, 3] = 0  # no positives: undefined
    y_score = np.round(rng.random((60, 4)), 1)  # many ties
    expected, _ = metrics.auroc_auprc(y_true, y_score)
    np.testing.assert_allclose(metrics.auroc_by_ranks(y_true, y_score), expected)
    # hand case: positives score 0.9 and 0.5, negatives 0.5 and 0.1: (1 + 1 + 0.5 + 1) / 4
    assert (
        metrics.auroc_by_ranks(
            np.array([[1], [1], [0], [0]]), np.array([[0.9], [0.5], [0.5], [0.1]])
        )[0]
        == 0.875
    )


@pytest.mark.parametrize(
    ("scorer", "figure"),
    [
        ("multilabel", "macro_auroc"),
        ("multiclass", "macro_f1"),
        ("cinc2017", "cinc2017_score"),
        ("aami", "macro_sensitivity"),
        ("binary", "recall"),
    ],
)
def test_every_scorer_gives_its_headline_an_interval(scorer, figure):
    rng = np.random.default_rng(1)
    names = {
        "cinc2017": ["N", "A", "O", "~"],
        "binary": ["MI", "HC"],
        "aami": ["N", "S", "V", "F", "Q"],
    }.get(scorer, ["a", "b", "c"])
    k = len(names)
    true = np.eye(k, dtype=np.uint8)[rng.integers(0, k, 40)]
    score = np.clip(true * 0.6 + rng.random((40, k)) * 0.5, 0, 1)
    pred = np.eye(k, dtype=np.uint8)[score.argmax(axis=1)]
    s = get_scorer(scorer)
    full = s.score(true, score, pred, names, names)
    found = {**full.get("challenge", {}), **full["overall"]}
    out = s.confidence_intervals(true, score, pred, names, names, n_resamples=50)
    assert set(out) == {figure}
    assert out[figure]["estimate"] == pytest.approx(found[figure])
    assert out[figure]["low"] <= out[figure]["high"]


PAIRED = {"713427006", "59118001", "284470004", "63593006", "427172004", "17338001"}


def test_the_cinc2020_shortcut_gives_the_generic_intervals():
    from pathlib import Path

    from ecgml.data.labels import LabelEncoder
    from ecgml.evaluation.challenge import RewardMatrix
    from ecgml.evaluation.scorers.base import Scorer

    weights_file = Path(__file__).parents[2].parent / "shared/reference/weights.csv"
    if not weights_file.is_file():
        pytest.skip("no CinC 2020 weights table")
    encoder = LabelEncoder.from_config(None)
    names, abbreviations = list(encoder.class_names), list(encoder.abbreviations)
    rng = np.random.default_rng(3)
    y_true = (rng.random((40, len(names))) < 0.15).astype(np.uint8)
    y_score = np.clip(y_true * 0.3 + rng.random(y_true.shape) * 0.7, 0, 1)
    # Classes scored as one pair are folded by which of them occur; the shortcut folds
    # once for the whole set, the generic path again on every draw, so the two agree
    # exactly only on labels without them.
    paired = [k for k, n in enumerate(names) if n in PAIRED]
    y_true[:, paired] = 0
    y_pred = (y_score > 0.6).astype(np.uint8)
    y_pred[:, paired] = 0
    codes = [[names[j] for j in np.nonzero(row)[0]] for row in y_true]
    scorer = get_scorer("cinc2020")
    options = {"label_codes": codes, "weights": RewardMatrix.load(weights_file), "n_resamples": 30}
    fast = scorer.confidence_intervals(y_true, y_score, y_pred, names, abbreviations, **options)
    slow = Scorer.confidence_intervals(
        scorer, y_true, y_score, y_pred, names, abbreviations, **options
    )
    assert set(fast) == {"macro_auroc", "challenge_metric"}
    for name in fast:
        for key in ("estimate", "low", "high"):
            assert fast[name][key] == pytest.approx(slow[name][key]), (name, key)
