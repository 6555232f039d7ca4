"""Fold jobs side by side on one machine: ``model_training.py --parallel-folds N``.

The run folder is opened once here (``config.json``, ``folds.json`` and the
manifest are written before any job starts); then each unfinished fold trains
in a process of its own, ``ecgml train --fold K`` on the run's saved config, at
most ``N`` at a time. Each job is the ordinary resumable fold job, so a killed
one is resumed by running the same command again (or that fold alone), and
its output goes to ``fold_K/train.log``.

Devices: with ``gpus``, job slots take the listed GPUs in turn
(``CUDA_VISIBLE_DEVICES``); without, every job sees every device. Jobs that
share a GPU each get an equal part of its memory (JAX's
``XLA_PYTHON_CLIENT_MEM_FRACTION``, TensorFlow's memory growth); on a CPU each
gets an equal share of the cores.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecgml.config import Config
from ecgml.task import Task
from ecgml.training.layout import CONFIG, fold_dir, is_done

LOG = "train.log"


def job_environment(slot: int, n_jobs: int, gpus: Sequence[str] | None) -> dict[str, str]:
    """The environment of the job in ``slot`` (0-based) of ``n_jobs`` running at once."""
    env = dict(os.environ)
    sharing = n_jobs if not gpus else math.ceil(n_jobs / len(gpus))
    if gpus:
        env["CUDA_VISIBLE_DEVICES"] = str(gpus[slot % len(gpus)])
    if sharing > 1:
        env.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", f"{0.9 / sharing:.3f}")
        env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
        env.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
        threads = str(max(1, (os.cpu_count() or 1) // sharing))
        for name in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS"):
            env.setdefault(name, threads)
    return env


def _start(
    run: Path, cache_dir: str | Path, fold: int, slot: int, n_jobs: int, gpus: Sequence[str] | None
) -> tuple[subprocess.Popen, Any]:
    """Start fold ``fold``'s job in ``slot``: ``ecgml train --fold`` on the run's saved
    config, its output in ``fold_K/train.log``; returns the job and its open log."""
    command = [sys.executable, "-m", "ecgml", "train", "--config", str(run / CONFIG)]
    command += ["--data", str(cache_dir), "--out", str(run), "--fold", str(fold), "--quiet"]
    fold_dir(run, fold).mkdir(parents=True, exist_ok=True)
    log = open(fold_dir(run, fold) / LOG, "a")  # noqa: SIM115 (closed when it ends)
    env = job_environment(slot, n_jobs, gpus)
    job = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    where = f" on GPU {gpus[slot % len(gpus)]}" if gpus else ""
    print(
        f"fold {fold}: started{where} (pid {job.pid}, log {fold_dir(run, fold) / LOG})", flush=True
    )
    return job, log


def train_parallel(
    cache_dir: str | Path,
    run: str | Path,
    config: Config,
    *,
    n_jobs: int,
    gpus: Sequence[str] | None = None,
    folds: Sequence[int] | None = None,
    poll_seconds: float = 1.0,
    task: Task | None = None,
) -> tuple[list[int], dict[int, int]]:
    """Train the unfinished folds of a run, ``n_jobs`` processes at a time (``task``:
    ``config``'s, where the caller has resolved it; each job resolves its own).

    Returns:
        ``(folds trained, {fold: exit status} of the jobs that failed)``.
    """
    from ecgml.runs.start import open_run

    if n_jobs < 1:
        raise ValueError(f"--parallel-folds must be at least 1, got {n_jobs}")
    run = Path(run)
    open_run(cache_dir, run, config, folds, task=task)  # checks, config.json, folds.json, manifest
    wanted = list(range(config.training.n_folds)) if folds is None else list(folds)
    todo = []
    for fold in wanted:
        if is_done(run, fold):
            print(f"fold {fold}: done already, skipped")
        else:
            todo.append(fold)
    n_jobs = min(n_jobs, len(todo)) or 1
    running: dict[int, tuple[subprocess.Popen, int, Any]] = {}
    free = list(range(n_jobs))
    trained, failed = [], {}
    try:
        while todo or running:
            while todo and free:
                fold, slot = todo.pop(0), free.pop(0)
                job, log = _start(run, cache_dir, fold, slot, n_jobs, gpus)
                running[fold] = (job, slot, log)
            time.sleep(poll_seconds)
            for fold, (job, slot, log) in list(running.items()):
                if job.poll() is None:
                    continue
                log.close()
                del running[fold]
                free.append(slot)
                if job.returncode == 0 and is_done(run, fold):
                    trained.append(fold)
                    print(f"fold {fold}: finished", flush=True)
                else:
                    failed[fold] = job.returncode
                    where = fold_dir(run, fold) / LOG
                    print(
                        f"fold {fold}: failed with exit status {job.returncode}; see {where}",
                        flush=True,
                    )
    finally:  # interrupted: stop the jobs, which resume from their last epoch next time
        for job, _, _log in running.values():
            job.terminate()
        for job, _, log in running.values():
            job.wait()
            log.close()
    return sorted(trained), failed
