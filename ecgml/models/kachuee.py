"""The residual heartbeat CNN of Kachuee, Fazeli and Sarrafzadeh (2018).

"ECG heartbeat classification: a deep transferable representation", IEEE
International Conference on Healthcare Informatics (ICHI), 443-444. Input
``(187, 1)``: one beat at 125 Hz. A kernel-5 convolution of 32 filters, five
residual blocks (convolution, ReLU, convolution, identity shortcut, ReLU, max
pooling of 5 with stride 2), two dense layers of 32 units, softmax. The paper
trains it on MIT-BIH beats and transfers its layers to myocardial-infarction
detection on PTB.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecgml.models.family import ModelSpec, check_rates, register_family


@dataclass(frozen=True)
class KachueeConfig(ModelSpec):
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
        super().__post_init__()
        for name in ("n_blocks", "filters", "kernel_size", "pool_size", "dense_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        check_rates(self, "dropout")

    @property
    def output_dropout(self) -> float:
        return self.dropout


def kachuee_block(x, config: KachueeConfig, *, name: str):
    """One residual block (module docstring)."""
    from keras import layers

    y = layers.Conv1D(
        config.filters, config.kernel_size, padding="same", activation="relu", name=f"{name}_conv1"
    )(x)
    y = layers.Conv1D(config.filters, config.kernel_size, padding="same", name=f"{name}_conv2")(y)
    y = layers.Add(name=f"{name}_add")([y, x])
    y = layers.Activation("relu", name=f"{name}_relu")(y)
    return layers.MaxPooling1D(config.pool_size, strides=2, name=f"{name}_pool")(y)


def kachuee_features(inputs, config: KachueeConfig):
    """The convolution, the residual blocks and the two dense layers.

    Raises:
        ValueError: no fixed input length, or one too short for the blocks' pooling.
    """
    from keras import layers

    input_length = inputs.shape[1]
    if input_length is None:
        raise ValueError("Kachuee's CNN needs a fixed input length (its beat window)")
    length = input_length
    for _ in range(config.n_blocks):
        length = (length - config.pool_size) // 2 + 1
    if length < 1:
        raise ValueError(
            f"input_length {input_length} is too short for {config.n_blocks} blocks of "
            f"pooling {config.pool_size}"
        )
    x = layers.Conv1D(config.filters, config.kernel_size, padding="same", name="stem_conv")(inputs)
    for block in range(config.n_blocks):
        x = kachuee_block(x, config, name=f"block{block + 1}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(config.dense_units, activation="relu", name="dense1")(x)
    return layers.Dense(config.dense_units, activation="relu", name="dense2")(x)


register_family(KachueeConfig, kachuee_features)
