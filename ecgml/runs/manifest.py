"""``manifest.json``: what a run was made with, updated safely by concurrent fold jobs.

Fold jobs of one run may run side by side (``model_training.py --parallel-folds``,
or a Slurm array): each update reads, changes and rewrites the file under an
exclusive lock on ``manifest.json.lock``, and the rewrite is atomic, so no
job's fold entry is lost and no reader sees half a file.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ecgml import __version__
from ecgml.config import Config
from ecgml.data.cache import Cache
from ecgml.files import locked, write_json
from ecgml.training.layout import MANIFEST


def record_seconds(cache: Cache) -> dict[str, float] | None:
    """The shortest, median and longest of the cache's records in seconds, as read
    (prediction notes a record far outside them, a sign of a rate read wrong);
    ``None`` where no record has a rate (image files)."""
    index = cache.index.drop_duplicates("path")
    index = index[index["fs"].astype(float) > 0]
    if index.empty:
        return None
    seconds = index["n_samples"].astype(float) / index["fs"].astype(float)
    return {
        "min": round(float(seconds.min()), 3),
        "median": round(float(seconds.median()), 3),
        "max": round(float(seconds.max()), 3),
    }


def update_manifest(
    run: Path,
    cache: Cache,
    config: Config,
    *,
    class_names: Sequence[str] | None = None,
    fold: int | None = None,
    fold_info: dict[str, Any] | None = None,
) -> None:
    """Record versions, seed and cache in ``manifest.json``; also class names (with the
    durations of the cache's records, :func:`record_seconds`) or a fold."""
    path = Path(run) / MANIFEST
    with locked(path):
        if path.is_file():
            manifest = json.loads(path.read_text())
        else:
            manifest = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "folds": {}}
        manifest.update(
            {
                "ecgml_version": __version__,
                "keras_version": keras.__version__,
                "backend": keras.backend.backend(),
                "numpy_version": np.__version__,
                "python": platform.python_version(),
                "machine": platform.platform(),
                "task": config.task.name,
                "seed": config.training.seed,
                "cache": {"path": str(cache.path.resolve()), "id": cache.cache_id},
            }
        )
        if class_names is not None:
            manifest["class_names"] = list(class_names)
            manifest["record_seconds"] = record_seconds(cache)
        if fold is not None:
            manifest["folds"].setdefault(str(fold), {}).update(fold_info or {})
        write_json(path, manifest)
