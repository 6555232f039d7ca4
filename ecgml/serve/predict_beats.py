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

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml import __version__
from ecgml.inference.beat_tables import beat_counts
from ecgml.inference.ensemble import Ensemble
from ecgml.inference.explain import METHOD
from ecgml.inference.predictors import Request
from ecgml.inference.records import RecordResult
from ecgml.serve.explanations import write_beat_explanations
from ecgml.serve.predict_outputs import OUTPUTS, SUMMARY, skipped_row


class BeatOutputs:
    """The output folder of a beat run (module docstring)."""

    def __init__(self, ensemble: Ensemble, out: Path, request: Request) -> None:
        self.ensemble, self.out, self.request = ensemble, out, request
        (out / "beats").mkdir(parents=True, exist_ok=True)

    def write(self, result: RecordResult) -> dict[str, Any]:
        """One record's ``beats/RECORD.csv`` (and its explanations); its ``summary.csv`` row."""
        if result.skipped:
            return skipped_row(result)
        rid, prepared, table = result.record_id, result.prepared, result.answer
        table.to_csv(self.out / "beats" / f"{rid}.csv", index=False)
        if result.explanation is not None:
            maps, explained = result.explanation
            config = self.ensemble.config.preprocess
            write_beat_explanations(
                self.out / "explain",
                rid,
                prepared,
                table,
                maps,
                explained,
                fs=config.fs,
                offset=config.beat_offset,
            )
        header = prepared.header
        return {
            "record": rid,
            "path": str(result.path),
            "status": "predicted",
            **beat_counts(table, list(self.ensemble.abbreviations)),
            "seconds": round(header.n_samples / header.fs, 3),
            "fs": header.fs,
            "note": "",
        }

    def finish(
        self, rows: list[dict], *, inputs, n_records: int, started: float, reader_options
    ) -> dict[str, Any]:
        """``summary.csv``; the contents of ``predict.json``."""
        classes = list(self.ensemble.abbreviations)
        columns = ["record", "path", "status", "beats", *classes, "ectopic_share", "seconds", "fs"]
        summary = pd.DataFrame(rows, columns=[*columns, "note"])
        counts = ["beats", *classes]
        summary[counts] = summary[counts].astype("Int64")  # integers, empty for skipped records
        summary.to_csv(self.out / SUMMARY, index=False)
        request = self.request
        return _report(
            self.ensemble,
            n_records,
            rows,
            request.rule,
            request.annotations,
            request.explain,
            started,
        )


OUTPUTS.register("beats", BeatOutputs)


def _report(
    ensemble: Ensemble,
    n_records: int,
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
        "n_records": n_records,
        "n_predicted": n_records - len(skipped),
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
