"""Five-fold training of a run folder, one resumable fold job at a time.

A run folder holds ``config.json`` (resolved), ``folds.json`` (fixed at the
first call and reused after; one written there beforehand fixes the folds, and
its ``"test"`` records are never trained or validated on), ``manifest.json`` and
one ``fold_K/`` per fold with
``model.keras`` (the best epoch), ``history.csv``, ``tensorboard/`` (the same
curves for TensorBoard), ``val_predictions.npz`` and ``done.json``. ``done.json``
is written last: a fold without it is unfinished, and a rerun resumes it from
``fold_K/last.keras``.
"""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ecgml.config import Config, config_from_dict, save_config
from ecgml.data.cache import Cache
from ecgml.data.labels import LabelEncoder
from ecgml.data.tabular import warn_notes_leak
from ecgml.files import atomic_write, write_json
from ecgml.models.fusion import training_statistics, with_tabular
from ecgml.models.registry import build_model
from ecgml.training.augment import fold_model_of, has_augment
from ecgml.training.callbacks import FoldCheckpoint, TensorBoardLog
from ecgml.training.compiling import compile_model, validation_scores
from ecgml.training.dataset import oversample
from ecgml.training.folds import (
    in_training,
    load_folds,
    save_folds,
)
from ecgml.training.layout import (
    BEST,
    CONFIG,
    DONE,
    FOLDS,
    HISTORY,
    INIT,
    LAST,
    MODEL,
    PREDICTIONS,
    STACK,
    STATE,
    TENSORBOARD,
    fold_dir,
    is_done,
)
from ecgml.training.manifest import update_manifest
from ecgml.training.pipeline import fold_data, trainer
from ecgml.training.runtime import distribution_scope, set_up
from ecgml.training.stack import FOREST_INPUT, Stack
from ecgml.training.transfer import init_source, initialise_from


def _check_config(run: Path, config: Config) -> None:
    path = run / CONFIG
    if path.is_file():
        saved = config_from_dict(json.loads(path.read_text()))
        if saved != config:
            raise ValueError(
                f"run folder {run} was started with another config (see {path}); "
                "use a new --out folder, or the same config"
            )
    else:
        save_config(config, path)


def cache_labels(cache: Cache, config: Config) -> tuple[np.ndarray, LabelEncoder]:
    """The cache's labels as the config encodes them, checked against its target kind."""
    encoder = LabelEncoder.from_config(config.labels)
    codes = [dx.split(",") if dx else [] for dx in cache.index["dx"]]
    y = encoder.encode_many(codes)
    config.resolve().target.check_labels(y, where=f"cache {cache.path}")
    return y, encoder


def run_folds(run: Path, cache: Cache, y: np.ndarray, config: Config) -> np.ndarray:
    """``run/folds.json``'s folds, made by the task's split and saved on first use."""
    path = run / FOLDS
    record_ids = list(cache.index["record_id"])
    if path.is_file():
        return load_folds(path, record_ids)
    task = config.resolve()
    t = config.training
    folds, info = task.split.assign(cache.index, y, task.reader, n_folds=t.n_folds, seed=t.seed,
                                    where=f"cache {cache.path}")  # fmt: skip
    save_folds(path, record_ids, folds, **info, cache_id=cache.cache_id, split=task.split.name)
    return folds


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


def train_fold(
    run: Path,
    fold: int,
    cache: Cache,
    y: np.ndarray,
    folds: np.ndarray,
    config: Config,
    *,
    verbose: int = 1,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
) -> dict[str, Any]:
    """Train (or resume) one fold; returns what ``done.json`` records.

    ``extra_callbacks`` run after ecgml's own (a benchmark's timers, say)."""
    t = config.training
    out = fold_dir(run, fold)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    set_up(t)
    train_idx = np.nonzero(in_training(folds, fold))[0]
    val_idx = np.nonzero(folds == fold)[0]
    idx, is_copy = train_idx, None
    if t.oversample_min_count:
        idx, is_copy = oversample(train_idx, y[train_idx], t.oversample_min_count)
    tab = config.tabular
    features = cache.tabular(tab) if tab.enabled else None
    resumed = None
    if (out / STATE).is_file() and (out / LAST).is_file():  # the trainer, with its optimizer
        resumed = keras.saving.load_model(out / LAST, safe_mode=True)
        if t.augment_in == "step" and not has_augment(resumed):
            # started before augmentation moved into the step: finish it the way it began
            print(f"fold {fold}: resumed on the numpy pipeline it was started with")
            t = dataclasses.replace(t, augment_in="host", device_data="off", amplitude_scale=0.0)
    data = fold_data(cache, t, idx, val_idx, labels=y, is_copy=is_copy, features=features,
                     seed=t.seed + fold)  # fmt: skip
    if fold == 0 or verbose:
        print(f"fold {fold}: {data.description}")
    train_ds = data.train
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
    checkpoint = FoldCheckpoint(out, t.monitor, mode, stateful, keep_last=t.keep_epoch == "last",
                                fold_model=fold_model_of if data.in_step else None)  # fmt: skip
    initial_epoch = checkpoint.restore()
    if initial_epoch:
        print(f"fold {fold}: resuming after epoch {initial_epoch} of {t.epochs}")
    _trim_history(out / HISTORY, initial_epoch - 1)
    callbacks += [
        keras.callbacks.CSVLogger(str(out / HISTORY), append=initial_epoch > 0),
        *_tensorboard(out / TENSORBOARD, fold, t.log_every_steps),
        checkpoint,
        *extra_callbacks,
    ]

    with distribution_scope(t):
        if initial_epoch:  # the trainer, compiled, with its optimizer's state
            fitted = resumed
        else:
            model = build_model(
                config.model,
                n_classes=y.shape[1],
                input_length=train_ds.input_length,
                n_leads=cache.signals.shape[2],
                activation=config.resolve().target.activation,
            )
            if features is not None:  # filled and standardised with the training rows only
                mean, variance = training_statistics(features[train_idx])
                model = with_tabular(model, mean=mean, variance=variance, units=tab.units,
                                     dropout=tab.dropout)  # fmt: skip
            scale = None
            if t.init_from is not None:
                init = initialise_from(model, t.init_from, freeze=t.init_freeze)
                write_json(out / INIT, init)
                missed = ", ".join(f"{k} ({v})" for k, v in init["not_copied"].items())
                frozen = " (frozen)" if t.init_freeze else ""
                print(f"fold {fold}: {len(init['copied'])} layers copied from {init['source']}"
                      f"{frozen}; not copied: {missed or 'none'}")  # fmt: skip
                if t.init_lr_scale != 1.0:
                    scale = dict.fromkeys(init["copied"], t.init_lr_scale)
            fitted = trainer(model, data, t, fs=cache.preprocess.fs, seed=t.seed + fold)
            compile_model(fitted, config, y[train_idx], y[val_idx], len(train_ds) * t.epochs,
                          layer_lr_scale=scale)  # fmt: skip
    if initial_epoch < t.epochs:
        fitted.fit(
            train_ds,
            validation_data=data.val,
            epochs=t.epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            verbose=verbose,
        )

    best = keras.saving.load_model(out / BEST, safe_mode=True)
    y_score = validation_scores(best, cache, val_idx, train_ds.input_length, config, features)
    stacked = {}
    if config.stack.forest:  # the forest and the weights, and the stacked scores
        x = cache.tabular(FOREST_INPUT)
        stack = Stack.fit(x[train_idx], y[train_idx], x[val_idx], y[val_idx], y_score,
                          config.stack, seed=t.seed + fold)  # fmt: skip
        stack.save(out / STACK)
        stacked = {"deep_score": y_score, "stack_weights": stack.weights_}
        y_score = stack.combine(y_score, x[val_idx])
    record_ids = cache.index["record_id"].to_numpy()[val_idx]
    arrays = {"record_ids": record_ids.astype(str), "y_true": y[val_idx], "y_score": y_score}
    atomic_write(out / PREDICTIONS, lambda tmp: np.savez(tmp, **arrays, **stacked))
    # A copy, not a rename: until done.json exists, a rerun needs best.keras.
    atomic_write(out / MODEL, lambda tmp: shutil.copyfile(out / BEST, tmp))
    done = {
        "fold": fold,
        "best_epoch": checkpoint.best_epoch,
        "monitor": t.monitor,
        "best": checkpoint.best,
        "n_train": len(train_idx),
        "n_train_with_repeats": len(idx),
        "n_val": len(val_idx),
        "seconds_this_job": round(time.time() - started, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json(out / DONE, done)
    for name in (BEST, LAST, STATE):
        (out / name).unlink(missing_ok=True)
    return done


def check_cache(cache: Cache, config: Config) -> None:
    """Refuse a cache the config did not prepare: another reader or reader options, or
    other preprocessing settings (predict preprocesses new records with the config's).

    Raises:
        ValueError: naming what differs.
    """
    reader = config.resolve().reader
    if (cache.reader, cache.reader_options) != (reader.name, reader.options):
        raise ValueError(
            f"cache {cache.path} was read by the {cache.reader!r} reader with options "
            f"{cache.reader_options}, but the config's task reads with {reader.name!r} and "
            f"{reader.options}; prepare it with this config"
        )
    if cache.preprocess != config.preprocess:
        # predict preprocesses new records with the run's config: a cache made with
        # other settings would train models on inputs they never see again
        a, b = dataclasses.asdict(cache.preprocess), dataclasses.asdict(config.preprocess)
        differ = ", ".join(f"{k} {a[k]!r} (config: {b[k]!r})" for k in a if a[k] != b[k])
        raise ValueError(
            f"cache {cache.path} was prepared with other preprocessing settings: {differ}; "
            "prepare it with this config (ecgml prepare --config ...)"
        )


def open_run(
    cache_dir: str | Path, run: str | Path, config: Config, folds: Sequence[int] | None = None
) -> tuple[Cache, np.ndarray, np.ndarray, list[int]]:
    """Check the cache against the config, then create or reopen the run folder: its
    ``config.json``, ``folds.json`` (written once) and ``manifest.json``.

    Returns:
        ``(cache, labels, fold of each record, the folds asked for)``.
    """
    cache = Cache(cache_dir)
    check_cache(cache, config)
    config.resolve().target.check_loss(config.training.loss)
    window = cache.signals.shape[1]
    if config.training.input_length is not None and config.training.input_length > window:
        raise ValueError(
            f"training.input_length {config.training.input_length} is longer than the "
            f"cache's windows ({window} samples); rebuild the cache with a longer window"
        )
    # checked before the run folder exists: a wrong path or column costs nothing
    if config.training.init_from is not None:
        init_source(config.training.init_from)
    if config.tabular.enabled:
        cache.tabular(config.tabular)
    if config.stack.forest:
        cache.tabular(FOREST_INPUT)
    warn_notes_leak(config.tabular)
    run = Path(run)
    run.mkdir(parents=True, exist_ok=True)
    _check_config(run, config)
    y, encoder = cache_labels(cache, config)
    fold_of = run_folds(run, cache, y, config)
    wanted = list(range(config.training.n_folds)) if folds is None else list(folds)
    bad = [k for k in wanted if not 0 <= k < config.training.n_folds]
    if bad:
        raise ValueError(f"fold(s) {bad} do not exist; folds are 0..{config.training.n_folds - 1}")
    update_manifest(run, cache, config, class_names=list(encoder.class_names))
    return cache, y, fold_of, wanted


def train_run(
    cache_dir: str | Path,
    run: str | Path,
    config: Config,
    *,
    folds: Sequence[int] | None = None,
    verbose: int = 1,
) -> list[int]:
    """Train the folds of a run that are not done yet, one after the other.

    Args:
        cache_dir: a cache made by ``ecgml prepare``.
        run: the run folder (created; reused if it exists, with the same config).
        config: the resolved config.
        folds: only these folds (for one job per fold); ``None`` for all.
        verbose: Keras's fit verbosity (1 progress bar, 2 a line per epoch, 0 none).

    Returns:
        The folds trained by this call.
    """
    cache, y, fold_of, wanted = open_run(cache_dir, run, config, folds)
    run = Path(run)
    trained = []
    for fold in wanted:
        if is_done(run, fold):
            print(f"fold {fold}: done already, skipped")
            continue
        print(
            f"fold {fold}: training ({int(in_training(fold_of, fold).sum())} "
            f"train, {int((fold_of == fold).sum())} validation records)"
        )
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        done = train_fold(run, fold, cache, y, fold_of, config, verbose=verbose)
        update_manifest(run, cache, config, fold=fold, fold_info={"started": started, **done})
        trained.append(fold)
    return trained
