"""The input pipeline: batches from the memory-mapped cache as a Keras ``PyDataset``.

Backend-neutral, so that it feeds TensorFlow, JAX and PyTorch alike. Two kinds
of batch:

- ``inputs="step"`` (training): whole cached windows and a copy flag, for
  :func:`ecgml.training.augment.training_model`, which crops and augments them
  inside the compiled step. The host only gathers rows, from the memory-mapped
  cache or, with :class:`DeviceRows`, from rows already on the device.
- ``inputs="model"``: what a fold model takes, cropped and (``training``) augmented
  in numpy on the host. Evaluation uses it, and ``training.augment_in: "host"``
  trains with it: the pipeline as it was before augmentation moved into the
  step, kept for comparison (``bench/gpu.py``) and for the statistics tests.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from ecgml.data.cache import Cache
from ecgml.training.augment import COPY

INPUTS = ("model", "step")


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


class DeviceRows:
    """The cached windows of some records, held on the device as one tensor.

    Args:
        cache: the opened cache.
        records: the records (rows of ``cache.index``) whose windows are held:
            every window of a multi-window record.
        dtype: storage dtype (``"bfloat16"`` halves the bytes for a mixed policy).
        chunk_rows: windows converted at a time (bounds the host memory used).
    """

    def __init__(
        self, cache: Cache, records: np.ndarray, *, dtype: str = "float32", chunk_rows: int = 2048
    ) -> None:
        first = cache.index["row"].to_numpy(np.int64)[records]
        count = cache.index["n_windows"].to_numpy(np.int64)[records]
        rows = np.unique(np.repeat(first, count) + _ranks_within(count))
        self.local = np.full(len(cache.signals), -1, dtype=np.int32)
        self.local[rows] = np.arange(len(rows), dtype=np.int32)
        parts = [
            keras.ops.convert_to_tensor(
                np.asarray(cache.signals[rows[i : i + chunk_rows]]), dtype=dtype
            )
            for i in range(0, len(rows), chunk_rows)
        ]
        self.data = parts[0] if len(parts) == 1 else keras.ops.concatenate(parts, axis=0)
        self.dtype = dtype
        self.n_rows = len(rows)
        self.nbytes = int(np.prod(cache.signals.shape[1:])) * len(rows) * _itemsize(dtype)

    def take(self, rows: np.ndarray) -> Any:
        """The windows at these cache rows, gathered on the device."""
        local = self.local[rows]
        if (local < 0).any():
            raise KeyError(f"cache rows {rows[local < 0][:5].tolist()} are not on the device")
        return keras.ops.take(self.data, keras.ops.convert_to_tensor(local), axis=0)


def rows_bytes(cache: Cache, records: np.ndarray, dtype: str) -> int:
    """Bytes that :class:`DeviceRows` of these records would take."""
    n_rows = int(cache.index["n_windows"].to_numpy(np.int64)[records].sum())
    return int(np.prod(cache.signals.shape[1:])) * n_rows * _itemsize(dtype)


def _itemsize(dtype: str) -> int:
    return 2 if dtype in ("bfloat16", "float16") else 4


def _ranks_within(count: np.ndarray) -> np.ndarray:
    """0..count-1 for each entry, concatenated."""
    total = np.repeat(np.cumsum(count) - count, count)
    return np.arange(int(count.sum())) - total


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
        inputs: ``"model"`` (cropped, and augmented on the host when ``training``)
            or ``"step"`` (whole windows with the copy flag,
            ``({"ecg": x, "copy": c[, "features": f]}, y)``; no host augmentation).
        device_rows: gather the windows from these rows on the device
            (``inputs="step"`` only); ``None`` reads the memory-mapped cache.
        full_batches: every batch has ``batch_size`` records (a fixed batch
            shape: one compiled step): the last batch of an epoch is filled up
            with records from the start of that epoch's order, so an epoch has
            as many steps as before and serves every record. Ignored with fewer
            records than a batch.
        process: ``(rank, n)``: serve process ``rank``'s share of every batch of
            ``batch_size`` records, the ``rank``-th of ``n`` equal slices
            (:mod:`ecgml.runs.processes`). With ``n > 1`` every batch is full:
            training batches as ``full_batches``; the last evaluation batch is filled
            up with repeats that weigh 0, and evaluation batches are
            ``(x, y, sample_weight)``. Step inputs only.
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
        inputs: str = "model",
        device_rows: DeviceRows | None = None,
        full_batches: bool = False,
        process: tuple[int, int] = (0, 1),
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")
        rank, n = process
        if n > 1 and (inputs != "step" or batch_size % n):
            raise ValueError(
                f"over {n} processes, batches are step inputs (training.augment_in 'step') "
                f"of a size divisible by {n}; got {inputs!r} inputs, batch_size {batch_size}"
            )
        self.process = (rank, n)
        augmented = noise_std or lead_mask_prob or time_mask_prob or copy_noise_std
        if inputs == "step" and augmented:
            raise ValueError(
                "step inputs are augmented in the step (training_model), not by the pipeline"
            )
        if device_rows is not None and inputs != "step":
            raise ValueError("device_rows serve step inputs only")
        self.inputs = inputs
        self.device_rows = device_rows
        self.features = features
        window = cache.signals.shape[1]
        self.window = window
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
        self.full_batches = (full_batches and len(self.indices) >= batch_size) or n > 1
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
        if self.full_batches:  # the last batch wraps round to the epoch's first records
            span = np.arange(batch * self.batch_size, (batch + 1) * self.batch_size)
            positions = self._order[span % len(self._order)]
        else:
            positions = self._order[batch * self.batch_size : (batch + 1) * self.batch_size]
        records = self.indices[positions]
        rng = np.random.default_rng((self._seed, self._epoch, batch))
        rows = self.rows[records]
        if self.training:
            rows = rows + (rng.random(len(rows)) * self.n_windows[records]).astype(np.int64)
        y = self.labels[records].astype(np.float32)
        if self.inputs == "step":
            return self._step_batch(batch, positions, records, rows, y)
        order = np.argsort(rows)  # memmap reads in file order
        x = np.empty((len(rows), self.input_length, self.cache.signals.shape[2]), np.float32)
        excess = self.cache.signals.shape[1] - self.input_length
        starts = (
            rng.integers(0, excess + 1, size=len(rows))
            if self.training
            else np.full(len(rows), excess // 2)
        )
        for i in order:
            x[i] = self.cache.signals[rows[i], starts[i] : starts[i] + self.input_length]
        if self.training:
            x = self._augment(x, self.is_copy[positions], rng)
        if self.features is not None:
            return {"ecg": x, "features": self.features[records]}, y
        return x, y

    def _step_batch(
        self,
        batch: int,
        positions: np.ndarray,
        records: np.ndarray,
        rows: np.ndarray,
        y: np.ndarray,
    ) -> tuple:
        """Whole windows, copy flags (and features) of a batch: this process's share of it,
        with weights that leave an evaluation batch's fill-up out."""
        rank, n = self.process
        if n > 1:
            per = self.batch_size // n
            share = slice(rank * per, (rank + 1) * per)
            real = batch * self.batch_size + np.arange(self.batch_size) < len(self._order)
            weight = real[share].astype(np.float32)
            positions, records, rows, y = positions[share], records[share], rows[share], y[share]
        inputs = {"ecg": self._windows(rows), COPY: self.is_copy[positions].astype(np.float32)}
        if self.features is not None:
            inputs["features"] = self.features[records]
        if n > 1 and not self.training:
            return inputs, y, weight
        return inputs, y

    def _windows(self, rows: np.ndarray) -> Any:
        """Whole windows at these cache rows: on the device, or read in file order."""
        if self.device_rows is not None:
            return self.device_rows.take(rows)
        x = np.empty((len(rows), *self.cache.signals.shape[1:]), np.float32)
        for i in np.argsort(rows):
            x[i] = self.cache.signals[rows[i]]
        return x

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
