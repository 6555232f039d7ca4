"""MobileNetV3 Small for ECG images: builds from the cache's row shape, trains, round-trips."""

import keras
import numpy as np
import pytest

from ecgml.config import config_from_dict
from ecgml.models.mobilenet import MobileNetConfig
from ecgml.models.registry import build_model, count_flops
from ecgml.optimizers import RAdam
from ecgml.task import Task


def build(config: MobileNetConfig, height: int = 64, width: int = 96) -> keras.Model:
    return build_model(
        config,
        n_classes=7,
        input_length=height,
        n_leads=width * config.channels,
        activation="softmax",
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_builds_from_the_row_shape_without_downloaded_weights(channels):
    model = build(MobileNetConfig(channels=channels))
    assert model.input_shape == (None, 64, 96 * channels)
    assert model.get_layer("to_image").output.shape[1:] == (64, 96, channels)
    assert model.output_shape == (None, 7)
    assert model.get_layer("output").activation.__name__ == "softmax"
    moments = [
        layer.momentum
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert moments and set(moments) == {0.9}
    assert count_flops(model) > 0


def test_minimalistic_is_the_austere_variant():
    full, austere = build(MobileNetConfig(minimalistic=False)), build(MobileNetConfig())
    names = [layer.name for layer in full.layers]
    assert any("squeeze_excite" in n for n in names)
    assert not any("squeeze_excite" in layer.name for layer in austere.layers)
    assert austere.count_params() < full.count_params()


def test_trains_a_step_and_round_trips_keras(tmp_path):
    model = build(MobileNetConfig(alpha=0.5))
    model.compile(optimizer=RAdam(learning_rate=1e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (4, 64, 96)).astype(np.float32)
    y = np.eye(7, dtype=np.float32)[[0, 1, 2, 3]]
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_configs_that_cannot_work_are_refused():
    with pytest.raises(ValueError, match=r"set preprocess\.image"):
        Task.of(config_from_dict({"model": {"architecture": "mobilenet_v3"}}))
    with pytest.raises(ValueError, match="must equal"):
        Task.of(
            config_from_dict(
                {
                    "model": {"architecture": "mobilenet_v3", "channels": 3},
                    "preprocess": {"image": {"channels": 1}},
                }
            )
        )
    with pytest.raises(ValueError, match="channels must be 1 or 3"):
        MobileNetConfig(channels=2)
    with pytest.raises(ValueError, match="fixed input"):
        build_model(MobileNetConfig(channels=3), n_classes=2, input_length=64, n_leads=100)
    with pytest.raises(ValueError, match="renderings"):
        config_from_dict({"preprocess": {"image": {"renderings": 0}}})
