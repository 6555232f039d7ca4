"""Late fusion of a signal model with a tabular input (``tabular`` config section).

The signal model's features before its output layer (the layer every builder
names ``"output"``) are joined to a small dense branch of the tabular vector,
and a new output layer sees both::

    ecg ------> signal model ... -> features --+
                                               concatenate -> output
    features -> fill missing -> standardise -> dense -> dropout +

A missing value (NaN: an unknown age, a feature that could not be measured) is
replaced by its column's mean, then every column is standardised with fixed
statistics (runs trained before ecgml had missing values used
``keras.layers.Normalization`` here, which loads as before). The caller
computes both from the training fold's rows only (:func:`training_statistics`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops


@keras.saving.register_keras_serializable(package="ecgml")
class FillMissing(layers.Layer):
    """Replaces NaN entries of ``(batch, n_features)`` by a fixed value per column.

    Args:
        values: one value per column (the training fold's column means).
    """

    def __init__(self, values, **kwargs) -> None:
        super().__init__(**kwargs)
        self.values = [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]

    def call(self, inputs):
        values = ops.convert_to_tensor(np.asarray(self.values, dtype=np.float32))
        values = ops.cast(values, inputs.dtype)
        return ops.where(ops.isnan(inputs), values, inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "values": self.values}


@keras.saving.register_keras_serializable(package="ecgml")
class Standardise(layers.Layer):
    """``(x - mean) / sqrt(variance)`` per column, with both fixed in the layer's config.

    Unlike ``keras.layers.Normalization`` it keeps no state tensors, so an exported
    graph holds them as constants (tf2onnx would otherwise make them graph inputs).

    Args:
        mean, variance: one value per column.
    """

    def __init__(self, mean, variance, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mean = [float(v) for v in np.asarray(mean, dtype=np.float64).ravel()]
        self.variance = [float(v) for v in np.asarray(variance, dtype=np.float64).ravel()]

    def call(self, inputs):
        mean = ops.cast(ops.convert_to_tensor(np.asarray(self.mean, np.float32)), inputs.dtype)
        scale = ops.cast(
            ops.convert_to_tensor(1.0 / np.sqrt(np.asarray(self.variance, np.float32))),
            inputs.dtype,
        )
        return (inputs - mean) * scale

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "variance": self.variance}


def training_statistics(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and variances of the training rows ``(n, n_features)``, NaN left out;
    a column with no value at all gets mean 0 and variance 1."""
    rows = np.asarray(rows, dtype=np.float64)
    present = np.isfinite(rows)
    count = present.sum(axis=0)
    filled = np.where(present, rows, 0.0)
    mean = np.divide(filled.sum(axis=0), count, out=np.zeros(rows.shape[1]), where=count > 0)
    centred = np.where(present, rows - mean, 0.0)
    variance = np.divide(
        (centred**2).sum(axis=0), count, out=np.ones(rows.shape[1]), where=count > 0
    )
    return mean, variance


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
        mean, variance: per feature, from the training rows
            (:func:`training_statistics`); a missing value is replaced by the
            mean, and a constant feature (variance 0) is centred only.
        units: units of the tabular branch's dense layer.
        dropout: dropout after it.

    Returns:
        A functional model taking ``{"ecg": signal, "features": vector}``.
    """
    mean = np.asarray(mean, dtype=np.float32)
    variance = np.maximum(np.asarray(variance, dtype=np.float32), 1e-6)
    head = model.get_layer("output")
    features = keras.Input((len(mean),), name="features")
    t = FillMissing(mean, name="features_fill")(features)
    t = Standardise(mean, variance, name="features_norm")(t)
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
