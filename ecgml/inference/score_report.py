"""``score.json``: which run and data a held-out score comes from, how the ensemble
decided, the thresholds, and every model's figures (:mod:`ecgml.inference.postprocess`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ecgml import __version__
from ecgml.data.cache import Cache
from ecgml.inference.ensemble import Ensemble
from ecgml.training.layout import MANIFEST


def _thresholds(ensemble: Ensemble) -> dict[str, Any] | None:
    """Each fold's thresholds and how they were learned; ``None`` for a run without."""
    if not ensemble.target.needs_thresholds:
        return None
    members = list(zip(ensemble.folds, ensemble.threshold_info, strict=True))
    first = ensemble.threshold_info[0]
    return {
        "objective": first["objective"],
        "beta": first.get("beta"),
        "per_fold": {f"fold_{k}": t["thresholds"] for k, t in members},
        "fallback_classes": {f"fold_{k}": t["fallback_classes"] for k, t in members},
    }


def _ensemble(ensemble: Ensemble, settings: dict[str, Any]) -> dict[str, Any]:
    """How the fold models' scores became the ensemble's decisions."""
    task = ensemble.config.task
    stack = None
    if ensemble.stacks:
        weights = zip(ensemble.folds, ensemble.stacks, strict=True)
        stack = {
            "forest": True,
            "deep_weights": {f"fold_{k}": s.weights_.tolist() for k, s in weights},
        }
    return {
        **ensemble.target.report(len(ensemble.folds), settings["rule"], settings["min_votes"]),
        "score": "mean of the fold models' probabilities",
        "all_windows": settings["all_windows"],
        "crops": settings["crops"],
        "window_stride": task.window_stride,
        "window_aggregate": task.window_aggregate,
        "stack": stack,
    }


def score_report(
    ensemble: Ensemble,
    cache: Cache,
    y_true: np.ndarray,
    models: dict[str, Any],
    data: dict[str, Any],
    settings: dict[str, Any],
    weights_source: str | None,
) -> dict[str, Any]:
    """The contents of ``score.json`` (module docstring); ``data`` holds the data's
    ``path``, the records ``skipped`` and ``n_training_part`` left out, ``settings``
    the ``rule``, ``min_votes``, ``all_windows`` and ``crops``."""
    run = Path(ensemble.run)
    manifest_path = run / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    task, names = ensemble.config.task, ensemble.class_names
    abbreviations = ensemble.encoder.abbreviations
    return {
        "ecgml_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": None,  # set by the caller when it has finished
        "run": {
            "path": str(run.resolve()),
            "folds": ensemble.folds,
            "training_cache": manifest.get("cache"),
            "backend": manifest.get("backend"),
            "task": task.name,
            "target": ensemble.target.kind,
            "scorer": ensemble.task.scorer.name,
        },
        "data": {
            "path": str(Path(data["path"]).resolve()),
            "cache": str(cache.path.resolve()),
            "cache_id": cache.cache_id,
            "n_records": len(cache),
            "split": task.split,
            "n_training_part_left_out": data["n_training_part"],
            "n_excluded": len(data["skipped"]),
            "excluded": data["skipped"],
            "sources": cache.index["source"].value_counts().to_dict(),
        },
        "ensemble": _ensemble(ensemble, settings),
        "weights": weights_source,
        "classes": [
            {"code": c, "abbreviation": a, "n_positive": int(n)}
            for c, a, n in zip(names, abbreviations, y_true.sum(axis=0), strict=True)
        ],
        "thresholds": _thresholds(ensemble),
        "models": models,
    }
