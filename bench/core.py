"""The core task on ``../shared/data/cinc12``: from scratch, or started from a preset.

    python bench/core.py                                  # every row, seeds 42, 43, 44
    python bench/core.py --rows xresnet1d,features --seeds 42
    python bench/core.py --table                          # Markdown from the results

Every row uses ``bench/cinc12.py``'s out-of-fold splits (five outer folds,
fixed and saved before any row ran, taken from ``bench/results/cinc12.json``):
for outer fold K a model trains on three folds, learns its thresholds on fold
K+1 and predicts fold K. Rows:

* ``default``: ``configs/se-resnet.json`` (SE-ResNet at 500 Hz) from scratch.
* ``xresnet1d``: the ``ptbxl-superclass`` preset's preprocessing (100 Hz,
  0.5-40 Hz band-pass before resampling, z-score per lead) and recipe
  (xresnet1d50, AdamW, one cycle, 50 epochs, 2.5 s crops) from scratch, batch 32
  (``bench/configs/core-xresnet1d.json``).
* ``preset-frozen``, ``preset-scaled``, ``preset-full``: the same, started from the
  preset's fold 0 model (``training.init_from``): the copied layers frozen; trained
  at 0.1 times the learning rate (with RAdam under the same schedule, the
  optimizer that has per-layer rates); or all trained as the head.
* ``ROW+forest``: the mean of a deep row's probabilities and the feature
  forests' on the same split (weights 1/2 each, fixed, as ``cinc12``'s
  ``default+features``).
* ``features``: the feature forest (``ecgml.baseline``, 300 trees per class).

Deep rows train once per seed of ``--seeds``. Figures are pooled over the five
test parts: macro AUROC over the 13 classes with at least 5 positives, and the
challenge metric and macro F1 with thresholds learned on each split's
validation part (for the challenge metric, and for F1), each with a 95 %
bootstrap interval over records (1000 draws, the same draws for every figure
of a row). Everything is resumable: run folders and features are reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ecgml import __version__
from ecgml.config import load_config
from ecgml.data.labels import LabelEncoder
from ecgml.evaluation import metrics
from ecgml.evaluation.bootstrap import bootstrap_figures
from ecgml.evaluation.challenge import NORMAL_CLASS, RewardMatrix, multi_hot, scored_arrays
from ecgml.evaluation.report import json_safe
from ecgml.evaluation.thresholds import ThresholdOptimizer
from ecgml.runs.thresholds import reward_for_classes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cinc12 import cpu_config, deep_scores, feature_scores, prepared, scored
from cinc12_splits import MIN_POSITIVES, outer_folds
from cinc12_splits import make_splits as cinc12_splits
from common import cell, feature_table, markdown, minutes
from core_thresholds import row_figures as threshold_ways

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared/data/cinc12"
WEIGHTS = ROOT.parent / "shared/reference/weights.csv"
SPLITS_FROM = ROOT / "bench/results/cinc12.json"
DEEP = {
    "default": ROOT / "configs/se-resnet.json",
    "xresnet1d": ROOT / "bench/configs/core-xresnet1d.json",
    "preset-frozen": ROOT / "bench/configs/core-preset-frozen.json",
    "preset-scaled": ROOT / "bench/configs/core-preset-scaled.json",
    "preset-full": ROOT / "bench/configs/core-preset-full.json",
}
ROWS = (*DEEP, *(f"{name}+forest" for name in DEEP), "features")
SEEDS = "42,43,44"
OBJECTIVES = ("challenge", "f1")


def decisions(y, val_parts, test_parts, objective, reward, normal) -> np.ndarray:
    """The pooled test decisions, from thresholds learned on each split's validation part."""
    out = []
    for (val_idx, val_score), (_, test_score) in zip(val_parts, test_parts, strict=True):
        optimizer = ThresholdOptimizer(
            objective, weights=reward if objective == "challenge" else None, normal_index=normal
        ).fit(y[val_idx], val_score)
        out.append(optimizer.predict(test_score))
    return np.concatenate(out)


def figures(y, val_parts, test_parts, encoder, dx, weights) -> dict[str, Any]:
    """``cinc12``'s pooled figures, with bootstrap intervals of macro AUROC, the
    challenge metric and macro F1 under both threshold objectives."""
    entry = scored(y, val_parts, test_parts, encoder, dx, weights)
    classes = list(encoder.class_names)
    reward = reward_for_classes(weights, classes)
    order = np.concatenate([idx for idx, _ in test_parts])
    y_true, y_score = y[order], np.concatenate([s for _, s in test_parts])
    keep = y_true.sum(axis=0) >= MIN_POSITIVES
    label_classes, labels = multi_hot([dx[i] for i in order])
    pred = {
        o: decisions(y, val_parts, test_parts, o, reward, classes.index(NORMAL_CLASS))
        for o in OBJECTIVES
    }
    scoring = {}
    for o in OBJECTIVES:
        names, lab, binary, _, w = scored_arrays(
            label_classes, labels, classes, pred[o], y_score, weights=weights
        )
        scoring[o] = (lab, binary, w, names.index(NORMAL_CLASS))

    def drawn(i: np.ndarray) -> dict[str, float]:
        out = {
            "macro_auroc": metrics.nanmean(
                metrics.auroc_auprc(y_true[i][:, keep], y_score[i][:, keep])[0]
            )
        }
        for o, (lab, binary, w, normal) in scoring.items():
            out[f"challenge_metric_{o}"] = metrics.challenge_metric(lab[i], binary[i], w, normal)
            f1 = metrics.f1_per_class(y_true[i][:, keep], pred[o][i][:, keep])
            out[f"macro_f1_{o}"] = metrics.nanmean(f1)
        return out

    entry["intervals"] = bootstrap_figures(drawn, len(order))
    for o in OBJECTIVES:  # the same figures two ways: a check on both
        for name in ("challenge_metric", "macro_f1"):
            mine = entry["intervals"][f"{name}_{o}"]["estimate"]
            theirs = entry[f"thresholds_{o}"][name]
            if not np.isclose(mine, theirs, atol=1e-9):
                raise SystemExit(f"{name} ({o} thresholds): {mine} against {theirs}")
    return entry


def row_scores(row, seed, split, features, y, record_ids, args):
    """One split's validation and test probabilities of a row, and what it took."""
    if row == "features":
        return feature_scores(split, features, y)
    name = row.removesuffix("+forest")
    deep = deep_scores(
        name, DEEP[name], split, record_ids, args.work, [args.data], args.max_epochs, seed
    )
    if name == row:
        return deep
    forest = feature_scores(split, features, y)
    return (deep[0] + forest[0]) / 2, (deep[1] + forest[1]) / 2, {name: deep[2], **forest[2]}


@dataclass
class Setup:
    """The records, labels, splits and features every row shares."""

    record_ids: list[str]
    encoder: LabelEncoder
    dx: list[list[str]]
    y: np.ndarray
    splits: list[Any]
    features: np.ndarray
    weights: RewardMatrix

    @property
    def classes(self) -> list[str]:
        return list(self.encoder.class_names)


def load_setup(
    work: Path,
    data: Path = DATA,
    weights: Path = WEIGHTS,
    splits_from: Path = SPLITS_FROM,
) -> Setup:
    """Records, labels and folds as ``bench/cinc12.py`` has them, and the features."""
    base = prepared("seed", cpu_config(ROOT / "configs/seed.json", 2), [data], work)
    record_ids = list(base.index["record_id"])
    encoder = LabelEncoder.from_config(load_config(DEEP["default"]).labels)
    dx = [d.split(",") if d else [] for d in base.index["dx"]]
    y = encoder.encode_many(dx)
    saved = json.loads(splits_from.read_text())
    folds = outer_folds(work, record_ids, y, list(base.index["patient_id"]), saved)
    splits = cinc12_splits("oof", folds, base.index["source"].to_numpy(), y, [])
    features = feature_table(base, work, metadata=True)
    return Setup(record_ids, encoder, dx, y, splits, features, RewardMatrix.load(weights))


def split_scores(
    row: str, seed: int | None, setup: Setup, work: Path, args: Any = None
) -> tuple[list, list, dict]:
    """Each split's ``(validation indices, probabilities)`` and ``(test indices,
    probabilities)`` of a row, and what each took (a deep row trains where it has not)."""
    args = args or argparse.Namespace(work=work, data=DATA, max_epochs=None)
    val_parts, test_parts, info = [], [], {}
    for split in setup.splits:
        print(f"== {row} seed {seed} {split.name}", flush=True)
        val, test, info[split.name] = row_scores(
            row, seed, split, setup.features, setup.y, setup.record_ids, args
        )
        val_parts.append((split.val, val))
        test_parts.append((split.test, test))
    return val_parts, test_parts, info


def table(results: dict[str, Any]) -> str:
    """Per row: each seed's figures with intervals, and the mean and range over seeds."""

    def with_interval(e: dict, name: str) -> str:
        i = e["intervals"][name]
        return f"{cell(i['estimate'])} ({cell(i['low'])}-{cell(i['high'])})"

    names = ["macro_auroc", "challenge_metric_challenge", "challenge_metric_f1", "macro_f1_f1"]
    header = [
        "row",
        "seed",
        "macro AUROC",
        "challenge metric (challenge thr.)",
        "challenge metric (F1 thr.)",
        "macro F1 (F1 thr.)",
        "training",
    ]
    rows = []
    for row, seeds in results["rows"].items():
        for seed, e in seeds.items():
            rows.append(
                [
                    row,
                    seed.removeprefix("seed").replace("forest", "-"),
                    *(with_interval(e, n) for n in names),
                    minutes(e.get("train_seconds")),
                ]
            )
        if len(seeds) > 1:
            spread = []
            for n in names:
                v = [e["intervals"][n]["estimate"] for e in seeds.values()]
                spread.append(f"{cell(np.mean(v))} ({cell(min(v))}-{cell(max(v))})")
            rows.append([row, "mean (range)", *spread, ""])
    return "\n".join(markdown(header, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--weights", type=Path, default=WEIGHTS)
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/core")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/core.json")
    parser.add_argument(
        "--splits-from",
        type=Path,
        default=SPLITS_FROM,
        help="the results file whose outer folds every row uses",
    )
    parser.add_argument("--rows", default=",".join(ROWS), help=f"of {', '.join(ROWS)}")
    parser.add_argument("--seeds", default=SEEDS, help="training seeds of the deep rows")
    parser.add_argument(
        "--max-epochs", type=int, help="cap the deep rows' epochs (a quick check, not a row)"
    )
    parser.add_argument("--table", action="store_true", help="print --out as Markdown")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    rows, seeds = args.rows.split(","), [int(s) for s in args.seeds.split(",")]
    if bad := [r for r in rows if r not in ROWS]:
        parser.error(f"unknown rows: {bad}")
    for path in (args.data, args.weights, args.splits_from):
        if not path.exists():
            print(f"not found: {path}", file=sys.stderr)
            return 2
    args.work.mkdir(parents=True, exist_ok=True)
    setup = load_setup(args.work, args.data, args.weights, args.splits_from)
    for row in rows:
        for seed in [None] if row == "features" else seeds:
            val_parts, test_parts, info = split_scores(row, seed, setup, args.work, args)
            entry = figures(setup.y, val_parts, test_parts, setup.encoder, setup.dx, setup.weights)
            entry["threshold_ways"] = threshold_ways(
                setup.y, val_parts, test_parts, setup.classes, setup.dx, setup.weights
            )
            entry["splits"] = info
            entry["train_seconds"] = sum(_train_seconds(i) for i in info.values())
            entry["max_epochs"] = args.max_epochs
            key = "forest" if seed is None else f"seed{seed}"
            _save_row(args, row, key, entry, len(setup.record_ids))
            print(json.dumps(json_safe(entry["intervals"]), indent=1), flush=True)
    return 0


def _save_row(args: argparse.Namespace, row: str, key: str, entry: dict, n: int) -> None:
    """Add one row to the results file, read again under a lock just before it is
    written, so that rows another call wrote meanwhile are kept."""
    from ecgml.files import locked, write_json

    with locked(args.out):
        results = json.loads(args.out.read_text()) if args.out.is_file() else {}
        results.setdefault("rows", {}).setdefault(row, {})[key] = entry
        results.update(
            {
                "data": str(args.data),
                "n_records": n,
                "outer_folds_from": str(args.splits_from.relative_to(ROOT)),
                "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, no GPU",
                "ecgml_version": __version__,
                "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
        )
        write_json(args.out, json_safe(results), indent=1)


def _train_seconds(info: dict[str, Any]) -> float:
    """One split's training seconds: a deep model's, a forest's, or both in a mean row
    (the deep model's under its name)."""
    nested = sum(v["train_seconds"] for v in info.values() if isinstance(v, dict))
    return nested + info.get("train_seconds", 0.0)


if __name__ == "__main__":
    sys.exit(main())
