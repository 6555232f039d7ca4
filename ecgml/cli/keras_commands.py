"""Commands that use Keras, and TensorFlow's start-up lines kept off their console."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Callable


def uses_keras(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Marks a command that imports Keras, so that :func:`run_command` quiets TensorFlow first."""
    run.uses_keras = True  # type: ignore[attr-defined]
    return run


def quiet_tensorflow() -> None:
    """Import TensorFlow without its start-up log lines (absl, oneDNN, cpu_feature_guard).

    TensorFlow's C++ logging writes to standard error until absl's logging is
    initialised, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, so the import runs with
    file descriptor 2 sent to ``/dev/null``. Python's own errors are raised after
    it is restored. ``ECGML_TF_LOGS=1`` shows the lines; another Keras backend, or
    TensorFlow already imported, leaves everything as it is.
    """
    if os.environ.get("ECGML_TF_LOGS", "").lower() in ("1", "true", "yes"):
        return
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow" or "tensorflow" in sys.modules:
        return
    if importlib.util.find_spec("tensorflow") is None:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
