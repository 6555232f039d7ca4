"""1-D SE-ResNet for multi-lead ECG (Hu et al., 2018; He et al., 2016).

Input ``(length, n_leads)``, channels last. A stem convolution with batch norm,
ReLU and max-pooling; residual stages, each a down-sampling block and identity
blocks, with squeeze-and-excitation in every block; a pooled or flattened head,
a dense layer and one sigmoid per class (or a softmax, for multi-class tasks).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecgml.models.family import ModelSpec, check_rates, register_family

HEADS = ("gap", "flatten")


@dataclass(frozen=True)
class SEResNetConfig(ModelSpec):
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
        super().__post_init__()
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, got {self.head!r}")
        if not self.filters or min(self.filters) < 1 or self.blocks_per_stage < 1:
            raise ValueError(
                f"need at least one stage and block, got filters={self.filters}, "
                f"blocks_per_stage={self.blocks_per_stage}"
            )
        check_rates(self, "dropout", "head_dropout")

    @property
    def output_dropout(self) -> float:
        return self.head_dropout


def squeeze_excite(x, ratio: int, *, name: str):
    """Channel attention: global pooling, bottleneck, sigmoid gates on the channels."""
    from keras import layers

    channels = x.shape[-1]
    s = layers.GlobalAveragePooling1D(name=f"{name}_squeeze")(x)
    s = layers.Dense(max(channels // ratio, 1), activation="relu", name=f"{name}_reduce")(s)
    s = layers.Dense(channels, activation="sigmoid", name=f"{name}_expand")(s)
    s = layers.Reshape((1, channels), name=f"{name}_reshape")(s)
    return layers.Multiply(name=f"{name}_scale")([x, s])


def residual_block(x, filters: int, config: SEResNetConfig, *, stride: int, name: str):
    """Two convolutions with SE, plus a shortcut (projected when the shape changes)."""
    from keras import layers

    shortcut = x
    y = layers.Conv1D(
        filters,
        config.kernel_size,
        strides=stride,
        padding="same",
        use_bias=False,
        name=f"{name}_conv1",
    )(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    if config.dropout:
        y = layers.Dropout(config.dropout, name=f"{name}_dropout")(y)
    y = layers.Conv1D(
        filters, config.kernel_size, padding="same", use_bias=False, name=f"{name}_conv2"
    )(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = squeeze_excite(y, config.se_ratio, name=f"{name}_se")
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv1D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def se_resnet_features(inputs, config: SEResNetConfig):
    """The stem, the residual stages, the pooled (or flattened) features and the
    dense layer (module docstring)."""
    import keras
    from keras import layers

    if config.head == "flatten" and inputs.shape[1] is None:
        raise ValueError("the 'flatten' head needs a fixed input_length")
    x = layers.Conv1D(
        config.stem_filters,
        config.stem_kernel,
        strides=config.stem_stride,
        padding="same",
        use_bias=False,
        name="stem_conv",
    )(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    if config.stem_pool:
        x = layers.MaxPooling1D(config.stem_pool, strides=2, padding="same", name="stem_pool")(x)
    for stage, filters in enumerate(config.filters, start=1):
        for block in range(1, config.blocks_per_stage + 1):
            stride = 2 if block == 1 else 1
            x = residual_block(x, filters, config, stride=stride, name=f"stage{stage}_block{block}")
    if config.head == "gap":
        x = layers.GlobalAveragePooling1D(name="pool")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    if config.dense_units:
        regularizer = keras.regularizers.L2(config.dense_l2) if config.dense_l2 else None
        x = layers.Dense(
            config.dense_units, activation="relu", kernel_regularizer=regularizer, name="dense"
        )(x)
    return x


register_family(SEResNetConfig, se_resnet_features)
