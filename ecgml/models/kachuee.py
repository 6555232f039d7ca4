"""The residual heartbeat CNN of Kachuee, Fazeli and Sarrafzadeh (2018).

"ECG heartbeat classification: a deep transferable representation", IEEE
International Conference on Healthcare Informatics (ICHI), 443-444. Input
``(187, 1)``: one beat at 125 Hz. A kernel-5 convolution of 32 filters, five
residual blocks (convolution, ReLU, convolution, identity shortcut, ReLU, max
pooling of 5 with stride 2), two dense layers of 32 units, softmax. The paper
trains it on MIT-BIH beats and transfers its layers to myocardial-infarction
detection on PTB.
"""

from __future__ import annotations

import keras
from keras import layers

from ecgml.models.config import KachueeConfig


def kachuee_block(x, config: KachueeConfig, *, name: str):
    """One residual block (module docstring)."""
    y = layers.Conv1D(config.filters, config.kernel_size, padding="same", activation="relu",
                      name=f"{name}_conv1")(x)  # fmt: skip
    y = layers.Conv1D(config.filters, config.kernel_size, padding="same", name=f"{name}_conv2")(y)
    y = layers.Add(name=f"{name}_add")([y, x])
    y = layers.Activation("relu", name=f"{name}_relu")(y)
    return layers.MaxPooling1D(config.pool_size, strides=2, name=f"{name}_pool")(y)


def build_kachuee(
    config: KachueeConfig,
    *,
    n_classes: int,
    input_length: int | None,
    n_leads: int,
    activation: str = "softmax",
) -> keras.Model:
    """Build the untrained model.

    Args:
        config: sizes.
        n_classes: outputs.
        input_length: samples per beat window; needed (the dense layers see every step).
        n_leads: input channels.
        activation: ``"softmax"`` (one class per beat) or ``"sigmoid"``.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, length, n_leads)`` to
        ``(batch, n_classes)`` probabilities.

    Raises:
        ValueError: an input too short for the blocks' pooling.
    """
    if input_length is None:
        raise ValueError("Kachuee's CNN needs a fixed input length (its beat window)")
    length = input_length
    for _ in range(config.n_blocks):
        length = (length - config.pool_size) // 2 + 1
    if length < 1:
        raise ValueError(
            f"input_length {input_length} is too short for {config.n_blocks} blocks of "
            f"pooling {config.pool_size}"
        )
    inputs = keras.Input((input_length, n_leads), name="ecg")
    x = layers.Conv1D(config.filters, config.kernel_size, padding="same", name="stem_conv")(inputs)
    for block in range(config.n_blocks):
        x = kachuee_block(x, config, name=f"block{block + 1}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense1")(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense2")(x)
    if config.dropout:
        x = layers.Dropout(config.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation=activation, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name="kachuee")
