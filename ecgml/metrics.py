"""Training-time metrics (the full evaluation metrics live in ``ecgml.evaluation``)."""

from __future__ import annotations

from collections.abc import Sequence

import keras


@keras.saving.register_keras_serializable(package="ecgml")
class MacroAUROC(keras.metrics.AUC):
    """Macro AUROC over the classes that have positives in the data it will see.

    ``keras.metrics.AUC(multi_label=True)`` with ``label_weights`` for that,
    made reloadable: Keras saves ``label_weights`` in a form its own
    ``from_config`` cannot read back, so they are kept here as a plain list.

    Args:
        label_weights: 1 for the classes to average over, 0 for the others.
        num_thresholds: thresholds of the interpolated ROC curve.
    """

    def __init__(
        self,
        label_weights: Sequence[float],
        num_thresholds: int = 200,
        name: str = "auroc",
        dtype=None,
    ) -> None:
        self._label_weights_list = [float(w) for w in label_weights]
        super().__init__(
            num_thresholds=num_thresholds,
            multi_label=True,
            num_labels=len(self._label_weights_list),
            label_weights=self._label_weights_list,
            name=name,
            dtype=dtype,
        )

    def get_config(self):
        return {
            "label_weights": self._label_weights_list,
            "num_thresholds": self.num_thresholds,
            "name": self.name,
            "dtype": self.dtype,
        }
