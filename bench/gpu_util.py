"""Helpers of ``bench/gpu_rows.py``: the device's name and peak memory, timing,
and a Keras callback that times epochs."""

from __future__ import annotations

import platform
import statistics
import time


def peak_memory_bytes() -> int | None:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats()
        return None if not stats else int(stats.get("peak_bytes_in_use", 0))
    if backend == "torch":
        import torch

        return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"]) if gpus else None


def _device() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return str(jax.devices()[0].device_kind)
    return platform.processor() or platform.machine()


def timed(fn, repeats: int) -> tuple[float, float]:
    """``(first call's seconds, median of the next repeats')``; the first warms up."""
    times = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:])


class EpochTimer:
    """Seconds per epoch of a ``fit``, and of its training steps before validation
    (a Keras callback, made lazily)."""

    def __new__(cls):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

                self.training_seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_test_begin(self, logs=None):  # the epoch's training steps are done
                self.training_seconds.append(time.perf_counter() - self._start)

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._start)

        return Timer()
