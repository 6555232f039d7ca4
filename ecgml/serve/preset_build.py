"""Writing a preset (:mod:`ecgml.presets`) from a finished run (``bench/presets.py``
calls this).

The run must be thresholded (``threshold.py``) and take the signal alone (a
stacked forest is kept; a tabular input is refused). Its fold models are stored
as float16 when that moves no probability of ``check_inputs`` (real windows
of the training data) by more than ``FLOAT16_TOLERANCE``; otherwise float32.
The card's figures are the run's out-of-fold ones, computed by the task's scorer
from ``oof.npz`` (:func:`oof_figures`), so a test can recompute them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ecgml import __version__
from ecgml.files import write_json, write_text
from ecgml.presets import (
    CARD,
    CONFIG_FILE,
    INFO,
    OOF,
    THRESHOLDS_FILE,
    architecture_file,
    sha256,
    stack_file,
    weights_file,
)
from ecgml.presets.card import render_card
from ecgml.training.layout import CONFIG, STACK, fold_dir

FLOAT16_TOLERANCE = 1e-3


def oof_arrays(ensemble, cache, *, all_windows: bool) -> dict[str, np.ndarray]:
    """The run's out-of-fold predictions, made as prediction makes them: each fold
    model scores its own validation records of ``cache`` (every window where
    ``all_windows``, stacked where the run is), and decides by its own thresholds."""
    from ecgml.runs.thresholds import run_info

    _, _, fold_ids = run_info(ensemble.run)
    parts: dict[str, list[np.ndarray]] = {"record_ids": [], "y_true": [], "y_score": []}
    parts.update(y_pred=[], fold=[])
    for i, k in enumerate(ensemble.folds):
        part = cache.subset(cache.index["record_id"].isin(fold_ids[k]).to_numpy())
        if len(part) != len(fold_ids[k]):
            raise ValueError(f"fold {k}'s validation records are not all in {cache.path}")
        member = type(ensemble).load(ensemble.run, folds=[k])
        y_score = member.predict_cache(part, all_windows=all_windows, progress=False)[0]
        thresholds = None if ensemble.thresholds is None else ensemble.thresholds[i : i + 1]
        parts["y_pred"].append(ensemble.target.fold_decisions(y_score[None], thresholds)[0])
        parts["record_ids"].append(part.index["record_id"].to_numpy(dtype=str))
        parts["y_true"].append(np.asarray(part.labels, dtype=np.uint8))
        parts["y_score"].append(y_score.astype(np.float32))
        parts["fold"].append(np.full(len(part), k, dtype=np.int16))
    return {name: np.concatenate(values) for name, values in parts.items()}


def check_inputs(ensemble, cache, n: int = 256) -> np.ndarray:
    """Model inputs from real records for the float16 check: the centre crop of the
    first window of the cache's first ``n`` records."""
    windows = np.asarray(cache.signals[cache.index["row"].to_numpy()[:n]], dtype=np.float32)
    start = (windows.shape[1] - ensemble.input_length) // 2
    return windows[:, start : start + ensemble.input_length]


def oof_figures(scorer, oof: dict[str, np.ndarray], class_names, abbreviations) -> dict:
    """The card's figures: the scorer's overall figures and its headline figures'
    95 % bootstrap intervals over the records (seeded: the same every time)."""
    args = (oof["y_true"], oof["y_score"], oof["y_pred"], list(class_names), list(abbreviations))
    overall = scorer.score(*args)["overall"]
    intervals = scorer.confidence_intervals(*args)
    point = {
        k: round(float(v), 4)
        for k, v in overall.items()
        if isinstance(v, float | np.floating) and np.isfinite(v) and not k.startswith("classes_")
    }
    return {
        "n_records": len(oof["y_true"]),
        "overall": point,
        "intervals": {
            name: {key: _rounded(value.get(key)) for key in ("estimate", "low", "high")}
            for name, value in intervals.items()
        },
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def weights_dtype(ensemble, check_inputs: np.ndarray) -> dict[str, Any]:
    """float16 if rounding every weight to it moves no probability of ``check_inputs``
    by more than :data:`FLOAT16_TOLERANCE`; the largest difference measured."""
    full = ensemble.predict_proba(check_inputs)
    saved = [m.get_weights() for m in ensemble.models]
    try:
        for model, weights in zip(ensemble.models, saved, strict=True):
            model.set_weights([w.astype(np.float16).astype(w.dtype) for w in weights])
        half = ensemble.predict_proba(check_inputs)
    finally:
        for model, weights in zip(ensemble.models, saved, strict=True):
            model.set_weights(weights)
    largest = float(np.abs(full - half).max())
    return {
        "dtype": "float16" if largest <= FLOAT16_TOLERANCE else "float32",
        "max_abs_difference_float16": largest,
        "tolerance": FLOAT16_TOLERANCE,
        "n_inputs": len(check_inputs),
    }


def _write_members(ensemble, out: Path, dtype: str) -> None:
    import keras

    for model, k in zip(ensemble.models, ensemble.folds, strict=True):
        spec = keras.saving.serialize_keras_object(model)
        write_text(out / architecture_file(k), json.dumps(spec, sort_keys=True) + "\n")
        arrays = {f"w{i}": w.astype(dtype) for i, w in enumerate(model.get_weights())}
        np.savez_compressed(out / weights_file(k), **arrays)
        if ensemble.stacks:
            shutil.copyfile(fold_dir(ensemble.run, k) / STACK, out / stack_file(k))


def write_preset(
    run: str | Path,
    out: str | Path,
    *,
    cache,
    card: dict[str, Any],
    prediction_reader: dict[str, Any],
    preprocess: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the preset of a thresholded run into ``out`` (replaced whole).

    Args:
        run: the run folder.
        out: ``ecgml/presets/NAME``; its name is the preset's.
        card: ``version``, ``description``, ``data`` (records, sources, licences),
            ``validation``, ``intended_use``, ``not_for``, ``command``.
        cache: the run's cache (:class:`~ecgml.data.cache_reader.Cache`), for the
            out-of-fold figures and the float16 check.
        prediction_reader: ``{"reader": ..., "options": {...}}`` for new records.
        preprocess: settings of the config's ``preprocess`` section that new
            records get and the training data had before they were cached (the
            PTB-XL arrays' band-pass and z-score); ``None``: the run's own.

    Returns:
        The contents of ``preset.json``.

    Raises:
        ValueError: a run with a tabular input, or without thresholds where needed.
    """
    from ecgml.inference.ensemble import Ensemble

    run, out = Path(run), Path(out)
    ensemble = Ensemble.load(run)
    if ensemble.feature_names:
        raise ValueError(f"run {run} takes a tabular input; a preset takes the signal alone")
    precision = weights_dtype(ensemble, check_inputs(ensemble, cache))
    oof = oof_arrays(ensemble, cache, all_windows=ensemble.config.task.all_windows)
    figures = oof_figures(ensemble.task.scorer, oof, ensemble.class_names, ensemble.abbreviations)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        folder = Path(tmp)
        config = json.loads((run / CONFIG).read_text())
        trained = dict(config["preprocess"])
        config["preprocess"] = {**trained, **(preprocess or {})}
        write_json(folder / CONFIG_FILE, config)
        if ensemble.thresholds is not None:
            write_json(folder / THRESHOLDS_FILE, ensemble.threshold_info)
        _write_members(ensemble, folder, precision["dtype"])
        np.savez_compressed(folder / OOF, **oof)
        files = {p.name: sha256(p) for p in sorted(folder.iterdir())}
        info = {
            "name": out.name,
            **card,
            "ecgml_version": __version__,
            "task": ensemble.config.task.name,
            "target": ensemble.config.task.target,
            "classes": list(ensemble.class_names),
            "abbreviations": list(ensemble.abbreviations),
            "preprocess": config["preprocess"],
            "preprocess_before_training": preprocess or {},
            "preprocess_in_training": trained,
            "architecture": ensemble.config.model.architecture,
            "n_parameters": int(ensemble.models[0].count_params()),
            "folds": list(ensemble.folds),
            "stacked_forest": bool(ensemble.stacks),
            "prediction_reader": prediction_reader,
            "record_seconds": ensemble.record_seconds,
            "weights": precision,
            "figures": figures,
            "files": files,
        }
        write_json(folder / INFO, info)
        write_text(folder / CARD, render_card(info, size_bytes=_size(folder)))
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(folder, out)
        out.chmod(0o755)  # not the temporary folder's 0700
    return info


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and p.name != CARD)
