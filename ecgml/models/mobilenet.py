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

from dataclasses import dataclass
from typing import ClassVar

from ecgml.models.family import ModelSpec, check_momentum, check_rates, register_family


@dataclass(frozen=True)
class MobileNetConfig(ModelSpec):
    """MobileNetV3 Small for ECG images (:mod:`ecgml.models.mobilenet`).

    Attributes:
        architecture: ``"mobilenet_v3"``.
        channels: channels of the model image; must equal ``preprocess.image.channels``.
        alpha: width multiplier of the application (0.75 or 1.0 in the paper).
        minimalistic: the "austere" variant without squeeze-and-excitation and
            hard-swish.
        dropout: before the output layer.
        bn_momentum: momentum of every batch-norm layer's moving statistics. The
            application's 0.999 suits ImageNet's millions of steps; a few hundred
            steps leave the statistics near their start, so validation sees a
            different network than training did.
    """

    inputs: ClassVar[str] = "images"

    architecture: str = "mobilenet_v3"
    channels: int = 1
    alpha: float = 1.0
    minimalistic: bool = True
    dropout: float = 0.2
    bn_momentum: float = 0.9

    def check_preprocess(self, preprocess) -> None:
        """Raises ValueError when the task's images have other channels than the model."""
        if preprocess.image.channels != self.channels:
            channels = preprocess.image.channels
            raise ValueError(
                f"model.channels ({self.channels}) must equal "
                f"preprocess.image.channels ({channels})"
            )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        check_momentum(self)
        check_rates(self, "dropout")

    @property
    def output_dropout(self) -> float:
        return self.dropout


def mobilenet_features(inputs, config: MobileNetConfig):
    """The image ``(height, width * channels)`` reshaped to ``(height, width,
    channels)``, MobileNetV3 Small's features, averaged over the image.

    Raises:
        ValueError: no fixed height, or a row width that is not a multiple of the channels.
    """
    import keras
    from keras import layers

    height, n_leads = inputs.shape[1], inputs.shape[2]
    if height is None or n_leads % config.channels:
        raise ValueError(
            f"an image model needs a fixed input of height x (width * "
            f"{config.channels}), got {height} x {n_leads}"
        )
    width = n_leads // config.channels
    x = layers.Reshape((height, width, config.channels), name="to_image")(inputs)
    base = keras.applications.MobileNetV3Small(
        input_tensor=x,
        alpha=config.alpha,
        minimalistic=config.minimalistic,
        include_top=False,
        weights=None,
        pooling="avg",
        include_preprocessing=True,
    )
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = config.bn_momentum
    return base.output


register_family(MobileNetConfig, mobilenet_features, model_name="mobilenet_v3_small")
