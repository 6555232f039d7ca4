"""``ecgml export``: a run's ensemble as one graph a non-Python service can serve.

The fold models are rebuilt in float32 (a run trained under mixed precision keeps
float32 weights) and joined into one Keras model::

    input  "ecg"               (batch, input_length, n_leads) float32, mV, the run's
                               lead order, resampled, filtered and windowed as in training
    input  "features"          (batch, n_features) float32, NaN where missing: only for
                               a run with a tabular input (its columns in the model card)
    output "fold_probabilities" (batch, n_models, n_classes) float32

which Keras 3 exports as a TensorFlow SavedModel, ONNX (through tf2onnx) or TFLite
(LiteRT). The decisions are left to the service, by the rule in the model card:
for a multi-label run, a class is decided when at least ``min_votes`` fold models
reach their own threshold for it; for a multi-class run, the argmax of the mean
fold probability. After writing, the artifact is loaded back with
its own runtime and run on test inputs; the largest difference from the float32
Keras graph goes into the model card, and an export off by more than ``tolerance``
is an error. The card also gives the difference from the run's models as loaded,
which is larger for a run trained under mixed precision (they compute in 16 bits).

Exporting needs the TensorFlow backend.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ecgml import __version__
from ecgml.inference.ensemble import Ensemble
from ecgml.models.fusion import with_tabular
from ecgml.models.registry import build_model
from ecgml.serve.model_card import (
    CARD_JSON,
    CARD_MD,
    FEATURES_NAME,
    card_markdown,
    held_out_scores,
    preprocessing_text,
    tabular_card,
)
from ecgml.training.layout import MANIFEST

FORMATS = {"savedmodel": "tf_saved_model", "onnx": "onnx", "tflite": "litert"}
ARTIFACTS = {
    "savedmodel": "ensemble_savedmodel",
    "onnx": "ensemble.onnx",
    "tflite": "ensemble.tflite",
}
RUNTIMES = {
    "savedmodel": "tf.saved_model",
    "onnx": "onnxruntime",
    "tflite": "LiteRT (ai-edge-litert)",
}
INPUT_NAME, OUTPUT_NAME = "ecg", "fold_probabilities"


def long_records_text(ensemble: Ensemble) -> str:
    """How a record becomes the graph's inputs and their outputs the record's."""
    pre, task, length = ensemble.config.preprocess, ensemble.config.task, ensemble.input_length
    text = f"cut into {pre.window}-sample windows covering the record; "
    if task.window_stride is not None and length < pre.window:
        text += (
            f"from each window, every {length}-sample crop {task.window_stride} samples "
            "apart (the last ending with the window); "
        )
    elif length < pre.window:
        text += f"the centre {length} samples of each window; "
    how = "the maximum" if task.window_aggregate == "max" else "the mean"
    return text + f"{how} of the probabilities over them"


def ensemble_graph(ensemble: Ensemble) -> keras.Model:
    """The fold models, rebuilt in float32 with their trained weights, as one model
    with output ``(batch, n_models, n_classes)``."""
    config = ensemble.config
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        members = []
        for fold, trained in zip(ensemble.folds, ensemble.models, strict=True):
            model = build_model(
                config.model,
                n_classes=len(ensemble.class_names),
                input_length=ensemble.input_length,
                n_leads=len(config.preprocess.leads),
                activation=ensemble.target.activation,
            )
            if ensemble.feature_names:  # the fold's own training statistics, from its layers
                norm = trained.get_layer("features_norm").get_config()
                model = with_tabular(
                    model,
                    mean=np.asarray(norm["mean"]).ravel(),
                    variance=np.asarray(norm["variance"]).ravel(),
                    units=config.tabular.units,
                    dropout=config.tabular.dropout,
                )
            model.set_weights(trained.get_weights())
            model.name = f"fold_{fold}"
            members.append(model)
        inputs = keras.Input((ensemble.input_length, len(config.preprocess.leads)), name=INPUT_NAME)
        features = None
        if ensemble.feature_names:
            features = keras.Input((len(ensemble.feature_names),), name=FEATURES_NAME)

        def member_input(m: keras.Model):
            return inputs if features is None else {"ecg": inputs, "features": features}

        outputs = [
            keras.layers.Reshape((1, -1), name=f"fold_{k}_row")(m(member_input(m)))
            for k, m in zip(ensemble.folds, members, strict=True)
        ]
        stacked = (
            keras.layers.Concatenate(axis=1, name=OUTPUT_NAME)(outputs)
            if len(outputs) > 1
            else keras.layers.Identity(name=OUTPUT_NAME)(outputs[0])
        )
        graph_inputs = inputs if features is None else [inputs, features]
        return keras.Model(graph_inputs, stacked, name="ecgml_ensemble")
    finally:
        keras.config.set_dtype_policy(previous)


def _runner(fmt: str, path: Path) -> Callable[..., np.ndarray]:
    """Load an exported artifact with its own runtime; returns ``(x[, features]) -> outputs``
    (inputs told apart by rank: the signal is 3-D, the tabular vector 2-D)."""

    def by_rank(ranks: list[int], arrays: tuple[np.ndarray, ...]) -> list[np.ndarray]:
        ordered = {a.ndim: a for a in arrays}
        return [ordered[r] for r in ranks]

    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        specs = session.get_inputs()
        ranks = [len(i.shape) for i in specs]
        return lambda *arrays: session.run(
            None, {i.name: a for i, a in zip(specs, by_rank(ranks, arrays), strict=True)}
        )[0]
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))

        def serve(*arrays: np.ndarray) -> np.ndarray:
            tensors = [tf.constant(a) for a in sorted(arrays, key=lambda a: -a.ndim)]
            # a two-input graph's signature takes them as one list: [ecg, features]
            return np.asarray(loaded.serve(tensors if len(tensors) > 1 else tensors[0]))

        return serve
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    details = interpreter.get_input_details()
    ranks = [len(d["shape"]) for d in details]

    def run(*arrays: np.ndarray) -> np.ndarray:
        ordered = by_rank(ranks, arrays)
        for detail, a in zip(details, ordered, strict=True):
            interpreter.resize_tensor_input(detail["index"], a.shape)
        interpreter.allocate_tensors()
        for detail, a in zip(details, ordered, strict=True):
            interpreter.set_tensor(detail["index"], a)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

    return run


def check_inputs(ensemble: Ensemble, n: int = 4, seed: int = 0) -> np.ndarray:
    """ECG-sized test inputs: a few sines per lead plus noise, about 1 mV peak to peak."""
    rng = np.random.default_rng(seed)
    length, n_leads = ensemble.input_length, len(ensemble.config.preprocess.leads)
    t = np.arange(length) / ensemble.config.preprocess.fs
    freqs = rng.uniform(0.5, 20, size=(n, 1, n_leads, 3))
    waves = np.sin(2 * np.pi * freqs * t[None, :, None, None]).sum(axis=-1) * 0.2
    return (waves + rng.normal(0, 0.05, size=waves.shape)).astype(np.float32)


def check_features(ensemble: Ensemble, n: int = 4, seed: int = 0) -> np.ndarray | None:
    """Tabular test inputs for a run that takes them: each fold's first training mean
    and spread give the scale; every fourth value is missing (NaN)."""
    if not ensemble.feature_names:
        return None
    rng = np.random.default_rng(seed)
    norm = ensemble.models[0].get_layer("features_norm").get_config()
    mean, std = np.ravel(norm["mean"]), np.sqrt(np.ravel(norm["variance"]))
    x = mean + std * rng.normal(size=(n, len(mean)))
    x[:, ::4] = np.nan
    return x.astype(np.float32)


def _export_and_check(
    ensemble: Ensemble, fmt: str, path: Path, tolerance: float
) -> tuple[float, float, int]:
    """Export the float32 graph to ``path`` and run it with its own runtime.

    Returns:
        The largest difference from the float32 Keras graph, the largest from the
        run's models as loaded, and the number of test inputs.

    Raises:
        ValueError: a wrong output shape, or a difference over ``tolerance``.
    """
    graph = ensemble_graph(ensemble)
    x, f = check_inputs(ensemble), check_features(ensemble)
    arrays = (x,) if f is None else (x, f)
    graph(list(a[:1] for a in arrays) if f is not None else x[:1])  # called once before export
    with warnings.catch_warnings():
        # tf2onnx and the converters warn about their own deprecated internals
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
        graph.export(str(path), format=FORMATS[fmt], verbose=False)
    expected = np.asarray(graph.predict(list(arrays) if f is not None else x, verbose=0))
    # A run trained under mixed precision computes in bfloat16 or float16 when
    # loaded as saved; the float32 graph differs from it by that rounding.
    run_models = np.moveaxis(
        ensemble.predict_proba(x, features=f), 0, 1
    )  # (batch, models, classes)
    got = np.asarray(_runner(fmt, path)(*arrays))
    if got.shape != expected.shape:
        raise ValueError(f"exported model gives shape {got.shape}, expected {expected.shape}")
    difference = float(np.abs(got - expected).max())
    if not difference <= tolerance:
        raise ValueError(
            f"exported {fmt} model differs from the float32 Keras graph by {difference:.2e} "
            f"(tolerance {tolerance:g})"
        )
    return difference, float(np.abs(got - run_models).max()), len(x)


def export_run(
    run: str | Path,
    out: str | Path,
    *,
    fmt: str,
    score: str | Path | None = None,
    tolerance: float = 1e-4,
    ensemble: Ensemble | None = None,
) -> dict[str, Any]:
    """Export a run's ensemble and write its model card (module docstring).

    Args:
        run: a trained run folder whose folds have thresholds.
        out: the output folder (created). An earlier artifact of the same format is
            replaced only once the new one has passed its check.
        fmt: ``"savedmodel"``, ``"onnx"`` or ``"tflite"``.
        score: a ``score.json`` of the run on held-out data, for the card.
        tolerance: largest accepted difference from the Keras models' probabilities.
        ensemble: an already loaded ensemble of ``run``.

    Returns:
        The model card.

    Raises:
        ValueError: an unknown format, another backend than TensorFlow, a beat run,
            an image run or one with a tabular input, a stacked run (its forests are not
            graphs), or an artifact whose outputs differ from the Keras models by more than
            ``tolerance``.
    """
    _check_request(fmt, score)
    ensemble = ensemble or Ensemble.load(run)
    _check_exportable(ensemble, run)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    artifact = out / ARTIFACTS[fmt]
    # Written and checked in a scratch folder first, so that a failed export leaves
    # an earlier artifact of the same format in place.
    with tempfile.TemporaryDirectory(dir=out, prefix=".export-") as scratch:
        staged = Path(scratch) / artifact.name
        difference, run_difference, n_inputs = _export_and_check(ensemble, fmt, staged, tolerance)
        if artifact.is_dir():
            shutil.rmtree(artifact)
        os.replace(staged, artifact)
    check = {
        "n_inputs": n_inputs,
        "max_abs_difference": difference,
        "compared_with": "the float32 Keras graph of the fold models",
        "precision": ensemble.config.training.precision,
        "max_abs_difference_from_run_models": run_difference,
        "tolerance": tolerance,
        "runtime": RUNTIMES[fmt],
    }
    card = _card(ensemble, fmt, artifact, check)
    if score is not None:
        card["test_score"] = held_out_scores(Path(score))
    (out / CARD_JSON).write_text(json.dumps(card, indent=1) + "\n")
    (out / CARD_MD).write_text(card_markdown(card))
    return card


def _check_request(fmt: str, score: str | Path | None) -> None:
    """What can be refused before the run is loaded: the format, the backend, the score."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {tuple(FORMATS)}, got {fmt!r}")
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"exporting needs the TensorFlow backend, this is {keras.backend.backend()}; "
            "run with KERAS_BACKEND=tensorflow"
        )
    if score is not None and not Path(score).is_file():
        raise FileNotFoundError(f"score file not found: {score}")


def _check_exportable(ensemble: Ensemble, run: str | Path) -> None:
    """Refuse a run whose whole ensemble is not a graph a service can feed."""
    samples = ensemble.task.samples
    if not samples.exports or ensemble.config.tabular.features:
        what = (
            f"its samples are {samples.name}"
            if not samples.exports
            else "it takes cache columns as its tabular input"
        )
        raise ValueError(
            f"run {run} cannot be exported: {what}. Export writes whole-record signal runs, "
            "whose tabular input (metadata, baseline features, notes) a service can compute"
        )
    if ensemble.stacks:
        raise ValueError(
            f"run {run} stacks a random forest with each fold model (stack.forest); the "
            "forests are not Keras graphs and are not exported. Use ecgml predict or the web "
            "app, which run the whole stack"
        )


def _input_card(ensemble: Ensemble) -> dict[str, Any]:
    """The card's ``input``: what the graph takes, and how a record becomes it."""
    pre = ensemble.config.preprocess
    return {
        "name": INPUT_NAME,
        "shape": ["batch", ensemble.input_length, len(pre.leads)],
        "dtype": "float32",
        "units": getattr(ensemble.task.reader, "units", "mV"),
        "fs": pre.fs,
        "samples": ensemble.input_length,
        "seconds": ensemble.input_length / pre.fs,
        "lead_order": list(pre.leads),
        "preprocessing": preprocessing_text(pre),
        "long_records": long_records_text(ensemble),
        "short_records": "zero-pad at the end to one window",
        "min_seconds": ensemble.task.samples.min_seconds(pre),
    }


def _training_card(ensemble: Ensemble) -> dict[str, Any]:
    """The card's ``training``: the cache, the backend, fold sizes and validation figures."""
    manifest_path = Path(ensemble.run) / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    folds = manifest.get("folds", {})
    info = ensemble.threshold_info
    return {
        "cache": (manifest.get("cache") or {}).get("path"),
        "backend": manifest.get("backend"),
        "folds": [
            {k: folds.get(str(f), {}).get(k) for k in ("n_train", "n_val")} for f in ensemble.folds
        ],
        "threshold_objective": info[0]["objective"] if info else None,
        "validation_scores": [t.get("validation_score") for t in info],
    }


def _card(ensemble: Ensemble, fmt: str, artifact: Path, check: dict) -> dict[str, Any]:
    """The model card of an exported ensemble (module docstring)."""
    run, target = Path(ensemble.run), ensemble.target
    return {
        "name": f"ecgml ensemble of {run.resolve().name}",
        "ecgml_version": __version__,
        "keras_version": keras.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run": {"path": str(run.resolve()), "folds": ensemble.folds},
        "artifact": {"file": artifact.name, "format": fmt},
        "input": _input_card(ensemble),
        "tabular_input": tabular_card(ensemble),
        "output": {
            "name": OUTPUT_NAME,
            "shape": ["batch", len(ensemble.folds), len(ensemble.class_names)],
            "dtype": "float32",
            "meaning": f"each fold model's {target.activation} probability per class; the "
            "ensemble's score is their mean over the fold axis",
        },
        "task": {"name": ensemble.config.task.name, "target": target.kind},
        "decision": target.card(ensemble.folds, ensemble.thresholds, ensemble.threshold_info),
        "classes": [
            {"code": c, "abbreviation": a}
            for c, a in zip(ensemble.class_names, ensemble.abbreviations, strict=True)
        ],
        "training": _training_card(ensemble),
        "check": check,
    }
