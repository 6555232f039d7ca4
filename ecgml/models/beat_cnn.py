"""The small heartbeat CNN: two convolutions with max pooling, dropout, softmax.

Input ``(length, n_leads)``, one beat window (187 samples at 125 Hz by default).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecgml.models.family import ModelSpec, check_rates, register_family


@dataclass(frozen=True)
class BeatCNNConfig(ModelSpec):
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
        super().__post_init__()
        if len(self.filters) != 2 or min(self.filters) < 1:
            raise ValueError(f"filters must be two positive numbers, got {self.filters}")
        if self.kernel_size < 1 or self.pool_size < 1 or self.dense_units < 0:
            raise ValueError(
                "kernel_size and pool_size must be positive and dense_units 0 or more, got "
                f"{self.kernel_size}, {self.pool_size}, {self.dense_units}"
            )
        check_rates(self, "dropout")


def beat_cnn_features(inputs, config: BeatCNNConfig):
    """The two convolutions with pooling, dropout, and the dense layer with its dropout."""
    from keras import layers

    if inputs.shape[1] is None:
        raise ValueError("the beat CNN needs a fixed input length (its beat window)")
    x = inputs
    for k, filters in enumerate(config.filters, start=1):
        x = layers.Conv1D(
            filters, config.kernel_size, padding="same", activation="relu", name=f"conv{k}"
        )(x)
        x = layers.MaxPooling1D(config.pool_size, name=f"pool{k}")(x)
    x = layers.Dropout(config.dropout, name="conv_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    if config.dense_units:
        x = layers.Dense(config.dense_units, activation="relu", name="dense")(x)
        x = layers.Dropout(config.dropout, name="dense_dropout")(x)
    return x


register_family(BeatCNNConfig, beat_cnn_features)
