"""Real-data benchmark on ``../shared/data/cinc2017``: ResECG with the seed's three
losses and a feature forest, out of fold on 6,028 records.

    python bench/cinc2017.py --models features,resecg          # rows, in the background
    python bench/cinc2017.py --models resecg --seeds 43        # another seed of a row
    python bench/cinc2017.py --models best+features            # after the rows it averages
    python bench/cinc2017.py --table                           # the results as Markdown

Five folds (stratified by class, seed 42), made once and saved to
``--work/folds.json`` before any training; every row gets the same folds. For
fold K a model trains on the other four folds and predicts fold K. Nothing is
tuned on fold K: the multiclass decision is the argmax (no thresholds), the
CPU config keeps its last epoch (no early stopping, no epoch choice), and the
forest has fixed settings. The five predicted folds give one out-of-fold
prediction per record, scored as the CinC 2017 challenge scored (F1 of N, A, O
and ~; the score is the mean F1 of N, A and O), with bootstrap intervals
(:mod:`cinc2017_table`).

Rows:

* ``resecg``: ``configs/cinc2017-cpu.json`` with categorical cross-entropy;
* ``resecg-weighted``: the same with class weights (``weighted_cce``);
* ``resecg-focal``: the same with categorical focal loss;
  ``--seeds`` trains a row with other training seeds (``resecg-seed43``; the
  folds stay the same);
* ``features``: rhythm-irregularity, P-wave, morphology and signal-quality
  features of the whole record (:func:`ecgml.baseline.extract_single_lead_features`)
  and one multi-class random forest;
* ``best+features``: the mean of the forest's out-of-fold probabilities and
  those of the deep row with the best out-of-fold score at the time it runs
  (fixed weights 1/2 each, nothing else chosen).

Deep rows train as ``model_training.py`` does (:func:`ecgml.runs.train_run`)
and predict every 10 s window of a record, averaged. Run folders, out-of-fold
scores and the feature table are reused on a rerun, and an interrupted row
resumes. Results are merged into ``--out``; the rows of the earlier 201-record
folder are kept there under ``earlier``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from cinc2017_table import FOREST, score, seed_summary, table

from ecgml import __version__
from ecgml.config import Config, load_config
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.labels import LabelEncoder
from ecgml.data.readers import get_reader
from ecgml.evaluation.report import json_safe
from ecgml.training.folds import make_folds, save_folds

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs/cinc2017-cpu.json"
# each deep row: the CPU config with this loss
VARIANTS = {"resecg": "cce", "resecg-weighted": "weighted_cce", "resecg-focal": "categorical_focal"}
FUSION = "best+features"
N_FOLDS, SEED = 5, 42


def row_name(variant: str, seed: int) -> str:
    return variant if seed == SEED else f"{variant}-seed{seed}"


def deep_config(variant: str, seed: int) -> Config:
    config = load_config(CONFIG)
    training = dataclasses.replace(config.training, loss=VARIANTS[variant], seed=seed)
    return dataclasses.replace(config, training=training)


def prepared(data: Path, work: Path, jobs: int) -> tuple[Cache, float | None]:
    """The benchmark's cache, and the seconds ``prepare`` took where it cached records."""
    config = load_config(CONFIG)
    started = time.time()
    report = prepare_cache(
        [data],
        work / "cache",
        config.preprocess,
        config.labels,
        jobs=jobs,
        reader=config.task.reader,
        progress=False,
    )
    seconds = time.time() - started if report["new"] else None
    return Cache(work / "cache"), seconds


def fixed_folds(work: Path, cache: Cache, y: np.ndarray) -> np.ndarray:
    """The five folds, made once and saved to ``work/folds.json``."""
    path = work / "folds.json"
    ids = list(cache.index["record_id"])
    if not path.is_file():
        folds = make_folds(y, n_folds=N_FOLDS, seed=SEED)
        save_folds(path, ids, folds, seed=SEED, cache_id=cache.cache_id, grouped_by_patient=False)
    data = json.loads(path.read_text())
    fold_of = {rid: k for k, fold in enumerate(data["folds"]) for rid in fold}
    return np.array([fold_of[rid] for rid in ids])


def run_deep(name: str, config: Config, work: Path, cache: Cache, folds: np.ndarray):
    """Train (or resume) the row's five folds; out-of-fold probabilities and stage times."""
    from ecgml.inference.ensemble import Ensemble
    from ecgml.runs import train_run

    run = work / "runs" / name
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "folds.json").is_file():
        shutil.copyfile(work / "folds.json", run / "folds.json")
    train_run(cache.path, run, config, verbose=2)
    done = [json.loads((run / f"fold_{k}" / "done.json").read_text()) for k in range(N_FOLDS)]
    started = time.time()
    y_score = np.zeros((len(cache), len(cache.class_names)), dtype=np.float32)
    for k in range(N_FOLDS):
        member = Ensemble.load(run, folds=[k])
        scores = member.predict_cache(cache, all_windows=True, progress=False)[0]
        y_score[folds == k] = scores[folds == k]
    seconds = {
        "train_seconds": round(sum(d["seconds_this_job"] for d in done), 1),
        "fold_seconds": [round(d["seconds_this_job"], 1) for d in done],
        "predict_seconds": round(time.time() - started, 1),
    }
    return y_score, seconds


def _features_of(path: str) -> np.ndarray:
    from ecgml.baseline import extract_single_lead_features

    record = get_reader("cinc2017").read(path)
    return extract_single_lead_features(record.signal[:, 0], record.header.fs)


def feature_table(work: Path, cache: Cache, jobs: int) -> tuple[np.ndarray, dict[str, float]]:
    """Features of every cached record from its whole recording, cached in ``work``,
    and how long their extraction took (saved with them)."""
    path = work / "features.npz"
    ids = cache.index["record_id"].to_numpy().astype(str)
    if path.is_file():
        with np.load(path) as saved:
            if list(saved["record_ids"]) == list(ids):
                return saved["x"], json.loads(str(saved["timing"]))
    started = time.time()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        x = np.stack(list(pool.map(_features_of, cache.index["path"], chunksize=8)))
    seconds = time.time() - started
    timing = {
        "extract_seconds": round(seconds, 1),
        "records_per_second": round(len(ids) / seconds, 2),
        "processes": jobs,
    }
    np.savez(path, record_ids=ids, x=x, timing=json.dumps(timing))
    print(f"features: {len(ids)} records in {seconds:.0f} s")
    return x, timing


def run_features(work: Path, cache: Cache, y: np.ndarray, folds: np.ndarray, jobs: int):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    x, timing = feature_table(work, cache, jobs)
    started = time.time()
    label = y.argmax(axis=1)
    y_score = np.zeros(y.shape, dtype=np.float32)
    for k in range(N_FOLDS):
        train = folds != k
        forest = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            RandomForestClassifier(
                n_estimators=500, class_weight="balanced_subsample", random_state=SEED, n_jobs=jobs
            ),
        ).fit(x[train], label[train])
        proba = forest.predict_proba(x[folds == k])
        y_score[np.ix_(folds == k, forest.classes_)] = proba
    return y_score, {**timing, "train_seconds": round(time.time() - started, 1)}


def run_fusion(work: Path, results: dict[str, Any]):
    """The mean of the forest's and the best deep row's saved out-of-fold scores."""
    deep = {n: r for n, r in results.items() if r.get("variant")}
    if not deep or FOREST not in results:
        raise SystemExit(f"{FUSION} averages the forest and a deep row; run them first")
    best = max(deep, key=lambda n: deep[n]["overall"]["cinc2017_score"])
    parts = [np.load(work / f"oof_{m}.npz") for m in (best, FOREST)]
    y_score = (parts[0]["y_score"] + parts[1]["y_score"]) / 2
    seconds = {"train_seconds": round(float(sum(p["seconds"] for p in parts)), 1)}
    return y_score, seconds, best


def run_row(name: str, args, cache: Cache, y: np.ndarray, folds: np.ndarray, results: dict):
    """One row's out-of-fold scores, saved beside the run, and its results entry."""
    entry: dict[str, Any] = {"n_records": len(cache)}
    if name == FUSION:
        y_score, seconds, best = run_fusion(args.work, results["models"])
        entry["deep_row"] = best
    elif name == FOREST:
        y_score, seconds = run_features(args.work, cache, y, folds, args.jobs)
    else:
        variant, seed = (
            name.split("-seed")[0],
            int(name.split("-seed")[1]) if "-seed" in name else SEED,
        )
        config = deep_config(variant, seed)
        y_score, seconds = run_deep(name, config, args.work, cache, folds)
        entry.update({"variant": variant, "seed": seed, "config": dataclasses.asdict(config)})
    np.savez(
        args.work / f"oof_{name}.npz",
        y_score=y_score,
        seconds=seconds["train_seconds"],
        record_ids=cache.index["record_id"].to_numpy().astype(str),
    )
    forest = args.work / f"oof_{FOREST}.npz"
    theirs = np.load(forest)["y_score"] if forest.is_file() and name != FOREST else None
    entry.update(score(y, y_score, folds, cache.abbreviations, theirs))
    entry.update(seconds)
    entry.update(
        {
            "command": "python bench/cinc2017.py " + " ".join(args.argv),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
            "ecgml_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    )
    return json_safe(entry)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/cinc2017")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/cinc2017")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/cinc2017.json")
    rows = (*VARIANTS, FOREST, FUSION)
    parser.add_argument("--models", default="features,resecg", help=f"some of {rows}")
    parser.add_argument("--seeds", default=str(SEED), help="training seeds of the deep rows")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="processes for features")
    parser.add_argument("--table", action="store_true", help="print the results as Markdown")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    unknown = [m for m in args.models.split(",") if m not in rows]
    if unknown:
        parser.error(f"unknown row(s) {unknown}; expected some of {rows}")
    if not args.table and not args.data.is_dir():
        parser.error(f"no CinC 2017 records at {args.data}")
    seeds = [int(s) for s in args.seeds.split(",")]
    args.rows = [
        row_name(m, seed) if m in VARIANTS else m for m in args.models.split(",") for seed in seeds
    ]
    args.rows = list(dict.fromkeys(args.rows))
    return args


def _saved_with(out: Path, name: str, entry: dict, data: dict) -> dict:
    """The results file with one row added, read again under a lock just before it
    is written, so that rows other calls wrote meanwhile are kept."""
    from ecgml.files import locked, write_json

    out.parent.mkdir(parents=True, exist_ok=True)
    with locked(out):
        results = json.loads(out.read_text()) if out.is_file() else {"models": {}}
        results["data"] = data
        results["models"][name] = entry
        results["seed_summary"] = seed_summary(results["models"])
        write_json(out, results, indent=1)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"models": {}}
    if args.table:
        print(table(results))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    cache, prepare_seconds = prepared(args.data, args.work, args.jobs)
    encoder = LabelEncoder.from_config(load_config(CONFIG).labels)
    y = encoder.encode_many([dx.split(",") for dx in cache.index["dx"]])
    folds = fixed_folds(args.work, cache, y)
    data = results.get("data", {})
    results["data"] = {
        "path": str(args.data.resolve()),
        "n_records": len(cache),
        "class_counts": dict(zip(cache.abbreviations, y.sum(axis=0).tolist(), strict=True)),
        "folds": str(args.work / "folds.json"),
        "prepare_seconds": round(prepare_seconds, 1)
        if prepare_seconds is not None
        else data.get("prepare_seconds"),
    }
    for name in args.rows:
        entry = run_row(name, args, cache, y, folds, results)
        results = _saved_with(args.out, name, entry, results["data"])
        print(f"{name}: score {results['models'][name]['overall']['cinc2017_score']:.3f}")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
