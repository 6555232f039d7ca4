"""Augmentation inside the training step, as a Keras layer.

The input pipeline only gathers whole cached windows; :class:`Augment` crops
them and draws the noise and the masks on the device, in the compiled step,
from a ``keras.random.SeedGenerator``. It is active only in training: in
inference it is the centre crop and nothing else. :func:`training_model` puts
it in front of a fold model for ``fit``; checkpoints and ``model.keras`` keep
the fold model alone, so predictions and exported graphs contain none of it.

Each augmentation draws what :class:`ecgml.training.dataset.HostAugment` (the
numpy version kept for comparison) draws, in the same order: a random crop,
amplitude scaling, Gaussian noise, oversampled copies' extra noise, lead
masking, time masking.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

COPY = "copy"  # the batch input that flags oversampled repeats


@keras.saving.register_keras_serializable(package="ecgml")
class Augment(keras.layers.Layer):
    """Crops and augments a batch of windows ``(batch, window, leads)`` in training.

    Args:
        input_length: samples per model input; shorter than the window gives a
            random crop in training and the centre crop otherwise.
        noise_std: Gaussian noise, input units; 0 for none.
        copy_noise_std: extra noise on the inputs flagged as copies.
        lead_mask_prob: chance that each lead of an input is zeroed.
        time_mask_prob: chance that an input gets one span of time zeroed in every lead.
        time_mask_samples: longest span; its length is uniform in
            ``1..min(time_mask_samples, input_length)`` and its start uniform over
            the input.
        amplitude_scale: each input is multiplied by a factor uniform in
            ``[1 - amplitude_scale, 1 + amplitude_scale]``; 0 for none.
        seed: seeds the draws.

    Called as ``layer([x, copy])``, ``copy`` a float per input (1 for a repeat),
    or ``layer(x)``. The computation is float32 whatever the policy.
    """

    def __init__(
        self,
        input_length: int,
        *,
        noise_std: float = 0.0,
        copy_noise_std: float = 0.0,
        lead_mask_prob: float = 0.0,
        time_mask_prob: float = 0.0,
        time_mask_samples: int = 1,
        amplitude_scale: float = 0.0,
        seed: int = 0,
        **kwargs,
    ) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if not 0.0 <= amplitude_scale < 1.0:
            raise ValueError(f"amplitude_scale must be in [0, 1), got {amplitude_scale}")
        self.input_length = int(input_length)
        self.noise_std = float(noise_std)
        self.copy_noise_std = float(copy_noise_std)
        self.lead_mask_prob = float(lead_mask_prob)
        self.time_mask_prob = float(time_mask_prob)
        self.time_mask_samples = max(1, int(time_mask_samples))
        self.amplitude_scale = float(amplitude_scale)
        self.seed = int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        return (shape[0], self.input_length, shape[2])

    def call(self, inputs, training=None):
        x, copy = (inputs[0], inputs[1]) if isinstance(inputs, (list, tuple)) else (inputs, None)
        x = ops.cast(x, "float32")
        excess = x.shape[1] - self.input_length
        if excess < 0:
            raise ValueError(
                f"windows of {x.shape[1]} samples are shorter than input_length {self.input_length}"
            )
        if not training:
            return x[:, excess // 2 : excess // 2 + self.input_length]
        batch = ops.shape(x)[0]
        if excess:
            x = self._crop(x, batch, excess)
        if self.amplitude_scale:
            factor = self._uniform(
                (batch, 1, 1), 1 - self.amplitude_scale, 1 + self.amplitude_scale
            )
            x = x * factor
        if self.noise_std:
            x = x + self.noise_std * self._normal(ops.shape(x))
        if self.copy_noise_std and copy is not None:
            flag = ops.reshape(ops.cast(copy, "float32"), (batch, 1, 1))
            x = x + self.copy_noise_std * flag * self._normal(ops.shape(x))
        if self.lead_mask_prob:
            keep = self._uniform((batch, 1, x.shape[2])) >= self.lead_mask_prob
            x = x * ops.cast(keep, "float32")
        if self.time_mask_prob:
            x = self._time_mask(x, batch)
        return x

    def _uniform(self, shape, low=0.0, high=1.0):
        return keras.random.uniform(shape, low, high, dtype="float32", seed=self.seed_generator)

    def _normal(self, shape):
        return keras.random.normal(shape, dtype="float32", seed=self.seed_generator)

    def _index(self, batch, n):
        """An integer uniform in ``0..n-1`` per input (``n`` a tensor or an int)."""
        n = ops.cast(n, "float32")
        return ops.cast(ops.minimum(ops.floor(self._uniform((batch,)) * n), n - 1), "int32")

    def _crop(self, x, batch, excess):
        start = self._index(batch, excess + 1)
        time = start[:, None] + ops.arange(self.input_length, dtype="int32")[None, :]
        time = ops.broadcast_to(time[:, :, None], (batch, self.input_length, x.shape[2]))
        return ops.take_along_axis(x, time, axis=1)

    def _time_mask(self, x, batch):
        length = self.input_length
        chosen = self._uniform((batch,)) < self.time_mask_prob
        span = 1 + self._index(batch, min(self.time_mask_samples, length))
        start = self._index(batch, length - span + 1)
        time = ops.arange(length, dtype="int32")[None, :]
        masked = (time >= start[:, None]) & (time < (start + span)[:, None]) & chosen[:, None]
        return ops.where(masked[:, :, None], 0.0, x)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "input_length": self.input_length,
                "noise_std": self.noise_std,
                "copy_noise_std": self.copy_noise_std,
                "lead_mask_prob": self.lead_mask_prob,
                "time_mask_prob": self.time_mask_prob,
                "time_mask_samples": self.time_mask_samples,
                "amplitude_scale": self.amplitude_scale,
                "seed": self.seed,
            }
        )
        return config


def training_model(
    model: keras.Model, augment: Augment, *, window: int, features: bool = False
) -> keras.Model:
    """``model`` behind ``augment``: what ``fit`` trains.

    Its inputs are ``{"ecg": (window, leads), "copy": ()}`` and, for a model with
    a tabular input, ``"features"``; ``model`` itself is a layer of it, sharing
    its weights, so saving ``model`` saves the trained fold model without the
    augmentation.
    """
    shapes = {t.name.split(":")[0]: t.shape for t in model.inputs}
    n_leads = shapes["ecg"][-1] if features else model.inputs[0].shape[-1]
    ecg = keras.Input((window, n_leads), name="ecg")
    copy = keras.Input((), name=COPY)
    inputs = {"ecg": ecg, COPY: copy}
    x = augment([ecg, copy])
    if features:
        inputs["features"] = keras.Input(shapes["features"][1:], name="features")
        x = {"ecg": x, "features": inputs["features"]}
    return keras.Model(inputs, model(x), name="augmented")


def fold_model_of(trainer: keras.Model) -> keras.Model:
    """The fold model inside a :func:`training_model`."""
    inner = [layer for layer in trainer.layers if isinstance(layer, keras.Model)]
    if len(inner) != 1:
        raise ValueError(f"{trainer.name} holds {len(inner)} models, expected one")
    return inner[0]


def has_augment(model: keras.Model) -> bool:
    """Whether ``model`` is a :func:`training_model` (an :class:`Augment` among its layers)."""
    return any(isinstance(layer, Augment) for layer in model.layers)
