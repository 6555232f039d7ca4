"""The heads the families share: the output layer every model ends in, and the
PTB-XL benchmark networks' concat-pooling head (fastai's ``create_head1d``)."""

from __future__ import annotations

from keras import layers


def classify(x, n_classes: int, activation: str, *, dropout: float = 0.0):
    """Features ``(batch, n_features)`` to class probabilities: dropout (none at
    0), then the dense output layer, in float32 so that probabilities stay exact
    under mixed precision."""
    if dropout:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    return layers.Dense(n_classes, activation=activation, dtype="float32", name="output")(x)


def concat_pool_features(x, *, units: tuple[int, ...], dropout: float, bn_momentum: float):
    """Concat pooling (the maximum and the mean over time, side by side), then for
    each hidden layer batch norm, dropout and a dense layer with ReLU, then batch
    norm and dropout before the output (Strodthoff et al., 2021).

    Args:
        x: features ``(batch, time, channels)``.
        units: hidden dense layers.
        dropout: before the output layer; half of it before each hidden layer.
        bn_momentum: of the head's batch norms.
    """
    x = layers.Concatenate(name="head_pool")(
        [
            layers.GlobalMaxPooling1D(name="head_max")(x),
            layers.GlobalAveragePooling1D(name="head_mean")(x),
        ]
    )
    for k, size in enumerate(units, start=1):
        x = layers.BatchNormalization(momentum=bn_momentum, name=f"head_bn{k}")(x)
        if dropout:
            x = layers.Dropout(dropout / 2, name=f"head_dropout{k}")(x)
        x = layers.Dense(
            size, activation="relu", kernel_initializer="he_normal", name=f"head_dense{k}"
        )(x)
    last = len(units) + 1
    x = layers.BatchNormalization(momentum=bn_momentum, name=f"head_bn{last}")(x)
    if dropout:
        x = layers.Dropout(dropout, name=f"head_dropout{last}")(x)
    return x
