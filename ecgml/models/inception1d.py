"""The InceptionTime-style network of the PTB-XL benchmark (Strodthoff et al., 2021).

After Fawaz H. I. et al., "InceptionTime: finding AlexNet for time series
classification" (Data Min. Knowl. Disc. 34, 2020), as the benchmark's
inception1d. Input ``(length, n_leads)``, channels last:

* ``depth`` inception modules. Each: a 1x1 bottleneck convolution (32 filters),
  then three convolutions of it side by side (kernels 39, 19 and 9, 32 filters
  each), beside a branch of max pooling (3, stride 1) and a 1x1 convolution of
  the module's input; the four concatenated (128 channels), batch norm, ReLU.
  Convolutions have no bias;
* every three modules a residual shortcut from the input of the first of them:
  a 1x1 convolution with batch norm added to the third's output, then ReLU;
* the head of :mod:`ecgml.models.heads` (concat pooling, a 128-unit layer).
"""

from __future__ import annotations

import keras
from keras import layers

from ecgml.models.config import Inception1dConfig
from ecgml.models.heads import concat_pool_head


def _conv(x, filters: int, kernel: int, *, name: str):
    return layers.Conv1D(
        filters, kernel, padding="same", use_bias=False, kernel_initializer="he_normal", name=name
    )(x)


def inception_module(x, config: Inception1dConfig, *, name: str):
    """One module (module docstring)."""
    bottled = _conv(x, config.bottleneck, 1, name=f"{name}_bottleneck") if config.bottleneck else x
    branches = [_conv(bottled, config.filters, k, name=f"{name}_conv{k}") for k in config.kernels]
    pooled = layers.MaxPooling1D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branches.append(_conv(pooled, config.filters, 1, name=f"{name}_pool_conv"))
    y = layers.Concatenate(name=f"{name}_concat")(branches)
    y = layers.BatchNormalization(momentum=config.bn_momentum, name=f"{name}_bn")(y)
    return layers.Activation("relu", name=f"{name}_relu")(y)


def build_inception1d(
    config: Inception1dConfig,
    *,
    n_classes: int,
    input_length: int | None,
    n_leads: int,
    activation: str = "sigmoid",
) -> keras.Model:
    """Build the untrained model.

    Args:
        config: sizes.
        n_classes: outputs.
        input_length: samples per input; ``None`` accepts any length.
        n_leads: input channels.
        activation: ``"sigmoid"`` (multi-label) or ``"softmax"``.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, length, n_leads)`` to
        ``(batch, n_classes)`` probabilities.
    """
    inputs = keras.Input((input_length, n_leads), name="ecg")
    x = residual = inputs
    for d in range(config.depth):
        x = inception_module(x, config, name=f"module{d + 1}")
        if config.residual and d % 3 == 2:
            name = f"shortcut{d // 3 + 1}"
            s = _conv(residual, x.shape[-1], 1, name=f"{name}_conv")
            s = layers.BatchNormalization(momentum=config.bn_momentum, name=f"{name}_bn")(s)
            x = layers.Activation("relu", name=f"{name}_relu")(
                layers.Add(name=f"{name}_add")([x, s])
            )
            residual = x
    outputs = concat_pool_head(
        x,
        n_classes,
        units=config.head_units,
        dropout=config.head_dropout,
        bn_momentum=config.bn_momentum,
        activation=activation,
    )
    return keras.Model(inputs, outputs, name="inception1d")
