"""Calibration figures against arrays worked out by hand, and the plots that lead
with the classes that have positives."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ecgml.evaluation import plots
from ecgml.evaluation.calibration import (
    calibration_figures,
    expected_calibration_error,
    reliability,
)


def test_ece_by_hand() -> None:
    # bins of width 0.1, right-closed: 0.05 and 0.08 share bin 0; 0.72, 0.78 bin 7;
    # 0.95 bin 9. Bin 0: 0 of 2 positive, mean 0.065, gap 0.065; bin 7: 1 of 2,
    # mean 0.75, gap 0.25; bin 9: 1 of 1, mean 0.95, gap 0.05.
    y = np.array([0, 0, 1, 0, 1])
    p = np.array([0.05, 0.08, 0.72, 0.78, 0.95])
    expected = (2 * 0.065 + 2 * 0.25 + 1 * 0.05) / 5
    assert expected_calibration_error(y, p) == pytest.approx(expected)
    prob_true, prob_pred, counts = reliability(y, p)
    np.testing.assert_allclose(prob_true, [0, 0.5, 1])
    np.testing.assert_allclose(prob_pred, [0.065, 0.75, 0.95])
    np.testing.assert_array_equal(counts, [2, 2, 1])


def test_perfect_and_worst_calibration() -> None:
    y = np.array([0, 1, 0, 1])
    assert expected_calibration_error(y, y.astype(float)) == 0.0
    assert expected_calibration_error(y, 1.0 - y) == pytest.approx(1.0)


def test_figures_per_class_and_macro_over_classes_with_positives() -> None:
    y = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    s = np.array([[0.9, 0.2, 0.1], [0.4, 0.6, 0.1], [0.7, 0.1, 0.3], [0.2, 0.3, 0.1]])
    got = calibration_figures(y, s, ["a", "b", "none"])
    brier = ((s - y) ** 2).mean(axis=0)
    for k, name in enumerate(["a", "b", "none"]):
        assert got["per_class"][name]["brier"] == pytest.approx(brier[k])
        assert got["per_class"][name]["ece"] == pytest.approx(
            expected_calibration_error(y[:, k], s[:, k])
        )
    assert got["per_class"]["none"]["n_positive"] == 0
    assert got["macro_brier"] == pytest.approx(brier[:2].mean())  # "none" left out
    with pytest.raises(ValueError, match="must match"):
        calibration_figures(y, s[:, :2], ["a", "b"])


@pytest.mark.parametrize("draw", [plots.plot_roc_grid, plots.plot_pr_grid, plots.plot_calibration])
def test_plots_draw_only_classes_with_positives(draw, tmp_path) -> None:
    rng = np.random.default_rng(0)
    y = np.zeros((40, 27), dtype=np.uint8)
    y[:, 3] = rng.integers(0, 2, 40)
    y[:, 10] = rng.integers(0, 2, 40)
    s = rng.random((40, 27))
    names = [f"class {k}" for k in range(27)]
    draw(y, s, names, tmp_path / "two.png")
    draw(rng.integers(0, 2, y.shape), s, names, tmp_path / "all.png")  # every class
    two, every = Image.open(tmp_path / "two.png"), Image.open(tmp_path / "all.png")
    # one row (three columns wide, for the line naming the others) against five of six
    assert two.size[0] <= every.size[0] / 2 + 1 and two.size[1] < every.size[1] / 3
