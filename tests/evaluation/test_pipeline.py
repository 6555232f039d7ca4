"""Thresholds and held-out scoring on a tiny trained run, through the scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import postprocessing
import threshold
from ecgml.cli.main import main as ecgml_main
from ecgml.config import save_config
from ecgml.data.cache import prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.inference.ensemble import Ensemble, vote
from tests.conftest import REPO
from tests.tiny_run import TINY_CONFIG, train_tiny_run

pytestmark = pytest.mark.slow

CONFIG = TINY_CONFIG


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipeline")
    train_tiny_run(root)
    test = root / "test"
    write_demo_dataset(test, n_records=8, seed=1, first_id=101, progress=False)
    header = (test / "D00101.hea").read_text().replace("D00101", "BROKEN")
    (test / "BROKEN.hea").write_text(header)  # its signal file does not exist
    return {"root": root, "run": root / "run", "test": test}


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A fresh copy of the trained run, so tests do not see each other's thresholds."""
    return Path(shutil.copytree(trained["run"], tmp_path / "run"))


def test_threshold_script_writes_each_folds_thresholds(run: Path) -> None:
    assert threshold.main(["--run", str(run)]) == 0
    for k in range(3):
        saved = json.loads((run / f"fold_{k}" / "thresholds.json").read_text())
        assert saved["objective"] == "f1" and len(saved["thresholds"]) == 27
        assert saved["learned_from"] == f"fold_{k}/val_predictions.npz"
        n_val = len(np.load(run / f"fold_{k}" / "val_predictions.npz")["y_true"])
        assert saved["n_validation"] == n_val
        # the demo data has 7 of the 27 classes; the other 20 get the fallback
        assert len(saved["fallback_classes"]) >= 20
        assert all(
            saved["thresholds"][saved["class_names"].index(c)] == 0.5
            for c in saved["fallback_classes"]
        )


@pytest.mark.parametrize("objective", ["f1", "challenge"])
def test_pooled_thresholds_learn_once_from_every_folds_validation_part(run, objective) -> None:
    from ecgml.evaluation.challenge import NORMAL_CLASS, RewardMatrix
    from ecgml.evaluation.thresholds import ThresholdOptimizer
    from ecgml.runs.thresholds import reward_for_classes

    assert threshold.main(["--run", str(run), "--objective", objective, "--pooled"]) == 0
    parts = [np.load(run / f"fold_{k}" / "val_predictions.npz") for k in range(3)]
    y_true = np.concatenate([p["y_true"] for p in parts])
    y_score = np.concatenate([p["y_score"] for p in parts])
    saved = [json.loads((run / f"fold_{k}" / "thresholds.json").read_text()) for k in range(3)]
    classes = saved[0]["class_names"]
    reward = None
    if objective == "challenge":
        reward = reward_for_classes(RewardMatrix.load("cinc2020"), classes)
    by_hand = ThresholdOptimizer(
        objective, weights=reward, normal_index=classes.index(NORMAL_CLASS)
    ).fit(y_true, y_score)
    for k, fold in enumerate(saved):
        assert fold["fold"] == k and fold["objective"] == objective
        np.testing.assert_allclose(fold["thresholds"], by_hand.thresholds_)
        assert fold["n_validation"] == len(y_true) == 24
        assert fold["learned_from"] == "fold_K/val_predictions.npz of folds [0, 1, 2], pooled"
    # without --pooled, each fold learns from its own part again
    assert threshold.main(["--run", str(run), "--objective", objective]) == 0
    own = [json.loads((run / f"fold_{k}" / "thresholds.json").read_text()) for k in range(3)]
    assert [f["n_validation"] for f in own] == [len(p["y_true"]) for p in parts]


def test_challenge_objective_runs_on_a_real_run(run: Path) -> None:
    assert threshold.main(["--run", str(run), "--objective", "challenge"]) == 0
    saved = json.loads((run / "fold_0" / "thresholds.json").read_text())
    assert saved["objective"] == "challenge" and saved["validation_score"] is not None


@pytest.mark.parametrize(
    "objective,side", [("sensitivity:0.9", "sensitivity"), ("specificity:0.95", "specificity")]
)
def test_an_operating_point_is_met_on_each_folds_validation_part(run, objective, side) -> None:
    assert threshold.main(["--run", str(run), "--objective", objective]) == 0
    target = float(objective.split(":")[1])
    for k in range(3):
        saved = json.loads((run / f"fold_{k}" / "thresholds.json").read_text())
        data = np.load(run / f"fold_{k}" / "val_predictions.npz")
        decided = data["y_score"] >= np.array(saved["thresholds"])
        for c, name in enumerate(saved["class_names"]):
            if name in saved["fallback_classes"]:
                continue
            positive = data["y_true"][:, c].astype(bool)
            wanted = positive if side == "sensitivity" else ~positive
            hit = decided[wanted, c] if side == "sensitivity" else ~decided[wanted, c]
            assert hit.mean() >= target - 1e-9
            assert saved[side][c] == pytest.approx(hit.mean())


def test_a_bad_objective_is_a_usage_error(run: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        threshold.main(["--run", str(run), "--objective", "sensitivity:2"])
    assert exit_.value.code == 2
    assert "needs a target in (0, 1]" in capsys.readouterr().err


def test_thresholds_refuse_predictions_of_training_records(run: Path, capsys) -> None:
    path = run / "fold_0" / "val_predictions.npz"
    data = dict(np.load(path))
    other = json.loads((run / "folds.json").read_text())["folds"][1][0]
    data["record_ids"] = np.append(data["record_ids"], other)
    data["y_true"] = np.vstack([data["y_true"], data["y_true"][:1]])
    data["y_score"] = np.vstack([data["y_score"], data["y_score"][:1]])
    np.savez(path, **data)
    assert threshold.main(["--run", str(run)]) == 2
    assert "must not see records the fold model trained on" in capsys.readouterr().err


def test_postprocessing_without_thresholds_says_what_to_run(run: Path, tmp_path, capsys) -> None:
    code = postprocessing.main(["--run", str(run), "--data", "x", "--out", str(tmp_path / "o")])
    assert code == 2 and "run threshold.py" in capsys.readouterr().err


def test_postprocessing_scores_the_held_out_set(run: Path, trained, tmp_path) -> None:
    assert threshold.main(["--run", str(run)]) == 0
    out = tmp_path / "result"
    args = ["--run", str(run), "--data", str(trained["test"]), "--out", str(out)]
    assert postprocessing.main([*args, "--no-progress"]) == 0
    score = json.loads((out / "score.json").read_text())
    assert score["data"]["n_records"] == 8 and score["data"]["n_excluded"] == 1
    assert score["data"]["excluded"][0]["record_id"] == "BROKEN"
    assert set(score["models"]) == {"fold_0", "fold_1", "fold_2", "ensemble", "ensemble_mean"}
    assert score["ensemble"] == {
        "rule": "majority",
        "min_votes": 2,
        "score": "mean of the fold models' probabilities",
        "all_windows": False,
        "crops": 1,
        "decision": "majority vote of 3 fold models, 2 needed",
        "window_stride": None,
        "window_aggregate": "mean",
        "stack": None,
    }
    # the headline figures carry a bootstrap interval over the 8 records, around the figure
    intervals = score["models"]["ensemble"]["confidence_intervals"]
    assert set(intervals) == {"macro_auroc", "challenge_metric"}  # the bundled weights
    challenge_metric = score["models"]["ensemble"]["challenge"]["challenge_metric"]
    assert intervals["challenge_metric"]["estimate"] == pytest.approx(challenge_metric)
    macro = intervals["macro_auroc"]
    assert macro["estimate"] == pytest.approx(score["models"]["ensemble"]["overall"]["macro_auroc"])
    assert (macro["n_resamples"], macro["seed"], macro["level"], macro["unit"]) == (
        1000,
        0,
        0.95,
        "sample",
    )
    assert macro["low"] <= macro["high"]
    assert (score["run"]["task"], score["run"]["target"], score["run"]["scorer"]) == (
        "cinc2020",
        "multilabel",
        "cinc2020",
    )
    for name in ("roc.png", "pr.png", "calibration.png", "confusion.png", "predictions.npz"):
        assert (out / name).stat().st_size > 0
    assert sorted(p.name for p in (out / "outputs").iterdir()) == [
        f"D{k:05d}.csv" for k in range(101, 109)
    ]

    # the ensemble's decisions are the majority vote of the saved fold decisions
    saved = np.load(out / "predictions.npz")
    np.testing.assert_array_equal(saved["y_pred"], saved["fold_preds"].sum(axis=0) >= 2)
    ensemble = Ensemble.load(run)
    mean_pred, _ = vote(saved["fold_scores"], ensemble.thresholds, rule="mean")
    n_positive = np.array([c["n_positive"] for c in score["classes"]])
    assert score["models"]["ensemble_mean"]["overall"]["exact_match_accuracy"] == pytest.approx(
        np.mean(np.all(mean_pred == saved["y_true"], axis=1))
    )
    assert n_positive.sum() == saved["y_true"].sum()
    # calibration per class and model, from the saved scores
    for model, scores in (("ensemble", saved["y_score"]), ("fold_1", saved["fold_scores"][1])):
        figures = score["models"][model]["calibration"]
        k = int(np.argmax(n_positive))
        brier = np.mean((scores[:, k] - saved["y_true"][:, k]) ** 2)
        assert figures["per_class"][ensemble.class_names[k]]["brier"] == pytest.approx(brier)

    # the challenge's scoring of the written files agrees with score.json
    labels = tmp_path / "labels"
    labels.mkdir()
    for header in trained["test"].glob("D*.hea"):
        shutil.copy(header, labels)
    assert (
        ecgml_main(
            [
                "score",
                "--labels",
                str(labels),
                "--outputs",
                str(out / "outputs"),
                "--out",
                str(tmp_path / "s.json"),
            ]
        )
        == 0
    )
    from_files = json.loads((tmp_path / "s.json").read_text())
    assert from_files["problems"] == []
    for name, value in score["models"]["ensemble"]["challenge"].items():
        if name != "classes":
            assert from_files["overall"][name] == pytest.approx(value, abs=1e-6), name


def test_postprocessing_runs_in_a_fresh_interpreter(run: Path, trained, tmp_path) -> None:
    # Loading the fold models must not rely on modules that training imported.
    assert threshold.main(["--run", str(run)]) == 0
    out = tmp_path / "fresh"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "postprocessing.py"),
            "--run",
            str(run),
            "--data",
            str(trained["test"]),
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "score.json").is_file()


@pytest.mark.parametrize("option", [["--crops", "0"], ["--min-votes", "4"]])
def test_bad_options_are_refused_before_anything_is_written(run, trained, tmp_path, option):
    threshold.main(["--run", str(run)])
    out = tmp_path / "o"
    args = ["--run", str(run), "--data", str(trained["test"]), "--out", str(out), *option]
    assert postprocessing.main(args) == 2
    assert not out.exists()


def test_a_cache_prepared_with_other_settings_is_refused(run: Path, trained, tmp_path, capsys):
    threshold.main(["--run", str(run)])
    other = tmp_path / "other_cache"
    prepare_cache([trained["test"]], other, PreprocessConfig(window=1000), progress=False)
    args = ["--run", str(run), "--data", str(other), "--out", str(tmp_path / "o")]
    assert postprocessing.main(args) == 2
    assert "window: 1000 vs 500" in capsys.readouterr().err


def test_config_round_trip_is_what_the_ensemble_reads(run: Path, tmp_path) -> None:
    threshold.main(["--run", str(run)])
    save_config(CONFIG, tmp_path / "c.json")
    ensemble = Ensemble.load(run)
    assert ensemble.config == CONFIG and ensemble.input_length == 500
    assert ensemble.thresholds.shape == (3, 27)
