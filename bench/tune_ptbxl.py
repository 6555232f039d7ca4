"""``ecgml tune`` on the PTB-XL subset: xresnet1d's learning rate, weight decay and head
dropout searched on the training part's inner folds, the best trained on all five
folds and scored once on the held-out validation fold.

    python bench/tune_ptbxl.py --trials 10
    python bench/tune_ptbxl.py --table     # the saved results as Markdown

The base is ``bench/configs/ptbxl-xresnet1d.json`` (set by hand, from the PTB-XL
benchmark's recipe: one-cycle AdamW at 0.01, weight decay 0.01, head dropout 0.5,
50 epochs, the last kept). The space: learning rate 0.001-0.05 and weight decay
0.0001-0.1 (log scales), head dropout 0-0.7 in steps of 0.1; TPE (seed 0, its first
4 trials random), the median pruner (after 3 trials, from epoch 10 on val_auroc).
Each trial trains fold 0 of ``bench/ptbxl.py``'s five folds (the same folds, made by
the same code with seed 42; the validation fold, 183 records, held out) and is judged
by macro AUROC over fold 0's validation part. Then ``best.json`` trains all five
folds and is scored like ``bench/ptbxl.py``'s rows (out of fold, and the five fold
models on the validation fold once), beside the untuned xresnet1d (seed 42) and the
feature forest from ``bench/results/ptbxl.json``. Space, trials, folds and seeds were
fixed before any held-out figure of a tuned model was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cell, markdown, minutes, trial_rows
from ptbxl import DATA, DEEP, deep_row, fixed_folds, prepared, scored

from ecgml import __version__
from ecgml.config import load_config
from ecgml.data.splits import standard_parts
from ecgml.task import Task

ROOT = Path(__file__).resolve().parent.parent
SPACE = {
    "parameters": {
        "training.learning_rate": {"low": 0.001, "high": 0.05, "log": True},
        "training.weight_decay": {"low": 0.0001, "high": 0.1, "log": True},
        "model.head_dropout": {"low": 0.0, "high": 0.7, "step": 0.1},
    },
    "folds": 1,
    "pruner": {"kind": "median", "n_startup_trials": 3, "n_warmup_steps": 10},
    "sampler": {"kind": "tpe", "seed": 0, "n_startup_trials": 4},
}
SEED = 42
COMPARED = {"xresnet1d": str(SEED), "forest": "-"}  # rows of bench/results/ptbxl.json


def run_search(trials: int, work: Path) -> dict[str, Any]:
    from ecgml.tune import parse_space, tune

    base = load_config(DEEP["xresnet1d"])
    cache = prepared(base, work)
    parts = standard_parts(cache.index, Task.of(base).reader)
    folds = fixed_folds(work, cache, cache.labels, parts == "train")
    out = work / f"tune_{trials}"
    started = time.time()
    study = tune(
        base,
        cache.path,
        parse_space(SPACE, base),
        out,
        trials=trials,
        folds_from=work / "folds.json",
        space_data=SPACE,
    )
    search_seconds = time.time() - started
    summary = json.loads((out / "tune.json").read_text())
    best = load_config(out / "best.json")
    started = time.time()
    oof, fold_scores, thresholds, info, _ = deep_row(
        f"tuned_{trials}", SEED, cache, folds, work, config=best
    )
    row = scored(cache.labels, folds, oof, fold_scores, thresholds, list(base.labels.classes))
    return {
        "trials": trials,
        "search_seconds": round(search_seconds, 1),
        "best": summary["best"],
        "states": summary["states"],
        "held_out_samples": summary["held_out_samples"],
        "train_seconds": info["train_seconds"],
        "final_seconds": round(time.time() - started, 1),
        **row,
        "trial_rows": trial_rows(study),
    }


def table(results: dict[str, Any]) -> str:
    header = [
        "row",
        "learning rate",
        "weight decay",
        "head dropout",
        "inner macro AUROC (fold 0)",
        "out of fold macro AUROC (95 % CI)",
        "validation fold macro AUROC (95 % CI)",
        "validation macro F1",
        "trials complete / pruned",
        "search",
        "training (5 folds)",
    ]

    def scores(r: dict) -> list[str]:
        o, v = r["oof"], r["validation"]
        lo, vo = o["macro_auroc_ci95"], v["macro_auroc_ci95"]
        return [
            f"{cell(o['macro_auroc'])} ({cell(lo['low'])}-{cell(lo['high'])})",
            f"{cell(v['macro_auroc'])} ({cell(vo['low'])}-{cell(vo['high'])})",
            cell(v["macro_f1"]),
        ]

    rows = []
    for name, r in results.get("compared", {}).items():
        settings = ["0.01", "0.01", "0.5"] if name == "xresnet1d" else ["-", "-", "-"]
        seed = f", seed {SEED}" if name == "xresnet1d" else ""
        rows.append(
            [
                f"{name} (bench/ptbxl.py{seed})",
                *settings,
                "-",
                *scores(r),
                "-",
                "-",
                minutes(r["info"].get("train_seconds")),
            ]
        )
    for name, r in results.get("rows", {}).items():
        p = r["best"]["params"]
        rows.append(
            [
                f"tuned, {name} trials",
                cell(p["training.learning_rate"], 4),
                cell(p["training.weight_decay"], 4),
                cell(p["model.head_dropout"], 1),
                cell(r["best"]["value"]),
                *scores(r),
                f"{r['states']['complete']} / {r['states']['pruned']}",
                minutes(r["search_seconds"]),
                minutes(r["train_seconds"]),
            ]
        )
    return "\n".join(markdown(header, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="the study's trial count")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/tune_ptbxl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/tune_ptbxl.json")
    parser.add_argument("--table", action="store_true", help="print --out as Markdown, run nothing")
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"rows": {}}
    if args.table:
        print(table(results))
        return 0
    if not DATA.is_dir():
        parser.error(f"no PTB-XL subset at {DATA}")
    measured = json.loads((ROOT / "bench/results/ptbxl.json").read_text())["models"]
    results["compared"] = {m: measured[m]["seeds"][seed] for m, seed in COMPARED.items()}
    print(f"{args.trials} trials", flush=True)
    results["rows"][str(args.trials)] = run_search(args.trials, args.work)
    results.update(
        machine=f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
        ecgml_version=__version__,
        updated=time.strftime("%Y-%m-%d"),
        space=SPACE,
        base="bench/configs/ptbxl-xresnet1d.json",
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(table(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
