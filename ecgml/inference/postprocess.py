"""``postprocessing.py``: score a run's ensemble on a held-out test set.

Writes into the output folder:

* ``score.json``: per class and overall figures, from the task's scorer
  (:mod:`ecgml.evaluation.scorers`), for each fold model, the ensemble and the
  ensemble under the other rule; for CinC 2020 the challenge's own scoring of
  the same outputs; thresholds (multi-label runs); positives per class; which
  run and data produced it; the records left out and why.
* ``roc.png``, ``pr.png``, ``calibration.png`` (reliability diagrams): the
  ensemble, one panel per class with positive test records, most positives
  first, the other classes named in one line; ``confusion.png``: a 2x2 matrix
  per class (multi-label) or one class-by-class matrix (multi-class).
* in ``score.json``, each model's ``calibration``: Brier score and expected
  calibration error per class and their macro means
  (:mod:`ecgml.evaluation.calibration`).
* ``outputs/RECORD.csv``: the ensemble's outputs in the challenge format; for a
  beat task instead ``beats/RECORD.csv``, one row per beat, and
  ``beats/summary.csv`` (:mod:`ecgml.inference.beat_tables`).
* ``predictions.npz``: record ids, labels, each fold's and the ensemble's scores
  and decisions.
* ``cache/``: the prepared test records, when ``data`` is a folder of records.

A run whose task uses the standard split (``task.split = "standard"``) is scored
on the test part of ``data`` only.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ecgml import __version__
from ecgml.data.cache import META, REPORT, Cache, prepare_cache
from ecgml.evaluation import plots
from ecgml.evaluation.calibration import calibration_figures
from ecgml.evaluation.challenge import RewardMatrix, output_codes, write_output_file
from ecgml.evaluation.report import json_safe
from ecgml.inference.beat_tables import write_beat_tables
from ecgml.inference.ensemble import VOTE_RULES, Ensemble
from ecgml.training.layout import MANIFEST

SCORE = "score.json"


def _open_test_data(
    data: Path, out: Path, ensemble: Ensemble, *, all_windows: bool, jobs: int, progress: bool
) -> tuple[Cache, list[dict[str, str]]]:
    """The test cache, and the records that could not be used, with the reason."""
    if not data.exists():
        raise FileNotFoundError(f"test data {data} not found")
    preprocess = ensemble.config.preprocess
    if (data / META).is_file():
        cache = Cache(data)
        report = data / REPORT
        skipped = json.loads(report.read_text())["skipped"] if report.is_file() else []
        ours = dataclasses.asdict(cache.preprocess)
        theirs = dataclasses.asdict(preprocess)
        differ = [k for k in ours if k != "window_policy" and ours[k] != theirs[k]]
        if differ:
            raise ValueError(
                f"cache {data} was prepared with other settings than the run "
                f"({', '.join(f'{k}: {ours[k]} vs {theirs[k]}' for k in differ)}); "
                "pass the folder of records instead, or prepare it with the run's config"
            )
        return cache, skipped
    task = ensemble.task
    preprocess = task.samples.test_preprocess(preprocess, all_windows)
    report = prepare_cache(
        [data], out / "cache", preprocess, ensemble.config.labels, jobs=jobs,
        reader=task.reader.name, reader_options=task.reader.options, samples=task.samples.name,
        baseline=ensemble.config.baseline_features, progress=progress,
    )  # fmt: skip
    return Cache(out / "cache"), report["skipped"]


def _check_reader(cache: Cache, ensemble: Ensemble) -> None:
    task, reader = ensemble.config.task, ensemble.task.reader
    if (cache.reader, cache.reader_options) != (reader.name, reader.options):
        raise ValueError(
            f"cache {cache.path} was read by the {cache.reader!r} reader with options "
            f"{cache.reader_options}; the run's task ({task.name}) reads with "
            f"{reader.name!r} and {reader.options}"
        )


def evaluate_on_data(
    run: str | Path,
    data: str | Path,
    out: str | Path,
    *,
    rule: str | None = None,
    min_votes: int | None = None,
    weights: RewardMatrix | None = None,
    weights_source: str | None = None,
    all_windows: bool | None = None,
    crops: int = 1,
    jobs: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Score a run's ensemble on held-out data and write the output folder.

    Args:
        run: a trained run folder whose folds have thresholds.
        data: a cache made by ``ecgml prepare``, or a folder of records (prepared
            into ``out/cache`` with the run's settings).
        out: the output folder (created).
        rule: ``"majority"`` or ``"mean"`` (:mod:`ecgml.targets.decisions`);
            ``None`` for the run's target kind's default.
        min_votes: multi-label votes needed under ``"majority"``; default a strict
            majority.
        weights: reward matrix for the challenge metric; ``None`` leaves it out.
            Only scorers that use one (CinC 2020) take it.
        weights_source: where ``weights`` came from, for the report.
        all_windows: average over every window of long records (and cache them
            all); ``None`` for the task's ``all_windows``.
        crops: evenly spaced crops per window to average, when the model input is
            shorter than the cache window.
        jobs: worker processes to read records.
        progress: progress bars.

    Returns:
        The contents of ``score.json``.
    """
    if rule is not None and rule not in VOTE_RULES:
        raise ValueError(f"rule must be one of {VOTE_RULES}, got {rule!r}")
    if crops < 1:
        raise ValueError(f"crops must be at least 1, got {crops}")
    started = time.time()
    run, data, out = Path(run), Path(data), Path(out)
    ensemble = Ensemble.load(run)
    target, task, resolved = ensemble.target, ensemble.config.task, ensemble.task
    n_models = len(ensemble.folds)
    rule = target.check_options(rule, min_votes, n_models, run=run)
    if all_windows is None:
        all_windows = task.all_windows
    scorer = resolved.scorer
    if not scorer.uses_weights:
        weights, weights_source = None, None
    # Checked before anything is written: a bad option costs no preparing or predicting.
    out.mkdir(parents=True, exist_ok=True)
    cache, skipped = _open_test_data(
        data, out, ensemble, all_windows=all_windows, jobs=jobs, progress=progress
    )
    _check_reader(cache, ensemble)
    n_training_part = 0
    test = resolved.split.held_out(cache.index, resolved.reader)
    if test is not None:
        n_training_part = int((~test).sum())
        cache = cache.subset(test)
        if progress:
            print(f"scoring the standard test part: {len(cache)} samples "
                  f"({n_training_part} of the training part left out)")  # fmt: skip
    if len(cache) == 0:
        raise ValueError(f"no usable records in {data} ({len(skipped)} could not be read)")
    label_codes = [dx.split(",") if dx else [] for dx in cache.index["dx"]]
    y_true = ensemble.encoder.encode_many(label_codes)
    fold_scores = ensemble.predict_cache(
        cache, all_windows=all_windows, crops=crops, progress=progress
    )
    names, abbreviations = ensemble.class_names, ensemble.encoder.abbreviations
    fold_preds = ensemble.fold_decisions(fold_scores)

    def evaluate(y_score: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
        figures = scorer.score(
            y_true, y_score, y_pred, names, abbreviations, label_codes=label_codes,
            weights=weights,
        )  # fmt: skip
        return figures | {"calibration": calibration_figures(y_true, y_score, names)}

    models = {
        f"fold_{k}": evaluate(fold_scores[m], fold_preds[m]) for m, k in enumerate(ensemble.folds)
    }
    y_pred, y_score = ensemble.decide(fold_scores, rule=rule, min_votes=min_votes)
    models["ensemble"] = evaluate(y_score, y_pred)
    # beats are resampled with their patient (or record), never one by one
    groups = None
    if not resolved.samples.per_record:
        index = cache.index
        groups = [p or path for p, path in zip(index["patient_id"].fillna("").astype(str),
                                               index["path"].astype(str), strict=True)]  # fmt: skip
    models["ensemble"]["confidence_intervals"] = scorer.confidence_intervals(
        y_true, y_score, y_pred, names, abbreviations, label_codes=label_codes, weights=weights,
        groups=groups,
    )  # fmt: skip
    other = next(r for r in VOTE_RULES if r != rule)
    other_pred, _ = ensemble.decide(fold_scores, rule=other)
    models[f"ensemble_{other}"] = evaluate(y_score, other_pred)

    record_ids = cache.index["record_id"].tolist()
    if resolved.samples.predicts == "beats":
        write_beat_tables(out / "beats", cache.index, y_score, y_pred, abbreviations)
    else:
        outputs = out / "outputs"
        outputs.mkdir(exist_ok=True)
        codes, source = output_codes(names)
        for i, record in enumerate(record_ids):
            write_output_file(
                outputs / f"{record}.csv", record, codes, y_pred[i, source], y_score[i, source]
            )
    np.savez_compressed(
        out / "predictions.npz", record_ids=np.array(record_ids, dtype=str), y_true=y_true,
        fold_scores=fold_scores, fold_preds=fold_preds, y_score=y_score, y_pred=y_pred,
    )  # fmt: skip
    labels = [f"{a} ({c})" for a, c in zip(abbreviations, names, strict=True)]
    title = f"ensemble of {len(ensemble.folds)} folds on {data.name} ({len(cache)} records)"
    plots.plot_roc_grid(y_true, y_score, labels, out / "roc.png", title=title)
    plots.plot_pr_grid(y_true, y_score, labels, out / "pr.png", title=title)
    plots.plot_calibration(y_true, y_score, labels, out / "calibration.png", title=title)
    plots.plot_confusion(target.confusion, y_true, y_pred, labels, out / "confusion.png",
                         title=title)  # fmt: skip

    manifest_path = run / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    thresholds = None
    if target.needs_thresholds:
        members = list(zip(ensemble.folds, ensemble.threshold_info, strict=True))
        first = ensemble.threshold_info[0]
        thresholds = {
            "objective": first["objective"],
            "beta": first.get("beta"),
            "per_fold": {f"fold_{k}": t["thresholds"] for k, t in members},
            "fallback_classes": {f"fold_{k}": t["fallback_classes"] for k, t in members},
        }
    score = {
        "ecgml_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 1),
        "run": {
            "path": str(run.resolve()),
            "folds": ensemble.folds,
            "training_cache": manifest.get("cache"),
            "backend": manifest.get("backend"),
            "task": task.name,
            "target": target.kind,
            "scorer": scorer.name,
        },
        "data": {
            "path": str(data.resolve()),
            "cache": str(cache.path.resolve()),
            "cache_id": cache.cache_id,
            "n_records": len(cache),
            "split": task.split,
            "n_training_part_left_out": n_training_part,
            "n_excluded": len(skipped),
            "excluded": skipped,
            "sources": cache.index["source"].value_counts().to_dict(),
        },
        "ensemble": {
            **target.report(n_models, rule, min_votes),
            "score": "mean of the fold models' probabilities",
            "all_windows": all_windows,
            "crops": crops,
            "window_stride": task.window_stride,
            "window_aggregate": task.window_aggregate,
            "stack": {
                "forest": True,
                "deep_weights": {
                    f"fold_{k}": s.weights_.tolist()
                    for k, s in zip(ensemble.folds, ensemble.stacks, strict=True)
                },
            }
            if ensemble.stacks
            else None,
        },
        "weights": weights_source,
        "classes": [
            {"code": c, "abbreviation": a, "n_positive": int(n)}
            for c, a, n in zip(names, abbreviations, y_true.sum(axis=0), strict=True)
        ],
        "thresholds": thresholds,
        "models": models,
    }
    score = json_safe(score)
    (out / SCORE).write_text(json.dumps(score, indent=1) + "\n")
    return score
