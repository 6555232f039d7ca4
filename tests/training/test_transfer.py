"""Transfer learning: ``training.init_from``, frozen layers, their own learning rate."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np
import pytest

from ecgml import runs
from ecgml.models.beat_cnn import BeatCNNConfig
from ecgml.models.registry import build_model
from ecgml.optimizers import RAdam
from ecgml.training.config import TrainingConfig
from ecgml.training.transfer import copy_weights, init_source, initialise_from

SMALL = BeatCNNConfig(filters=(4, 8), dense_units=8)


def beat_model(n_classes: int, seed: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_model(SMALL, n_classes=n_classes, input_length=63, n_leads=1, activation="softmax")


def test_copied_layers_equal_their_source_and_a_mismatch_is_reported():
    source, model = beat_model(5, seed=0), beat_model(2, seed=1)
    report = copy_weights(model, source)
    assert report["copied"] == ["conv1", "conv2", "dense"]
    assert "output" in report["not_copied"]
    assert "(8, 5)" in report["not_copied"]["output"] and "(8, 2)" in report["not_copied"]["output"]
    for name in report["copied"]:
        for ours, theirs in zip(
            model.get_layer(name).get_weights(), source.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(ours, theirs)
    assert not np.array_equal(
        model.get_layer("output").get_weights()[1][:2] + 1,
        source.get_layer("output").get_weights()[1][:2],
    )


def test_frozen_layers_do_not_change_in_a_training_step(tmp_path):
    source = beat_model(5, seed=0)
    source.save(tmp_path / "beats.keras")
    model = beat_model(2, seed=1)
    report = initialise_from(model, tmp_path / "beats.keras", freeze=True)
    assert report["frozen"] is True
    before = {layer.name: layer.get_weights() for layer in model.layers if layer.get_weights()}
    model.compile(optimizer=RAdam(learning_rate=1e-2), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 63, 1)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 16)]
    model.train_on_batch(x, y)
    for name in report["copied"]:
        for old, new in zip(before[name], model.get_layer(name).get_weights(), strict=True):
            np.testing.assert_array_equal(old, new)
    assert not np.array_equal(before["output"][0], model.get_layer("output").get_weights()[0])


def test_a_layer_learning_rate_scale_scales_its_first_step():
    model = beat_model(2, seed=0)
    optimizer = RAdam(learning_rate=1e-2, layer_lr_scale={"conv1": 0.5})
    model.compile(optimizer=optimizer, loss="categorical_crossentropy")
    reference = beat_model(2, seed=0)
    reference.compile(optimizer=RAdam(learning_rate=1e-2), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 63, 1)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 16)]
    start = model.get_layer("conv1").get_weights()[0]
    model.train_on_batch(x, y)
    reference.train_on_batch(x, y)
    scaled = model.get_layer("conv1").get_weights()[0] - start
    full = reference.get_layer("conv1").get_weights()[0] - start
    # RAdam's first steps are plain momentum steps, linear in the learning rate
    np.testing.assert_allclose(scaled, 0.5 * full, rtol=1e-4, atol=1e-8)
    unscaled = (
        model.get_layer("conv2").get_weights()[0] - reference.get_layer("conv2").get_weights()[0]
    )
    np.testing.assert_allclose(unscaled, 0.0, atol=1e-6)
    assert RAdam.from_config(optimizer.get_config()).layer_lr_scale == {"conv1": 0.5}


def test_init_source_takes_a_run_a_fold_or_a_file(tmp_path):
    model_file = tmp_path / "run" / "fold_0" / "model.keras"
    model_file.parent.mkdir(parents=True)
    beat_model(5, seed=0).save(model_file)
    assert init_source(tmp_path / "run") == model_file
    assert init_source(tmp_path / "run" / "fold_0") == model_file
    assert init_source(model_file) == model_file
    with pytest.raises(FileNotFoundError, match=r"expected a \.keras file"):
        init_source(tmp_path / "nothing")


def test_another_architecture_is_refused(tmp_path):
    from ecgml.models.kachuee import KachueeConfig

    other = build_model(KachueeConfig(n_blocks=1), n_classes=5, input_length=63, n_leads=1)
    other.save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match="no layer"):
        initialise_from(beat_model(2, seed=0), tmp_path / "other.keras", freeze=False)


def test_init_options_need_init_from():
    with pytest.raises(ValueError, match="need init_from"):
        TrainingConfig(init_freeze=True)
    with pytest.raises(ValueError, match="init_freeze is on"):
        TrainingConfig(init_from="run", init_freeze=True, init_lr_scale=0.1)


@pytest.mark.slow
def test_a_run_initialised_from_another_records_what_it_copied(tmp_path):
    from ecgml.data.cache import prepare_cache
    from tests.beat_run import TINY_BEATS
    from tests.mitbih_records import write_mitbih

    for k, rid in enumerate(("101", "106", "108", "100")):
        write_mitbih(tmp_path / "data", rid, ["N", "V", "N", "A"] * 4, seed=k)
    prepare_cache(
        [tmp_path / "data"],
        tmp_path / "cache",
        TINY_BEATS.preprocess,
        TINY_BEATS.labels,
        reader="mitbih",
        progress=False,
    )
    training = dataclasses.replace(TINY_BEATS.training, epochs=1)
    first = dataclasses.replace(TINY_BEATS, training=training)
    runs.train_run(tmp_path / "cache", tmp_path / "source", first, folds=[0], verbose=0)
    second = dataclasses.replace(
        first,
        training=dataclasses.replace(
            training, init_from=str(tmp_path / "source"), init_freeze=True
        ),
    )
    runs.train_run(tmp_path / "cache", tmp_path / "target", second, folds=[0], verbose=0)
    init = json.loads((tmp_path / "target" / "fold_0" / "init.json").read_text())
    assert init["copied"] == ["conv1", "conv2", "dense", "output"] and init["frozen"]
    source = keras.saving.load_model(tmp_path / "source" / "fold_0" / "model.keras")
    target = keras.saving.load_model(tmp_path / "target" / "fold_0" / "model.keras")
    for name in ("conv1", "conv2", "dense", "output"):
        np.testing.assert_array_equal(
            source.get_layer(name).get_weights()[0], target.get_layer(name).get_weights()[0]
        )


@pytest.mark.slow
def test_a_missing_init_source_or_feature_column_fails_before_the_run_folder(tmp_path):
    from ecgml.config import TabularConfig
    from ecgml.data.cache import prepare_cache
    from tests.beat_run import TINY_BEATS
    from tests.mitbih_records import write_mitbih

    for k, rid in enumerate(("101", "106", "108", "100")):
        write_mitbih(tmp_path / "data", rid, ["N", "V", "N", "A"] * 4, seed=k)
    prepare_cache(
        [tmp_path / "data"],
        tmp_path / "cache",
        TINY_BEATS.preprocess,
        TINY_BEATS.labels,
        reader="mitbih",
        progress=False,
    )
    missing = dataclasses.replace(
        TINY_BEATS,
        training=dataclasses.replace(TINY_BEATS.training, init_from=str(tmp_path / "nowhere")),
    )
    with pytest.raises(FileNotFoundError, match="nowhere"):
        runs.train_run(tmp_path / "cache", tmp_path / "run", missing, verbose=0)
    column = dataclasses.replace(TINY_BEATS, tabular=TabularConfig(features=("rr_typo",)))
    with pytest.raises(ValueError, match="no feature column"):
        runs.train_run(tmp_path / "cache", tmp_path / "run", column, verbose=0)
    assert not (tmp_path / "run").exists()
