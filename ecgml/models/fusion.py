"""Late fusion of a signal model with a tabular input (``tabular`` config section).

The signal model's features before its output layer (the layer every builder
names ``"output"``) are joined to a small dense branch of the tabular vector,
and a new output layer sees both::

    ecg ------> signal model ... -> features --+
                                               concatenate -> output
    features -> standardise -> dense -> dropout +

The standardisation is a fixed ``Normalization`` layer whose mean and variance
the caller computes from the training fold's rows only.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers


def with_tabular(
    model: keras.Model,
    *,
    mean: np.ndarray,
    variance: np.ndarray,
    units: int = 16,
    dropout: float = 0.0,
) -> keras.Model:
    """The model with a second input ``features``, shape ``(batch, n_features)``.

    Args:
        model: a built signal model with one input and a final layer named ``"output"``.
        mean, variance: per feature, from the training rows; a constant feature
            (variance 0) is centred only.
        units: units of the tabular branch's dense layer.
        dropout: dropout after it.

    Returns:
        A functional model taking ``{"ecg": signal, "features": vector}``.
    """
    mean = np.asarray(mean, dtype=np.float32)
    variance = np.maximum(np.asarray(variance, dtype=np.float32), 1e-6)
    head = model.get_layer("output")
    features = keras.Input((len(mean),), name="features")
    t = layers.Normalization(mean=mean, variance=variance, name="features_norm")(features)
    t = layers.Dense(units, activation="relu", name="features_dense")(t)
    if dropout:
        t = layers.Dropout(dropout, name="features_dropout")(t)
    joined = layers.Concatenate(name="fusion")([head.input, t])
    outputs = layers.Dense(head.units, activation=head.activation, dtype="float32", name="output")(
        joined
    )
    signal = model.inputs[0]
    return keras.Model({"ecg": signal, "features": features}, outputs, name=f"{model.name}_tabular")


def signal_input_length(model: keras.Model) -> int | None:
    """Samples per signal input of a model with or without a tabular input."""
    for tensor in model.inputs:
        if tensor.name.split(":")[0] == "ecg" or len(model.inputs) == 1:
            return tensor.shape[1]
    return model.inputs[0].shape[1]
