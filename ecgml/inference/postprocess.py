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

from ecgml.data.cache import META, REPORT, Cache, prepare_cache
from ecgml.evaluation import plots
from ecgml.evaluation.calibration import calibration_figures
from ecgml.evaluation.challenge import RewardMatrix
from ecgml.evaluation.report import json_safe
from ecgml.inference.ensemble import VOTE_RULES, Ensemble
from ecgml.inference.predictors import predictor_of
from ecgml.inference.score_report import score_report

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
        [data],
        out / "cache",
        preprocess,
        ensemble.config.labels,
        jobs=jobs,
        reader=task.reader.name,
        reader_options=task.reader.options,
        samples=task.samples.name,
        baseline=ensemble.config.baseline_features,
        progress=progress,
    )
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
    rule = ensemble.target.check_options(rule, min_votes, len(ensemble.folds), run=run)
    if all_windows is None:
        all_windows = ensemble.config.task.all_windows
    if not ensemble.task.scorer.uses_weights:
        weights, weights_source = None, None
    # Checked before anything is written: a bad option costs no preparing or predicting.
    out.mkdir(parents=True, exist_ok=True)
    cache, skipped = _open_test_data(
        data, out, ensemble, all_windows=all_windows, jobs=jobs, progress=progress
    )
    _check_reader(cache, ensemble)
    cache, n_training_part = _scored_part(cache, ensemble, progress)
    if len(cache) == 0:
        raise ValueError(f"no usable records in {data} ({len(skipped)} could not be read)")
    label_codes = [dx.split(",") if dx else [] for dx in cache.index["dx"]]
    y_true = ensemble.encoder.encode_many(label_codes)
    fold_scores = ensemble.predict_cache(
        cache, all_windows=all_windows, crops=crops, progress=progress
    )
    scoring = _Scoring(ensemble, y_true, label_codes, weights)
    models, y_score, y_pred = scoring.models(fold_scores, rule, min_votes, _groups(cache, ensemble))
    _write_outputs(out, ensemble, cache, y_true, fold_scores, y_score, y_pred)
    title = f"ensemble of {len(ensemble.folds)} folds on {data.name} ({len(cache)} records)"
    _plot(out, ensemble, y_true, y_score, y_pred, title)
    settings = {"rule": rule, "min_votes": min_votes, "all_windows": all_windows, "crops": crops}
    data_part = {"path": data, "skipped": skipped, "n_training_part": n_training_part}
    score = score_report(ensemble, cache, y_true, models, data_part, settings, weights_source)
    score = json_safe(score | {"seconds": round(time.time() - started, 1)})
    (out / SCORE).write_text(json.dumps(score, indent=1) + "\n")
    return score


def _scored_part(cache: Cache, ensemble: Ensemble, progress: bool) -> tuple[Cache, int]:
    """The part of the test cache that is scored (a standard split's test part, else all),
    and how many samples of the training part that leaves out."""
    test = ensemble.task.split.held_out(cache.index, ensemble.task.reader)
    if test is None:
        return cache, 0
    n_training_part = int((~test).sum())
    cache = cache.subset(test)
    if progress:
        print(
            f"scoring the standard test part: {len(cache)} samples "
            f"({n_training_part} of the training part left out)"
        )
    return cache, n_training_part


def _groups(cache: Cache, ensemble: Ensemble) -> list[str] | None:
    """What bootstrap draws resample: beats with their patient (or record), never one by
    one; records one by one (``None``)."""
    if ensemble.task.samples.per_record:
        return None
    patients = cache.index["patient_id"].fillna("").astype(str)
    return [p or path for p, path in zip(patients, cache.index["path"].astype(str), strict=True)]


class _Scoring:
    """The task scorer's figures, with calibration, of the test labels."""

    def __init__(self, ensemble: Ensemble, y_true, label_codes, weights) -> None:
        self.ensemble, self.y_true = ensemble, y_true
        self.label_codes, self.weights = label_codes, weights

    def evaluate(self, y_score: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
        e = self.ensemble
        figures = e.task.scorer.score(
            self.y_true,
            y_score,
            y_pred,
            e.class_names,
            e.encoder.abbreviations,
            label_codes=self.label_codes,
            weights=self.weights,
        )
        return figures | {"calibration": calibration_figures(self.y_true, y_score, e.class_names)}

    def models(self, fold_scores, rule, min_votes, groups) -> tuple[dict, np.ndarray, np.ndarray]:
        """Every fold model's figures, the ensemble's (with bootstrap intervals) and the
        ensemble's under the other rule; the ensemble's ``y_score`` and ``y_pred``."""
        e = self.ensemble
        fold_preds = e.fold_decisions(fold_scores)
        models = {
            f"fold_{k}": self.evaluate(fold_scores[m], fold_preds[m]) for m, k in enumerate(e.folds)
        }
        y_pred, y_score = e.decide(fold_scores, rule=rule, min_votes=min_votes)
        models["ensemble"] = self.evaluate(y_score, y_pred)
        models["ensemble"]["confidence_intervals"] = e.task.scorer.confidence_intervals(
            self.y_true,
            y_score,
            y_pred,
            e.class_names,
            e.encoder.abbreviations,
            label_codes=self.label_codes,
            weights=self.weights,
            groups=groups,
        )
        other = next(r for r in VOTE_RULES if r != rule)
        other_pred, _ = e.decide(fold_scores, rule=other)
        models[f"ensemble_{other}"] = self.evaluate(y_score, other_pred)
        return models, y_score, y_pred


def _write_outputs(
    out: Path, ensemble: Ensemble, cache: Cache, y_true, fold_scores, y_score, y_pred
) -> None:
    """Each record's outputs (a beat task: its beats) and ``predictions.npz``."""
    record_ids = cache.index["record_id"].tolist()
    predictor_of(ensemble).write_scored(out, ensemble, cache.index, y_score, y_pred)
    np.savez_compressed(
        out / "predictions.npz",
        record_ids=np.array(record_ids, dtype=str),
        y_true=y_true,
        fold_scores=fold_scores,
        fold_preds=ensemble.fold_decisions(fold_scores),
        y_score=y_score,
        y_pred=y_pred,
    )


def _plot(out: Path, ensemble: Ensemble, y_true, y_score, y_pred, title: str) -> None:
    """ROC, PR, reliability and confusion plots of the ensemble."""
    names, abbreviations = ensemble.class_names, ensemble.encoder.abbreviations
    labels = [f"{a} ({c})" for a, c in zip(abbreviations, names, strict=True)]
    plots.plot_roc_grid(y_true, y_score, labels, out / "roc.png", title=title)
    plots.plot_pr_grid(y_true, y_score, labels, out / "pr.png", title=title)
    plots.plot_calibration(y_true, y_score, labels, out / "calibration.png", title=title)
    plots.plot_confusion(
        ensemble.target.confusion, y_true, y_pred, labels, out / "confusion.png", title=title
    )
