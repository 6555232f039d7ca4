"""The InceptionTime-style network of the PTB-XL benchmark (Strodthoff et al., 2021).

After Fawaz H. I. et al., "InceptionTime: finding AlexNet for time series
classification" (Data Min. Knowl. Disc. 34, 2020), as the benchmark's
inception1d. Input ``(length, n_leads)``, channels last:

* ``depth`` inception modules. Each: a 1x1 bottleneck convolution (32 filters),
  then three convolutions of it side by side (kernels 39, 19 and 9, 32 filters
  each), beside a branch of max pooling (3, stride 1) and a 1x1 convolution of
  the module's input; the four concatenated (128 channels), batch norm, ReLU.
  Convolutions have no bias;
* every three modules a residual shortcut from the input of the first of them:
  a 1x1 convolution with batch norm added to the third's output, then ReLU;
* the head of :mod:`ecgml.models.heads` (concat pooling, a 128-unit layer).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecgml.models.family import ModelSpec, check_head, register_family


@dataclass(frozen=True)
class Inception1dConfig(ModelSpec):
    """Sizes of the InceptionTime-style network of the PTB-XL benchmark
    (module docstring; Fawaz et al., 2020; Strodthoff et al., 2021).

    Attributes:
        architecture: ``"inception1d"``.
        depth: inception modules; a residual shortcut spans every three.
        filters: filters of each branch (four branches: three convolutions and
            the max-pool branch), so a module outputs ``4 * filters`` channels.
        bottleneck: filters of the 1x1 bottleneck before the convolutions; 0 for none.
        kernel_size: the longest kernel; the three are it, its half and its quarter,
            each made odd (40 gives the benchmark's 39, 19 and 9).
        residual: the shortcut every three modules.
        head_units, head_dropout, bn_momentum: as :class:`XResNet1dConfig`'s.
    """

    architecture: str = "inception1d"
    depth: int = 6
    filters: int = 32
    bottleneck: int = 32
    kernel_size: int = 40
    residual: bool = True
    head_units: tuple[int, ...] = (128,)
    head_dropout: float = 0.5
    bn_momentum: float = 0.9

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.depth < 1 or (self.residual and self.depth % 3):
            raise ValueError(
                f"depth must be positive (a multiple of 3 with residual), got {self.depth}"
            )
        if self.filters < 1 or self.bottleneck < 0 or self.kernel_size < 4:
            raise ValueError(
                "filters must be positive, bottleneck 0 or more and kernel_size "
                f"at least 4, got {self.filters}, {self.bottleneck}, "
                f"{self.kernel_size}"
            )
        check_head(self)

    @property
    def kernels(self) -> tuple[int, int, int]:
        """The three convolution kernels, odd."""
        sizes = (self.kernel_size, self.kernel_size // 2, self.kernel_size // 4)
        return tuple(k - 1 if k % 2 == 0 else k for k in sizes)


def _conv(x, filters: int, kernel: int, *, name: str):
    from keras import layers

    return layers.Conv1D(
        filters, kernel, padding="same", use_bias=False, kernel_initializer="he_normal", name=name
    )(x)


def inception_module(x, config: Inception1dConfig, *, name: str):
    """One module (module docstring)."""
    from keras import layers

    bottled = _conv(x, config.bottleneck, 1, name=f"{name}_bottleneck") if config.bottleneck else x
    branches = [_conv(bottled, config.filters, k, name=f"{name}_conv{k}") for k in config.kernels]
    pooled = layers.MaxPooling1D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branches.append(_conv(pooled, config.filters, 1, name=f"{name}_pool_conv"))
    y = layers.Concatenate(name=f"{name}_concat")(branches)
    y = layers.BatchNormalization(momentum=config.bn_momentum, name=f"{name}_bn")(y)
    return layers.Activation("relu", name=f"{name}_relu")(y)


def inception1d_features(inputs, config: Inception1dConfig):
    """The network up to the head's output layer (module docstring)."""
    from keras import layers

    from ecgml.models.heads import concat_pool_features

    x = residual = inputs
    for d in range(config.depth):
        x = inception_module(x, config, name=f"module{d + 1}")
        if config.residual and d % 3 == 2:
            name = f"shortcut{d // 3 + 1}"
            s = _conv(residual, x.shape[-1], 1, name=f"{name}_conv")
            s = layers.BatchNormalization(momentum=config.bn_momentum, name=f"{name}_bn")(s)
            x = layers.Activation("relu", name=f"{name}_relu")(
                layers.Add(name=f"{name}_add")([x, s])
            )
            residual = x
    return concat_pool_features(
        x, units=config.head_units, dropout=config.head_dropout, bn_momentum=config.bn_momentum
    )


register_family(Inception1dConfig, inception1d_features)
