"""A stack of each fold's deep model with a forest on hand-crafted features.

With the config's ``stack.forest`` on, each fold also trains
:class:`ecgml.baseline.FeatureClassifier` (one random forest per class) on its
training records' age, sex and hand-crafted features (the ``tabular.baseline``
block, which ``ecgml prepare`` then caches), and learns, per class, the weight
``w`` in 0, 1/(grid - 1), ..., 1 of ``w * deep + (1 - w) * forest`` that gives the
highest AUROC on the fold's validation predictions (or takes ``stack.weight``
for every class, fixed before any record is seen). The fold's validation
predictions (from which ``threshold.py`` learns) and every later prediction are
that weighted mean. Only the fold's validation records choose the weights: none
of them trained the deep model or the forest.

The forest and the weights are saved as ``fold_K/stack.joblib`` (a joblib pickle:
load only run folders you trust, as with any pickle).
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from ecgml.data.tabular import TabularConfig
from ecgml.files import atomic_write

# what the forest reads: age and sex with their missing indicators, and the
# hand-crafted features of the record's first window
FOREST_INPUT = TabularConfig(metadata=("age", "sex"), baseline=True)


@dataclasses.dataclass(frozen=True)
class StackConfig:
    """The ``stack`` section of a config.

    Attributes:
        forest: stack a feature forest with every fold model (module docstring).
        n_estimators: trees per class.
        grid: weights tried per class, evenly spaced from 0 (the forest alone) to
            1 (the deep model alone).
        weight: the deep model's weight for every class, in [0, 1], instead of
            weights learned on the validation records (``grid`` is then unused);
            ``0.5`` is the plain mean of the two.
    """

    forest: bool = False
    n_estimators: int = 300
    grid: int = 11
    weight: float | None = None

    def __post_init__(self) -> None:
        if self.n_estimators < 1 or self.grid < 2:
            raise ValueError(
                f"n_estimators must be positive and grid at least 2, got "
                f"{self.n_estimators}, {self.grid}"
            )
        w = self.weight
        if w is not None and (isinstance(w, bool) or not isinstance(w, int | float)):
            raise ValueError(f"weight must be a number in [0, 1] or null, got {w!r}")
        if w is not None and not 0.0 <= w <= 1.0:
            raise ValueError(f"weight must be in [0, 1] or null, got {w}")


def stack_weights(
    y_true: np.ndarray, deep: np.ndarray, forest: np.ndarray, grid: int = 11
) -> np.ndarray:
    """Per class, the deep model's weight whose mix has the highest AUROC on these
    predictions (the first such weight; 1 for a class without both outcomes).

    Args:
        y_true: labels ``(n, n_classes)``.
        deep, forest: the two members' probabilities, same shape.
        grid: weights tried, evenly spaced in [0, 1].
    """
    from sklearn.metrics import roc_auc_score

    candidates = np.linspace(0.0, 1.0, grid)
    weights = np.ones(y_true.shape[1])
    for c in range(y_true.shape[1]):
        if len(np.unique(y_true[:, c])) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = [
                roc_auc_score(y_true[:, c], w * deep[:, c] + (1 - w) * forest[:, c])
                for w in candidates
            ]
        weights[c] = candidates[int(np.argmax(scores))]
    return weights


class Stack:
    """One fold's forest and weights.

    Attributes:
        forest_: the fitted :class:`~ecgml.baseline.FeatureClassifier`.
        weights_: the deep model's weight per class.
    """

    def __init__(self, forest, weights: np.ndarray) -> None:
        self.forest_ = forest
        self.weights_ = np.asarray(weights, dtype=np.float64)

    @classmethod
    def fit(
        cls,
        x_train: np.ndarray,
        y_train: np.ndarray,
        x_val: np.ndarray,
        y_val: np.ndarray,
        deep_val: np.ndarray,
        config: StackConfig,
        *,
        seed: int,
    ) -> Stack:
        """The forest from the training records, the weights from the validation ones
        (or ``config.weight``)."""
        from ecgml.baseline import FeatureClassifier

        forest = FeatureClassifier(n_estimators=config.n_estimators, random_state=seed)
        forest.fit(x_train, y_train)
        if config.weight is not None:
            return cls(forest, np.full(y_train.shape[1], config.weight))
        weights = stack_weights(y_val, deep_val, forest.predict_proba(x_val), config.grid)
        return cls(forest, weights)

    def combine(self, deep: np.ndarray, features: np.ndarray) -> np.ndarray:
        """The stacked probabilities of records ``(n, n_classes)`` from the deep model's
        and the records' forest input (:data:`FOREST_INPUT`)."""
        forest = self.forest_.predict_proba(features)
        return (self.weights_ * deep + (1 - self.weights_) * forest).astype(np.float32)

    def save(self, path: Path) -> None:
        import joblib

        state = {"forest": self.forest_, "weights": self.weights_.tolist()}
        atomic_write(path, lambda tmp: joblib.dump(state, tmp))

    @classmethod
    def load(cls, path: Path) -> Stack:
        import joblib

        saved = joblib.load(path)
        return cls(saved["forest"], np.array(saved["weights"]))
