"""The families' own Keras layers, registered for loading saved models
(``keras.saving.load_model`` finds them by their registered name)."""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="ecgml")
class PadChannels(layers.Layer):
    """Appends ``extra`` zero channels: the parameter-free shortcut of a ResECG block
    that widens (``(batch, time, c)`` to ``(batch, time, c + extra)``)."""

    def __init__(self, extra: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.extra = int(extra)

    def call(self, x):
        return ops.pad(x, [[0, 0], [0, 0], [0, self.extra]])

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.extra)

    def get_config(self):
        return {**super().get_config(), "extra": self.extra}
