"""A fold's input pipelines and the model ``fit`` trains, chosen once per fold.

With ``training.augment_in: "step"`` (the default) ``fit`` trains
:func:`ecgml.training.augment.training_model`: the host serves whole cached
windows, from rows held on the device (``training.device_data``) or read by
prefetching threads, and the step crops and augments them. Training batches
have one shape (an epoch's last batch is filled up with records from the
start of its order), so the step compiles once; validation serves every record, so
its last batch compiles once more per process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import keras
import numpy as np

from ecgml.data.cache import Cache
from ecgml.training.augment import Augment, training_model
from ecgml.training.config import TrainingConfig
from ecgml.training.dataset import CacheDataset, DeviceRows, rows_bytes


@dataclass
class FoldData:
    """A fold's training and validation datasets, and how they are fed."""

    train: CacheDataset
    val: CacheDataset
    description: str

    @property
    def in_step(self) -> bool:
        return self.train.inputs == "step"


def has_accelerator() -> bool:
    """Whether the Keras backend computes on a GPU (or another accelerator)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()
    return False  # TensorFlow's PyDataset path hands batches back through the host


def storage_dtype(t: TrainingConfig) -> str:
    return {"mixed_bfloat16": "bfloat16", "mixed_float16": "float16"}.get(t.precision, "float32")


def use_device_data(t: TrainingConfig, nbytes: int) -> bool:
    if t.augment_in == "host" or t.device_data == "off":
        return False
    if t.device_data == "on":
        return True
    return has_accelerator() and nbytes <= t.device_data_gib * 2**30


def fold_data(
    cache: Cache,
    t: TrainingConfig,
    train: np.ndarray,
    val: np.ndarray,
    *,
    labels: np.ndarray,
    is_copy: np.ndarray | None,
    features: np.ndarray | None,
    seed: int,
    process: tuple[int, int] = (0, 1),
) -> FoldData:
    """The datasets of one fold: ``train`` (with its oversampled repeats) and ``val``;
    ``process``: this process's ``(rank, n)`` (:class:`CacheDataset`)."""
    common = {
        "labels": labels,
        "batch_size": t.batch_size,
        "input_length": t.input_length,
        "features": features,
        "process": process,
    }
    if t.augment_in == "host":
        train_ds = CacheDataset(
            cache,
            train,
            training=True,
            noise_std=t.noise_std,
            lead_mask_prob=t.lead_mask_prob,
            time_mask_prob=t.time_mask_prob,
            time_mask_seconds=t.time_mask_seconds,
            fs=cache.preprocess.fs,
            is_copy=is_copy,
            copy_noise_std=t.oversample_noise_std,
            seed=seed,
            **common,
        )
        return FoldData(
            train_ds,
            CacheDataset(cache, val, **common),
            "input pipeline: host, augmented in numpy (augment_in 'host')",
        )
    dtype = storage_dtype(t)
    records = np.union1d(train, val)
    nbytes = rows_bytes(cache, records, dtype)
    if use_device_data(t, nbytes):
        rows = DeviceRows(cache, records, dtype=dtype)
        workers = {"device_rows": rows, "workers": 1}
        how = f"on the device, {rows.n_rows:,} windows in {rows.nbytes / 2**30:.2f} GiB ({dtype})"
    else:
        n = t.data_workers or min(4, os.cpu_count() or 1)
        workers = {"workers": n, "use_multiprocessing": False, "max_queue_size": 2 * n + 2}
        how = (
            f"from the memory-mapped cache by {n} thread(s) ({nbytes / 2**30:.2f} GiB of "
            f"windows; device_data {t.device_data!r})"
        )
    train_ds = CacheDataset(
        cache,
        train,
        training=True,
        is_copy=is_copy,
        seed=seed,
        inputs="step",
        full_batches=True,
        **common,
        **workers,
    )
    val_ds = CacheDataset(cache, val, inputs="step", **common, **workers)
    return FoldData(train_ds, val_ds, f"input pipeline: windows {how}; augmented in the step")


def trainer(
    model: keras.Model, data: FoldData, t: TrainingConfig, *, fs: float, seed: int
) -> keras.Model:
    """What ``fit`` trains: ``model`` behind :class:`Augment`, or ``model`` itself (host)."""
    if not data.in_step:
        return model
    augment = Augment(
        data.train.input_length,
        noise_std=t.noise_std,
        copy_noise_std=t.oversample_noise_std if t.oversample_min_count else 0.0,
        lead_mask_prob=t.lead_mask_prob,
        time_mask_prob=t.time_mask_prob,
        time_mask_samples=round(t.time_mask_seconds * fs),
        amplitude_scale=t.amplitude_scale,
        seed=seed,
        name="augment",
    )
    return training_model(
        model, augment, window=data.train.window, features=data.train.features is not None
    )
