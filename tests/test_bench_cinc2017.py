"""The CinC 2017 benchmark's figures: the bootstrap's fast score is the scorer's."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))  # the script imports ``common`` from its folder
spec = importlib.util.spec_from_file_location(
    "cinc2017_table", REPO / "bench" / "cinc2017_table.py"
)
table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table)

CLASSES = ["N", "A", "O", "~"]


def predictions(n: int, signal: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.eye(4)[rng.choice(4, size=n, p=[0.6, 0.1, 0.25, 0.05])]
    return y, rng.random((n, 4)) + signal * y


def test_interval_estimates_are_the_scorers_figures_and_cover_them():
    y, y_score = predictions(400, 0.6, 0)
    _, forest = predictions(400, 0.0, 1)
    folds = np.arange(400) % 5
    entry = table.score(y, y_score, folds, CLASSES, forest)
    overall, intervals = entry["overall"], entry["intervals"]
    # F1 of N, A, O by hand from the argmax decisions
    true, decided = y.argmax(axis=1), y_score.argmax(axis=1)
    f1 = [
        2 * np.sum((true == c) & (decided == c)) / (np.sum(true == c) + np.sum(decided == c))
        for c in range(3)
    ]
    assert overall["cinc2017_score"] == pytest.approx(np.mean(f1))
    assert intervals["cinc2017_score"]["estimate"] == pytest.approx(np.mean(f1))
    assert intervals["accuracy"]["estimate"] == pytest.approx(overall["accuracy"])
    low, high = intervals["cinc2017_score"]["low"], intervals["cinc2017_score"]["high"]
    assert low < overall["cinc2017_score"] < high
    # a forest at chance: the row's lead over it is positive and its interval excludes 0
    assert intervals["minus_forest"]["low"] > 0
    assert len(entry["per_fold_score"]) == 5


def test_seed_summary_spans_the_seeds_of_each_variant():
    rows = {
        "resecg": {"variant": "resecg", "seed": 42, "overall": {"cinc2017_score": 0.70}},
        "resecg-seed43": {"variant": "resecg", "seed": 43, "overall": {"cinc2017_score": 0.74}},
        "resecg-focal": {"variant": "resecg-focal", "seed": 42, "overall": {"cinc2017_score": 0.7}},
        "features": {"overall": {"cinc2017_score": 0.6}},
    }
    summary = table.seed_summary(rows)
    assert list(summary) == ["resecg"]  # one seed of focal: no spread
    assert summary["resecg"]["mean"] == pytest.approx(0.72)
    assert summary["resecg"]["sd"] == pytest.approx(np.std([0.70, 0.74], ddof=1))
