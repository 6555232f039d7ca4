"""The heartbeat CNNs: the small two-convolution CNN and Kachuee et al.'s (2018) residual CNN."""

import keras
import numpy as np
import pytest

from ecgml.config import config_from_dict
from ecgml.models.beat_cnn import BeatCNNConfig
from ecgml.models.kachuee import KachueeConfig
from ecgml.models.registry import build_model
from ecgml.optimizers import RAdam

CONFIGS = {"beat_cnn": BeatCNNConfig(), "kachuee": KachueeConfig()}


def build(name: str, length: int = 187) -> keras.Model:
    return build_model(
        CONFIGS[name], n_classes=5, input_length=length, n_leads=1, activation="softmax"
    )


def test_kachuee_layout_is_the_papers():
    model = build("kachuee")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert len(convs) == 11  # a convolution and five blocks of two
    assert all(c.filters == 32 and c.kernel_size == (5,) for c in convs)
    adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 5
    # 187 samples, five poolings of 5 with stride 2: 92, 44, 20, 8, 2 steps
    assert model.get_layer("block5_pool").output.shape[1:] == (2, 32)
    assert [model.get_layer(n).units for n in ("dense1", "dense2")] == [32, 32]
    # 11 convolutions of 5 x 32 x 32 (the first 5 x 1 x 32), dense 64 -> 32 -> 32 -> 5
    expected = (5 * 1 * 32 + 32) + 10 * (5 * 32 * 32 + 32) + (64 * 32 + 32) + (32 * 32 + 32)
    assert model.count_params() == expected + 32 * 5 + 5


def test_beat_cnn_has_two_convolutions_with_pooling_and_dropout():
    model = build("beat_cnn")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [c.filters for c in convs] == [32, 64]
    assert model.get_layer("pool2").output.shape[1] == 187 // 2 // 2
    assert isinstance(model.get_layer("conv_dropout"), keras.layers.Dropout)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_outputs_are_distributions_and_survive_a_keras_round_trip(name, tmp_path):
    model = build(name)
    x = np.random.default_rng(0).normal(size=(3, 187, 1)).astype("float32")
    y = model.predict(x, verbose=0)
    assert y.shape == (3, 5)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_one_training_step_is_finite(name):
    model = build(name)
    model.compile(optimizer=RAdam(learning_rate=2e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 187, 1)).astype("float32")
    y = np.eye(5, dtype="float32")[rng.integers(0, 5, 8)]
    assert np.isfinite(model.train_on_batch(x, y))


def test_beat_models_need_a_fixed_input_length():
    for name in CONFIGS:
        with pytest.raises(ValueError, match="fixed input length"):
            build_model(CONFIGS[name], n_classes=5, input_length=None, n_leads=1)
    with pytest.raises(ValueError, match="too short"):
        build("kachuee", length=40)


def test_config_sections_pick_the_beat_dataclasses():
    config = config_from_dict({"model": {"architecture": "kachuee", "n_blocks": 3}})
    assert isinstance(config.model, KachueeConfig) and config.model.n_blocks == 3
    config = config_from_dict({"model": {"architecture": "beat_cnn", "filters": [8, 16]}})
    assert config.model.filters == (8, 16)
    with pytest.raises(ValueError, match="two positive numbers"):
        config_from_dict({"model": {"architecture": "beat_cnn", "filters": [8]}})
