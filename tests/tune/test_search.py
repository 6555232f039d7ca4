"""``ecgml tune`` on a tiny cache: workers sharing a study, a killed worker, no test
record read, pruning, and best.json training as it is."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

optuna = pytest.importorskip("optuna")

import model_training  # noqa: E402
from ecgml.config import Config, save_config  # noqa: E402
from ecgml.data.cache import Cache, prepare_cache  # noqa: E402
from ecgml.data.demo import write_demo_dataset  # noqa: E402
from ecgml.data.preprocess import PreprocessConfig  # noqa: E402
from ecgml.models.se_resnet import SEResNetConfig  # noqa: E402
from ecgml.training import fit  # noqa: E402
from ecgml.training.config import TrainingConfig  # noqa: E402
from ecgml.training.folds import HELD_OUT, load_folds, save_folds  # noqa: E402
from ecgml.tune import parse_space, tune  # noqa: E402
from ecgml.tune.search import PruningReport  # noqa: E402

pytestmark = pytest.mark.slow

CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=SEResNetConfig(
        stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
    ),
    training=TrainingConfig(n_folds=3, batch_size=8, epochs=2, reduce_lr_patience=0),
)
SPACE = {
    "parameters": {
        "training.learning_rate": {"low": 0.0005, "high": 0.005, "log": True},
        "training.batch_size": {"choices": [4, 8]},
        "model.filters": {"choices": [[4, 8], [8, 8]]},
    },
    "folds": 1,
    "sampler": {"kind": "random", "seed": 0},
}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tune")
    write_demo_dataset(root / "data", n_records=24, progress=False)
    prepare_cache([root / "data"], root / "cache", CONFIG.preprocess, progress=False)
    return root / "cache"


def finished(storage):
    study = optuna.load_study(study_name="ecgml", storage=storage)
    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return study, [t for t in study.get_trials() if t.state in states]


def cli(tmp_path, cache_dir, out, *extra):
    config = tmp_path / "config.json"
    save_config(CONFIG, config)
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    return [
        sys.executable,
        "-m",
        "ecgml",
        "tune",
        "--config",
        str(config),
        "--data",
        str(cache_dir),
        "--space",
        str(space),
        "--out",
        str(out),
        *extra,
    ]


def test_two_workers_share_one_study_and_best_json_trains_as_it_is(cache_dir, tmp_path):
    out = tmp_path / "tune"
    done = subprocess.run(
        cli(tmp_path, cache_dir, out, "--trials", "3", "--jobs", "2"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "worker_1.log" in {p.name for p in out.iterdir()}
    study, trials = finished(f"sqlite:///{out / 'study.db'}")
    # two workers may start their last trials at the same moment: at most one more
    assert 3 <= len(trials) <= 4
    numbers = [t.number for t in study.get_trials()]
    assert len(numbers) == len(set(numbers))
    runs = [t.user_attrs["run"] for t in trials]
    assert len(set(runs)) == len(runs)
    for t in trials:  # each an ordinary run folder with its fold done
        assert (out / t.user_attrs["run"] / "fold_0" / "done.json").is_file()
        assert t.user_attrs["objective"] == "macro_auroc"
    table = (out / "trials.csv").read_text().splitlines()
    assert len(table) == 1 + len(study.get_trials())
    summary = json.loads((out / "tune.json").read_text())
    assert summary["best"]["value"] == max(t.value for t in trials)
    assert (out / "history.png").stat().st_size > 1000
    assert "best: trial" in done.stdout

    best = out / "best.json"
    params = summary["best"]["params"]
    config = json.loads(best.read_text())
    assert config["training"]["learning_rate"] == params["training.learning_rate"]
    assert config["model"]["filters"] == params["model.filters"]
    run = tmp_path / "best_run"
    assert (
        model_training.main(
            [
                "--config",
                str(best),
                "--data",
                str(cache_dir),
                "--out",
                str(run),
                "--fold",
                "0",
                "--quiet",
            ]
        )
        == 0
    )
    assert (run / "fold_0" / "model.keras").is_file()


def test_a_killed_worker_leaves_a_retried_trial_not_a_half_counted_one(cache_dir, tmp_path):
    out = tmp_path / "tune"
    storage = f"sqlite:///{out / 'study.db'}"
    worker = subprocess.Popen(
        cli(tmp_path, cache_dir, out, "--trials", "2"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 300
    running = []
    while time.time() < deadline and not running:
        time.sleep(1)
        if (out / "study.db").is_file():
            try:
                study = optuna.load_study(study_name="ecgml", storage=storage)
            except KeyError:  # the study is not created yet
                continue
            running = [t for t in study.get_trials() if t.state == optuna.trial.TrialState.RUNNING]
    assert running, "the worker never started a trial"
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed = running[0]

    time.sleep(3)  # longer than the new worker's grace period: the trial is stale
    space = parse_space(SPACE, CONFIG)
    study = tune(CONFIG, cache_dir, space, out, trials=2, space_data=SPACE, heartbeat=1)
    trials = study.get_trials()
    states = {t.number: t.state for t in trials}
    assert states[killed.number] == optuna.trial.TrialState.FAIL
    _, done = finished(storage)
    assert len(done) == 2  # counted once, after its retry
    retry = next(t for t in trials if t.system_attrs.get("failed_trial") == killed.number)
    assert retry.params == killed.params
    assert retry.user_attrs["run"] == f"trials/trial_{killed.number:04d}"


def test_no_held_out_record_is_trained_or_validated_on(cache_dir, tmp_path, monkeypatch):
    cache = Cache(cache_dir)
    ids = list(cache.index["record_id"])
    folds = np.full(len(ids), HELD_OUT)
    folds[6:] = np.arange(len(ids) - 6) % 3
    given = tmp_path / "folds.json"
    save_folds(given, ids, folds, seed=0)
    held_out = set(np.nonzero(folds == HELD_OUT)[0])

    seen = []
    real = fit.fold_data

    def spy(cache, t, idx, val_idx, **kwargs):
        seen.append((set(map(int, idx)), set(map(int, val_idx))))
        return real(cache, t, idx, val_idx, **kwargs)

    monkeypatch.setattr(fit, "fold_data", spy)
    out = tmp_path / "tune"
    space = parse_space({**SPACE, "folds": 2}, CONFIG)
    study = tune(CONFIG, cache_dir, space, out, trials=2, folds_from=given, space_data=SPACE)
    assert len(seen) == 4  # two trials of two folds
    for train, val in seen:
        assert not train & held_out
        assert not val & held_out
    np.testing.assert_array_equal(load_folds(out / "folds.json", ids), folds)
    for t in study.get_trials():
        np.testing.assert_array_equal(
            load_folds(out / t.user_attrs["run"] / "folds.json", ids), folds
        )
    assert json.loads((out / "tune.json").read_text())["held_out_samples"] == 6


def test_pruning_stops_a_trial_below_the_median():
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=2)
    )
    for value in (0.8, 0.9):
        trial = study.ask()
        report = PruningReport(trial, "val_auroc", "max")
        for epoch in range(3):
            report.on_epoch_end(epoch, {"val_auroc": value})
        study.tell(trial, value)

    good = PruningReport(study.ask(), "val_auroc", "max")
    good.on_epoch_end(0, {"val_auroc": 0.95})  # above the median: goes on
    poor = PruningReport(study.ask(), "val_auroc", "max")
    with pytest.raises(optuna.TrialPruned, match=r"val_auroc 0\.5"):
        poor.on_epoch_end(0, {"val_auroc": 0.5})


def test_a_lower_is_better_monitor_is_reported_negated():
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    PruningReport(trial, "val_loss", "min", offset=4).on_epoch_end(1, {"val_loss": 0.25})
    study.tell(trial, 0.0)
    assert study.trials[0].intermediate_values == {5: -0.25}


def test_a_bad_folds_file_or_cache_is_refused_before_anything_is_written(cache_dir, tmp_path):
    space = parse_space(SPACE, CONFIG)
    not_folds = tmp_path / "config.json"
    save_config(CONFIG, not_folds)
    with pytest.raises(ValueError, match="not a folds file"):
        tune(CONFIG, cache_dir, space, tmp_path / "a", trials=1, folds_from=not_folds)
    other = Config(**{**CONFIG.__dict__, "preprocess": PreprocessConfig(window=400)})
    with pytest.raises(ValueError, match=r"window 500 \(config: 400\)"):
        tune(other, cache_dir, parse_space(SPACE, other), tmp_path / "b", trials=1)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
