"""One fold job: fit (or resume) one fold model of a run and write its folder.

A fold folder ``fold_K/`` holds ``model.keras`` (the best epoch),
``history.csv``, ``tensorboard/`` (the same curves for TensorBoard),
``val_predictions.npz`` and ``done.json``, written last: a fold without it is
unfinished, and a rerun resumes it from ``fold_K/last.keras``. Starting the run
folder, its folds and manifest, and the loop over folds are
:mod:`ecgml.runs`'s.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np

from ecgml.data.cache import Cache
from ecgml.files import atomic_write, write_json
from ecgml.models.fusion import training_statistics, with_tabular
from ecgml.models.registry import build_model
from ecgml.targets import Target
from ecgml.training.augment import fold_model_of, has_augment
from ecgml.training.callbacks import FoldCheckpoint, TensorBoardLog
from ecgml.training.compiling import compile_model, validation_scores
from ecgml.training.config import TrainingConfig
from ecgml.training.dataset import oversample
from ecgml.training.folds import in_training
from ecgml.training.layout import (
    BEST,
    DONE,
    HISTORY,
    INIT,
    LAST,
    MODEL,
    PREDICTIONS,
    STACK,
    STATE,
    TENSORBOARD,
    fold_dir,
)
from ecgml.training.pipeline import FoldData, fold_data, trainer
from ecgml.training.runtime import distribution_scope, over_processes, set_up
from ecgml.training.stack import FOREST_INPUT, Stack
from ecgml.training.transfer import initialise_from

if TYPE_CHECKING:
    from ecgml.config import Config


def _trim_history(path: Path, last_epoch: int) -> None:
    """Drop history rows past the last checkpointed epoch (a killed epoch may have logged)."""
    if not path.is_file():
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    kept = rows[:1] + [r for r in rows[1:] if r and int(r[0]) <= last_epoch]
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(kept)


def _tensorboard(folder: Path, fold: int, every_steps: int) -> list[keras.callbacks.Callback]:
    """TensorBoard logs of the fold's curves, where TensorFlow and TensorBoard (which
    write them) are installed."""
    if any(importlib.util.find_spec(m) is None for m in ("tensorflow", "tensorboard")):
        if fold == 0:
            print("TensorBoard logs need tensorflow and tensorboard installed: history.csv only")
        return []
    return [TensorBoardLog(folder, every_steps)]


def _callbacks(
    out: Path, fold: int, t: TrainingConfig, data: FoldData, *, writes: bool = True
) -> tuple[list[keras.callbacks.Callback], FoldCheckpoint, int]:
    """The fold's callbacks before any of the caller's, its checkpoint, and the epoch
    it resumes after (0 for a new fold); without ``writes`` (a process of a run over
    processes other than the first), the ones that write files are left out and the
    checkpoint only counts."""
    mode = t.monitor_mode
    callbacks: list[keras.callbacks.Callback] = []
    stateful: dict[str, Any] = {}
    if t.early_stopping_patience:
        early = keras.callbacks.EarlyStopping(
            t.monitor, patience=t.early_stopping_patience, mode=mode
        )
        callbacks.append(early)
        stateful["early_stopping"] = early
    if t.reduce_lr_patience:
        plateau = keras.callbacks.ReduceLROnPlateau(
            t.monitor, factor=t.reduce_lr_factor, patience=t.reduce_lr_patience, mode=mode
        )
        callbacks.append(plateau)
        stateful["reduce_lr"] = plateau
    keep_last, fold_model = t.keep_epoch == "last", fold_model_of if data.in_step else None
    checkpoint = FoldCheckpoint(
        out, t.monitor, mode, stateful, keep_last=keep_last, fold_model=fold_model, writes=writes
    )
    initial_epoch = checkpoint.restore()
    if initial_epoch:
        print(f"fold {fold}: resuming after epoch {initial_epoch} of {t.epochs}")
    if writes:
        _trim_history(out / HISTORY, initial_epoch - 1)
        callbacks += [
            keras.callbacks.CSVLogger(str(out / HISTORY), append=initial_epoch > 0),
            *_tensorboard(out / TENSORBOARD, fold, t.log_every_steps),
        ]
    return [*callbacks, checkpoint], checkpoint, initial_epoch


def _new_trainer(
    out: Path,
    fold: int,
    config: Config,
    target: Target,
    t: TrainingConfig,
    data: FoldData,
    cache: Cache,
    y: tuple[np.ndarray, np.ndarray],
    features: np.ndarray | None,
) -> keras.Model:
    """A new fold model, initialised where ``training.init_from`` says, inside its
    trainer and compiled; ``y`` holds the training and validation labels,
    ``features`` the training rows' tabular input."""
    model = build_model(
        config.model,
        n_classes=y[0].shape[1],
        input_length=data.train.input_length,
        n_leads=cache.signals.shape[2],
        activation=target.activation,
    )
    if features is not None:  # filled and standardised with the training rows only
        mean, variance = training_statistics(features)
        tab = config.tabular
        model = with_tabular(
            model, mean=mean, variance=variance, units=tab.units, dropout=tab.dropout
        )
    scale = None
    if t.init_from is not None:
        init = initialise_from(model, t.init_from, freeze=t.init_freeze)
        write_json(out / INIT, init)
        missed = ", ".join(f"{k} ({v})" for k, v in init["not_copied"].items())
        frozen = " (frozen)" if t.init_freeze else ""
        print(
            f"fold {fold}: {len(init['copied'])} layers copied from {init['source']}"
            f"{frozen}; not copied: {missed or 'none'}"
        )
        if t.init_lr_scale != 1.0:
            scale = dict.fromkeys(init["copied"], t.init_lr_scale)
    fitted = trainer(model, data, t, fs=cache.preprocess.fs, seed=t.seed + fold)
    compile_model(fitted, t, target, y[0], y[1], len(data.train) * t.epochs, layer_lr_scale=scale)
    return fitted


def _resumed_trainer(out: Path, fold: int, t: TrainingConfig) -> tuple[Any, TrainingConfig]:
    """The trainer of an interrupted fold with its optimizer (``None`` for a new fold),
    and the training settings it resumes with."""
    if not ((out / STATE).is_file() and (out / LAST).is_file()):
        return None, t
    resumed = keras.saving.load_model(out / LAST, safe_mode=True)
    if t.augment_in == "step" and not has_augment(resumed):
        # started before augmentation moved into the step: finish it the way it began
        print(f"fold {fold}: resumed on the numpy pipeline it was started with")
        t = dataclasses.replace(t, augment_in="host", device_data="off", amplitude_scale=0.0)
    return resumed, t


def _finish(
    out: Path,
    fold: int,
    cache: Cache,
    config: Config,
    y: np.ndarray,
    parts: tuple[np.ndarray, np.ndarray],
    length: int,
    features: np.ndarray | None,
) -> None:
    """Score the validation part with the best epoch (stacked with the fold's forest
    where the config asks), and write the predictions and the fold's model."""
    train_idx, val_idx = parts
    t = config.training
    best = keras.saving.load_model(out / BEST, safe_mode=True)
    y_score = validation_scores(best, cache, val_idx, length, config.task, t.batch_size, features)
    stacked = {}
    if config.stack.forest:  # the forest and the weights, and the stacked scores
        x = cache.tabular(FOREST_INPUT)
        stack = Stack.fit(
            x[train_idx],
            y[train_idx],
            x[val_idx],
            y[val_idx],
            y_score,
            config.stack,
            seed=t.seed + fold,
        )
        stack.save(out / STACK)
        stacked = {"deep_score": y_score, "stack_weights": stack.weights_}
        y_score = stack.combine(y_score, x[val_idx])
    record_ids = cache.index["record_id"].to_numpy()[val_idx]
    arrays = {"record_ids": record_ids.astype(str), "y_true": y[val_idx], "y_score": y_score}
    atomic_write(out / PREDICTIONS, lambda tmp: np.savez(tmp, **arrays, **stacked))
    # A copy, not a rename: until done.json exists, a rerun needs best.keras.
    atomic_write(out / MODEL, lambda tmp: shutil.copyfile(out / BEST, tmp))


def _parts(folds: np.ndarray, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """The training and validation records of ``fold``."""
    return np.nonzero(in_training(folds, fold))[0], np.nonzero(folds == fold)[0]


def _fit(
    out: Path,
    fold: int,
    cache: Cache,
    y: np.ndarray,
    folds: np.ndarray,
    config: Config,
    target: Target,
    features: np.ndarray | None,
    *,
    verbose: int,
    extra_callbacks: Sequence[keras.callbacks.Callback],
    processes: tuple[int, int],
) -> tuple[FoldData, FoldCheckpoint, int]:
    """Build or resume the fold's trainer and fit it; returns the fold's data, its
    checkpoint and its number of training rows with repeats."""
    rank, n = processes
    train_idx, val_idx = _parts(folds, fold)
    idx, is_copy = train_idx, None
    if config.training.oversample_min_count:
        idx, is_copy = oversample(train_idx, y[train_idx], config.training.oversample_min_count)
    resumed, t = _resumed_trainer(out, fold, config.training)
    data = fold_data(
        cache,
        t,
        idx,
        val_idx,
        labels=y,
        is_copy=is_copy,
        features=features,
        seed=t.seed + fold,
        process=processes,
    )
    if fold == 0 or verbose:
        print(f"fold {fold}: {data.description}")
    callbacks, checkpoint, initial_epoch = _callbacks(out, fold, t, data, writes=rank == 0)
    with distribution_scope(t, n):
        if initial_epoch:  # the trainer, compiled, with its optimizer's state
            fitted = resumed
        else:
            train_features = None if features is None else features[train_idx]
            fitted = _new_trainer(
                out,
                fold,
                config,
                target,
                t,
                data,
                cache,
                (y[train_idx], y[val_idx]),
                train_features,
            )
    if initial_epoch < t.epochs:
        fitted.fit(
            data.train,
            validation_data=data.val,
            epochs=t.epochs,
            initial_epoch=initial_epoch,
            callbacks=[*callbacks, *extra_callbacks],
            verbose=verbose,
        )
    return data, checkpoint, len(idx)


def train_fold(
    run: Path,
    fold: int,
    cache: Cache,
    y: np.ndarray,
    folds: np.ndarray,
    config: Config,
    target: Target,
    *,
    verbose: int = 1,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    processes: tuple[int, int] = (0, 1),
) -> dict[str, Any] | None:
    """Train (or resume) one fold; returns what ``done.json`` records.

    ``target`` is the task's target kind (:attr:`ecgml.task.Task.target`);
    ``extra_callbacks`` run after ecgml's own (a benchmark's timers, say).
    ``processes``: ``(rank, n)`` of a run trained over ``n`` processes
    (:mod:`ecgml.runs.processes`): each trains on its share of every batch; only
    process 0 scores the validation part and writes; the others return ``None``."""
    out = fold_dir(run, fold)
    rank, n = processes
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    set_up(config.training)
    features = cache.tabular(config.tabular) if config.tabular.enabled else None
    with over_processes(n):
        data, checkpoint, n_rows = _fit(
            out,
            fold,
            cache,
            y,
            folds,
            config,
            target,
            features,
            verbose=verbose,
            extra_callbacks=extra_callbacks,
            processes=processes,
        )
    if rank:
        return None
    train_idx, val_idx = _parts(folds, fold)
    _finish(out, fold, cache, config, y, (train_idx, val_idx), data.train.input_length, features)
    done = {
        "fold": fold,
        "best_epoch": checkpoint.best_epoch,
        "monitor": config.training.monitor,
        "best": checkpoint.best,
        "n_train": len(train_idx),
        "n_train_with_repeats": n_rows,
        "n_val": len(val_idx),
        "seconds_this_job": round(time.time() - started, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if n > 1:
        done["processes"] = n
    write_json(out / DONE, done)
    for name in (BEST, LAST, STATE):
        (out / name).unlink(missing_ok=True)
    return done
