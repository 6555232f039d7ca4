"""Building a model of any registered family, and what a built model costs."""

from __future__ import annotations

import keras

import ecgml.models.custom_layers  # noqa: F401 -- registers the families' layers for loading
from ecgml.models.family import build_model

__all__ = ["build_model", "count_flops"]


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
            per_output = (
                kh
                * kw
                * (
                    1
                    if isinstance(layer, keras.layers.DepthwiseConv2D)
                    else layer.input.shape[-1] // layer.groups
                )
            )
            flops += 2 * h * w * c_out * per_output
        elif isinstance(layer, keras.layers.Conv1D):
            length, c_out = layer.output.shape[1], layer.output.shape[2]
            c_in = layer.input.shape[-1]
            flops += 2 * length * layer.kernel_size[0] * c_in * c_out // layer.groups
        elif isinstance(layer, keras.layers.Dense):
            flops += 2 * layer.input.shape[-1] * layer.units
    return flops
