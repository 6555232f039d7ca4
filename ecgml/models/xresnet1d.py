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

from dataclasses import dataclass

from ecgml.models.family import ModelSpec, check_head, register_family


@dataclass(frozen=True)
class XResNet1dConfig(ModelSpec):
    """Sizes of the 1-D XResNet of the PTB-XL benchmark (module docstring).

    The defaults are the benchmark's xresnet1d50 (Strodthoff et al., 2021, after
    fastai's XResNet, He et al., 2019, "Bag of tricks"); ``layers: [3, 4, 23, 3]``
    gives its xresnet1d101.

    Attributes:
        architecture: ``"xresnet1d"``.
        layers: residual blocks per stage.
        expansion: 4 for bottleneck blocks (1x1, k, 1x1 convolutions, the last
            widening by this factor), 1 for basic blocks (two k convolutions).
        widths: the blocks' inner filters per stage (the benchmark keeps 64 in
            every stage); a block outputs ``width * expansion`` channels.
        stem_filters: filters of the three stem convolutions (the first has stride 2).
        stem_kernel: their kernel.
        kernel_size: kernel of the blocks' middle convolution.
        head_units: dense layers of the head after concat pooling (max and mean over time).
        head_dropout: dropout before the output layer; half of it before each
            hidden dense layer (fastai's head).
        bn_momentum: batch-norm moving-average momentum (0.9 is PyTorch's 0.1).
    """

    architecture: str = "xresnet1d"
    layers: tuple[int, ...] = (3, 4, 6, 3)
    expansion: int = 4
    widths: tuple[int, ...] = (64, 64, 64, 64)
    stem_filters: tuple[int, int, int] = (32, 32, 64)
    stem_kernel: int = 5
    kernel_size: int = 5
    head_units: tuple[int, ...] = (128,)
    head_dropout: float = 0.5
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.layers or min(self.layers) < 1 or len(self.widths) != len(self.layers):
            raise ValueError(
                f"layers and widths need one positive entry per stage, got "
                f"{self.layers} and {self.widths}"
            )
        if self.expansion not in (1, 4):
            raise ValueError(f"expansion must be 1 or 4, got {self.expansion}")
        if len(self.stem_filters) != 3 or min(self.stem_filters) < 1 or min(self.widths) < 1:
            raise ValueError(
                f"stem_filters must be three positive numbers, got {self.stem_filters}"
            )
        if self.stem_kernel < 1 or self.kernel_size < 1:
            raise ValueError("stem_kernel and kernel_size must be positive")
        check_head(self)


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
    from keras import layers

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
    from keras import layers

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


def xresnet1d_features(inputs, config: XResNet1dConfig):
    """The network up to the head's output layer (module docstring)."""
    from keras import layers

    from ecgml.models.heads import concat_pool_features

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
    return concat_pool_features(
        x, units=config.head_units, dropout=config.head_dropout, bn_momentum=config.bn_momentum
    )


register_family(XResNet1dConfig, xresnet1d_features)
