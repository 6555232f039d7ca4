"""``ecgml predict`` for a beat run: every beat of every record, classified.

Writes into the output folder:

* ``beats/RECORD.csv``: one row per beat: its sample, time in seconds, decided
  class, annotated class (with ``--annotations``) and each class's probability;
* ``summary.csv``: one line per record given: its path, whether it was predicted,
  its number of beats, the count of each decided class, the share of ectopic
  beats (S, V, F), its length and rate, and the reason a record was skipped;
* ``predict.json``: which run, rule and beat source produced them, and the
  records that could not be used.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from ecgml import __version__
from ecgml.data.records import RecordError
from ecgml.inference.beat_tables import beat_counts, predict_beat_table
from ecgml.inference.ensemble import Ensemble
from ecgml.inference.explain import METHOD, explain_beats
from ecgml.serve.explanations import write_beat_explanations
from ecgml.serve.predict_outputs import REPORT, SUMMARY


def predict_beat_records(
    ensemble: Ensemble,
    headers: Sequence[Path],
    out: Path,
    *,
    rule: str,
    annotations: str | None = None,
    explain: Sequence[str] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Predict the beats of every record and write the output folder (module docstring).

    Args:
        ensemble: a beat run's ensemble.
        headers: the records' header files.
        out: the output folder (created).
        rule: the multi-class ensemble rule (``"mean"`` or ``"majority"``).
        annotations: the annotation file extension whose beats to classify
            (``"atr"``); ``None`` finds beats with wfdb's XQRS detector.
        explain: also explain every beat into ``out/explain/``
            (:func:`ecgml.serve.explanations.write_beat_explanations`): ``[]`` for
            each beat's decided class, or the class to explain for every beat;
            ``None``: no explanations.
        progress: show a progress bar.

    Returns:
        The contents of ``predict.json``.
    """
    started = time.time()
    classes = list(ensemble.abbreviations)
    (out / "beats").mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    seen: dict[str, Path] = {}
    bar = tqdm(headers, desc="predict", unit="record", disable=not progress)
    for path in bar:
        rid = path.stem
        try:
            if rid in seen:
                raise RecordError(
                    rid, f"record id already predicted from {seen[rid]}; outputs are named by id"
                )
            rows.append(_predict_record(ensemble, path, out, rule, annotations, explain))
        except RecordError as exc:
            rows.append(
                {"record": rid, "path": str(path), "status": "skipped", "note": exc.problem}
            )
            bar.write(f"skipped {path}: {exc.problem}")
            continue
        seen[rid] = path
    columns = ["record", "path", "status", "beats", *classes, "ectopic_share", "seconds", "fs"]
    summary = pd.DataFrame(rows, columns=[*columns, "note"])
    counts = ["beats", *classes]
    summary[counts] = summary[counts].astype("Int64")  # integers, empty for skipped records
    summary.to_csv(out / SUMMARY, index=False)
    report = _report(ensemble, headers, rows, rule, annotations, explain, started)
    (out / REPORT).write_text(json.dumps(report, indent=1) + "\n")
    return report


def _predict_record(
    ensemble: Ensemble,
    path: Path,
    out: Path,
    rule: str,
    annotations: str | None,
    explain: Sequence[str] | None,
) -> dict[str, Any]:
    """One record's beats into ``out/beats/RECORD.csv`` (and its explanations); its
    ``summary.csv`` row.

    Raises:
        RecordError: the record cannot be read or has no beats.
    """
    config = ensemble.config.preprocess
    prepared = ensemble.task.samples.read_for_prediction(
        path, config, annotations=annotations, features=ensemble.feature_names
    )
    rid, header = path.stem, prepared.header
    table = predict_beat_table(ensemble, prepared, rule=rule)
    table.to_csv(out / "beats" / f"{rid}.csv", index=False)
    if explain is not None:
        maps, explained = explain_beats(
            ensemble, prepared, list(table["class"]), classes=list(explain)
        )
        write_beat_explanations(
            out / "explain",
            rid,
            prepared,
            table,
            maps,
            explained,
            fs=config.fs,
            offset=config.beat_offset,
        )
    return {
        "record": rid,
        "path": str(path),
        "status": "predicted",
        **beat_counts(table, list(ensemble.abbreviations)),
        "seconds": round(header.n_samples / header.fs, 3),
        "fs": header.fs,
        "note": "",
    }


def _report(
    ensemble: Ensemble,
    headers: Sequence[Path],
    rows: list[dict[str, Any]],
    rule: str,
    annotations: str | None,
    explain: Sequence[str] | None,
    started: float,
) -> dict[str, Any]:
    """A beat run's ``predict.json``."""
    config = ensemble.config.preprocess
    skipped = [{"path": r["path"], "problem": r["note"]} for r in rows if r["status"] == "skipped"]
    beats = (
        f"the beat annotations of RECORD.{annotations}"
        if annotations
        else "found by wfdb's XQRS detector on the model's lead"
    )
    explained = None
    if explain is not None:
        explained = {"folder": "explain", "classes": list(explain) or "decided", "method": METHOD}
    return {
        "ecgml_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.time() - started, 1),
        "run": {"path": str(Path(ensemble.run).resolve()), "folds": ensemble.folds},
        "n_records": len(headers),
        "n_predicted": len(headers) - len(skipped),
        "n_skipped": len(skipped),
        "n_beats": int(sum(r.get("beats", 0) for r in rows)),
        "skipped": skipped,
        "ensemble": {
            "rule": rule,
            "decision": ensemble.target.describe(len(ensemble.folds), rule, None),
        },
        "input": {
            "lead": config.leads[0],
            "fs": config.fs,
            "beat_window_seconds": config.window / config.fs,
            "seconds_before_r_peak": config.beat_offset / config.fs,
            "beats": beats,
            "features": list(ensemble.feature_names),
        },
        "classes": list(ensemble.abbreviations),
        "explain": explained,
    }
