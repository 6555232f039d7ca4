"""Five-fold training on a tiny cache: outputs, resume after interruption, one fold only."""

import dataclasses
import importlib.util
import json

import keras
import numpy as np
import pytest

import model_training
from ecgml import runs
from ecgml.config import Config, save_config
from ecgml.data.cache import prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.training import fit
from ecgml.training.config import TrainingConfig
from ecgml.training.folds import HELD_OUT, save_folds

# the fold's TensorBoard logs, written where TensorFlow and TensorBoard are installed
TENSORBOARD = (
    {"tensorboard"}
    if all(importlib.util.find_spec(m) for m in ("tensorflow", "tensorboard"))
    else set()
)

pytestmark = pytest.mark.slow

CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=SEResNetConfig(
        stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
    ),
    training=TrainingConfig(
        n_folds=3, batch_size=8, epochs=2, reduce_lr_patience=1, noise_std=0.01
    ),
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("fit")
    write_demo_dataset(root / "data", n_records=24, progress=False)
    prepare_cache([root / "data"], root / "cache", CONFIG.preprocess, progress=False)
    return root / "cache"


def interrupt_at_epoch_1(monkeypatch):
    """Make ``fit`` raise KeyboardInterrupt as epoch 1 begins; returns the real ``fit``."""

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    real_fit = keras.Model.fit
    monkeypatch.setattr(
        keras.Model,
        "fit",
        lambda self, *a, callbacks, **kw: real_fit(
            self, *a, callbacks=[*callbacks, Interrupt()], **kw
        ),
    )
    return real_fit


def test_a_run_leaves_what_thresholds_and_the_ensemble_need(cache_dir, tmp_path):
    run = tmp_path / "run"
    assert runs.train_run(cache_dir, run, CONFIG, verbose=0) == [0, 1, 2]
    folds = json.loads((run / "folds.json").read_text())["folds"]
    assert sorted(rid for fold in folds for rid in fold) == sorted(
        f"D{k:05d}" for k in range(1, 25)
    )
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["backend"] == keras.backend.backend()
    assert set(manifest["folds"]) == {"0", "1", "2"}
    for k in range(3):
        out = run / f"fold_{k}"
        assert {p.name for p in out.iterdir()} == {
            "model.keras",
            "history.csv",
            "val_predictions.npz",
            "done.json",
        } | TENSORBOARD
        if TENSORBOARD:  # one event file for training and one for validation curves
            events = (out / "tensorboard").rglob("events.out.tfevents*")
            assert {p.parent.name for p in events} == {"train", "validation"}
        preds = np.load(out / "val_predictions.npz")
        assert list(preds["record_ids"]) == folds[k]  # out-of-fold: exactly this fold's records
        assert preds["y_score"].shape == preds["y_true"].shape == (len(folds[k]), 27)
        assert np.all(np.isfinite(preds["y_score"]))
        model = keras.saving.load_model(out / "model.keras", safe_mode=True)
        assert model.output_shape == (None, 27)
    assert runs.train_run(cache_dir, run, CONFIG, verbose=0) == []  # all done: nothing to redo


def test_an_interrupted_fold_resumes_from_its_last_epoch(cache_dir, tmp_path, monkeypatch):
    run = tmp_path / "run"
    config = Config(
        **{
            **CONFIG.__dict__,
            "training": TrainingConfig(n_folds=3, batch_size=8, epochs=3, reduce_lr_patience=1),
        }
    )

    real_fit = interrupt_at_epoch_1(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        runs.train_run(cache_dir, run, config, folds=[0], verbose=0)
    state = json.loads((run / "fold_0" / "state.json").read_text())
    assert state["epoch"] == 0
    assert not (run / "fold_0" / "done.json").exists()

    monkeypatch.setattr(keras.Model, "fit", real_fit)
    epochs_run = []
    monkeypatch.setattr(
        fit.FoldCheckpoint,
        "on_epoch_begin",
        lambda self, epoch, logs=None: epochs_run.append(epoch),
        raising=False,
    )
    assert runs.train_run(cache_dir, run, config, folds=[0], verbose=0) == [0]
    assert epochs_run == [1, 2]  # epoch 0 was not trained again
    history = (run / "fold_0" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["0", "1", "2"]
    assert (run / "fold_0" / "done.json").exists()
    assert not (run / "fold_0" / "last.keras").exists()


def test_records_held_out_in_folds_json_are_neither_trained_nor_validated_on(cache_dir, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    ids = [f"D{k:05d}" for k in range(1, 25)]
    held_out = ids[-6:]
    folds = np.array([k % 3 for k in range(18)] + [HELD_OUT] * 6)
    save_folds(run / "folds.json", ids, folds)
    assert runs.train_run(cache_dir, run, CONFIG, folds=[0], verbose=0) == [0]
    done = json.loads((run / "fold_0" / "done.json").read_text())
    assert (done["n_train"], done["n_val"]) == (12, 6)
    validated = np.load(run / "fold_0" / "val_predictions.npz")["record_ids"]
    assert not set(validated) & set(held_out)
    assert json.loads((run / "folds.json").read_text())["test"] == held_out


def test_keep_epoch_last_trains_every_epoch_and_keeps_the_last(cache_dir, tmp_path):
    training = dataclasses.replace(
        CONFIG.training, epochs=3, early_stopping_patience=0, keep_epoch="last"
    )
    config = dataclasses.replace(CONFIG, training=training)
    runs.train_run(cache_dir, tmp_path / "run", config, folds=[0], verbose=0)
    done = json.loads((tmp_path / "run" / "fold_0" / "done.json").read_text())
    history = (tmp_path / "run" / "fold_0" / "history.csv").read_text().splitlines()
    assert done["best_epoch"] == 2 and len(history) == 4


def test_fold_option_trains_that_fold_only(cache_dir, tmp_path, capsys):
    run = tmp_path / "run"
    config_path = tmp_path / "c.json"
    from ecgml.config import save_config

    save_config(CONFIG, config_path)
    args = ["--config", str(config_path), "--data", str(cache_dir), "--out", str(run), "--quiet"]
    assert model_training.main([*args, "--fold", "1"]) == 0
    assert sorted(p.name for p in run.glob("fold_*")) == ["fold_1"]
    assert (run / "fold_1" / "curves.png").is_file()
    assert model_training.main([*args, "--fold", "7"]) == 2
    assert "do not exist" in capsys.readouterr().err


def test_another_config_in_the_same_run_folder_is_refused(cache_dir, tmp_path):
    run = tmp_path / "run"
    runs.train_run(cache_dir, run, CONFIG, folds=[0], verbose=0)
    other = Config(**{**CONFIG.__dict__, "training": TrainingConfig(n_folds=3, epochs=5)})
    with pytest.raises(ValueError, match="started with another config"):
        runs.train_run(cache_dir, run, other, folds=[1], verbose=0)


def test_manifest_names_the_classes(cache_dir, tmp_path):
    run = tmp_path / "run"
    runs.train_run(cache_dir, run, CONFIG, folds=[0], verbose=0)
    manifest = json.loads((run / "manifest.json").read_text())
    assert len(manifest["class_names"]) == 27
    assert "164889003" in manifest["class_names"]
    assert manifest["folds"]["0"]["best_epoch"] >= 0


def test_a_crash_just_before_done_json_is_finished_by_a_rerun(cache_dir, tmp_path, monkeypatch):
    run = tmp_path / "run"
    real_write = fit.write_json

    def crash_on_done(path, data):
        if path.name == "done.json":
            raise OSError("power cut")
        real_write(path, data)

    monkeypatch.setattr(fit, "write_json", crash_on_done)
    with pytest.raises(OSError, match="power cut"):
        runs.train_run(cache_dir, run, CONFIG, folds=[0], verbose=0)
    assert (run / "fold_0" / "model.keras").exists()
    assert not (run / "fold_0" / "done.json").exists()

    monkeypatch.setattr(fit, "write_json", real_write)
    assert runs.train_run(cache_dir, run, CONFIG, folds=[0], verbose=0) == [0]
    assert (run / "fold_0" / "done.json").exists()
    assert {p.name for p in (run / "fold_0").iterdir()} == {
        "model.keras",
        "history.csv",
        "val_predictions.npz",
        "done.json",
    } | TENSORBOARD


def test_a_config_the_cache_cannot_serve_leaves_no_run_folder(cache_dir, tmp_path):
    config = Config(**{**CONFIG.__dict__, "training": TrainingConfig(n_folds=3, input_length=900)})
    with pytest.raises(ValueError, match="longer than the cache's windows"):
        runs.train_run(cache_dir, tmp_path / "run", config, verbose=0)
    assert not (tmp_path / "run").exists()


def test_a_cache_prepared_with_other_preprocessing_is_refused(cache_dir, tmp_path):
    # predict would preprocess new records with the config's 100 Hz, 1000-sample windows
    config = dataclasses.replace(CONFIG, preprocess=PreprocessConfig(fs=100.0, window=1000))
    expected = r"fs 500.0 \(config: 100.0\), window 500 \(config: 1000\)"
    with pytest.raises(ValueError, match=expected):
        runs.train_run(cache_dir, tmp_path / "run", config, verbose=0)
    assert not (tmp_path / "run").exists()


def test_a_fold_started_on_the_numpy_pipeline_resumes_on_it(cache_dir, tmp_path, monkeypatch):
    """A fold interrupted under an ecgml from before augmentation moved into the step."""
    run = tmp_path / "run"
    step = dataclasses.replace(CONFIG, training=dataclasses.replace(CONFIG.training, epochs=3))
    host = dataclasses.replace(step, training=dataclasses.replace(step.training, augment_in="host"))

    real_fit = interrupt_at_epoch_1(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        runs.train_run(cache_dir, run, host, folds=[0], verbose=0)
    monkeypatch.setattr(keras.Model, "fit", real_fit)
    (run / "config.json").unlink()  # its config had no augment_in: it reads as the default
    save_config(step, run / "config.json")
    assert runs.train_run(cache_dir, run, step, folds=[0], verbose=0) == [0]
    history = (run / "fold_0" / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in history[1:]] == ["0", "1", "2"]
    model = keras.saving.load_model(run / "fold_0" / "model.keras", safe_mode=True)
    assert model.input_shape == (None, 500, 12)
