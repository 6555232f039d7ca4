"""The small heartbeat CNN: two convolutions with max pooling, dropout, softmax.

Input ``(length, n_leads)``, one beat window (187 samples at 125 Hz by default).
"""

from __future__ import annotations

import keras
from keras import layers

from ecgml.models.config import BeatCNNConfig


def build_beat_cnn(
    config: BeatCNNConfig,
    *,
    n_classes: int,
    input_length: int | None,
    n_leads: int,
    activation: str = "softmax",
) -> keras.Model:
    """Build the untrained model (see :class:`~ecgml.models.config.BeatCNNConfig`).

    Args:
        config: sizes.
        n_classes: outputs.
        input_length: samples per beat window; needed (the dense layer sees every sample).
        n_leads: input channels.
        activation: ``"softmax"`` (one class per beat) or ``"sigmoid"``.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, length, n_leads)`` to
        ``(batch, n_classes)`` probabilities.
    """
    if input_length is None:
        raise ValueError("the beat CNN needs a fixed input length (its beat window)")
    inputs = keras.Input((input_length, n_leads), name="ecg")
    x = inputs
    for k, filters in enumerate(config.filters, start=1):
        x = layers.Conv1D(filters, config.kernel_size, padding="same", activation="relu",
                          name=f"conv{k}")(x)  # fmt: skip
        x = layers.MaxPooling1D(config.pool_size, name=f"pool{k}")(x)
    x = layers.Dropout(config.dropout, name="conv_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    if config.dense_units:
        x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
        x = layers.Dropout(config.dropout, name="dense_dropout")(x)
    outputs = layers.Dense(n_classes, activation=activation, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name="beat_cnn")
