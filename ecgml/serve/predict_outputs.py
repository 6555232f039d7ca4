"""What ``ecgml predict`` writes besides each record's outputs: ``summary.csv``'s rows
and columns, ``operating_points.csv`` and ``predict.json`` (:mod:`ecgml.serve.predict`
describes them)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml import __version__
from ecgml.data.loading import PreparedRecord
from ecgml.data.quality import assess
from ecgml.inference.ensemble import Ensemble
from ecgml.inference.explain import METHOD
from ecgml.runs.thresholds import OPERATING_POINTS, operating_points

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
    rule,
    min_votes,
    missing_leads,
    explain,
    **_,
) -> dict[str, Any]:
    """``predict.json``: the run, rule and settings, and the records skipped and why."""
    skipped = [{"path": r["path"], "problem": r["note"]} for r in rows if r["status"] == "skipped"]
    n_models, pre = len(ensemble.folds), ensemble.config.preprocess
    thresholds = ensemble.threshold_info[0]["objective"] if ensemble.threshold_info else None
    explained = None
    if explain is not None:
        explained = {"folder": EXPLAIN, "classes": list(explain) or "decided", "method": METHOD}
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
            "missing_leads": missing_leads,
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
