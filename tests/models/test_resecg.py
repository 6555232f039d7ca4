"""ResECG (Hannun et al., 2019): shape, size, layout, round trip, one training step."""

import dataclasses

import keras
import numpy as np
import pytest

from ecgml.config import config_from_dict
from ecgml.models.registry import build_model
from ecgml.models.resecg import ResECGConfig
from ecgml.optimizers import RAdam

TINY = ResECGConfig(n_blocks=4, filters=4, filters_step=4, filters_every=2, kernel_size=3)


def tiny(**changes) -> keras.Model:
    config = ResECGConfig(**{**TINY.__dict__, **changes})
    return build_model(config, n_classes=4, input_length=256, n_leads=1, activation="softmax")


def expected_parameters(config: ResECGConfig, n_leads: int, n_classes: int) -> int:
    """Convolutions without bias, 4 numbers per batch-norm channel, a dense output."""
    k, c_in = config.kernel_size, config.filters
    total = k * n_leads * c_in + 4 * c_in  # stem convolution and batch norm
    for block in range(config.n_blocks):
        f = config.block_filters(block)
        total += 0 if block == 0 else 4 * c_in  # pre-activation batch norm
        total += k * c_in * f + 4 * f + k * f * f  # conv1, its batch norm, conv2
        c_in = f
    return total + 4 * c_in + c_in * n_classes + n_classes


def test_paper_layout_34_layers_32_filters_plus_32_every_fourth_block():
    model = build_model(
        ResECGConfig(), n_classes=4, input_length=2560, n_leads=1, activation="softmax"
    )
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert len(convs) == 33  # with the output layer, the paper's 34
    assert [c.filters for c in convs[1::8]] == [32, 64, 96, 128]
    assert all(c.kernel_size == (16,) for c in convs)
    # 8 of the 16 blocks subsample by 2: 2560 samples -> 10 steps of 256
    assert model.get_layer("final_relu").output.shape[1] == 10
    assert model.get_layer("output").activation.__name__ == "softmax"
    assert model.count_params() == expected_parameters(ResECGConfig(), 1, 4)


def test_parameter_count_matches_the_layout():
    assert tiny().count_params() == expected_parameters(TINY, 1, 4)


def test_output_is_a_distribution_over_classes():
    x = np.random.default_rng(0).normal(size=(3, 256, 1)).astype("float32")
    y = keras.ops.convert_to_numpy(tiny()(x, training=False))
    assert y.shape == (3, 4)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_keras_round_trip_gives_the_same_outputs(tmp_path):
    model = tiny()
    x = np.random.default_rng(1).normal(size=(2, 256, 1)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_one_training_step_is_finite():
    model = tiny()
    model.compile(optimizer=RAdam(learning_rate=1e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 256, 1)).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, 8)]
    assert np.isfinite(model.train_on_batch(x, y))


def test_config_section_picks_the_dataclass_by_architecture():
    config = config_from_dict({"model": {"architecture": "resecg", "filters": 16}})
    assert isinstance(config.model, ResECGConfig) and config.model.filters == 16
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['stem_filters'\]"):
        config_from_dict({"model": {"architecture": "resecg", "stem_filters": 16}})
    with pytest.raises(ValueError, match="architecture must be one of"):
        config_from_dict({"model": {"architecture": "lstm"}})
    with pytest.raises(ValueError, match="dropout must be in"):
        ResECGConfig(dropout=1.0)
    with pytest.raises(ValueError, match="bn_momentum must be in"):
        ResECGConfig(bn_momentum=1.0)


def test_batch_norm_momentum_is_the_configs():
    model = tiny(bn_momentum=0.9)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(norms) == 2 + 2 * TINY.n_blocks - 1  # stem, final, and per block but the first's pre
    assert {layer.momentum for layer in norms} == {0.9}


def test_the_cinc2017_configs_build_their_documented_networks_and_train_a_step():
    from ecgml.config import load_config
    from ecgml.task import Task
    from ecgml.training.compiling import compile_model

    sizes = {"cinc2017.json": 3_796_100, "cinc2017-cpu.json": 239_396}
    for name, n_parameters in sizes.items():
        config = load_config(f"configs/{name}")
        model = build_model(
            config.model, n_classes=4, input_length=9000, n_leads=1, activation="softmax"
        )
        assert model.count_params() == expected_parameters(config.model, 1, 4) == n_parameters
    # the GPU recipe: the seed's 34 layers, 32 filters, 32 more every fourth block
    gpu = load_config("configs/cinc2017.json")
    assert (gpu.model.n_blocks, gpu.model.filters, gpu.model.filters_step) == (16, 32, 32)
    assert (gpu.model.kernel_size, gpu.model.dropout, gpu.training.input_length) == (16, 0.2, None)
    # one step of it in its own precision (mixed bfloat16), whole 30 s windows
    keras.mixed_precision.set_global_policy(gpu.training.precision)
    try:
        model = build_model(
            gpu.model, n_classes=4, input_length=9000, n_leads=1, activation="softmax"
        )
        y = np.eye(4, dtype="float32")[[0, 1, 2, 3]]
        training = dataclasses.replace(gpu.training, jit_compile=False)  # XLA on a CPU: minutes
        compile_model(model, training, Task.of(gpu).target, y, y, total_steps=10)
        before = [w.copy() for w in model.get_weights()]
        x = np.random.default_rng(3).normal(size=(4, 9000, 1)).astype("float32")
        loss = model.train_on_batch(x, y)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(loss).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
