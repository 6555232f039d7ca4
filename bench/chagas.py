"""Benchmark of the CinC 2025 Chagas task on a folder of records you have.

    python bench/chagas.py --data DIR [--work WORK] [--out bench/results/chagas.json]
    python bench/chagas.py --data DIR --config C  # another recipe, the same folds

``DIR`` holds 12-lead WFDB records and a ``labels.csv`` naming each header
(``file``) with its 0/1 ``chagas`` label (``configs/chagas.json``'s ``table``
reader; CODE-15 %, SaMi-Trop or PTB-XL converted to WFDB at 400 Hz, as the
challenge distributes them). No such records are in ``../shared/data``, so this
script has no results file in the repository: it reports what it measures on
the data it is given.

Five folds, stratified on the label, seed 42, are made once and saved to
``WORK/folds.json`` before anything trains; every row uses them. Rows, all out
of fold (each record predicted by the model that did not train on it):

* ``deep``: the config's model, its thresholds learned on each fold's
  validation part (F1), probabilities averaged over its test-time crops;
* ``features``: the hand-crafted features of :mod:`ecgml.baseline` and a random
  forest (300 trees, balanced class weights, fixed settings);
* ``deep+features``: the mean of the two rows' probabilities (weights fixed at 1/2).

Each row gives the challenge score (the share of positives among the top 5 %,
:mod:`ecgml.evaluation.scorers.chagas`) and AUROC, both with 95 % bootstrap
intervals over records, and the wall time of each stage.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ecgml import __version__
from ecgml.config import load_config
from ecgml.evaluation.scorers import get_scorer
from ecgml.training.folds import load_folds, make_folds, save_folds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cell, feature_table, prepared, train_deep

ROOT = Path(__file__).resolve().parents[1]


def forest_scores(x: np.ndarray, y: np.ndarray, folds: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold probabilities of a random forest on the features ``x``."""
    from sklearn.ensemble import RandomForestClassifier

    out = np.zeros(len(y))
    for k in np.unique(folds):
        test = folds == k
        forest = RandomForestClassifier(
            n_estimators=300, class_weight="balanced", random_state=seed, n_jobs=-1
        )
        forest.fit(np.nan_to_num(x[~test]), y[~test])
        out[test] = forest.predict_proba(np.nan_to_num(x[test]))[:, 1]
    return out


def deep_scores(run: Path, record_ids: np.ndarray) -> np.ndarray:
    """The run's validation predictions, in the cache's record order."""
    order = {r: i for i, r in enumerate(record_ids)}
    out = np.full(len(record_ids), np.nan)
    for path in sorted(run.glob("fold_*/val_predictions.npz")):
        saved = np.load(path)
        out[[order[r] for r in saved["record_ids"]]] = saved["y_score"][:, 0]
    return out


def row(name: str, y: np.ndarray, score: np.ndarray, seconds: float) -> dict:
    scorer = get_scorer("chagas")
    y_true, y_score = y[:, None], score[:, None]
    y_pred = (y_score >= 0.5).astype(np.uint8)
    figures = scorer.score(y_true, y_score, y_pred, ["chagas"], ["chagas"])["overall"]
    intervals = scorer.confidence_intervals(y_true, y_score, y_pred, ["chagas"], ["chagas"])
    return {
        "row": name,
        "challenge_score": figures["challenge_score"],
        "auroc": figures["macro_auroc"],
        "intervals": intervals,
        "seconds": round(seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "chagas.json")
    parser.add_argument("--work", type=Path, default=ROOT / "result" / "bench-chagas")
    parser.add_argument("--out", type=Path, default=None, help="where to write the results JSON")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.time()
    cache = prepared(config, [args.data], args.work / "cache")
    prepare_seconds = time.time() - started
    y = cache.labels[:, 0].astype(np.uint8)
    ids = cache.index["record_id"].to_numpy().astype(str)
    folds_path = args.work / "folds.json"
    if not folds_path.is_file():  # fixed before anything trains, the same for every row
        folds = make_folds(y[:, None], n_folds=config.training.n_folds, seed=42)
        save_folds(folds_path, list(ids), folds, seed=42)
    folds = load_folds(folds_path, list(ids))
    run = args.work / "run"
    run.mkdir(exist_ok=True)
    if not (run / "folds.json").is_file():  # a folds.json in the run folder fixes its folds
        (run / "folds.json").write_bytes(folds_path.read_bytes())
    started = time.time()
    train_deep(args.work / "cache", run, config)
    deep = deep_scores(run, ids)
    deep_seconds = time.time() - started
    started = time.time()
    forest = forest_scores(feature_table(cache, args.work), y, folds, seed=42)
    forest_seconds = time.time() - started
    rows = [
        row("deep", y, deep, deep_seconds),
        row("features", y, forest, forest_seconds),
        row("deep+features", y, (deep + forest) / 2, 0.0),
    ]
    result = {
        "ecgml_version": __version__,
        "machine": platform.platform(),
        "data": str(args.data.resolve()),
        "n_records": len(y),
        "n_positive": int(y.sum()),
        "prepare_seconds": round(prepare_seconds, 1),
        "rows": rows,
    }
    for r in rows:
        interval = r["intervals"]["challenge_score"]
        print(
            f"{r['row']:>14}: challenge score {cell(r['challenge_score'])} "
            f"[{cell(interval['low'])}, {cell(interval['high'])}]  AUROC {cell(r['auroc'])}  "
            f"{r['seconds']:.0f} s"
        )
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
