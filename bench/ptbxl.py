"""PTB-XL superclasses on the real labelled subset in ``../shared/data/ptbxl``: deep models
against the feature forest, out of fold and on the held-out validation fold.

    python bench/ptbxl.py --models forest,xresnet1d --seeds 42,43,44
    python bench/ptbxl.py --table          # print the saved results

The subset holds PTB-XL's training folds 1-8 (1,441 records, ``split`` = ``train``) and
its validation fold 9 (183, ``validation``), 10 s at 100 Hz, band-passed and z-scored.
Every row is judged on the same splits, made once (five multilabel-stratified folds of
the training part, seed 42; ``work/folds.json``) before any model trained:

* out of fold: each fold's model predicts its own validation fold; the five folds'
  predictions pooled give one score per training record (1,441);
* held out, the benchmark's protocol: the five fold models, with per-class F1
  thresholds learned on their own validation folds, score the validation part (183)
  as a majority-vote ensemble (probabilities: the mean of the five), once.

A deep row is a run of ``model_training.py`` with the row's config (below), one per
seed; the seed changes the weights, the crops and the shuffling, not the folds.
``forest`` is :class:`ecgml.baseline.FeatureClassifier` (one random forest per class
on the hand-crafted features of each record), one per fold like the deep models.
``xresnet1d-stack-run`` is the task's own config, ``configs/ptbxl-arrays.json``: xresnet1d
with a forest stacked on each fold model inside the run (``stack.forest``,
:mod:`ecgml.training.stack`; its out-of-fold scores mix each fold's members with weights
learned on that fold's own validation predictions, so they are slightly optimistic;
its held-out score is not). ``stack`` is the same idea computed here from the saved
members of the best unstacked deep row (by mean out-of-fold macro AUROC) and the
forest row: per class, a weight ``w`` in 0, 0.1, ..., 1 of ``w * deep + (1 - w) *
forest`` chosen for AUROC on out-of-fold predictions only (for the out-of-fold
score, on the other four folds; for the held-out score, on all five), and
thresholds the same way. Which row becomes the task's recipe is decided by the
mean out-of-fold macro AUROC alone, never by a held-out figure. Every figure carries
a 95 % bootstrap interval over records (1,000 resamples, seed 0).
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
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecgml import __version__  # noqa: E402
from ecgml.config import Config, load_config, save_config  # noqa: E402
from ecgml.data.cache import Cache  # noqa: E402
from ecgml.data.splits import standard_parts  # noqa: E402
from ecgml.evaluation import metrics  # noqa: E402
from ecgml.evaluation.bootstrap import bootstrap_interval  # noqa: E402
from ecgml.evaluation.thresholds import ThresholdOptimizer  # noqa: E402
from ecgml.task import Task  # noqa: E402
from ecgml.training.folds import HELD_OUT, load_folds, make_folds, save_folds  # noqa: E402
from ecgml.training.stack import stack_weights  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import feature_table, train_deep  # noqa: E402
from common import prepared as common_prepared  # noqa: E402
from ptbxl_table import summary, table  # noqa: E402

DATA = ROOT.parent / "shared/data/ptbxl"
DEEP = {
    "xresnet1d": ROOT / "bench/configs/ptbxl-xresnet1d.json",
    "inception1d": ROOT / "bench/configs/ptbxl-inception1d.json",
    "se_resnet": ROOT / "bench/configs/ptbxl-se-resnet.json",
    # the task's config: xresnet1d with a feature forest stacked on each fold, as a run
    "xresnet1d-stack-run": ROOT / "configs/ptbxl-arrays.json",
}
MODELS = (*DEEP, "forest", "stack")
N_FOLDS, FOLD_SEED = 5, 42
WEIGHTS = np.round(np.linspace(0.0, 1.0, 11), 2)


def prepared(config: Config, work: Path) -> Cache:
    """The subset's cache; with the hand-crafted features where the config reads them."""
    return common_prepared(
        config, [DATA], work / ("cache_baseline" if config.baseline_features else "cache")
    )


def fixed_folds(work: Path, cache: Cache, y: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The benchmark's folds (training part 0-4, validation part held out), made once."""
    path = work / "folds.json"
    ids = list(cache.index["record_id"])
    if path.is_file():
        folds = load_folds(path, ids)
    else:
        folds = np.full(len(ids), HELD_OUT)
        folds[train] = make_folds(y[train], n_folds=N_FOLDS, seed=FOLD_SEED)
        save_folds(
            path,
            ids,
            folds,
            seed=FOLD_SEED,
            cache_id=cache.cache_id,
            split="standard",
            grouped_by_patient=False,
        )
    return folds


def row_config(model: str, seed: int) -> Config:
    config = load_config(DEEP[model])
    return dataclasses.replace(config, training=dataclasses.replace(config.training, seed=seed))


def deep_row(
    model: str, seed: int, cache: Cache, folds: np.ndarray, work: Path, config: Config | None = None
):
    """Train (or reuse) one seed's run (of ``model``'s config, or of ``config``); its
    out-of-fold and held-out fold scores."""
    from ecgml.inference.ensemble import Ensemble

    config = config or row_config(model, seed)
    if config.baseline_features:
        cache = prepared(config, work)
    run = work / "runs" / model / f"seed{seed}"
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "folds.json").is_file():
        shutil.copy(work / "folds.json", run / "folds.json")
    trained = train_deep(cache.path, run, config)
    oof = np.zeros((len(cache), cache.labels.shape[1]), np.float32)
    for k in range(N_FOLDS):
        saved = np.load(run / f"fold_{k}" / "val_predictions.npz")
        position = {rid: i for i, rid in enumerate(cache.index["record_id"].astype(str))}
        oof[[position[r] for r in saved["record_ids"]]] = saved["y_score"]
    held = folds == HELD_OUT
    ensemble = Ensemble.load(run)
    fold_scores = ensemble.predict_cache(cache.subset(held), progress=False)
    info = {k: trained[k] for k in ("train_seconds", "seconds_this_call")}
    thresholds = [
        json.loads((run / f"fold_{k}" / "thresholds.json").read_text())["thresholds"]
        for k in range(N_FOLDS)
    ]
    deep_part = None
    if ensemble.stacks:  # the fold models alone, with F1 thresholds of their own
        deep_oof = np.zeros_like(oof)
        deep_thresholds = []
        for k in range(N_FOLDS):
            saved = np.load(run / f"fold_{k}" / "val_predictions.npz")
            rows = [position[r] for r in saved["record_ids"]]
            deep_oof[rows] = saved["deep_score"]
            optimizer = ThresholdOptimizer("f1").fit(cache.labels[rows], saved["deep_score"])
            deep_thresholds.append(optimizer.thresholds_)
        alone = Ensemble(
            run,
            ensemble.config,
            ensemble.encoder,
            ensemble.folds,
            ensemble.models,
            ensemble.threshold_info,
        )
        deep_fold_scores = alone.predict_cache(cache.subset(held), progress=False)
        deep_part = deep_oof, deep_fold_scores, np.array(deep_thresholds)
    return oof, fold_scores, np.array(thresholds), info, deep_part


def forest_row(features: np.ndarray, y: np.ndarray, folds: np.ndarray):
    from ecgml.baseline import FeatureClassifier

    started = time.time()
    held = folds == HELD_OUT
    oof = np.zeros(y.shape, np.float32)
    fold_scores, thresholds = [], []
    for k in range(N_FOLDS):
        train, val = (folds != k) & ~held, folds == k
        forest = FeatureClassifier(random_state=FOLD_SEED).fit(features[train], y[train])
        oof[val] = forest.predict_proba(features[val])
        fold_scores.append(forest.predict_proba(features[held]))
        thresholds.append(ThresholdOptimizer("f1").fit(y[val], oof[val]).thresholds_)
    info = {"train_seconds": round(time.time() - started, 1)}
    return oof, np.stack(fold_scores), np.array(thresholds), info


def stack_row(y, folds, deep, forest):
    """``deep`` and ``forest``: (oof, held-out fold scores, thresholds) of the members."""
    held = folds == HELD_OUT
    oof = np.zeros(y.shape, np.float32)
    weights_per_fold = []
    for k in range(N_FOLDS):
        other = (folds != k) & ~held
        w = stack_weights(y[other], deep[0][other], forest[0][other], len(WEIGHTS))
        weights_per_fold.append(w.tolist())
        oof[folds == k] = w * deep[0][folds == k] + (1 - w) * forest[0][folds == k]
    w = stack_weights(y[~held], deep[0][~held], forest[0][~held], len(WEIGHTS))
    fold_scores = w * deep[1] + (1 - w) * forest[1]
    thresholds = np.array(
        [
            ThresholdOptimizer("f1").fit(y[folds == k], oof[folds == k]).thresholds_
            for k in range(N_FOLDS)
        ]
    )
    return (
        oof,
        fold_scores,
        thresholds,
        {"weights": w.tolist(), "weights_per_fold": weights_per_fold},
    )


def macro_auroc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return metrics.nanmean(metrics.auroc_auprc(y_true, y_score)[0])


def scored(y: np.ndarray, folds: np.ndarray, oof, fold_scores, thresholds, names) -> dict:
    held = folds == HELD_OUT
    train = ~held
    y_held = y[held]
    score = fold_scores.mean(axis=0)
    votes = (fold_scores >= thresholds[:, None, :]).sum(axis=0)
    y_pred = (votes > N_FOLDS / 2).astype(np.uint8)
    auroc = metrics.auroc_auprc(y_held, score)[0]
    oof_auroc = metrics.auroc_auprc(y[train], oof[train])[0]
    return {
        "oof": {
            "n_records": int(train.sum()),
            "macro_auroc": macro_auroc(y[train], oof[train]),
            "macro_auroc_ci95": bootstrap_interval(
                lambda i: macro_auroc(y[train][i], oof[train][i]), int(train.sum())
            ),
            "per_class_auroc": dict(zip(names, oof_auroc.tolist(), strict=True)),
        },
        "validation": {
            "n_records": int(held.sum()),
            "macro_auroc": macro_auroc(y_held, score),
            "macro_auroc_ci95": bootstrap_interval(
                lambda i: macro_auroc(y_held[i], score[i]), int(held.sum())
            ),
            "macro_f1": metrics.nanmean(metrics.f1_per_class(y_held, y_pred)),
            "per_class_auroc": dict(zip(names, auroc.tolist(), strict=True)),
            "fold_macro_auroc": [macro_auroc(y_held, s) for s in fold_scores],
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/ptbxl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/ptbxl.json")
    parser.add_argument("--models", default="forest,xresnet1d", help=f"of {', '.join(MODELS)}")
    parser.add_argument("--seeds", default="42,43,44", help="seeds of the deep rows")
    parser.add_argument(
        "--stack-with",
        default=None,
        help="the deep model the stack uses (default: best mean out-of-fold AUROC)",
    )
    parser.add_argument("--table", action="store_true", help="print --out as Markdown, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    models, seeds = args.models.split(","), [int(s) for s in args.seeds.split(",")]
    if bad := [m for m in models if m not in MODELS]:
        parser.error(f"unknown model(s) {bad}; expected some of {MODELS}")
    if not DATA.is_dir():
        print(f"not found: {DATA}", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    base = load_config(DEEP["xresnet1d"])
    save_config(base, args.work / "base_config.json")
    cache = prepared(base, args.work)
    y = cache.labels
    parts = standard_parts(cache.index, Task.of(base).reader)
    folds = fixed_folds(args.work, cache, y, parts == "train")
    names = list(base.labels.classes)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results.setdefault("models", {})
    members: dict[str, Any] = {}
    for model in models:
        started = time.time()
        entry = results["models"].setdefault(model, {"seeds": {}})
        if model in DEEP:
            for seed in seeds:
                print(f"== {model} seed {seed}", flush=True)
                oof, fold_scores, thresholds, info, deep_part = deep_row(
                    model, seed, cache, folds, args.work
                )
                row = scored(y, folds, oof, fold_scores, thresholds, names)
                if deep_part is not None:  # the stacked run's fold models alone, as a row
                    part = f"{model.removesuffix('-stack-run')}-deep-part"
                    part_entry = results["models"].setdefault(part, {"seeds": {}})
                    part_entry["seeds"][str(seed)] = {
                        **scored(y, folds, *deep_part, names),
                        "info": {"from": f"the fold models of {model} seed {seed}, unstacked"},
                    }
                    part_entry["summary"] = summary(part_entry["seeds"])
                    np.savez(
                        args.work / f"{part}_seed{seed}.npz",
                        oof=deep_part[0],
                        fold_scores=deep_part[1],
                        thresholds=deep_part[2],
                    )
                entry["seeds"][str(seed)] = {
                    **row,
                    "info": info,
                    "config": str(DEEP[model].relative_to(ROOT)),
                }
                np.savez(
                    args.work / f"{model}_seed{seed}.npz",
                    oof=oof,
                    fold_scores=fold_scores,
                    thresholds=thresholds,
                )
        else:
            if model == "forest":
                out = forest_row(feature_table(cache, args.work), y, folds)
                np.savez(
                    args.work / "forest.npz", oof=out[0], fold_scores=out[1], thresholds=out[2]
                )
            else:
                deep_model = args.stack_with or max(
                    (
                        m
                        for m in DEEP
                        if results["models"].get(m, {}).get("seeds")
                        and not load_config(DEEP[m]).stack.forest
                    ),
                    key=lambda m: results["models"][m]["summary"]["oof"]["macro_auroc_mean"],
                )
                seed_rows = []
                forest = np.load(args.work / "forest.npz")
                for seed in results["models"][deep_model]["seeds"]:
                    saved = np.load(args.work / f"{deep_model}_seed{seed}.npz")
                    out = stack_row(
                        y,
                        folds,
                        (saved["oof"], saved["fold_scores"]),
                        (forest["oof"], forest["fold_scores"]),
                    )
                    row = scored(y, folds, *out[:3], names)
                    entry["seeds"][seed] = {**row, "info": {**out[3], "deep": deep_model}}
                    seed_rows.append(row)
                members["stack"] = deep_model
            if model == "forest":
                entry["seeds"] = {"-": {**scored(y, folds, *out[:3], names), "info": out[3]}}
        entry["summary"] = summary(entry["seeds"])
        entry["wall_seconds_this_call"] = round(time.time() - started, 1)
        results.update(
            {
                "command": "python bench/ptbxl.py "
                + " ".join(argv if argv is not None else sys.argv[1:]),
                "data": str(DATA),
                "n_train": int((folds != HELD_OUT).sum()),
                "n_validation": int((folds == HELD_OUT).sum()),
                "classes": names,
                "folds": f"{N_FOLDS} multilabel-stratified folds of the training part, "
                f"seed {FOLD_SEED}",
                "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, no GPU",
                "ecgml_version": __version__,
                "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
        print(table(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
