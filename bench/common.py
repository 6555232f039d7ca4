"""What the benchmark scripts share: training a deep row, the hand-crafted feature
table, and the cells of their Markdown tables.

The scripts import it from their own folder (``python bench/NAME.py`` puts it on
the path).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.data.cache import Cache


def cell(value: float | None, digits: int = 3) -> str:
    """A figure with ``digits`` decimals, or "-" for one that is undefined."""
    return "-" if value is None else f"{value:.{digits}f}"


def minutes(seconds: float | None) -> str:
    """A wall time in minutes, or "-" where none was measured."""
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


def markdown(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The lines of a Markdown table."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(map(str, row)) + " |" for row in rows),
    ]


def prepared(config: Any, data: Sequence[Path], out: Path) -> Cache:
    """``data`` prepared into the cache ``out`` as ``config`` reads it (its reader,
    sample kind and hand-crafted features), with a worker per CPU."""
    from ecgml.data.cache import prepare_cache

    prepare_cache(
        list(data),
        out,
        config.preprocess,
        config.labels,
        jobs=os.cpu_count() or 1,
        reader=config.task.reader,
        reader_options=config.task.reader_options,
        baseline=config.baseline_features,
        samples=config.task.samples,
        progress=False,
    )
    return Cache(out)


def train_deep(cache: Path, run: Path, config: Any, *, folds: Sequence[int] | None = None) -> dict:
    """Train (or resume) a run's folds and learn their F1 thresholds; the training
    seconds summed over the folds' jobs, and this call's wall time."""
    from ecgml.runs import train_run
    from ecgml.runs.thresholds import fit_run_thresholds

    started = time.time()
    train_run(cache, run, config, folds=folds, verbose=2)
    fit_run_thresholds(run, objective="f1")
    paths = (
        [run / f"fold_{k}" / "done.json" for k in folds]
        if folds is not None
        else sorted(run.glob("fold_*/done.json"))
    )
    done = [json.loads(path.read_text()) for path in paths]
    return {
        "train_seconds": round(sum(d["seconds_this_job"] for d in done), 1),
        "seconds_this_call": round(time.time() - started, 1),
        "best_epochs": [d["best_epoch"] for d in done],
    }


def feature_table(cache: Cache, work: Path, *, metadata: bool = False) -> np.ndarray:
    """The hand-crafted features (:mod:`ecgml.baseline`) of every cached record's first
    window, with its age and sex under ``metadata``; saved in ``work/features.npz``
    and reused while the cache holds the same records."""
    from ecgml.baseline import extract_features, feature_names

    path = work / "features.npz"
    ids = cache.index["record_id"].to_numpy().astype(str)
    if path.is_file():
        saved = np.load(path)
        if list(saved["record_ids"]) == list(ids):
            return saved["x"]
    started = time.time()
    pre = cache.preprocess

    def one(i: int) -> np.ndarray:
        index = cache.index
        extra = {"age": index.at[i, "age"], "sex": index.at[i, "sex"]} if metadata else {}
        return extract_features(cache.windows(i)[0], pre.fs, pre.leads, **extra)

    x = np.array([one(i) for i in range(len(cache))], dtype=np.float64)
    np.savez(path, x=x, record_ids=ids, names=np.array(feature_names(pre.leads)))
    print(f"features: {x.shape[1]} per record, {time.time() - started:.1f} s for {len(ids)}")
    return x


def trial_rows(study: Any) -> list[dict]:
    """A row per trial of an Optuna study: number, state, figure, last step, parameters, time."""
    return [
        {
            "trial": t.number,
            "state": t.state.name.lower(),
            "value": t.value,
            "last_step": t.last_step,
            "params": t.params,
            "seconds": round(t.duration.total_seconds(), 1) if t.duration else None,
        }
        for t in study.get_trials()
    ]
