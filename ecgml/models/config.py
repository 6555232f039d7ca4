"""Model configuration (the ``model`` section of a config file)."""

from __future__ import annotations

from dataclasses import dataclass

ARCHITECTURES = ("se_resnet",)
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
        if self.architecture not in ARCHITECTURES:
            raise ValueError(
                f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}"
            )
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
