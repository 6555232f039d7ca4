"""``bench/mitbih.py --speed``: how fast beats are prepared and a 30-minute record
is predicted."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

from ecgml.config import load_config
from ecgml.data.cache import prepare_cache

CONFIG = Path(__file__).resolve().parent.parent / "configs" / "mitbih.json"


def measure_speed(work: Path, data: Path, jobs: int) -> dict[str, Any]:
    """Beats per second of a fresh ``prepare``; seconds per 30-minute record of predict."""
    import shutil

    from ecgml.inference.ensemble import Ensemble
    from ecgml.serve.predict import predict_records

    config = load_config(CONFIG)
    fresh = work / "speed_cache"
    shutil.rmtree(fresh, ignore_errors=True)
    started = time.time()
    report = prepare_cache(
        [data],
        fresh,
        config.preprocess,
        config.labels,
        jobs=jobs,
        reader=config.task.reader,
        progress=False,
    )
    seconds = time.time() - started
    shutil.rmtree(fresh)
    run = work / "run_cnn-inter"
    if not run.is_dir():
        raise SystemExit("--speed predicts with the cnn-inter run; run --rows cnn-inter first")
    started = time.time()
    ensemble = Ensemble.load(run)
    load_seconds = time.time() - started
    predict = {}
    for record in ("100", "208"):
        for source in (None, "atr"):
            out = work / "speed_predict"
            started = time.time()
            result = predict_records(
                run,
                [data / f"{record}.hea"],
                out,
                annotations=source,
                progress=False,
                ensemble=ensemble,
            )
            predict[f"{record}, {'annotated' if source else 'detected'} beats"] = {
                "seconds": round(time.time() - started, 2),
                "beats": result["n_beats"],
            }
            shutil.rmtree(out)
    return {
        "prepare": {
            "records": report["found"],
            "beats": report["beats"],
            "jobs": jobs,
            "seconds": round(seconds, 2),
            "beats_per_second": round(report["beats"] / seconds),
        },
        "predict_30_min_record": predict,
        "ensemble_load_seconds": round(load_seconds, 2),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
