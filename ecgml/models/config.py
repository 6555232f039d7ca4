"""Model configuration (the ``model`` section of a config file).

Each architecture has its own frozen dataclass, picked by the section's
``architecture`` field (:func:`model_config_class`). A config class says what
its model reads in ``inputs`` (``"signals"``, the default, or ``"images"``),
which must be what the task's sample kind gives (:mod:`ecgml.data.samples`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

HEADS = ("gap", "flatten")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the SE-ResNet; every one a config field.

    Attributes:
        architecture: model family; ``"se_resnet"``.
        stem_filters: filters of the stem convolution.
        stem_kernel: its kernel size.
        stem_stride: its stride.
        stem_pool: max-pool size (stride 2) after the stem; 0 for none.
        filters: filters per stage; each stage is a down-sampling residual block
            (stride 2, projection shortcut) followed by ``blocks_per_stage - 1``
            identity blocks.
        blocks_per_stage: residual blocks per stage (2 gives the 8-block model).
        kernel_size: kernel of the block convolutions.
        se_ratio: squeeze-and-excitation reduction ratio.
        dropout: dropout between the two convolutions of a block.
        head: ``"gap"`` (global average pooling; any input length works) or
            ``"flatten"`` (fixed input length, as the seed project had).
        dense_units: units of the dense layer before the output; 0 for none.
        dense_l2: L2 penalty on that layer's kernel.
        head_dropout: dropout before the output layer.
    """

    architecture: str = "se_resnet"
    stem_filters: int = 64
    stem_kernel: int = 15
    stem_stride: int = 2
    stem_pool: int = 3
    filters: tuple[int, ...] = (64, 128, 256, 512)
    blocks_per_stage: int = 2
    kernel_size: int = 15
    se_ratio: int = 16
    dropout: float = 0.2
    head: str = "gap"
    dense_units: int = 128
    dense_l2: float = 0.0
    head_dropout: float = 0.2

    def __post_init__(self) -> None:
        if self.architecture != "se_resnet":
            raise ValueError(f"ModelConfig is the SE-ResNet's, got {self.architecture!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if not self.filters or min(self.filters) < 1 or self.blocks_per_stage < 1:
            raise ValueError(
                f"need at least one stage and block, got filters={self.filters}, "
                f"blocks_per_stage={self.blocks_per_stage}"
            )
        for name in ("dropout", "head_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")


@dataclass(frozen=True)
class ResECGConfig:
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
        if self.architecture != "resecg":
            raise ValueError(f"ResECGConfig is ResECG's, got {self.architecture!r}")
        for name in ("n_blocks", "filters", "filters_every", "subsample_every", "kernel_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.filters_step < 0:
            raise ValueError(f"filters_step must be 0 or more, got {self.filters_step}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 < self.bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in (0, 1), got {self.bn_momentum}")

    def block_filters(self, block: int) -> int:
        """Filters of residual block ``block`` (0-based)."""
        return self.filters + self.filters_step * (block // self.filters_every)

    def block_stride(self, block: int) -> int:
        """2 for the blocks that subsample, else 1."""
        return 2 if block % self.subsample_every == self.subsample_every - 1 else 1


def _check_dropouts(config, *names: str) -> None:
    for name in names:
        if not 0.0 <= getattr(config, name) < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {getattr(config, name)}")


@dataclass(frozen=True)
class BeatCNNConfig:
    """The small heartbeat CNN: two convolutions, each followed by max pooling,
    then dropout, a dense layer and the output.

    Attributes:
        architecture: ``"beat_cnn"``.
        filters: filters of the two convolutions.
        kernel_size: their kernel.
        pool_size: max pooling after each (stride the same).
        dropout: after the convolutions and after the dense layer.
        dense_units: units of the dense layer; 0 for none.
    """

    architecture: str = "beat_cnn"
    filters: tuple[int, int] = (32, 64)
    kernel_size: int = 5
    pool_size: int = 2
    dropout: float = 0.25
    dense_units: int = 64

    def __post_init__(self) -> None:
        if self.architecture != "beat_cnn":
            raise ValueError(f"BeatCNNConfig is the beat CNN's, got {self.architecture!r}")
        if len(self.filters) != 2 or min(self.filters) < 1:
            raise ValueError(f"filters must be two positive numbers, got {self.filters}")
        if self.kernel_size < 1 or self.pool_size < 1 or self.dense_units < 0:
            raise ValueError(
                "kernel_size and pool_size must be positive and dense_units 0 or more, got "
                f"{self.kernel_size}, {self.pool_size}, {self.dense_units}"
            )
        _check_dropouts(self, "dropout")


@dataclass(frozen=True)
class KachueeConfig:
    """The residual heartbeat CNN of Kachuee et al. (2018), "ECG heartbeat
    classification: a deep transferable representation" (IEEE ICHI).

    A convolution, then ``n_blocks`` residual blocks (two convolutions and an
    identity shortcut, ReLU, max pooling of 5 with stride 2), then two dense
    layers and the output. The paper's sizes are the defaults.

    Attributes:
        architecture: ``"kachuee"``.
        n_blocks: residual blocks.
        filters: filters of every convolution.
        kernel_size: kernel of every convolution.
        pool_size: max pooling after each block (stride 2).
        dense_units: units of each of the two dense layers.
        dropout: before the output layer; the paper has none (0).
    """

    architecture: str = "kachuee"
    n_blocks: int = 5
    filters: int = 32
    kernel_size: int = 5
    pool_size: int = 5
    dense_units: int = 32
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.architecture != "kachuee":
            raise ValueError(f"KachueeConfig is Kachuee's CNN's, got {self.architecture!r}")
        for name in ("n_blocks", "filters", "kernel_size", "pool_size", "dense_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        _check_dropouts(self, "dropout")


@dataclass(frozen=True)
class MobileNetConfig:
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
            raise ValueError(f"model.channels ({self.channels}) must equal "
                             f"preprocess.image.channels ({channels})")  # fmt: skip

    def __post_init__(self) -> None:
        if self.architecture != "mobilenet_v3":
            raise ValueError(f"MobileNetConfig is MobileNetV3's, got {self.architecture!r}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")
        if not 0.0 < self.bn_momentum < 1.0:
            raise ValueError(f"bn_momentum must be in (0, 1), got {self.bn_momentum}")
        _check_dropouts(self, "dropout")


def _check_head(config) -> None:
    if any(u < 1 for u in config.head_units):
        raise ValueError(f"head_units must be positive, got {config.head_units}")
    _check_dropouts(config, "head_dropout")
    if not 0.0 < config.bn_momentum < 1.0:
        raise ValueError(f"bn_momentum must be in (0, 1), got {config.bn_momentum}")


@dataclass(frozen=True)
class XResNet1dConfig:
    """Sizes of the 1-D XResNet of the PTB-XL benchmark (:mod:`ecgml.models.xresnet1d`).

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
        if self.architecture != "xresnet1d":
            raise ValueError(f"XResNet1dConfig is the XResNet's, got {self.architecture!r}")
        if not self.layers or min(self.layers) < 1 or len(self.widths) != len(self.layers):
            raise ValueError(f"layers and widths need one positive entry per stage, got "
                             f"{self.layers} and {self.widths}")  # fmt: skip
        if self.expansion not in (1, 4):
            raise ValueError(f"expansion must be 1 or 4, got {self.expansion}")
        if len(self.stem_filters) != 3 or min(self.stem_filters) < 1 or min(self.widths) < 1:
            raise ValueError(
                f"stem_filters must be three positive numbers, got {self.stem_filters}"
            )
        if self.stem_kernel < 1 or self.kernel_size < 1:
            raise ValueError("stem_kernel and kernel_size must be positive")
        _check_head(self)


@dataclass(frozen=True)
class Inception1dConfig:
    """Sizes of the InceptionTime-style network of the PTB-XL benchmark
    (:mod:`ecgml.models.inception1d`; Fawaz et al., 2020; Strodthoff et al., 2021).

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
        if self.architecture != "inception1d":
            raise ValueError(f"Inception1dConfig is the Inception network's, got "
                             f"{self.architecture!r}")  # fmt: skip
        if self.depth < 1 or (self.residual and self.depth % 3):
            raise ValueError(f"depth must be positive (a multiple of 3 with residual), got "
                             f"{self.depth}")  # fmt: skip
        if self.filters < 1 or self.bottleneck < 0 or self.kernel_size < 4:
            raise ValueError("filters must be positive, bottleneck 0 or more and kernel_size "
                             f"at least 4, got {self.filters}, {self.bottleneck}, "
                             f"{self.kernel_size}")  # fmt: skip
        _check_head(self)

    @property
    def kernels(self) -> tuple[int, int, int]:
        """The three convolution kernels, odd."""
        sizes = (self.kernel_size, self.kernel_size // 2, self.kernel_size // 4)
        return tuple(k - 1 if k % 2 == 0 else k for k in sizes)


MODEL_CONFIGS: dict[str, type] = {
    "se_resnet": ModelConfig,
    "resecg": ResECGConfig,
    "beat_cnn": BeatCNNConfig,
    "kachuee": KachueeConfig,
    "mobilenet_v3": MobileNetConfig,
    "xresnet1d": XResNet1dConfig,
    "inception1d": Inception1dConfig,
}
ARCHITECTURES = tuple(MODEL_CONFIGS)


def model_config_class(architecture: str) -> type:
    """The config dataclass of an architecture.

    Raises:
        ValueError: an unknown architecture.
    """
    if architecture not in MODEL_CONFIGS:
        raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
    return MODEL_CONFIGS[architecture]
