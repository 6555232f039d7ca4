"""Hyperparameter search with Optuna: every trial an ordinary ecgml run folder.

``TUNE/`` holds ``base.json`` (the config searched around), ``space.json``,
``folds.json`` (fixed once, shared by every trial), ``study.db`` (the default
storage), ``trials/trial_NNNN/`` (one run folder per trial), and at the end
``trials.csv``, ``best.json`` (a complete config), ``tune.json``,
``history.png`` and ``importance.png``.

Leak-free: ``folds.json`` keeps the held-out part of the split (a source's
standard test part, or the records a ``folds.json`` given with ``folds_from``
holds out); trials train and validate on the other records only, and a trial's
figure is the task scorer's headline over the validation parts of the folds it
trained. Pruning sees the fold's monitored validation figure after every epoch.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
from optuna.trial import TrialState

from ecgml.config import Config, load_config, save_config
from ecgml.files import write_json
from ecgml.task import Task
from ecgml.tune.report import params_text, write_report
from ecgml.tune.space import Space
from ecgml.tune.storage import HEARTBEAT_S, default_storage, experimental, open_study

TRIALS = "trials"


def _prepare_folder(
    out: Path, config: Config, task: Task, space_data: dict, cache: Any, folds_from: Path | None
) -> np.ndarray:
    """Write (or check) ``base.json``, ``space.json`` and ``folds.json``; return the folds."""
    from ecgml.runs import cache_labels, run_folds
    from ecgml.training.folds import load_folds, save_folds
    from ecgml.training.layout import FOLDS

    record_ids = list(cache.index["record_id"])
    # a given folds.json that does not fit the cache is refused before anything is written
    given = load_folds(Path(folds_from), record_ids) if folds_from is not None else None
    out.mkdir(parents=True, exist_ok=True)
    base = out / "base.json"
    if base.is_file():
        if load_config(base) != config:
            raise ValueError(
                f"{out} holds a search around another config ({base}); use another --out"
            )
    else:
        save_config(config, base)
    space_file = out / "space.json"
    if space_file.is_file() and json.loads(space_file.read_text()) != space_data:
        raise ValueError(f"{out} holds a search of another space ({space_file}); use another --out")
    write_json(space_file, space_data)
    if given is not None and not (out / FOLDS).is_file():
        save_folds(
            out / FOLDS,
            record_ids,
            given,
            seed=config.training.seed,
            copied_from=str(folds_from),
            cache_id=cache.cache_id,
            split="given",
        )
    y, _ = cache_labels(cache, config, task.target)
    return run_folds(out, cache, y, config, task)  # made by the task's split, or the one kept


class PruningReport(keras.callbacks.Callback):
    """The fold's monitored validation figure to the Optuna trial after every epoch
    (negated where lower is better, as the study maximises); raises
    ``optuna.TrialPruned`` when the pruner says so.

    Args:
        trial: the Optuna trial.
        monitor, mode: ``training.monitor`` and whether higher (``"max"``) is better.
        offset: the step of the fold's first epoch (folds report one after another).
    """

    def __init__(self, trial: Any, monitor: str, mode: str, offset: int = 0) -> None:
        super().__init__()
        self.trial, self.monitor, self.offset = trial, monitor, offset
        self.sign = 1.0 if mode == "max" else -1.0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        step = self.offset + epoch
        self.trial.report(self.sign * float(value), step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step} ({self.monitor} {value:.4f})")


def headline(run: Path, folds: Sequence[int], config: Config, task: Task) -> tuple[float, str]:
    """The task scorer's headline over the pooled validation predictions of ``folds``
    (decisions at 0.5 per class for multi-label tasks, the argmax for multi-class)."""
    from ecgml.data.labels import LabelEncoder
    from ecgml.training.layout import PREDICTIONS, fold_dir

    parts = [np.load(fold_dir(run, k) / PREDICTIONS) for k in folds]
    y_true = np.concatenate([p["y_true"] for p in parts])
    y_score = np.concatenate([p["y_score"] for p in parts])
    y_pred = task.target.fold_decisions(y_score[None], np.full((1, y_score.shape[1]), 0.5))[0]
    encoder = LabelEncoder.from_config(config.labels)
    figures = task.scorer.score(
        y_true, y_score, y_pred, list(encoder.class_names), list(encoder.abbreviations)
    )
    name = task.scorer.headline
    return float(figures["overall"][name]), name


def run_trial(
    trial: Any,
    *,
    out: Path,
    cache_dir: Path,
    config: Config,
    task: Task,
    space: Space,
    verbose: int = 0,
) -> float:
    """Optuna's objective: train the trial's folds in its run folder (resuming a
    retried trial's folder) and return its validation headline. ``task`` is the base
    config's, resolved once (a space changes no plug-in the task names)."""
    from ecgml.runs import open_run
    from ecgml.runs.manifest import update_manifest
    from ecgml.training.fit import train_fold
    from ecgml.training.layout import FOLDS, is_done

    values = {p.path: p.suggest(trial) for p in space.parameters}
    trial_config = space.apply(config, values)
    frozen = next(t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number)
    with experimental():
        retried = optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(frozen)
    number = trial.number if retried is None else retried
    run = out / TRIALS / f"trial_{number:04d}"
    run.mkdir(parents=True, exist_ok=True)
    if not (run / FOLDS).is_file():
        (run / FOLDS).write_bytes((out / FOLDS).read_bytes())
    trial.set_user_attr("run", str(run.relative_to(out)))
    n = space.folds or trial_config.training.n_folds
    cache, y, fold_of, wanted = open_run(cache_dir, run, trial_config, list(range(n)), task=task)
    t = trial_config.training
    for position, fold in enumerate(wanted):
        if is_done(run, fold):
            continue
        report = PruningReport(trial, t.monitor, t.monitor_mode, position * t.epochs)
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        done = train_fold(
            run,
            fold,
            cache,
            y,
            fold_of,
            trial_config,
            task.target,
            verbose=verbose,
            extra_callbacks=[report],
        )
        update_manifest(run, cache, trial_config, fold=fold, fold_info={"started": started, **done})
    value, name = headline(run, wanted, trial_config, task)
    trial.set_user_attr("objective", name)
    return value


def _finished(study: Any) -> int:
    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED)))


class _Progress:
    """A line for every trial of the study (any worker's) that finished since the last."""

    def __init__(self) -> None:
        self.shown: set[int] = set()

    def __call__(self, study: Any, _trial: Any = None) -> None:
        for t in study.get_trials(deepcopy=False):
            if t.number in self.shown or t.state in (TrialState.RUNNING, TrialState.WAITING):
                continue
            self.shown.add(t.number)
            seconds = t.duration.total_seconds() if t.duration else 0.0
            if t.state == TrialState.COMPLETE:
                what = f"{t.value:.4f}"
            elif t.state == TrialState.PRUNED:
                what = f"pruned at step {t.last_step}"
            else:
                what = "failed (a retry with the same parameters follows, where one is due)"
            print(
                f"trial {t.number}: {what} in {seconds:.0f} s ({params_text(t.params)})",
                flush=True,
            )


def tune(
    config: Config,
    cache_dir: str | Path,
    space: Space,
    out: str | Path,
    *,
    trials: int = 20,
    storage: str | None = None,
    study_name: str = "ecgml",
    timeout: float | None = None,
    jobs: int = 1,
    folds_from: str | Path | None = None,
    space_data: dict | None = None,
    verbose: int = 0,
    worker: int = 0,
    heartbeat: int = HEARTBEAT_S,
) -> Any:
    """Search ``space`` around ``config`` until the study holds ``trials`` finished
    (complete or pruned) trials; returns the Optuna study.

    Args:
        config: the config searched around (every other field stays as it is).
        cache_dir: a cache made by ``ecgml prepare`` with ``config``.
        space: :func:`~ecgml.tune.space.load_space`'s result.
        out: the tuning folder.
        trials: the study's total, shared by every worker.
        storage: an Optuna storage URL; default ``sqlite:///OUT/study.db``.
        study_name: workers with the same storage and name share one study.
        timeout: this worker starts no trial after this many seconds.
        jobs: worker processes on this machine (this one and ``jobs - 1`` more,
            each logging to ``OUT/worker_K.log``).
        folds_from: a ``folds.json`` whose folds and held-out records to keep.
        space_data: the space file's JSON, saved as ``OUT/space.json``.
        verbose: Keras's fit verbosity inside trials.
        worker: 0 for the worker that reports (``trials.csv``, ``best.json``,
            ``tune.json``, the plots); ``--jobs`` numbers the others 1, 2, ...
        heartbeat: seconds between a running trial's heartbeats; one silent for
            twice as long is taken for a killed worker's, failed and retried.
    """
    from ecgml.data.cache import Cache
    from ecgml.runs import check_cache
    from ecgml.training.folds import HELD_OUT

    out, cache_dir = Path(out), Path(cache_dir)
    for name, value in (("trials", trials), ("jobs", jobs)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    cache = Cache(cache_dir)
    task = Task.of(config)
    check_cache(cache, config, task.reader)  # before anything is written
    space_data = space_data or {
        "parameters": {p.path: dataclasses.asdict(p) for p in space.parameters}
    }
    folds = _prepare_folder(
        out, config, task, space_data, cache, Path(folds_from) if folds_from else None
    )
    n_test = int((folds == HELD_OUT).sum())
    storage = storage or default_storage(out)
    study = _open_study(storage, study_name, space, worker, heartbeat)
    if worker == 0:
        _announce(study, storage, trials, n_test)
    worker_args = _worker_args(cache_dir, out, trials, storage, study_name, timeout)
    workers = _spawn_workers(jobs - 1, out, worker_args)
    trial = dict(out=out, cache_dir=cache_dir, config=config, task=task, space=space)
    objective = functools.partial(run_trial, verbose=verbose, **trial)
    progress = _Progress()
    try:
        _optimize(study, objective, trials, timeout, progress)
    finally:
        for w in workers:
            w.wait()
    progress(study)  # the line after every worker has finished
    if worker == 0:
        write_report(study, out, config, space, storage=storage, n_test=n_test)
    return study


def _open_study(storage: str, name: str, space: Space, worker: int, heartbeat: int) -> Any:
    """The study in ``storage`` (created by the first worker), with this worker's
    sampler and the space's pruner."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return open_study(
        storage,
        name,
        heartbeat=heartbeat,
        direction="maximize",
        sampler=space.make_sampler(worker),
        pruner=space.make_pruner(),
    )


def _worker_args(
    cache_dir: Path, out: Path, trials: int, storage: str, study: str, timeout: float | None
) -> list[str]:
    """The ``ecgml tune`` arguments of the other workers on this machine."""
    args = ["--data", str(cache_dir), "--out", str(out), "--trials", str(trials)]
    args += ["--storage", storage, "--study", study]
    return args + ([] if timeout is None else ["--timeout", str(timeout)])


def _announce(study: Any, storage: str, trials: int, n_test: int) -> None:
    """The reporting worker's first line: the study, its progress, the held-out part."""
    held = (
        f"{n_test} held-out samples are never trained, validated or scored on"
        if n_test
        else "no held-out records: score the best config on records the search has not seen"
    )
    print(
        f"study {study.study_name!r} in {storage}: {_finished(study)} of {trials} trials "
        f"finished; {held}",
        flush=True,
    )


def _optimize(
    study: Any, objective: Any, trials: int, timeout: float | None, progress: Any
) -> None:
    """Run trials one at a time until the study holds ``trials`` finished or running
    ones (stale trials of killed workers failed first, so they are retried), or until
    ``timeout`` seconds have passed; ``progress`` prints a line after each."""
    started = time.time()
    while True:
        with experimental():
            optuna.storages.fail_stale_trials(study)
        running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        if _finished(study) + running >= trials:
            break
        if timeout is not None and time.time() - started >= timeout:
            break
        study.optimize(objective, n_trials=1, callbacks=[progress], catch=())


def _spawn_workers(n: int, out: Path, args: list[str]) -> list[subprocess.Popen]:
    """``n`` more worker processes on this machine: ``ecgml tune`` on the folder's
    ``base.json`` and ``space.json``, one worker each, no report."""
    workers = []
    for k in range(1, n + 1):
        cmd = [
            sys.executable,
            "-m",
            "ecgml",
            "tune",
            "--config",
            str(out / "base.json"),
            "--space",
            str(out / "space.json"),
            *args,
            "--worker",
            str(k),
        ]
        with open(out / f"worker_{k}.log", "a") as log:  # the child keeps its own copy
            workers.append(
                subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
            )
    return workers
