"""Training with a tabular input: fold-only statistics; PTB-XL's predefined split."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np
import pytest

import model_training
from ecgml import runs
from ecgml.config import Config, config_from_dict
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.tabular import TabularConfig
from ecgml.evaluation.plots import plot_losses
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.task import Task
from ecgml.training.config import TrainingConfig
from ecgml.training.folds import in_training, load_folds
from tests.conftest import REPO
from tests.ptbxl_fixture import write_ptbxl

pytestmark = pytest.mark.slow

TINY_MODEL = SEResNetConfig(
    stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
)
CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=TINY_MODEL,
    training=TrainingConfig(n_folds=3, batch_size=8, epochs=1, time_mask_prob=0.5),
    tabular=TabularConfig(metadata=("age", "sex", "height"), units=4),
)


def test_statistics_come_from_the_training_fold_only(tmp_path):
    write_demo_dataset(tmp_path / "data", n_records=18, progress=False)
    prepare_cache([tmp_path / "data"], tmp_path / "cache", CONFIG.preprocess, progress=False)
    run = tmp_path / "run"
    runs.train_run(tmp_path / "cache", run, CONFIG, verbose=0)
    cache = Cache(tmp_path / "cache")
    x = cache.tabular(CONFIG.tabular)
    assert np.isnan(x[:, 4]).all() and (x[:, 5] == 1).all()  # no height in demo headers
    folds = load_folds(run / "folds.json", list(cache.index["record_id"]))
    means = []
    for k in range(3):
        model = keras.saving.load_model(run / f"fold_{k}" / "model.keras", compile=False)
        mean = np.ravel(model.get_layer("features_norm").get_config()["mean"])
        train = x[in_training(folds, k)]
        np.testing.assert_allclose(mean[:2], [train[:, 0].mean(), 0.0], rtol=1e-5)
        assert mean[4] == 0.0  # a column with no value at all
        means.append(mean[0])
    assert len(set(np.round(means, 4))) == 3  # each fold its own training rows
    assert not np.isclose(means[0], x[:, 0].mean())


def test_predefined_split_needs_one_fold():
    with pytest.raises(ValueError, match="n_folds"):
        Task.of(config_from_dict({"task": {"split": "predefined"}}))
    with pytest.raises(ValueError, match="n_folds must be at least 2"):
        Task.of(config_from_dict({"training": {"n_folds": 1}}))


def test_ptbxl_predefined_split_trains_on_1_to_8_and_validates_on_9(tmp_path):
    root = write_ptbxl(tmp_path / "ptbxl")
    config = config_from_dict(json.loads((REPO / "configs" / "ptbxl.json").read_text()))
    config = dataclasses.replace(
        config,
        task=dataclasses.replace(config.task, split="predefined"),
        preprocess=dataclasses.replace(config.preprocess, window=1000),
        model=TINY_MODEL,
        training=dataclasses.replace(
            config.training,
            n_folds=1,
            epochs=1,
            batch_size=4,
            precision="float32",
            jit_compile=False,
        ),
        tabular=dataclasses.replace(config.tabular, notes=8),
        stack=dataclasses.replace(config.stack, forest=False),  # the split is what is tested
    )
    assert config.labels == LabelConfig(classes=("NORM", "MI", "STTC", "CD", "HYP"))
    prepare_cache(
        [root],
        tmp_path / "cache",
        config.preprocess,
        config.labels,
        reader="ptbxl",
        reader_options=config.task.reader_options,
        progress=False,
    )
    runs.train_run(tmp_path / "cache", tmp_path / "run", config, verbose=0)
    folds = json.loads((tmp_path / "run" / "folds.json").read_text())
    assert folds["n_folds"] == 1 and folds["split"] == "predefined"
    assert folds["folds"] == [["00001_lr", "00002_lr"]] and folds["test"] == ["00005_lr"]
    assert sorted(folds["train"]) == ["00003_lr", "00004_lr"]
    done = json.loads((tmp_path / "run" / "fold_0" / "done.json").read_text())
    assert (done["n_train"], done["n_val"]) == (2, 2)
    # one fold model; postprocessing scores only strat_fold 10
    from ecgml.inference.postprocess import evaluate_on_data
    from ecgml.runs.thresholds import fit_run_thresholds

    fit_run_thresholds(tmp_path / "run")
    evaluate_on_data(tmp_path / "run", tmp_path / "cache", tmp_path / "test", progress=False)
    score = json.loads((tmp_path / "test" / "score.json").read_text())
    assert score["data"]["n_records"] == 1


def test_notes_are_announced_loudly(tmp_path, capsys):
    write_demo_dataset(tmp_path / "data", n_records=9, progress=False)
    prepare_cache([tmp_path / "data"], tmp_path / "cache", CONFIG.preprocess, progress=False)
    config = dataclasses.replace(CONFIG, tabular=TabularConfig(notes=4, units=2))
    runs.train_run(tmp_path / "cache", tmp_path / "run", config, folds=[0], verbose=0)
    assert "they state the diagnosis" in capsys.readouterr().err


def test_training_script_draws_every_folds_loss(tmp_path):
    write_demo_dataset(tmp_path / "data", n_records=12, progress=False)
    prepare_cache([tmp_path / "data"], tmp_path / "cache", CONFIG.preprocess, progress=False)
    config_path = tmp_path / "config.json"
    from ecgml.config import save_config

    save_config(CONFIG, config_path)
    assert (
        model_training.main(
            [
                "--config",
                str(config_path),
                "--data",
                str(tmp_path / "cache"),
                "--out",
                str(tmp_path / "run"),
                "--quiet",
            ]
        )
        == 0
    )
    assert (tmp_path / "run" / "losses.png").stat().st_size > 10_000
    histories = {k: tmp_path / "run" / f"fold_{k}" / "history.csv" for k in range(4)}
    assert plot_losses(histories, tmp_path / "again.png") == 3  # fold 3 has no log
