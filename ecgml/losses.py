"""Losses for multi-label and multi-class targets.

Multi-label (a sigmoid per class): weighted binary cross-entropy, binary focal,
plain binary cross-entropy. Multi-class (softmax): categorical cross-entropy,
plain or with class weights, and categorical focal loss.

Keras's ``class_weight`` takes the argmax of each target row, which is wrong
for multi-hot labels; class imbalance is handled inside the loss instead, for
both kinds alike, with weights from the training fold's labels only.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

MULTILABEL_LOSSES = ("bce", "weighted_bce", "focal")
MULTICLASS_LOSSES = ("cce", "weighted_cce", "categorical_focal")
LOSSES = MULTILABEL_LOSSES + MULTICLASS_LOSSES


def positive_weights(y_true: np.ndarray, *, max_weight: float | None = None) -> np.ndarray:
    """Per-class weight of positive examples: negatives / positives.

    Args:
        y_true: multi-hot labels of the training records, shape ``(n, n_classes)``.
        max_weight: cap on a weight (very rare classes); ``None`` for no cap.

    Returns:
        float32 weights, shape ``(n_classes,)``; 1 for a class without positives.
    """
    y_true = np.asarray(y_true)
    positives = y_true.sum(axis=0).astype(np.float64)
    negatives = y_true.shape[0] - positives
    weights = np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0)
    if max_weight is not None:
        weights = np.minimum(weights, max_weight)
    return weights.astype(np.float32)


@keras.saving.register_keras_serializable(package="ecgml")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy on probabilities with a weight on each class's positives.

    ``loss = -mean_c(w_c * y_c * log(p_c) + (1 - y_c) * log(1 - p_c))``

    Args:
        pos_weight: one weight per class (see :func:`positive_weights`).
        epsilon: probabilities are clipped to ``[epsilon, 1 - epsilon]``.
    """

    def __init__(
        self,
        pos_weight: Sequence[float],
        epsilon: float = 1e-7,
        name: str = "weighted_bce",
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.pos_weight = [float(w) for w in pos_weight]
        self.epsilon = epsilon

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.clip(ops.cast(y_pred, "float32"), self.epsilon, 1.0 - self.epsilon)
        weight = ops.convert_to_tensor(self.pos_weight, dtype="float32")
        loss = weight * y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred)
        return -ops.mean(loss, axis=-1)

    def get_config(self):
        return {
            "name": self.name,
            "reduction": self.reduction,
            "pos_weight": self.pos_weight,
            "epsilon": self.epsilon,
        }


def class_weights(y_true: np.ndarray, *, max_weight: float | None = None) -> np.ndarray:
    """Per-class weight for one-hot targets: ``n / (n_classes * count_c)``, scikit-learn's
    "balanced" weighting, so that every class weighs the same in total.

    Args:
        y_true: one-hot labels of the training records, shape ``(n, n_classes)``.
        max_weight: cap on any weight; ``None`` for none. A class of a handful of
            samples among tens of thousands (MIT-BIH's Q beats) would otherwise
            weigh thousands of times more than the others and dominate the loss.

    Returns:
        float32 weights, shape ``(n_classes,)``; 1 for a class without records.
    """
    y_true = np.asarray(y_true)
    counts = y_true.sum(axis=0).astype(np.float64)
    weights = np.where(counts > 0, y_true.shape[0] / (y_true.shape[1] * np.maximum(counts, 1)), 1)
    if max_weight is not None:
        weights = np.minimum(weights, max_weight)
    return weights.astype(np.float32)


@keras.saving.register_keras_serializable(package="ecgml")
class WeightedCategoricalCrossentropy(keras.losses.Loss):
    """Categorical cross-entropy on probabilities with a weight per true class.

    ``loss = -sum_c(w_c * y_c * log(p_c))``

    Args:
        class_weight: one weight per class (see :func:`class_weights`).
        epsilon: probabilities are clipped to ``[epsilon, 1 - epsilon]``.
    """

    def __init__(
        self,
        class_weight: Sequence[float],
        epsilon: float = 1e-7,
        name: str = "weighted_cce",
        reduction: str = "sum_over_batch_size",
        dtype=None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.class_weight = [float(w) for w in class_weight]
        self.epsilon = epsilon

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.clip(ops.cast(y_pred, "float32"), self.epsilon, 1.0 - self.epsilon)
        weight = ops.convert_to_tensor(self.class_weight, dtype="float32")
        return -ops.sum(weight * y_true * ops.log(y_pred), axis=-1)

    def get_config(self):
        return {
            "name": self.name,
            "reduction": self.reduction,
            "class_weight": self.class_weight,
            "epsilon": self.epsilon,
        }


def make_loss(
    name: str,
    y_train: np.ndarray,
    *,
    focal_gamma: float = 2.0,
    focal_alpha: float | None = 0.25,
    max_pos_weight: float | None = None,
) -> keras.losses.Loss:
    """The loss a config names; weights come from the training fold's labels only.

    ``focal_alpha`` is the binary focal loss's class balance; for
    ``"categorical_focal"`` it weighs every class alike (``None`` means 1).
    """
    if name == "bce":
        return keras.losses.BinaryCrossentropy()
    if name == "weighted_bce":
        return WeightedBinaryCrossentropy(positive_weights(y_train, max_weight=max_pos_weight))
    if name == "focal":
        return keras.losses.BinaryFocalCrossentropy(
            apply_class_balancing=focal_alpha is not None,
            alpha=0.25 if focal_alpha is None else focal_alpha,
            gamma=focal_gamma,
        )
    if name == "cce":
        return keras.losses.CategoricalCrossentropy()
    if name == "weighted_cce":
        return WeightedCategoricalCrossentropy(class_weights(y_train, max_weight=max_pos_weight))
    if name == "categorical_focal":
        return keras.losses.CategoricalFocalCrossentropy(
            alpha=1.0 if focal_alpha is None else focal_alpha, gamma=focal_gamma
        )
    raise ValueError(f"loss must be one of {LOSSES}, got {name!r}")
