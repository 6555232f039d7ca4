"""The classification head of the PTB-XL benchmark's networks (fastai's ``create_head1d``).

Concat pooling (the maximum and the mean over time, side by side), then for each
hidden layer batch norm, dropout, a dense layer and ReLU, and for the output
batch norm, dropout and the dense output (Strodthoff et al., 2021).
"""

from __future__ import annotations

from keras import layers


def concat_pool_head(
    x,
    n_classes: int,
    *,
    units: tuple[int, ...],
    dropout: float,
    bn_momentum: float,
    activation: str,
):
    """Pooled features to class probabilities.

    Args:
        x: features ``(batch, time, channels)``.
        n_classes: outputs.
        units: hidden dense layers.
        dropout: before the output layer; half of it before each hidden layer.
        bn_momentum: of the head's batch norms.
        activation: the output activation.
    """
    x = layers.Concatenate(name="head_pool")(
        [
            layers.GlobalMaxPooling1D(name="head_max")(x),
            layers.GlobalAveragePooling1D(name="head_mean")(x),
        ]
    )
    sizes = (*units, n_classes)
    for k, size in enumerate(sizes):
        last = k == len(sizes) - 1
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"head_bn{k + 1}")(x)
        rate = dropout if last else dropout / 2
        if rate:
            x = layers.Dropout(rate, name=f"head_dropout{k + 1}")(x)
        if last:  # float32 output keeps probabilities exact under mixed precision
            return layers.Dense(size, activation=activation, dtype="float32", name="output")(x)
        x = layers.Dense(
            size, activation="relu", kernel_initializer="he_normal", name=f"head_dense{k + 1}"
        )(x)
    raise AssertionError("unreachable")
