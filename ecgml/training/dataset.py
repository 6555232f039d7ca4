"""The input pipeline: batches from the memory-mapped cache as a Keras ``PyDataset``.

Backend-neutral (numpy in, numpy out), so that it feeds TensorFlow, JAX and
PyTorch alike.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from ecgml.data.cache import Cache


def oversample(
    indices: np.ndarray, y_true: np.ndarray, min_count: int, *, max_repeat: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """Repeat records of rare classes so that each class has about ``min_count`` positives.

    Args:
        indices: record indices of the training fold.
        y_true: their labels, shape ``(len(indices), n_classes)``.
        min_count: target positives per class; classes without positives are left alone.
        max_repeat: most copies of one record.

    Returns:
        ``(indices, is_copy)``: the training indices with repeats appended, and
        a flag that marks the repeats (they get extra noise).
    """
    counts = y_true.sum(axis=0)
    repeat = np.ones(len(indices), dtype=np.int64)
    for c in np.nonzero((counts > 0) & (counts < min_count))[0]:
        factor = min(int(np.ceil(min_count / counts[c])), max_repeat)
        rows = y_true[:, c] > 0
        repeat[rows] = np.maximum(repeat[rows], factor)
    extra = np.repeat(indices, repeat - 1)
    return (
        np.concatenate([indices, extra]),
        np.concatenate([np.zeros(len(indices), bool), np.ones(len(extra), bool)]),
    )


def time_mask(x: np.ndarray, prob: float, max_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Zero one random span of time, in every lead, of some inputs, in place.

    Args:
        x: inputs ``(batch, time, leads)``.
        prob: chance that an input is masked.
        max_samples: longest span; each span's length is uniform in ``1..max_samples``
            (at most the input's length) and its start uniform over the input.

    Returns:
        ``x``.
    """
    length = x.shape[1]
    for i in np.nonzero(rng.random(x.shape[0]) < prob)[0]:
        span = int(rng.integers(1, min(max_samples, length) + 1))
        start = int(rng.integers(0, length - span + 1))
        x[i, start : start + span] = 0.0
    return x


class CacheDataset(keras.utils.PyDataset):
    """Batches ``(x, y)`` of one window per record.

    Args:
        cache: the opened cache.
        indices: records (rows of ``cache.index``) to serve.
        labels: targets, one row per cached record; ``None`` for ``cache.labels``
            (a run may encode labels with another label config than the cache).
        batch_size: records per batch.
        training: shuffle each epoch, pick a random window of multi-window
            records, crop at random and augment; otherwise serve the first
            window, centre-cropped, in order.
        input_length: samples per input; ``None`` for the cache's window length.
        noise_std: Gaussian noise on training inputs.
        lead_mask_prob: chance that each lead of a training input is zeroed.
        time_mask_prob: chance that a training input gets one span of time zeroed
            in every lead (:func:`time_mask`).
        time_mask_seconds: longest span, seconds.
        fs: the cache's rate in Hz (turns seconds into samples).
        is_copy: per index, whether it is an oversampled repeat.
        copy_noise_std: extra noise on repeats.
        seed: seeds shuffling and augmentation.
        features: a tabular input per cached record, ``(n_records, n_features)``;
            with it, batches are ``({"ecg": x, "features": f}, y)``.
        **kwargs: ``PyDataset``'s ``workers``, ``use_multiprocessing``, ``max_queue_size``.
    """

    def __init__(
        self,
        cache: Cache,
        indices: np.ndarray,
        *,
        labels: np.ndarray | None = None,
        batch_size: int,
        training: bool = False,
        input_length: int | None = None,
        noise_std: float = 0.0,
        lead_mask_prob: float = 0.0,
        time_mask_prob: float = 0.0,
        time_mask_seconds: float = 1.0,
        fs: float = 500.0,
        is_copy: np.ndarray | None = None,
        copy_noise_std: float = 0.0,
        seed: int = 0,
        features: np.ndarray | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.features = features
        window = cache.signals.shape[1]
        self.input_length = input_length or window
        if self.input_length > window:
            raise ValueError(
                f"input_length {self.input_length} is longer than the cache's windows ({window})"
            )
        self.cache = cache
        self.labels = cache.labels if labels is None else labels
        self.indices = np.asarray(indices, dtype=np.int64)
        self.batch_size = batch_size
        self.training = training
        self.noise_std = noise_std
        self.lead_mask_prob = lead_mask_prob
        self.time_mask_prob = time_mask_prob
        self.time_mask_samples = max(1, round(time_mask_seconds * fs))
        self.is_copy = np.zeros(len(self.indices), bool) if is_copy is None else is_copy
        self.copy_noise_std = copy_noise_std
        self.rows = cache.index["row"].to_numpy(np.int64)
        self.n_windows = cache.index["n_windows"].to_numpy(np.int64)
        self._seed = seed
        self._epoch = 0
        self._order = np.arange(len(self.indices))
        if training:
            self.on_epoch_end()

    def __len__(self) -> int:
        return -(-len(self.indices) // self.batch_size)

    def on_epoch_end(self) -> None:
        if self.training:
            rng = np.random.default_rng((self._seed, self._epoch))
            self._order = rng.permutation(len(self.indices))
            self._epoch += 1

    def __getitem__(self, batch: int) -> tuple[Any, np.ndarray]:
        positions = self._order[batch * self.batch_size : (batch + 1) * self.batch_size]
        records = self.indices[positions]
        rng = np.random.default_rng((self._seed, self._epoch, batch))
        rows = self.rows[records]
        if self.training:
            rows = rows + (rng.random(len(rows)) * self.n_windows[records]).astype(np.int64)
        order = np.argsort(rows)  # memmap reads in file order
        x = np.empty((len(rows), self.input_length, self.cache.signals.shape[2]), np.float32)
        excess = self.cache.signals.shape[1] - self.input_length
        starts = (
            rng.integers(0, excess + 1, size=len(rows)) if self.training
            else np.full(len(rows), excess // 2)
        )  # fmt: skip
        for i in order:
            x[i] = self.cache.signals[rows[i], starts[i] : starts[i] + self.input_length]
        if self.training:
            x = self._augment(x, self.is_copy[positions], rng)
        y = self.labels[records].astype(np.float32)
        if self.features is not None:
            return {"ecg": x, "features": self.features[records]}, y
        return x, y

    def _augment(self, x: np.ndarray, is_copy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if self.noise_std:
            x += rng.normal(0.0, self.noise_std, size=x.shape).astype(np.float32)
        if is_copy.any() and self.copy_noise_std:
            x[is_copy] += rng.normal(0.0, self.copy_noise_std, size=x[is_copy].shape).astype(
                np.float32
            )
        if self.lead_mask_prob:
            keep = rng.random((x.shape[0], 1, x.shape[2])) >= self.lead_mask_prob
            x *= keep
        if self.time_mask_prob:
            time_mask(x, self.time_mask_prob, self.time_mask_samples, rng)
        return x
