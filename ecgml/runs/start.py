"""Starting or reopening a run folder, and training its folds one after the other.

A run folder holds ``config.json`` (resolved), ``folds.json`` (fixed at the
first call and reused after; one written there beforehand fixes the folds, and
its ``"test"`` records are never trained or validated on), ``manifest.json`` and
one ``fold_K/`` per fold (:mod:`ecgml.training.layout`; what a fold job writes:
:func:`ecgml.training.fit.train_fold`). ``done.json`` is written last: a fold
without it is unfinished, and a rerun resumes it.

The task is resolved once, by the caller or here (:meth:`ecgml.task.Task.of`), and
handed to every step.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecgml.config import Config, config_from_dict, save_config
from ecgml.data.cache import Cache
from ecgml.data.labels import LabelEncoder
from ecgml.data.readers import Reader
from ecgml.data.tabular import warn_notes_leak
from ecgml.runs.manifest import update_manifest
from ecgml.runs.processes import barrier
from ecgml.targets import Target
from ecgml.task import Task
from ecgml.training.fit import train_fold
from ecgml.training.folds import in_training, load_folds, save_folds
from ecgml.training.layout import CONFIG, FOLDS, is_done
from ecgml.training.stack import FOREST_INPUT
from ecgml.training.transfer import init_source


def _check_config(run: Path, config: Config, writes: bool = True) -> None:
    path = run / CONFIG
    if path.is_file() or not writes:
        saved = config_from_dict(json.loads(path.read_text()))
        if saved != config:
            raise ValueError(
                f"run folder {run} was started with another config (see {path}); "
                "use a new --out folder, or the same config"
            )
    else:
        save_config(config, path)


def cache_labels(cache: Cache, config: Config, target: Target) -> tuple[np.ndarray, LabelEncoder]:
    """The cache's labels as the config encodes them, checked against the ``target`` kind."""
    encoder = LabelEncoder.from_config(config.labels)
    codes = [dx.split(",") if dx else [] for dx in cache.index["dx"]]
    y = encoder.encode_many(codes)
    target.check_labels(y, where=f"cache {cache.path}")
    return y, encoder


def run_folds(run: Path, cache: Cache, y: np.ndarray, config: Config, task: Task) -> np.ndarray:
    """``run/folds.json``'s folds, made by the task's split and saved on first use."""
    path = run / FOLDS
    record_ids = list(cache.index["record_id"])
    if path.is_file():
        return load_folds(path, record_ids)
    t = config.training
    folds, info = task.split.assign(
        cache.index, y, task.reader, n_folds=t.n_folds, seed=t.seed, where=f"cache {cache.path}"
    )
    save_folds(path, record_ids, folds, **info, cache_id=cache.cache_id, split=task.split.name)
    return folds


def check_cache(cache: Cache, config: Config, reader: Reader) -> None:
    """Refuse a cache the config did not prepare: another reader or reader options, or
    other preprocessing settings (predict preprocesses new records with the config's).

    Args:
        cache: the prepared records.
        config: the run's config.
        reader: the task's reader (:attr:`ecgml.task.Task.reader`).

    Raises:
        ValueError: naming what differs.
    """
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


def _check_inputs(cache: Cache, config: Config, task: Task) -> None:
    """What the config asks of the cache, checked before the run folder exists: a wrong
    path or column costs nothing."""
    check_cache(cache, config, task.reader)
    task.target.check_loss(config.training.loss)
    window = cache.signals.shape[1]
    if config.training.input_length is not None and config.training.input_length > window:
        raise ValueError(
            f"training.input_length {config.training.input_length} is longer than the "
            f"cache's windows ({window} samples); rebuild the cache with a longer window"
        )
    if config.training.init_from is not None:
        init_source(config.training.init_from)
    if config.tabular.enabled:
        cache.tabular(config.tabular)
    if config.stack.forest:
        cache.tabular(FOREST_INPUT)
    warn_notes_leak(config.tabular)


def open_run(
    cache_dir: str | Path,
    run: str | Path,
    config: Config,
    folds: Sequence[int] | None = None,
    *,
    task: Task | None = None,
    writes: bool = True,
) -> tuple[Cache, np.ndarray, np.ndarray, list[int]]:
    """Check the cache against the config, then create or reopen the run folder: its
    ``config.json``, ``folds.json`` (written once) and ``manifest.json``; without
    ``writes``, reopen a run folder another process has opened, writing nothing.

    Args:
        cache_dir: a cache made by ``ecgml prepare``.
        run: the run folder.
        config: the run's config.
        folds: the folds asked for; ``None`` for all.
        task: ``config``'s task, where the caller has resolved it.

    Returns:
        ``(cache, labels, fold of each record, the folds asked for)``.
    """
    task = task or Task.of(config)
    cache = Cache(cache_dir)
    _check_inputs(cache, config, task)
    run = Path(run)
    if writes:
        run.mkdir(parents=True, exist_ok=True)
    _check_config(run, config, writes)
    y, encoder = cache_labels(cache, config, task.target)
    if not (writes or (run / FOLDS).is_file()):
        raise FileNotFoundError(f"{run / FOLDS} is missing: the run folder was not opened")
    fold_of = run_folds(run, cache, y, config, task)
    wanted = list(range(config.training.n_folds)) if folds is None else list(folds)
    bad = [k for k in wanted if not 0 <= k < config.training.n_folds]
    if bad:
        raise ValueError(f"fold(s) {bad} do not exist; folds are 0..{config.training.n_folds - 1}")
    if writes:
        update_manifest(run, cache, config, class_names=list(encoder.class_names))
    return cache, y, fold_of, wanted


def train_run(
    cache_dir: str | Path,
    run: str | Path,
    config: Config,
    *,
    folds: Sequence[int] | None = None,
    verbose: int = 1,
    task: Task | None = None,
    processes: tuple[int, int] = (0, 1),
) -> list[int]:
    """Train the folds of a run that are not done yet, one after the other.

    Args:
        cache_dir: a cache made by ``ecgml prepare``.
        run: the run folder (created; reused if it exists, with the same config).
        config: the resolved config.
        folds: only these folds (for one job per fold); ``None`` for all.
        verbose: Keras's fit verbosity (1 progress bar, 2 a line per epoch, 0 none).
        task: ``config``'s task, where the caller has resolved it.
        processes: ``(rank, n)`` of this process in a run trained over ``n`` processes
            (:mod:`ecgml.runs.processes`, initialised by the caller): process 0
            opens the run folder and writes it; the others wait for it at each fold.

    Returns:
        The folds trained by this call.
    """
    task = task or Task.of(config)
    rank, n = processes
    if rank == 0:
        cache, y, fold_of, wanted = open_run(cache_dir, run, config, folds, task=task)
    if n > 1:
        barrier("opened")
    if rank:
        cache, y, fold_of, wanted = open_run(cache_dir, run, config, folds, task=task, writes=False)
    run = Path(run)
    trained = []
    for fold in wanted:
        if is_done(run, fold):
            print(f"fold {fold}: done already, skipped")
            continue
        print(
            f"fold {fold}: training ({int(in_training(fold_of, fold).sum())} "
            f"train, {int((fold_of == fold).sum())} validation records)"
            + (f" over {n} processes" if n > 1 else "")
        )
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        done = train_fold(
            run, fold, cache, y, fold_of, config, task.target, verbose=verbose, processes=processes
        )
        if done is not None:
            update_manifest(run, cache, config, fold=fold, fold_info={"started": started, **done})
        if n > 1:
            barrier(f"fold {fold}")
        trained.append(fold)
    return trained
