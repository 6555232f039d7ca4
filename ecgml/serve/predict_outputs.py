"""What ``ecgml predict`` writes for a run that classifies records: each record's
outputs and explanations, ``summary.csv``, ``operating_points.csv`` and
``predict.json`` (:mod:`ecgml.serve.predict` describes them). A beat run's
writer is :mod:`ecgml.serve.predict_beats`; :data:`OUTPUTS` holds both, by what
the run predicts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml import __version__
from ecgml.data.loading import PreparedRecord
from ecgml.data.quality import assess
from ecgml.evaluation.challenge import output_codes, write_output_file
from ecgml.inference.ensemble import Ensemble
from ecgml.inference.explain import METHOD, explained_part
from ecgml.inference.predictors import Request
from ecgml.inference.records import RecordResult
from ecgml.registries import Registry
from ecgml.runs.thresholds import OPERATING_POINTS, operating_points
from ecgml.serve.explanations import write_explanations

SUMMARY, REPORT, EXPLAIN = "summary.csv", "predict.json", "explain"


SUMMARY_COLUMNS = (
    "record",
    "path",
    "status",
    "decided",
    "n_windows",
    "seconds",
    "fs",
    "quality",
    "note",
)


def record_quality(prepared: PreparedRecord) -> str:
    """``summary.csv``'s ``quality``: ``good``, or the problems found
    (:mod:`ecgml.data.quality`, ``flat:V3;noise:II``); empty for an image."""
    if prepared.signal is None or not prepared.header.fs:
        return ""
    header = prepared.header
    return assess(prepared.signal, header.fs, header.lead_names, header.units).label


def write_tables(ensemble: Ensemble, rows: list[dict[str, Any]], out: Path) -> bool:
    """``summary.csv`` and, where the run has thresholds, ``operating_points.csv``;
    whether it wrote the latter."""
    columns = [*SUMMARY_COLUMNS, *(f"p_{a}" for a in ensemble.abbreviations)]
    pd.DataFrame(rows, columns=columns).to_csv(out / SUMMARY, index=False)
    points = operating_points(ensemble.threshold_info)
    if points is not None:
        points.to_csv(out / OPERATING_POINTS, index=False)
    return points is not None


def skipped_row(result: RecordResult) -> dict[str, Any]:
    """A skipped record's line of ``summary.csv``."""
    return {
        "record": result.record_id,
        "path": str(result.path),
        "status": "skipped",
        "note": result.problem,
    }


def record_row(ensemble: Ensemble, path: Path, prepared: PreparedRecord, prediction) -> dict:
    """A predicted record's line of ``summary.csv``."""
    header = prepared.header
    probabilities = zip(ensemble.abbreviations, prediction.y_score, strict=True)
    return {
        "record": header.record_id,
        "path": str(path),
        "status": "predicted",
        "decided": " ".join(prediction.decided),
        "n_windows": len(prepared.windows),
        # an image file has no length
        "seconds": round(header.n_samples / header.fs, 3) if header.fs else None,
        "fs": header.fs,
        "quality": record_quality(prepared),
        "note": "; ".join(prediction.warnings),
        **{f"p_{a}": round(float(p), 6) for a, p in probabilities},
    }


def predict_report(
    ensemble: Ensemble,
    inputs,
    n_records: int,
    rows: list[dict],
    *,
    has_points: bool,
    started: float,
    reader_options,
    request: Request,
) -> dict[str, Any]:
    """``predict.json``: the run, rule and settings, and the records skipped and why."""
    rule, min_votes, explain = request.rule, request.min_votes, request.explain
    skipped = [{"path": r["path"], "problem": r["note"]} for r in rows if r["status"] == "skipped"]
    n_models, pre = len(ensemble.folds), ensemble.config.preprocess
    thresholds = ensemble.threshold_info[0]["objective"] if ensemble.threshold_info else None
    explained = None
    if explain is not None:
        explained = {
            "folder": EXPLAIN,
            "classes": list(explain) or "decided",
            "method": METHOD,
            "explains": explained_part(ensemble),
        }
    reader = ensemble.task.reader
    return {
        "ecgml_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 1),
        "run": {"path": str(Path(ensemble.run).resolve()), "folds": ensemble.folds},
        "inputs": [str(Path(i).resolve()) for i in inputs],
        "n_records": n_records,
        "n_predicted": n_records - len(skipped),
        "n_skipped": len(skipped),
        "skipped": skipped,
        "ensemble": {
            **ensemble.target.report(n_models, rule, min_votes),
            "thresholds": thresholds,
            "operating_points": OPERATING_POINTS if has_points else None,
        },
        "explain": explained,
        "input": {
            "reader": {
                "name": ensemble.config.task.reader,
                "options": reader.options,
                "changed": dict(reader_options or {}),
            },
            "leads": list(pre.leads),
            "missing_leads": request.missing_leads,
            "fs": pre.fs,
            "window_seconds": pre.window / pre.fs,
            "min_seconds": ensemble.task.samples.min_seconds(pre),
            "long_records": "every window predicted, probabilities averaged",
            "short_records": "zero-padded to one window",
        },
        "classes": [
            {"code": c, "abbreviation": a}
            for c, a in zip(ensemble.class_names, ensemble.abbreviations, strict=True)
        ],
    }


class RecordOutputs:
    """The output folder of a run that classifies records (:mod:`ecgml.serve.predict`)."""

    def __init__(self, ensemble: Ensemble, out: Path, request: Request) -> None:
        self.ensemble, self.out, self.request = ensemble, out, request
        (out / "outputs").mkdir(parents=True, exist_ok=True)
        self.codes, self.source = output_codes(ensemble.class_names)

    def write(self, result: RecordResult) -> dict[str, Any]:
        """One record's ``outputs/RECORD.csv`` (and explanations); its ``summary.csv`` row."""
        if result.skipped:
            return skipped_row(result)
        rid, prediction, source = result.record_id, result.answer, self.source
        write_output_file(
            self.out / "outputs" / f"{rid}.csv",
            rid,
            self.codes,
            prediction.y_pred[source],
            prediction.y_score[source],
        )
        if result.explanation is not None:
            write_explanations(self.out / EXPLAIN, rid, result.explanation, result.prepared)
        return record_row(self.ensemble, result.path, result.prepared, prediction)

    def finish(
        self, rows: list[dict], *, inputs, n_records: int, started: float, reader_options
    ) -> dict[str, Any]:
        """``summary.csv``, ``operating_points.csv``; the contents of ``predict.json``."""
        has_points = write_tables(self.ensemble, rows, self.out)
        return predict_report(
            self.ensemble,
            inputs,
            n_records,
            rows,
            has_points=has_points,
            started=started,
            reader_options=reader_options,
            request=self.request,
        )


# the writer of each kind of answer (``SampleKind.predicts``)
OUTPUTS: Registry[type] = Registry("predicts", {"records": RecordOutputs})
