"""The 1-D XResNet of the PTB-XL benchmark (Strodthoff et al., 2021).

He T. et al., "Bag of tricks for image classification with convolutional neural
networks" (CVPR 2019), as fastai's XResNet, made one-dimensional by the
benchmark, whose xresnet1d101 and xresnet1d50 led its superclass task. Input
``(length, n_leads)``, channels last:

* stem: three convolutions (kernel 5; 32, 32 and 64 filters; the first with
  stride 2), each with batch norm and ReLU, then max pooling (3, stride 2);
* stages of residual blocks; a bottleneck block (expansion 4) is a 1x1
  convolution, a kernel-5 convolution (stride 2 in the first block of every
  stage but the first) and a 1x1 convolution to ``width * 4`` channels whose
  batch norm starts at zero, so that every block starts as the identity. The
  shortcut is the ResNet-D one: average pooling (2, stride 2) where the block
  subsamples, then a 1x1 convolution with batch norm where the channels change.
  ReLU after the sum. The benchmark keeps 64 inner filters in every stage;
* the head of :mod:`ecgml.models.heads` (concat pooling, a 128-unit layer).
"""

from __future__ import annotations

import keras
from keras import layers

from ecgml.models.config import XResNet1dConfig
from ecgml.models.heads import concat_pool_head


def conv_bn(
    x,
    filters: int,
    kernel: int,
    config: XResNet1dConfig,
    *,
    stride: int = 1,
    relu: bool = True,
    zero: bool = False,
    name: str,
):
    """Convolution (no bias), batch norm (its scale starting at 0 with ``zero``), ReLU."""
    x = layers.Conv1D(
        filters,
        kernel,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(
        momentum=config.bn_momentum,
        gamma_initializer="zeros" if zero else "ones",
        name=f"{name}_bn",
    )(x)
    return layers.Activation("relu", name=f"{name}_relu")(x) if relu else x


def xresnet_block(x, width: int, config: XResNet1dConfig, *, stride: int, name: str):
    """One residual block (module docstring)."""
    out = width * config.expansion
    k = config.kernel_size
    if config.expansion == 1:
        y = conv_bn(x, width, k, config, stride=stride, name=f"{name}_1")
        y = conv_bn(y, out, k, config, relu=False, zero=True, name=f"{name}_2")
    else:
        y = conv_bn(x, width, 1, config, name=f"{name}_1")
        y = conv_bn(y, width, k, config, stride=stride, name=f"{name}_2")
        y = conv_bn(y, out, 1, config, relu=False, zero=True, name=f"{name}_3")
    shortcut = x
    if stride != 1:
        shortcut = layers.AveragePooling1D(2, strides=2, padding="same", name=f"{name}_pool")(
            shortcut
        )
    if x.shape[-1] != out:
        shortcut = conv_bn(shortcut, out, 1, config, relu=False, name=f"{name}_shortcut")
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_xresnet1d(
    config: XResNet1dConfig,
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
    x = inputs
    for k, filters in enumerate(config.stem_filters, start=1):
        x = conv_bn(
            x, filters, config.stem_kernel, config, stride=2 if k == 1 else 1, name=f"stem{k}"
        )
    x = layers.MaxPooling1D(3, strides=2, padding="same", name="stem_pool")(x)
    for stage, (blocks, width) in enumerate(zip(config.layers, config.widths, strict=True)):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            x = xresnet_block(
                x, width, config, stride=stride, name=f"stage{stage + 1}_block{block + 1}"
            )
    outputs = concat_pool_head(
        x,
        n_classes,
        units=config.head_units,
        dropout=config.head_dropout,
        bn_momentum=config.bn_momentum,
        activation=activation,
    )
    return keras.Model(inputs, outputs, name="xresnet1d")
