"""MobileNetV3 Small for ECG images (Howard et al., 2019), from keras.applications.

The seed's "austere" image classifier is the ``minimalistic`` variant (no
squeeze-and-excitation, no hard-swish, 3x3 kernels only), trained from scratch:
``weights=None`` always, since nothing may be downloaded; ``training.init_from``
loads a user's own weights. Input: a cached model image ``(height, width *
channels)`` of grey levels 0-255 (:mod:`ecgml.data.images`), reshaped here to
``(height, width, channels)``; the application's own preprocessing layer scales
it to [-1, 1].
"""

from __future__ import annotations

import keras
from keras import layers

from ecgml.models.config import MobileNetConfig


def build_mobilenet(
    config: MobileNetConfig,
    *,
    n_classes: int,
    input_length: int | None,
    n_leads: int,
    activation: str = "softmax",
) -> keras.Model:
    """Build the untrained model (see :class:`~ecgml.models.config.MobileNetConfig`).

    Args:
        config: width multiplier, variant, channels, dropout.
        n_classes: outputs.
        input_length: the image's height in pixels.
        n_leads: its width times ``config.channels`` (the cache's row shape).
        activation: ``"softmax"`` (one class per image) or ``"sigmoid"``.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, height, width * channels)``
        to ``(batch, n_classes)`` probabilities.

    Raises:
        ValueError: no fixed height, or a row width that is not a multiple of the channels.
    """
    if input_length is None or n_leads % config.channels:
        raise ValueError(f"an image model needs a fixed input of height x (width * "
                         f"{config.channels}), got {input_length} x {n_leads}")  # fmt: skip
    height, width = input_length, n_leads // config.channels
    inputs = keras.Input((height, n_leads), name="ecg")
    x = layers.Reshape((height, width, config.channels), name="to_image")(inputs)
    base = keras.applications.MobileNetV3Small(
        input_tensor=x, alpha=config.alpha, minimalistic=config.minimalistic,
        include_top=False, weights=None, pooling="avg", include_preprocessing=True,
    )  # fmt: skip
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = config.bn_momentum
    x = layers.Dropout(config.dropout, name="head_dropout")(base.output)
    outputs = layers.Dense(n_classes, activation=activation, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name="mobilenet_v3_small")
