"""The 34-layer residual network of Hannun et al. (2019), "ResECG".

Hannun A. Y. et al., "Cardiologist-level arrhythmia detection and classification
in ambulatory electrocardiograms using a deep neural network", Nature Medicine
25, 65-69 (2019). Input ``(length, n_leads)``, channels last:

* a convolution, batch norm and ReLU;
* 16 residual blocks of two convolutions (kernel 16). Blocks are pre-activation
  (batch norm, ReLU, then convolution; dropout before the second convolution),
  except that the first block's first convolution follows the stem directly.
  Filters start at 32 and grow by 32 every fourth block; every other block
  subsamples by 2 (a strided first convolution, max-pooling on the shortcut).
  Where a block has more filters than its input, the shortcut is padded with
  zero channels, as in the authors' code;
* batch norm, ReLU, and the output layer.

The paper gives a label for every 256 input samples (a dense softmax per time
step). The CinC 2017 task scores one label per record, so here the features are
averaged over time (global average pooling) before one dense output layer.
With 8 subsamplings the network's time resolution is 256 samples, as in the paper.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ecgml.models.config import ResECGConfig


@keras.saving.register_keras_serializable(package="ecgml")
class PadChannels(layers.Layer):
    """Appends ``extra`` zero channels: the parameter-free shortcut of a block that
    widens (``(batch, time, c)`` to ``(batch, time, c + extra)``)."""

    def __init__(self, extra: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.extra = int(extra)

    def call(self, x):
        return ops.pad(x, [[0, 0], [0, 0], [0, self.extra]])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.extra)

    def get_config(self):
        return {**super().get_config(), "extra": self.extra}


def _bn_relu(x, config: ResECGConfig, *, name: str):
    x = layers.BatchNormalization(momentum=config.bn_momentum, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def resecg_block(x, filters: int, config: ResECGConfig, *, stride: int, first: bool, name: str):
    """One residual block (module docstring); ``first`` skips the leading activation."""
    shortcut = x
    if stride > 1:
        shortcut = layers.MaxPooling1D(stride, padding="same", name=f"{name}_pool")(shortcut)
    if shortcut.shape[-1] < filters:
        shortcut = PadChannels(filters - shortcut.shape[-1], name=f"{name}_pad")(shortcut)
    y = x if first else _bn_relu(x, config, name=f"{name}_pre")
    y = layers.Conv1D(filters, config.kernel_size, strides=stride, padding="same",
                      use_bias=False, kernel_initializer="he_normal",
                      name=f"{name}_conv1")(y)  # fmt: skip
    y = _bn_relu(y, config, name=f"{name}_mid")
    if config.dropout:
        y = layers.Dropout(config.dropout, name=f"{name}_dropout")(y)
    y = layers.Conv1D(filters, config.kernel_size, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv2")(y)  # fmt: skip
    return layers.Add(name=f"{name}_add")([y, shortcut])


def build_resecg(
    config: ResECGConfig,
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
        input_length: samples per input; ``None`` accepts any length.
        n_leads: input channels.
        activation: ``"softmax"`` (one class per record) or ``"sigmoid"``.

    Returns:
        A functional ``keras.Model`` mapping ``(batch, length, n_leads)`` to
        ``(batch, n_classes)`` probabilities.
    """
    inputs = keras.Input((input_length, n_leads), name="ecg")
    x = layers.Conv1D(config.filters, config.kernel_size, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name="stem_conv")(inputs)  # fmt: skip
    x = _bn_relu(x, config, name="stem")
    for block in range(config.n_blocks):
        x = resecg_block(
            x, config.block_filters(block), config, stride=config.block_stride(block),
            first=block == 0, name=f"block{block + 1}",
        )  # fmt: skip
    x = _bn_relu(x, config, name="final")
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    # float32 output keeps probabilities exact under mixed precision
    outputs = layers.Dense(n_classes, activation=activation, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name="resecg")
