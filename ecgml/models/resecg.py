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

from dataclasses import dataclass

from ecgml.models.family import ModelSpec, check_momentum, check_rates, register_family


@dataclass(frozen=True)
class ResECGConfig(ModelSpec):
    """Sizes of the 34-layer residual network of Hannun et al. (2019), "ResECG".

    The defaults are the paper's: 16 residual blocks of two kernel-16
    convolutions, 32 filters growing by 32 every fourth block, subsampling by 2
    in every other block, dropout 0.2.

    Attributes:
        architecture: ``"resecg"``.
        n_blocks: residual blocks.
        filters: filters of the first convolution and the first blocks.
        filters_step: filters added every ``filters_every`` blocks.
        filters_every: blocks between two filter increases.
        subsample_every: every this many blocks, one subsamples by 2 (the
            second, fourth, ... for 2).
        kernel_size: kernel of every convolution.
        dropout: dropout before each convolution of a block after the first.
        bn_momentum: momentum of the batch-norm moving averages that inference
            uses (Keras's default 0.99). A run of few steps (a small data set)
            needs a lower one: after ``n`` steps a share ``bn_momentum ** n`` of
            the initial statistics remains (0.99 ** 200 = 0.13).
    """

    architecture: str = "resecg"
    n_blocks: int = 16
    filters: int = 32
    filters_step: int = 32
    filters_every: int = 4
    subsample_every: int = 2
    kernel_size: int = 16
    dropout: float = 0.2
    bn_momentum: float = 0.99

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("n_blocks", "filters", "filters_every", "subsample_every", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.filters_step < 0:
            raise ValueError(f"filters_step must be 0 or more, got {self.filters_step}")
        check_rates(self, "dropout")
        check_momentum(self)

    def block_filters(self, block: int) -> int:
        """Filters of residual block ``block`` (0-based)."""
        return self.filters + self.filters_step * (block // self.filters_every)

    def block_stride(self, block: int) -> int:
        """2 for the blocks that subsample, else 1."""
        return 2 if block % self.subsample_every == self.subsample_every - 1 else 1


def _bn_relu(x, config: ResECGConfig, *, name: str):
    from keras import layers

    x = layers.BatchNormalization(momentum=config.bn_momentum, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def resecg_block(x, filters: int, config: ResECGConfig, *, stride: int, first: bool, name: str):
    """One residual block (module docstring); ``first`` skips the leading activation."""
    from keras import layers

    from ecgml.models.custom_layers import PadChannels

    shortcut = x
    if stride > 1:
        shortcut = layers.MaxPooling1D(stride, padding="same", name=f"{name}_pool")(shortcut)
    if shortcut.shape[-1] < filters:
        shortcut = PadChannels(filters - shortcut.shape[-1], name=f"{name}_pad")(shortcut)
    y = x if first else _bn_relu(x, config, name=f"{name}_pre")
    y = layers.Conv1D(
        filters,
        config.kernel_size,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv1",
    )(y)
    y = _bn_relu(y, config, name=f"{name}_mid")
    if config.dropout:
        y = layers.Dropout(config.dropout, name=f"{name}_dropout")(y)
    y = layers.Conv1D(
        filters,
        config.kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name=f"{name}_conv2",
    )(y)
    return layers.Add(name=f"{name}_add")([y, shortcut])


def resecg_features(inputs, config: ResECGConfig):
    """The stem, the residual blocks, batch norm, ReLU and the mean over time
    (module docstring)."""
    from keras import layers

    x = layers.Conv1D(
        config.filters,
        config.kernel_size,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        name="stem_conv",
    )(inputs)
    x = _bn_relu(x, config, name="stem")
    for block in range(config.n_blocks):
        x = resecg_block(
            x,
            config.block_filters(block),
            config,
            stride=config.block_stride(block),
            first=block == 0,
            name=f"block{block + 1}",
        )
    x = _bn_relu(x, config, name="final")
    return layers.GlobalAveragePooling1D(name="pool")(x)


register_family(ResECGConfig, resecg_features)
