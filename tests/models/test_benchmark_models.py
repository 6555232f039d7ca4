"""The PTB-XL benchmark's networks, xresnet1d and inception1d: their published layouts,
parameter counts from a formula, shapes, round trips and one training step."""

import keras
import numpy as np
import pytest

from ecgml.config import config_from_dict
from ecgml.models.inception1d import Inception1dConfig
from ecgml.models.registry import build_model
from ecgml.models.xresnet1d import XResNet1dConfig

TINY_X = XResNet1dConfig(layers=(1, 2), widths=(4, 8), stem_filters=(4, 4, 8), head_units=(6,))
TINY_I = Inception1dConfig(depth=3, filters=4, bottleneck=4, kernel_size=8, head_units=(6,))


def build(config, length=64, leads=12, classes=5):
    return build_model(config, n_classes=classes, input_length=length, n_leads=leads)


def convs(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]


def head_parameters(features: int, units, classes: int) -> int:
    """Concat pooling doubles the features; batch norm (4 per channel) and a dense layer
    before each hidden layer and the output."""
    total, width = 0, 2 * features
    for size in (*units, classes):
        total += 4 * width + width * size + size
        width = size
    return total


def xresnet_parameters(c: XResNet1dConfig, leads: int, classes: int) -> int:
    total, width_in = 0, leads
    for f in c.stem_filters:  # convolution without bias, batch norm
        total += c.stem_kernel * width_in * f + 4 * f
        width_in = f
    for blocks, w in zip(c.layers, c.widths, strict=True):
        out = w * c.expansion
        for _ in range(blocks):
            if c.expansion == 1:
                total += c.kernel_size * width_in * w + 4 * w + c.kernel_size * w * out + 4 * out
            else:
                total += width_in * w + 4 * w + c.kernel_size * w * w + 4 * w + w * out + 4 * out
            if width_in != out:  # the 1x1 shortcut and its batch norm
                total += width_in * out + 4 * out
            width_in = out
    return total + head_parameters(width_in, c.head_units, classes)


def inception_parameters(c: Inception1dConfig, leads: int, classes: int) -> int:
    total, width_in, residual_in = 0, leads, leads
    out = 4 * c.filters
    for d in range(c.depth):
        total += width_in * c.bottleneck  # 1x1 bottleneck
        total += sum(k * c.bottleneck * c.filters for k in c.kernels)
        total += width_in * c.filters + 4 * out  # the pooling branch's 1x1, the batch norm
        width_in = out
        if c.residual and d % 3 == 2:
            total += residual_in * out + 4 * out
            residual_in = out
    return total + head_parameters(out, c.head_units, classes)


def test_xresnet1d50_is_the_benchmarks():
    model = build(XResNet1dConfig(), length=250)
    layers = convs(model)
    # 3 stem + 16 bottleneck blocks of 3 + the first block's 1x1 shortcut (64 -> 256)
    assert len(layers) == 3 + 16 * 3 + 1
    assert [c.filters for c in layers[:3]] == [32, 32, 64]
    assert layers[0].strides == (2,) and all(c.kernel_size == (5,) for c in layers[:3])
    blocks = [model.get_layer(f"stage{s}_block1_2_conv") for s in (1, 2, 3, 4)]
    assert [b.strides[0] for b in blocks] == [1, 2, 2, 2] and blocks[0].kernel_size == (5,)
    assert {model.get_layer(f"stage{s}_block1_3_conv").filters for s in (1, 2, 3, 4)} == {256}
    # ResNet-D shortcuts: average pooling where a block subsamples, no 1x1 after the first
    assert [model.get_layer(f"stage{s}_block1_pool").pool_size for s in (2, 3, 4)] == [(2,)] * 3
    assert [n.name for n in model.layers if n.name.endswith("_shortcut_conv")] == [
        "stage1_block1_shortcut_conv"
    ]
    # the last batch norm of each block starts at zero: each block starts as the identity
    gamma = model.get_layer("stage2_block3_3_bn").gamma
    assert np.all(keras.ops.convert_to_numpy(gamma) == 0)
    # 250 samples: stem /2, pool /2, three stages /2 -> 8 steps of 256 channels
    assert model.get_layer("stage4_block3_out").output.shape[1:] == (8, 256)
    assert model.count_params() == xresnet_parameters(XResNet1dConfig(), 12, 5)


def test_xresnet1d101_has_23_blocks_in_its_third_stage():
    config = XResNet1dConfig(layers=(3, 4, 23, 3))
    model = build(config, length=250)
    assert len(convs(model)) == 3 + 33 * 3 + 1
    assert model.count_params() == xresnet_parameters(config, 12, 5)


def test_inception1d_is_the_benchmarks():
    model = build(Inception1dConfig(), length=250)
    assert Inception1dConfig().kernels == (39, 19, 9)
    module = [c for c in convs(model) if c.name.startswith("module1_")]
    assert sorted(c.kernel_size[0] for c in module) == [1, 1, 9, 19, 39]  # bottleneck, pool 1x1
    assert {c.filters for c in module} == {32}
    assert model.get_layer("module1_pool").strides == (1,)
    assert model.get_layer("module6_concat").output.shape[1:] == (250, 128)
    # residual shortcuts after modules 3 and 6, from the input and from module 3
    assert [n.name for n in model.layers if n.name.endswith("_add")] == [
        "shortcut1_add",
        "shortcut2_add",
    ]
    assert model.get_layer("shortcut1_conv").input.shape[-1] == 12
    assert model.count_params() == inception_parameters(Inception1dConfig(), 12, 5)


def test_the_head_pools_max_and_mean_then_128_units():
    model = build(Inception1dConfig(), length=250)
    assert model.get_layer("head_pool").output.shape[-1] == 256
    assert model.get_layer("head_dense1").units == 128
    assert [model.get_layer(f"head_dropout{k}").rate for k in (1, 2)] == [0.25, 0.5]


@pytest.mark.parametrize(
    "config",
    [
        TINY_X,
        TINY_I,
        XResNet1dConfig(expansion=1, layers=(1, 1), widths=(4, 8), stem_filters=(4, 4, 8)),
    ],
    ids=["x", "i", "x1"],
)
def test_parameter_count_output_and_round_trip(config, tmp_path):
    model = build(config)
    count = (xresnet_parameters if config.architecture == "xresnet1d" else inception_parameters)(
        config, 12, 5
    )
    assert model.count_params() == count
    x = np.random.default_rng(0).normal(size=(3, 64, 12)).astype("float32")
    y = keras.ops.convert_to_numpy(model(x, training=False))
    assert y.shape == (3, 5) and np.all(np.isfinite(y) & (y >= 0) & (y <= 1))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("config", [TINY_X, TINY_I], ids=["xresnet1d", "inception1d"])
def test_one_training_step_is_finite(config):
    model = build(config)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-3, weight_decay=1e-2), loss="binary_crossentropy"
    )
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 64, 12)).astype("float32")
    y = (rng.random((8, 5)) < 0.3).astype("float32")
    assert np.isfinite(model.train_on_batch(x, y))


def test_configs_are_checked():
    config = config_from_dict({"model": {"architecture": "xresnet1d", "layers": [3, 4, 23, 3]}})
    assert config.model == XResNet1dConfig(layers=(3, 4, 23, 3))
    with pytest.raises(ValueError, match="one positive entry per stage"):
        XResNet1dConfig(layers=(1, 2), widths=(4,))
    with pytest.raises(ValueError, match="expansion must be 1 or 4"):
        XResNet1dConfig(expansion=2)
    with pytest.raises(ValueError, match="multiple of 3"):
        Inception1dConfig(depth=4)
    with pytest.raises(ValueError, match="head_dropout"):
        Inception1dConfig(head_dropout=1.0)
