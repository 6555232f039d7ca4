"""1-D SE-ResNet for multi-lead ECG (Hu et al., 2018; He et al., 2016).

Input ``(length, n_leads)``, channels last. A stem convolution with batch norm,
ReLU and max-pooling; residual stages, each a down-sampling block and identity
blocks, with squeeze-and-excitation in every block; a pooled or flattened head,
a dense layer and one sigmoid per class (or a softmax, for multi-class tasks).
"""

from __future__ import annotations

import keras
from keras import layers

from ecgml.models.config import ModelConfig


def squeeze_excite(x, ratio: int, *, name: str):
    """Channel attention: global pooling, bottleneck, sigmoid gates on the channels."""
    channels = x.shape[-1]
    s = layers.GlobalAveragePooling1D(name=f"{name}_squeeze")(x)
    s = layers.Dense(max(channels // ratio, 1), activation="relu", name=f"{name}_reduce")(s)
    s = layers.Dense(channels, activation="sigmoid", name=f"{name}_expand")(s)
    s = layers.Reshape((1, channels), name=f"{name}_reshape")(s)
    return layers.Multiply(name=f"{name}_scale")([x, s])


def residual_block(x, filters: int, config: ModelConfig, *, stride: int, name: str):
    """Two convolutions with SE, plus a shortcut (projected when the shape changes)."""
    shortcut = x
    y = layers.Conv1D(filters, config.kernel_size, strides=stride, padding="same",
                      use_bias=False, name=f"{name}_conv1")(x)  # fmt: skip
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    if config.dropout:
        y = layers.Dropout(config.dropout, name=f"{name}_dropout")(y)
    y = layers.Conv1D(filters, config.kernel_size, padding="same", use_bias=False,
                      name=f"{name}_conv2")(y)  # fmt: skip
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = squeeze_excite(y, config.se_ratio, name=f"{name}_se")
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv1D(filters, 1, strides=stride, use_bias=False,
                                 name=f"{name}_proj")(x)  # fmt: skip
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_se_resnet(
    config: ModelConfig,
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
        input_length: samples per window; ``None`` accepts any length (``"gap"`` head only).
        n_leads: input channels.
        activation: ``"sigmoid"`` (multi-label, the default) or ``"softmax"``.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, length, n_leads)`` to
        ``(batch, n_classes)`` probabilities.
    """
    if config.head == "flatten" and input_length is None:
        raise ValueError("the 'flatten' head needs a fixed input_length")
    inputs = keras.Input((input_length, n_leads), name="ecg")
    x = layers.Conv1D(config.stem_filters, config.stem_kernel, strides=config.stem_stride,
                      padding="same", use_bias=False, name="stem_conv")(inputs)  # fmt: skip
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    if config.stem_pool:
        x = layers.MaxPooling1D(config.stem_pool, strides=2, padding="same", name="stem_pool")(x)
    for stage, filters in enumerate(config.filters, start=1):
        for block in range(1, config.blocks_per_stage + 1):
            stride = 2 if block == 1 else 1
            x = residual_block(x, filters, config, stride=stride, name=f"stage{stage}_block{block}")
    if config.head == "gap":
        x = layers.GlobalAveragePooling1D(name="pool")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    if config.dense_units:
        regularizer = keras.regularizers.L2(config.dense_l2) if config.dense_l2 else None
        x = layers.Dense(config.dense_units, activation="relu", kernel_regularizer=regularizer,
                         name="dense")(x)  # fmt: skip
    if config.head_dropout:
        x = layers.Dropout(config.head_dropout, name="head_dropout")(x)
    # float32 output keeps probabilities exact under mixed precision
    outputs = layers.Dense(n_classes, activation=activation, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name="se_resnet")
