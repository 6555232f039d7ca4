"""Which builder makes which architecture, and what a built model costs."""

from __future__ import annotations

from typing import Any

import keras

from ecgml.models.beat_cnn import build_beat_cnn
from ecgml.models.inception1d import build_inception1d
from ecgml.models.kachuee import build_kachuee
from ecgml.models.mobilenet import build_mobilenet
from ecgml.models.resecg import build_resecg
from ecgml.models.se_resnet import build_se_resnet
from ecgml.models.xresnet1d import build_xresnet1d

# One line per architecture; its config dataclass is in ecgml.models.config.MODEL_CONFIGS.
_BUILDERS = {
    "se_resnet": build_se_resnet,
    "resecg": build_resecg,
    "beat_cnn": build_beat_cnn,
    "kachuee": build_kachuee,
    "mobilenet_v3": build_mobilenet,
    "xresnet1d": build_xresnet1d,
    "inception1d": build_inception1d,
}


def build_model(
    config: Any,
    *,
    n_classes: int,
    input_length: int | None,
    n_leads: int,
    activation: str = "sigmoid",
) -> keras.Model:
    """Build the architecture ``config.architecture`` names.

    Args:
        config: the architecture's config (:data:`ecgml.models.config.MODEL_CONFIGS`).
        n_classes: outputs.
        input_length: samples per input; ``None`` for any length where the model allows.
        n_leads: input channels.
        activation: the output activation the task's target kind needs
            (``"sigmoid"`` for multi-label, ``"softmax"`` for multi-class).
    """
    return _BUILDERS[config.architecture](
        config, n_classes=n_classes, input_length=input_length, n_leads=n_leads,
        activation=activation,
    )  # fmt: skip


def count_flops(model: keras.Model) -> int:
    """Multiply-adds x 2 of the convolution (1-D, 2-D, depthwise) and dense layers,
    for one sample.

    Batch norm, activations and pooling are left out (a few percent of the total).
    """
    flops = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)):
            (h, w), c_out = layer.output.shape[1:3], layer.output.shape[3]
            kh, kw = layer.kernel_size
            per_output = kh * kw * (1 if isinstance(layer, keras.layers.DepthwiseConv2D)
                                    else layer.input.shape[-1] // layer.groups)  # fmt: skip
            flops += 2 * h * w * c_out * per_output
        elif isinstance(layer, keras.layers.Conv1D):
            length, c_out = layer.output.shape[1], layer.output.shape[2]
            c_in = layer.input.shape[-1]
            flops += 2 * length * layer.kernel_size[0] * c_in * c_out // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.input.shape[-1] * layer.units
    return flops
