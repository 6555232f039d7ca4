"""Prediction latency and throughput of a run's whole ensemble.

    python bench/predict_latency.py --run RUN --record RECORD.hea [--batch DIR]

Single record: read the record, preprocess it, run every fold model, apply the
thresholds and the vote, timed end to end ``--repeats`` times after ``--warmup``
untimed calls; prints p50 and p95 and the median of each stage. Batch mode:
``ecgml predict``'s own loop over every record of ``--batch`` (outputs written to
a temporary folder), as records/s and windows/s of a second pass; the first pass
also traces the models for the batch shapes and is reported apart. Loading the
ensemble is timed apart. Run it on an otherwise idle machine; it is a benchmark,
not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from ecgml import __version__
from ecgml.data.samples import load_for_prediction
from ecgml.inference.ensemble import Ensemble
from ecgml.models.registry import count_flops
from ecgml.serve.predict import predict_records, read_summary


def _single(ensemble: Ensemble, record: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    prepared = load_for_prediction(record, ensemble.config.preprocess)
    t1 = time.perf_counter()
    fold_scores = ensemble.predict_windows([prepared.windows])
    t2 = time.perf_counter()
    ensemble.decide(fold_scores)
    t3 = time.perf_counter()
    return {"read_preprocess": t1 - t0, "models": t2 - t1, "vote": t3 - t2, "total": t3 - t0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a run with thresholds")
    parser.add_argument("--record", type=Path, required=True, help="a 10 s 12-lead .hea")
    parser.add_argument("--batch", type=Path, help="a folder of records for batch mode")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--out", type=Path, help="also write the figures here (JSON)")
    args = parser.parse_args(argv)
    if args.repeats < 2 or args.warmup < 1:
        parser.error("--repeats must be at least 2 and --warmup at least 1")
    for path in (args.run, args.record, args.batch):
        if path is not None and not path.exists():
            parser.error(f"not found: {path}")

    started = time.perf_counter()
    ensemble = Ensemble.load(args.run)
    load_s = time.perf_counter() - started
    model = ensemble.models[0]
    print(
        f"{len(ensemble.models)} models of {model.count_params():,} parameters, "
        f"{count_flops(model) / 1e9:.2f} GFLOPs per window each; loaded in {load_s:.1f} s"
    )
    for _ in range(args.warmup):
        _single(ensemble, args.record)
    times = [_single(ensemble, args.record) for _ in range(args.repeats)]
    total_ms = 1000 * np.array([t["total"] for t in times])
    stages = {k: round(1000 * float(np.median([t[k] for t in times])), 2) for k in times[0]}
    result = {
        "run": str(args.run.resolve()),
        "record": str(args.record.resolve()),
        "n_models": len(ensemble.models),
        "parameters_per_model": model.count_params(),
        "gflops_per_window_per_model": round(count_flops(model) / 1e9, 3),
        "precision": ensemble.config.training.precision,
        "load_seconds": round(load_s, 2),
        "single": {
            "repeats": args.repeats,
            "warmup": args.warmup,
            "p50_ms": round(float(np.percentile(total_ms, 50)), 1),
            "p95_ms": round(float(np.percentile(total_ms, 95)), 1),
            "mean_ms": round(float(total_ms.mean()), 1),
            "median_stage_ms": stages,
        },
    }
    s = result["single"]
    print(
        f"one record, {args.repeats} runs after {args.warmup} warm-up: p50 {s['p50_ms']} ms, "
        f"p95 {s['p95_ms']} ms (median read+preprocess {stages['read_preprocess']} ms, "
        f"models {stages['models']} ms, vote {stages['vote']} ms)"
    )
    if args.batch is not None:
        # Two passes: the first also traces each model for the batch shapes it meets.
        passes = []
        for _ in range(2):
            with tempfile.TemporaryDirectory(prefix="ecgml-latency-") as out:
                t0 = time.perf_counter()
                report = predict_records(
                    args.run, [args.batch], out, progress=False, ensemble=ensemble
                )
                seconds = time.perf_counter() - t0
                n_windows = int(read_summary(out)["n_windows"].sum())
            passes.append(seconds)
        result["batch"] = {
            "folder": str(args.batch.resolve()),
            "n_records": report["n_records"],
            "n_predicted": report["n_predicted"],
            "n_windows": n_windows,
            "seconds_first_pass": round(passes[0], 2),
            "seconds": round(passes[1], 2),
            "records_per_second": round(report["n_predicted"] / passes[1], 2),
            "windows_per_second": round(n_windows / passes[1], 2),
        }
        b = result["batch"]
        print(
            f"batch: {b['n_predicted']} of {b['n_records']} records ({n_windows} windows) in "
            f"{b['seconds']} s, {b['records_per_second']} records/s, "
            f"{b['windows_per_second']} windows/s (first pass, with tracing: "
            f"{b['seconds_first_pass']} s)"
        )
    result["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "ecgml": __version__,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
