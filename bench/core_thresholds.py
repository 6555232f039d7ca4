"""Why thresholded decisions trail the ranking on the core task: thresholds learned
from more or fewer records, or by another objective, on ``bench/core.py``'s rows.

    python bench/core_thresholds.py --rows features,preset-full,preset-full+forest --seed 44
    python bench/core_thresholds.py --table

``bench/core.py`` scores every row it runs this way too, into the row's
``threshold_ways`` in ``bench/results/core.json``. This script adds them to rows
run before that: it reads their probabilities from ``bench/core.py``'s work
folder (a deep row must have been run there with that seed; nothing is trained
here). The pooled out-of-fold decisions are scored with the challenge metric,
under each way of choosing the thresholds. Every way but the last learns only from records the
scored split's model did not train on, and none from the split's test part:

* ``validation part``: ``bench/core.py``'s own, each split's validation part
  (about 50 records), challenge objective;
* ``validation part, F1``: the same records, F1 objective per class;
* ``half the validation part``: its first half by record order (fold size);
* ``other test parts``: the pooled test parts of the other four splits (about
  200 records, scored by their own models);
* ``fixed 0.5``: no learning;
* ``pooled test part (ceiling)``: learned on the very records it scores. Not a
  result: how far from the best thresholds could get the others are.

Macro AUROC does not depend on thresholds and is the row's, from ``core.json``.
Each figure has its 95 % bootstrap interval (1000 draws over records, the same
draws for every way of a row).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.evaluation import metrics
from ecgml.evaluation.bootstrap import bootstrap_figures
from ecgml.evaluation.challenge import NORMAL_CLASS, multi_hot, scored_arrays
from ecgml.evaluation.report import json_safe
from ecgml.evaluation.thresholds import ThresholdOptimizer
from ecgml.files import locked, write_json
from ecgml.runs.thresholds import reward_for_classes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench/results/core.json"
WAYS = (
    "validation part",
    "validation part, F1",
    "half the validation part",
    "other test parts",
    "fixed 0.5",
    "pooled test part (ceiling)",
)


def _fit(objective: str, y: np.ndarray, score: np.ndarray, reward, normal: int):
    weights = reward if objective == "challenge" else None
    return ThresholdOptimizer(objective, weights=weights, normal_index=normal).fit(y, score)


def decisions(way, y, val_parts, test_parts, reward, normal) -> np.ndarray:
    """The pooled test decisions of one way of choosing thresholds."""
    if way == "pooled test part (ceiling)":
        order = np.concatenate([i for i, _ in test_parts])
        score = np.concatenate([s for _, s in test_parts])
        return _fit("challenge", y[order], score, reward, normal).predict(score)
    out = []
    for k, ((val_idx, val), (_, test)) in enumerate(zip(val_parts, test_parts, strict=True)):
        if way == "fixed 0.5":
            out.append((test >= 0.5).astype(np.uint8))
            continue
        if way in ("validation part", "validation part, F1"):
            idx, score = val_idx, val
        elif way == "half the validation part":
            half = len(val_idx) // 2
            idx, score = val_idx[:half], val[:half]
        elif way == "other test parts":
            others = [j for j in range(len(test_parts)) if j != k]
            idx = np.concatenate([test_parts[j][0] for j in others])
            score = np.concatenate([test_parts[j][1] for j in others])
        else:
            raise ValueError(way)
        objective = "f1" if way.endswith("F1") else "challenge"
        out.append(_fit(objective, y[idx], score, reward, normal).predict(test))
    return np.concatenate(out)


def row_figures(y, val_parts, test_parts, classes, dx, weights) -> dict[str, Any]:
    reward = reward_for_classes(weights, classes)
    normal = classes.index(NORMAL_CLASS)
    order = np.concatenate([i for i, _ in test_parts])
    score = np.concatenate([s for _, s in test_parts])
    label_classes, labels = multi_hot([dx[i] for i in order])
    scoring = {}
    for way in WAYS:
        pred = decisions(way, y, val_parts, test_parts, reward, normal)
        names, lab, binary, _, w = scored_arrays(
            label_classes, labels, classes, pred, score, weights=weights
        )
        scoring[way] = (lab, binary, w, names.index(NORMAL_CLASS), pred.sum(axis=1).mean())

    def drawn(i: np.ndarray) -> dict[str, float]:
        return {
            way: metrics.challenge_metric(s[0][i], s[1][i], s[2], s[3])
            for way, s in scoring.items()
        }

    intervals = bootstrap_figures(drawn, len(order))
    return {way: {**intervals[way], "labels_per_record": float(scoring[way][4])} for way in WAYS}


def main(argv: list[str] | None = None) -> int:
    import core  # the rows' setup and scores (core.py imports this module's ways)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="features,preset-full,preset-full+forest")
    parser.add_argument("--seed", type=int, default=44, help="the deep rows' training seed")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/core")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(OUT.read_text())))
        return 0
    setup = core.load_setup(args.work)
    for row in args.rows.split(","):
        seed = None if row == "features" else args.seed
        name, key = row.removesuffix("+forest"), "forest" if seed is None else f"seed{seed}"
        if seed is not None and not (args.work / "runs" / f"{name}-seed{seed}").is_dir():
            print(f"{row}: not run with seed {seed} in {args.work}; skipped", file=sys.stderr)
            continue
        val_parts, test_parts, _ = core.split_scores(row, seed, setup, args.work)
        ways = row_figures(setup.y, val_parts, test_parts, setup.classes, setup.dx, setup.weights)
        with locked(OUT):
            results = json.loads(OUT.read_text())
            if key not in results["rows"].get(row, {}):
                print(f"{row} {key}: not in {OUT}; run bench/core.py first", file=sys.stderr)
                continue
            results["rows"][row][key]["threshold_ways"] = ways
            write_json(OUT, json_safe(results), indent=1)
        print(row, key, {w: round(e["estimate"], 3) for w, e in ways.items()}, flush=True)
    return 0


def table(results: dict[str, Any]) -> str:
    """The rows of ``core.json`` that have ``threshold_ways``: each way's challenge
    metric with its interval, and the classes decided per record."""
    header = ["row", "seed", *WAYS]

    def cell(e: dict) -> str:
        return f"{e['estimate']:.3f} ({e['low']:.3f}-{e['high']:.3f}); {e['labels_per_record']:.1f}"

    rows = [
        [
            row,
            key.removeprefix("seed") if key != "forest" else "-",
            *(cell(e["threshold_ways"][w]) for w in WAYS),
        ]
        for row, entries in results["rows"].items()
        for key, e in sorted(entries.items())
        if "threshold_ways" in e
    ]
    return "\n".join(markdown(header, rows))


if __name__ == "__main__":
    sys.exit(main())
