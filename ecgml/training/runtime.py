"""Precision, compilation, distribution and determinism: the GPU options of a config."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import keras

from ecgml.training.config import TrainingConfig


def set_up(config: TrainingConfig) -> None:
    """Apply the seed, the mixed-precision policy and deterministic mode, before building."""
    keras.utils.set_random_seed(config.seed)
    keras.mixed_precision.set_global_policy(config.precision)
    if config.compilation_cache and keras.backend.backend() == "jax":
        import jax

        folder = Path(config.compilation_cache).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", str(folder))
        # every step worth keeping: a fold's compiles take seconds, not the default's 1 s
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    if config.deterministic:
        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        elif backend == "torch":
            import torch

            torch.use_deterministic_algorithms(True)
        # JAX on CPU is deterministic; on GPU set XLA_FLAGS=--xla_gpu_deterministic_ops=true


@contextlib.contextmanager
def over_processes(n: int) -> Iterator[None]:
    """With ``n > 1`` processes (:mod:`ecgml.runs.processes`), data parallelism over every
    device of every process while inside: the fold model is loaded or built, and
    trained, here."""
    if n == 1:
        yield
        return
    # each process's dataset already serves its own share of every batch
    keras.distribution.set_distribution(keras.distribution.DataParallel(auto_shard_dataset=False))
    try:
        yield
    finally:
        keras.distribution.set_distribution(None)


@contextlib.contextmanager
def distribution_scope(config: TrainingConfig, processes: int = 1) -> Iterator[None]:
    """Build and compile the model inside this, for data parallelism over local GPUs
    (with ``processes > 1``, :func:`over_processes` has set it up already)."""
    if not config.data_parallel or processes > 1:
        yield
        return
    backend = keras.backend.backend()
    if backend == "jax":
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        try:
            yield
        finally:
            keras.distribution.set_distribution(None)
    elif backend == "tensorflow":
        import tensorflow as tf

        with tf.distribute.MirroredStrategy().scope():
            yield
    else:
        raise ValueError(
            f"data_parallel is supported on the jax and tensorflow backends, not {backend}"
        )
