"""Real-data benchmark on ``../shared/data/mitdb``: heartbeats in the AAMI classes.

    python bench/mitbih.py                      # every row (about 50 min on 2 CPU cores)
    python bench/mitbih.py --rows forest-inter  # some rows
    python bench/mitbih.py --table              # the results as Markdown
    python bench/mitbih.py --speed              # beat extraction and predict speed

The 44 non-paced records are prepared with ``configs/mitbih.json`` (MLII, 0.5-40
Hz, 125 Hz, a 187-sample window from 0.5 s before each annotated R peak): one
sample per beat, labelled with its AAMI class.

**Inter-patient** rows (``*-inter``) are the task's protocol: de Chazal et al.'s
(2004) DS1 records train, DS2 records test. Deep rows run the pipeline a user
runs: five folds grouped by record inside DS1 (``model_training.py``), the
ensemble of the five fold models scored on DS2 (``postprocessing.py``). Every
setting is fixed beforehand and the fold models keep their last epoch, so DS2
chooses nothing.

**Intra-patient** rows (``*-intra``) split beats at random, as Kachuee et al.
(2018) and the Kaggle copy of their data did: fold 0 of five beat-level folds
over all 44 records (80 % train, 20 % test, one model). Each patient's beats
fall on both sides, so the model is tested on patients it trained on: the
figures leak and are only for comparison with results reported that way
(Kachuee's 93.4 % average accuracy).

Rows:

* ``cnn``: the small two-convolution CNN (``beat_cnn``) with the seed's
  settings: categorical cross-entropy, learning rate 0.002, batch 150;
* ``cnn-weighted``: the same with class weights (``weighted_cce``, capped at 50);
* ``kachuee``: Kachuee's five-block residual CNN, class weights;
* ``cnn-rr``, ``kachuee-rr``: ``cnn`` and ``kachuee`` with the four RR features
  of each beat as a second input (``tabular.features``, standardised on each
  fold's training rows, late fusion before the output layer);
* ``forest``: a random forest (300 trees, balanced class weights) on four RR
  features (:func:`ecgml.data.beats.rr_features`) and every fourth sample of
  the beat window: the simple baseline;
* ``majority``: every beat called N.

**Myocardial infarction** rows (``mi-*``): PTB Diagnostic records S0001-S0010
of ``../shared/data/cinc12/cinc2021`` (eight with the MI code, two without),
``configs/ptb-mi.json``: beats found by XQRS on lead II, at the beat model's rate
and window, each labelled with its record's diagnosis. Five folds grouped by
record, made once (``mi-random``'s run) and copied to the other rows; out of
fold, each beat scored by the fold model that did not train on its record.
These are ten records: every figure is about ten patients, and a fold without
a non-MI record has no specificity of its own. ``../shared/data/ptbdb/s0010_re``
is left out: it is the same recording as S0001 (their signals agree to 0.5 uV),
labelled MI by PTB's header and without the MI code in the CinC 2021 copy.

* ``mi-random``: the beat CNN from a random initialisation, 20 epochs;
* ``mi-transfer``: the same, every layer but the output copied from
  ``cnn-inter``'s fold 0 model (trained on DS1 only) and fine-tuned;
* ``mi-frozen``: the same copy with the copied layers frozen (only the output trains).

``--speed`` measures beat extraction (``prepare`` of all 48 records into a new
cache with ``--jobs`` processes) and ``ecgml predict`` of 30-minute records with
the ``cnn-inter`` run, with beats detected and with their annotations; run it on
an otherwise idle machine.

Results are merged into ``--out``; run folders are reused on a rerun.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import RandomForestClassifier

from ecgml import __version__
from ecgml.config import Config, TabularConfig, load_config
from ecgml.data.beats import RR_FEATURES, rr_features
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.splits import standard_parts
from ecgml.evaluation.report import json_safe
from ecgml.evaluation.scorers import get_scorer
from ecgml.targets.decisions import one_hot_argmax
from ecgml.task import Task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cell
from mitbih_mi import MI_ROWS, mi_table, run_mi
from mitbih_speed import measure_speed

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "mitbih.json"
RR = {"features": list(RR_FEATURES)}
MODELS = {
    "cnn": {"training": {"loss": "cce"}},
    "cnn-weighted": {},
    "kachuee": {"model": {"architecture": "kachuee"}},
    "cnn-rr": {"training": {"loss": "cce"}, "tabular": RR},
    "kachuee-rr": {"model": {"architecture": "kachuee"}, "tabular": RR},
}
BASELINES = ("forest", "majority")
ROWS = (
    *(f"{m}-{p}" for m in (*MODELS, *BASELINES) for p in ("inter", "intra")),
    *MI_ROWS,
)


def row_config(model: str, split: str) -> Config:
    """``configs/mitbih.json`` with the row's changes."""
    config = load_config(CONFIG)
    change = MODELS.get(model, {})
    model_config = config.model
    if "model" in change:
        from ecgml.models.config import model_config_class

        model_config = model_config_class(change["model"]["architecture"])()
    training = dataclasses.replace(config.training, **change.get("training", {}))
    tabular = config.tabular
    if "tabular" in change:
        tabular = TabularConfig(features=tuple(change["tabular"]["features"]))
    task = dataclasses.replace(
        config.task, split="standard" if split == "inter" else "intra_patient"
    )
    return dataclasses.replace(
        config, task=task, model=model_config, training=training, tabular=tabular
    )


def parts(cache: Cache, split: str, work: Path) -> tuple[np.ndarray, np.ndarray]:
    """Train and test masks of a split (the intra split is the saved fold 0 of a
    beat-level run; see :func:`run_deep`)."""
    if split == "inter":
        part = standard_parts(cache.index, Task.of(row_config("cnn", "inter")).reader)
        return part == "train", part == "test"
    folds = json.loads((work / "folds_intra.json").read_text())
    test = set(folds["folds"][0])
    is_test = cache.index["record_id"].isin(test).to_numpy()
    return ~is_test, is_test


def run_deep(
    model: str, split: str, work: Path, cache: Cache
) -> tuple[np.ndarray, np.ndarray, float]:
    """Train through the pipeline; the test part's probabilities and mask."""
    from ecgml.inference.ensemble import Ensemble
    from ecgml.inference.postprocess import evaluate_on_data
    from ecgml.runs import train_run

    config = row_config(model, split)
    run = work / f"run_{model}-{split}"
    started = time.time()
    train_run(cache.path, run, config, folds=None if split == "inter" else [0], verbose=0)
    seconds = time.time() - started
    if split == "inter":
        out = work / f"eval_{model}-inter"
        evaluate_on_data(run, cache.path, out, progress=False)
        saved = np.load(out / "predictions.npz")
        test = parts(cache, split, work)[1]
        order = {rid: i for i, rid in enumerate(saved["record_ids"])}
        rows = [order[r] for r in cache.index["record_id"][test]]
        return saved["y_score"][rows], test, seconds
    (work / "folds_intra.json").write_text((run / "folds.json").read_text())
    test = parts(cache, split, work)[1]
    scores = Ensemble.load(run, folds=[0]).predict_cache(cache.subset(test), progress=False)
    return scores.mean(axis=0), test, seconds


def beat_features(cache: Cache) -> np.ndarray:
    """RR features and every fourth window sample, one row per cached beat."""
    index = cache.index
    rr = np.zeros((len(index), 4), np.float32)
    for _, rows in index.groupby("path", sort=False):
        order = rows.sort_values("sample").index.to_numpy()
        rr[order] = rr_features(index.loc[order, "sample"].to_numpy(), float(rows["fs"].iloc[0]))
    shape = (-1, cache.signals.shape[1] * cache.signals.shape[2])
    waves = np.asarray(cache.signals[index["row"].to_numpy()]).reshape(shape)[:, ::4]
    return np.hstack([rr, waves])


def run_baseline(name: str, split: str, work: Path, cache: Cache, y: np.ndarray):
    train, test = parts(cache, split, work)
    started = time.time()
    if name == "majority":
        y_score = np.zeros((int(test.sum()), y.shape[1]), np.float32)
        y_score[:, 0] = 1.0  # N, the first class
        return y_score, test, time.time() - started
    x = beat_features(cache)
    forest = RandomForestClassifier(
        n_estimators=300,
        min_samples_leaf=2,
        class_weight="balanced_subsample",
        n_jobs=os.cpu_count(),
        random_state=0,
    )
    forest.fit(x[train], y[train].argmax(axis=1))
    proba = np.zeros((int(test.sum()), y.shape[1]), np.float32)
    proba[:, forest.classes_] = forest.predict_proba(x[test])
    return proba, test, time.time() - started


def score(cache: Cache, y_true: np.ndarray, y_score: np.ndarray) -> dict[str, Any]:
    y_pred = one_hot_argmax(y_score)
    names = list(cache.class_names)
    return get_scorer("aami").score(y_true, y_score, y_pred, names, names)


def table(results: dict[str, Any]) -> str:
    lines = [
        "| row | split | N Se / +P | S Se / +P | V Se / +P | F Se / +P | Q Se / +P | accuracy "
        "| macro Se | training |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = [r for p in ("inter", "intra") for r in ROWS if r.endswith(p)]
    for name in sorted(results, key=lambda n: order.index(n) if n in order else len(order)):
        r = results[name]
        per = r["per_class"]
        cells = [
            f"{cell(per[c]['sensitivity'])} / {cell(per[c]['positive_predictivity'])}"
            for c in ("N", "S", "V", "F", "Q")
        ]
        o = r["overall"]
        lines.append(
            f"| {name} | {r['split']} | {' | '.join(cells)} | {o['accuracy']:.3f} | "
            f"{o['macro_sensitivity']:.3f} | {r['train_seconds'] / 60:.1f} min |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"some of {ROWS}")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "mitdb")
    mi_data = ROOT.parent / "shared" / "data" / "cinc12" / "cinc2021"
    parser.add_argument(
        "--mi-data", type=Path, default=mi_data, help="PTB records for the mi-* rows (S0001-S0010)"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "result" / "bench" / "mitbih")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "mitbih.json")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="processes for prepare")
    parser.add_argument("--table", action="store_true", help="print the results as Markdown")
    parser.add_argument("--speed", action="store_true", help="measure extraction and predict")
    args = parser.parse_args(argv)
    if args.table:
        if not args.out.is_file():
            parser.error(f"no results at {args.out}; run the benchmark first")
        results = json.loads(args.out.read_text())
        print(table(results["rows"]))
        if results.get("mi"):
            print(mi_table(results["mi"]))
        return 0
    if args.speed:
        results = json.loads(args.out.read_text()) if args.out.is_file() else {"rows": {}}
        results["speed"] = measure_speed(args.work, args.data, args.jobs)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        print(json.dumps(results["speed"], indent=1))
        return 0
    rows = args.rows.split(",")
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        parser.error(f"unknown row(s) {unknown}; expected some of {ROWS}")
    if not args.data.is_dir():
        parser.error(f"no MIT-BIH records at {args.data}")
    # the intra-patient folds come from the first deep intra row; baselines reuse them
    intra = [r for r in rows if r.endswith("-intra")]
    if (
        intra
        and not (args.work / "folds_intra.json").is_file()
        and intra[0].split("-intra")[0] not in MODELS
    ):
        parser.error(
            "the intra-patient baselines use the folds a deep intra row saves; "
            "run one first (for example --rows cnn-intra)"
        )
    args.work.mkdir(parents=True, exist_ok=True)
    config = load_config(CONFIG)
    started = time.time()
    report = prepare_cache(
        [args.data],
        args.work / "cache",
        config.preprocess,
        config.labels,
        jobs=args.jobs,
        reader=config.task.reader,
        reader_options=config.task.reader_options,
        progress=False,
    )
    prepare_seconds = time.time() - started
    cache = Cache(args.work / "cache")
    y = cache.labels.astype(np.float32)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"rows": {}}
    for row in rows:
        if row in MI_ROWS:
            entry = run_mi(row, args.work, args.mi_data)
            seconds = entry["train_seconds"]
            entry.update(
                {
                    "command": "python bench/mitbih.py " + " ".join(argv or sys.argv[1:]),
                    "machine": (
                        f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
                    ),
                    "ecgml_version": __version__,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
            results.setdefault("mi", {})[row] = json_safe(entry)
            args.out.write_text(json.dumps(results, indent=1) + "\n")
            o, r = entry["overall"], entry["records"]["overall"]
            print(
                f"{row}: beats recall {o['recall']:.3f}, AUROC {o['auroc']:.3f}; records "
                f"recall {r['recall']:.3f} ({seconds / 60:.1f} min)",
                flush=True,
            )
            continue
        model, split = row.rsplit("-", 1)
        if model in MODELS:
            y_score, test, seconds = run_deep(model, split, args.work, cache)
        else:
            y_score, test, seconds = run_baseline(model, split, args.work, cache, y)
        entry = score(cache, y[test], y_score)
        entry.update(
            {
                "split": "inter-patient DS1 -> DS2"
                if split == "inter"
                else "intra-patient, random beats (leaks)",
                "n_train": int((~test).sum()),
                "n_test": int(test.sum()),
                "train_seconds": round(seconds, 1),
                "config": dataclasses.asdict(row_config(model, split)) if model in MODELS else None,
                "command": "python bench/mitbih.py " + " ".join(argv or sys.argv[1:]),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
                "ecgml_version": __version__,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        results["rows"][row] = json_safe(entry)
        results["data"] = {
            "path": str(args.data.resolve()),
            "n_records": report["records"],
            "n_beats": len(cache),
            "skipped": [s["record_id"] for s in report["skipped"]],
            "prepare_seconds": round(prepare_seconds, 2),
            "beats_per_second": round(len(cache) / prepare_seconds, 0) if report["new"] else None,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        o = entry["overall"]
        print(
            f"{row}: accuracy {o['accuracy']:.3f}, macro Se {o['macro_sensitivity']:.3f} "
            f"({seconds / 60:.1f} min) -> {args.out}",
            flush=True,
        )
    print(table(results["rows"]))
    if results.get("mi"):
        print(mi_table(results["mi"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
