"""Checkpoints that a killed job can trust, and resuming from them."""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from ecgml.files import atomic_write, write_json
from ecgml.training.layout import BEST, LAST, STATE


def atomic_save(model: keras.Model, path: Path) -> None:
    """Save a ``.keras`` file so that a reader sees the old or the new file, never half of one."""
    atomic_write(path, model.save)


class FoldCheckpoint(keras.callbacks.Callback):
    """Saves the best and the last model every epoch, with what a resumed run needs.

    ``state.json`` is written last, so it only ever describes files already in
    place. On resume, :meth:`restore` gives back the epoch to continue from,
    and the waiting counters and best values of early stopping and the
    plateau schedule, which Keras would otherwise reset.

    Args:
        folder: where ``best.keras``, ``last.keras`` and ``state.json`` go.
        monitor: the logged value that decides "best".
        mode: ``"min"`` or ``"max"``.
        stateful: callbacks whose ``wait``/``best`` counters are saved and restored.
        keep_last: every epoch counts as the best: ``best.keras`` is the latest model.
        fold_model: gives the model ``best.keras`` keeps, from the trained one
            (the fold model inside :func:`ecgml.training.augment.training_model`);
            ``None``: the trained model itself. ``last.keras`` keeps the trained
            model, compiled, for resuming.
        writes: save the files in ``folder``. ``False`` in every process of a run
            trained over processes but the first: those save into a scratch folder
            of their own, deleted at the end (saving a model spread over processes
            takes every process's part).
    """

    def __init__(
        self,
        folder: Path,
        monitor: str,
        mode: str,
        stateful: dict[str, Any],
        *,
        keep_last: bool = False,
        fold_model: Callable[[keras.Model], keras.Model] | None = None,
        writes: bool = True,
    ) -> None:
        super().__init__()
        self.writes = writes
        self._scratch_dir: tempfile.TemporaryDirectory | None = None
        self.fold_model = fold_model
        self.keep_last = keep_last
        self.folder = folder
        self.monitor = monitor
        self.mode = mode
        self.stateful = stateful
        self.best = -math.inf if mode == "max" else math.inf
        self.best_epoch = -1
        self._restored: dict[str, Any] | None = None

    def _improved(self, value: float) -> bool:
        if self.keep_last:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def restore(self) -> int:
        """Read ``state.json``; returns the epoch to start from (0 for a fresh fold)."""
        path = self.folder / STATE
        if not path.is_file() or not (self.folder / LAST).is_file():
            return 0
        state = json.loads(path.read_text())
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        self._restored = state["callbacks"]
        return state["epoch"] + 1

    def on_train_begin(self, logs=None) -> None:
        # Keras reset these in their own on_train_begin, which ran before this one.
        for name, callback in self.stateful.items():
            for key, value in (self._restored or {}).get(name, {}).items():
                setattr(callback, key, value)

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise KeyError(f"monitor {self.monitor!r} is not logged; logged: {sorted(logs or {})}")
        folder = self.folder if self.writes else self._scratch()
        if self._improved(float(value)):
            self.best, self.best_epoch = float(value), epoch
            best = self.model if self.fold_model is None else self.fold_model(self.model)
            atomic_save(best, folder / BEST)
        atomic_save(self.model, folder / LAST)
        state = {
            "epoch": epoch,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "monitor": self.monitor,
            "callbacks": {
                name: {
                    k: _plain(getattr(cb, k))
                    for k in ("wait", "best", "cooldown_counter")
                    if hasattr(cb, k)
                }
                for name, cb in self.stateful.items()
            },
        }
        write_json(folder / STATE, state)

    def _scratch(self) -> Path:
        if self._scratch_dir is None:
            self._scratch_dir = tempfile.TemporaryDirectory(prefix="ecgml-checkpoint-")
        return Path(self._scratch_dir.name)

    def on_train_end(self, logs=None) -> None:
        if self._scratch_dir is not None:
            self._scratch_dir.cleanup()
            self._scratch_dir = None


def _plain(value: Any) -> Any:
    try:
        return float(value) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        return value


class TensorBoardLog(keras.callbacks.TensorBoard):
    """Keras's TensorBoard callback, per epoch or every ``every_steps`` steps, that does
    not hold the step back.

    Keras's own has a per-step hook, which turns off asynchronous dispatch even when
    it logs per epoch: host and device then take turns at every step. This one
    says it is safe to run in Keras's callback thread, and per epoch its step
    hook does nothing.
    """

    async_safe = True

    def __init__(self, folder: Path, every_steps: int = 0) -> None:
        super().__init__(str(folder), write_graph=False, update_freq=every_steps or "epoch")

    def on_train_batch_end(self, batch, logs=None) -> None:
        if self.update_freq != "epoch":
            super().on_train_batch_end(batch, logs)
