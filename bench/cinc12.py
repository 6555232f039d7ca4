"""Real-data benchmark on ``../shared/data/cinc12``: default config, seed config, feature baseline.

    python bench/cinc12.py                            # everything (hours on 2 CPU cores)
    python bench/cinc12.py --models default --variants oof

Every model is judged on the same splits, fixed and saved before any training:

* ``oof`` (out of fold): five outer folds (multilabel-stratified, seed 42). For
  outer fold K, a model trains on three folds, stops early and learns its
  thresholds on fold K+1 (mod 5), and predicts fold K, which nothing of it saw.
  The five test parts together give one prediction per record.
* ``loso`` (leave one source out): for each source, a model trains on 80 % of the
  other sources, stops early and learns thresholds on the other 20 %, and
  predicts every record of the held-out source.

``default+features`` averages the default model's probabilities with the feature
forests' (fixed weights 1/2 each, nothing tuned), from the same splits' models;
``fusion-features+forest`` does the same with ``fusion-age-sex-features``. The
``fusion-*`` models are the default with a tabular input fused late
(``bench/configs/``): age and sex, or age, sex and the hand-crafted features.

Deep models train with ecgml's own training loop (one run folder per split under
``--work``; the test part is written to the run's ``folds.json`` as held out),
in float32 without XLA on the CPU. Thresholds are learned for F1 and for the
challenge metric. Scores are pooled over the test parts: macro AUROC and AUPRC
over the classes with at least 5 positives, macro F1 over the same classes, the
challenge metric (``--weights``) and per-class AUROC. Everything is resumable:
finished run folders and feature tables are reused. Results are merged into
``--out`` (one entry per model and variant).
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

from ecgml import __version__
from ecgml.config import Config, load_config
from ecgml.data.cache import Cache
from ecgml.data.labels import LabelEncoder
from ecgml.evaluation import metrics
from ecgml.evaluation.challenge import NORMAL_CLASS, RewardMatrix
from ecgml.evaluation.report import evaluate_predictions, json_safe
from ecgml.evaluation.thresholds import ThresholdOptimizer
from ecgml.runs.thresholds import reward_for_classes
from ecgml.training.folds import HELD_OUT, save_folds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cinc12_splits import MIN_POSITIVES, N_OUTER, SEED, Split, make_splits, outer_folds, per_source
from cinc12_table import table
from common import feature_table, train_deep
from common import prepared as common_prepared

ROOT = Path(__file__).resolve().parent.parent
DEEP = {
    "default": ROOT / "configs/se-resnet.json",
    "seed": ROOT / "configs/seed.json",
    # the default as first fixed, before this benchmark ran (docs/benchmarks.md)
    "default-v1": ROOT / "bench/configs/default-v1.json",
    # the default with a tabular input fused late (docs/benchmarks.md)
    "fusion-age-sex": ROOT / "bench/configs/fusion-age-sex.json",
    "fusion-age-sex-features": ROOT / "bench/configs/fusion-age-sex-features.json",
}
# the mean of a deep model's and the forests' probabilities (fixed weights 1/2 each)
AVERAGES = {"default+features": "default", "fusion-features+forest": "fusion-age-sex-features"}
MODELS = (*DEEP, "features", *AVERAGES)
OBJECTIVES = ("f1", "challenge")


def cpu_config(
    path: Path, n_folds: int, max_epochs: int | None = None, seed: int | None = None
) -> Config:
    """The config as trained here: float32, no XLA (the GPU options do not apply),
    at most ``max_epochs`` epochs, and the training seed ``seed`` where given."""
    config = load_config(path)
    epochs = min(config.training.epochs, max_epochs or config.training.epochs)
    training = dataclasses.replace(
        config.training,
        precision="float32",
        jit_compile=False,
        n_folds=n_folds,
        epochs=epochs,
        seed=config.training.seed if seed is None else seed,
    )
    return dataclasses.replace(config, training=training)


def prepared(name: str, config: Config, data: list[Path], work: Path) -> Cache:
    return common_prepared(config, data, work / "cache" / name)


def deep_scores(
    name: str,
    config_path: Path,
    split: Split,
    record_ids: list[str],
    work: Path,
    data: list[Path],
    max_epochs: int | None = None,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Train (or reuse) one split's model; its validation and test probabilities.
    With ``seed``, the model trains with that seed, in ``runs/NAME-seedSEED``."""
    from ecgml.inference.ensemble import Ensemble
    from ecgml.runs.thresholds import load_validation

    config = cpu_config(config_path, n_folds=2, max_epochs=max_epochs, seed=seed)
    cache = prepared(name, config, data, work)
    if list(cache.index["record_id"]) != record_ids:
        raise SystemExit(f"cache {cache.path} holds other records than the benchmark's")
    run = work / "runs" / (name if seed is None else f"{name}-seed{seed}") / split.name
    run.mkdir(parents=True, exist_ok=True)
    # inner fold 0 is the validation part, inner fold 1 the training part; the test
    # part is held out. Only fold 0 is trained.
    fold_of = np.full(len(record_ids), HELD_OUT)
    fold_of[split.val], fold_of[split.train] = 0, 1
    if not (run / "folds.json").is_file():
        save_folds(run / "folds.json", record_ids, fold_of, split=split.name)
    trained = train_deep(cache.path, run, config, folds=[0])
    ids = [record_ids[i] for i in split.val]
    val = load_validation(run, 0, ids)["y_score"]
    predictions = run / "test_predictions.npz"
    if not predictions.is_file():
        ensemble = Ensemble.load(run, folds=[0])
        all_windows = config.preprocess.window_policy == "all"
        test = ensemble.predict_cache(cache, all_windows=all_windows, progress=False)[0]
        np.savez(predictions, y_score=test[split.test], all_windows=all_windows)
    test = np.load(predictions)["y_score"]
    info = {
        "best_epoch": trained["best_epochs"][0],
        "train_seconds": trained["train_seconds"],
        "seconds_this_call": trained["seconds_this_call"],
    }
    return val, test, info


def feature_scores(
    split: Split, features: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    from ecgml.baseline import FeatureClassifier

    started = time.time()
    model = FeatureClassifier(random_state=SEED).fit(features[split.train], y[split.train])
    val, test = model.predict_proba(features[split.val]), model.predict_proba(features[split.test])
    return val, test, {"train_seconds": round(time.time() - started, 1)}


def scored(
    y: np.ndarray,
    val_parts: list[tuple[np.ndarray, np.ndarray]],
    test_parts: list[tuple[np.ndarray, np.ndarray]],
    encoder: LabelEncoder,
    dx: list[list[str]],
    weights: RewardMatrix,
) -> dict[str, Any]:
    """Pool the test parts; decisions from thresholds learned on each split's validation part.

    ``val_parts`` and ``test_parts`` hold ``(indices, scores)`` per split.
    """
    class_names = list(encoder.class_names)
    reward = reward_for_classes(weights, class_names)
    normal = class_names.index(NORMAL_CLASS)
    order = np.concatenate([idx for idx, _ in test_parts])
    y_true = y[order]
    y_score = np.concatenate([s for _, s in test_parts])
    keep = y_true.sum(axis=0) >= MIN_POSITIVES
    auroc, auprc = metrics.auroc_auprc(y_true, y_score)
    result: dict[str, Any] = {
        "n_records": len(order),
        "classes_scored": [encoder.abbreviations[k] for k in np.nonzero(keep)[0]],
        "macro_auroc": metrics.nanmean(auroc[keep]),
        "macro_auprc": metrics.nanmean(auprc[keep]),
        "per_class_auroc": {
            encoder.abbreviations[k]: auroc[k] for k in np.nonzero(y_true.sum(axis=0))[0]
        },
    }
    for objective in OBJECTIVES:
        decisions = []
        for (val_idx, val_score), (_, test_score) in zip(val_parts, test_parts, strict=True):
            optimizer = ThresholdOptimizer(
                objective,
                weights=reward if objective == "challenge" else None,
                normal_index=normal,
            ).fit(y[val_idx], val_score)
            decisions.append(optimizer.predict(test_score))
        y_pred = np.concatenate(decisions)
        report = evaluate_predictions(
            y_true,
            y_score,
            y_pred,
            class_names,
            encoder.abbreviations,
            label_codes=[dx[i] for i in order],
            weights=weights,
        )
        f1 = metrics.f1_per_class(y_true, y_pred)
        result[f"thresholds_{objective}"] = {
            "challenge_metric": report["challenge"]["challenge_metric"],
            "macro_f1": metrics.nanmean(f1[keep]),
            "macro_f1_all_present": report["overall"]["macro_f1"],
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/data/cinc12")
    parser.add_argument(
        "--weights", type=Path, default=ROOT.parent / "shared/reference/weights.csv"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/cinc12")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/cinc12.json")
    parser.add_argument("--models", default=",".join(MODELS), help=f"of {', '.join(MODELS)}")
    parser.add_argument("--variants", default="oof,loso", help="oof, loso or both")
    parser.add_argument(
        "--max-epochs",
        action="append",
        default=[],
        metavar="MODEL=N",
        help="cap a deep model's epochs (repeatable), e.g. seed=40",
    )
    parser.add_argument(
        "--splits",
        help="only these splits, comma-separated (e.g. outer_0,outer_1): a paired comparison "
        "on part of the data; stored under VARIANT:SPLITS",
    )
    parser.add_argument("--table", action="store_true", help="print --out as Markdown, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        if not args.out.is_file():
            parser.error(f"--table: no results at {args.out}; run the benchmark first")
        print(table(json.loads(args.out.read_text())))
        return 0
    models = args.models.split(",")
    caps = {}
    for item in args.max_epochs:
        model, _, n = item.partition("=")
        if model not in DEEP or not n.isdigit() or int(n) < 1:
            parser.error(
                f"--max-epochs expects DEEP_MODEL=N with N >= 1 ({', '.join(DEEP)}), got {item!r}"
            )
        caps[model] = int(n)
    variants = args.variants.split(",")
    if bad := [m for m in models if m not in MODELS] + [
        v for v in variants if v not in ("oof", "loso")
    ]:
        parser.error(f"unknown model or variant: {bad}")
    for path in (args.data, args.weights):
        if not path.exists():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    args.work.mkdir(parents=True, exist_ok=True)
    weights = RewardMatrix.load(args.weights)

    # The record set, labels, sources and folds come from the seed config's
    # cache (plain first windows); every config's cache holds the same records.
    base = prepared("seed", cpu_config(DEEP["seed"], 2), [args.data], args.work)
    record_ids = list(base.index["record_id"])
    encoder = LabelEncoder.from_config(load_config(DEEP["default"]).labels)
    dx = [d.split(",") if d else [] for d in base.index["dx"]]
    y = encoder.encode_many(dx)
    groups = list(base.index["patient_id"])
    sources = base.index["source"].to_numpy().astype(str)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    folds = outer_folds(args.work, record_ids, y, groups, results)
    results.setdefault("models", {})
    for model in models:
        wanted = model in ("features", *AVERAGES)
        features = feature_table(base, args.work, metadata=True) if wanted else None
        for variant in variants:
            splits = make_splits(variant, folds, sources, y, groups)
            key = variant
            if args.splits:
                wanted = args.splits.split(",")
                splits = [split for split in splits if split.name in wanted]
                key = f"{variant}:{args.splits}"
                if len(splits) != len(wanted):
                    parser.error(f"--splits {args.splits}: not all are {variant} splits")
            started = time.time()
            val_parts, test_parts, info = [], [], {}
            for split in splits:
                print(
                    f"== {model} {split.name}: {len(split.train)} train, {len(split.val)} "
                    f"validation, {len(split.test)} test",
                    flush=True,
                )
                if model == "features":
                    val, test, info[split.name] = feature_scores(split, features, y)
                elif model in AVERAGES:
                    name = AVERAGES[model]
                    deep = deep_scores(name, DEEP[name], split, record_ids, args.work, [args.data])
                    forest = feature_scores(split, features, y)
                    val, test = (deep[0] + forest[0]) / 2, (deep[1] + forest[1]) / 2
                    info[split.name] = {name: deep[2], "features": forest[2]}
                else:
                    val, test, info[split.name] = deep_scores(
                        model,
                        DEEP[model],
                        split,
                        record_ids,
                        args.work,
                        [args.data],
                        max_epochs=caps.get(model),
                    )
                val_parts.append((split.val, val))
                test_parts.append((split.test, test))
            entry = scored(y, val_parts, test_parts, encoder, dx, weights)
            if variant == "loso":
                entry["per_source"] = per_source(splits, y, test_parts)
            entry["splits"] = info
            entry["max_epochs"] = caps.get(model)
            entry["wall_seconds_this_call"] = round(time.time() - started, 1)
            results["models"].setdefault(model, {})[key] = entry
            print(
                json.dumps(
                    json_safe(
                        {
                            k: entry[k]
                            for k in (
                                "macro_auroc",
                                "macro_auprc",
                                "thresholds_f1",
                                "thresholds_challenge",
                            )
                        }
                    ),
                    indent=1,
                )
            )
            results.update(
                {
                    "data": str(args.data),
                    "n_records": len(record_ids),
                    "sources": {s: int((sources == s).sum()) for s in sorted(set(sources))},
                    "outer_folds": [
                        [r for r, f in zip(record_ids, folds, strict=True) if f == k]
                        for k in range(N_OUTER)
                    ],
                    "min_positives": MIN_POSITIVES,
                    "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, no GPU",
                    "ecgml_version": __version__,
                    "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            tmp = args.out.with_name(args.out.name + ".tmp")
            tmp.write_text(json.dumps(json_safe(results), indent=1) + "\n")
            os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
