"""``ecgml tune`` on MIT-BIH heartbeats: the seed's hand-tuned learning rate and batch
size, searched with Optuna instead, then scored once on DS2.

    python bench/tune_mitbih.py --rows 7           # a search of 7 trials (the seed's count)
    python bench/tune_mitbih.py --rows 7,20        # and one of 20
    python bench/tune_mitbih.py --table            # the saved results as Markdown

The model and everything but the two searched settings are ``bench/mitbih.py``'s
``cnn`` row (the seed's small CNN, categorical cross-entropy, 8 epochs, the last
kept; the seed's settings are learning rate 0.002 and batch 150). The search
space is the seed's ranges: learning rate 0.001-0.023 (log scale) and batch
150-300, TPE (seed 0), the median pruner (after 3 trials, from epoch 3 on
val_loss). Each trial trains the first 2 of the 5 record-grouped folds of DS1
and is judged by macro sensitivity (the AAMI scorer's headline) over their
validation beats; DS2 is the split's standard test part and stays out of the
search (``TUNE/folds.json`` holds it out). Then ``best.json`` trains all five
folds on DS1 with the search's folds, and the ensemble scores DS2 once. Settings
were fixed before any DS2 figure of a tuned model was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cell, markdown, minutes, prepared, trial_rows
from mitbih import row_config

from ecgml import __version__
from ecgml.config import load_config

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared/data/mitdb"
SPACE = {
    "parameters": {
        "training.learning_rate": {"low": 0.001, "high": 0.023, "log": True},
        "training.batch_size": {"low": 150, "high": 300},
    },
    "folds": 2,
    "pruner": {"kind": "median", "n_startup_trials": 3, "n_warmup_steps": 2},
    "sampler": {"kind": "tpe", "seed": 0},
}
CLASSES = ("N", "S", "V", "F", "Q")


def run_row(trials: int, work: Path) -> dict[str, Any]:
    from ecgml.inference.postprocess import evaluate_on_data
    from ecgml.runs import train_run
    from ecgml.tune import parse_space, tune

    config = row_config("cnn", "inter")
    cache = prepared(config, [DATA], work / "cache")
    out = work / f"tune_{trials}"
    started = time.time()
    study = tune(
        config, cache.path, parse_space(SPACE, config), out, trials=trials, space_data=SPACE
    )
    search_seconds = time.time() - started
    summary = json.loads((out / "tune.json").read_text())
    best = load_config(out / "best.json")
    run = work / f"run_best_{trials}"
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "folds.json").is_file():  # the search's folds: DS2 held out
        shutil.copyfile(out / "folds.json", run / "folds.json")
    started = time.time()
    train_run(cache.path, run, best, verbose=0)
    train_seconds = time.time() - started
    score = evaluate_on_data(run, cache.path, work / f"eval_best_{trials}", progress=False)
    ensemble = score["models"]["ensemble"]
    return {
        "trials": trials,
        "search_seconds": round(search_seconds, 1),
        "best": summary["best"],
        "states": summary["states"],
        "held_out_samples": summary["held_out_samples"],
        "train_seconds": round(train_seconds, 1),
        "ds2": {"overall": ensemble["overall"], "per_class": ensemble["per_class"]},
        "trial_rows": trial_rows(study),
    }


def table(results: dict[str, Any]) -> str:
    header = [
        "row",
        "learning rate",
        "batch",
        "inner macro Se (DS1, 2 folds)",
        "DS2 macro Se",
        "DS2 accuracy",
        *(f"DS2 {c} Se" for c in CLASSES),
        "trials complete / pruned",
        "search",
        "training the best",
    ]
    rows = []
    seed_row = results.get("seed_settings")
    if seed_row:
        o, pc = seed_row["overall"], seed_row["per_class"]
        rows.append(
            [
                "seed's settings (bench/mitbih.py cnn-inter)",
                "0.002",
                "150",
                "-",
                cell(o["macro_sensitivity"]),
                cell(o["accuracy"]),
                *(cell(pc[c]["sensitivity"]) for c in CLASSES),
                "-",
                "-",
                minutes(seed_row.get("train_seconds")),
            ]
        )
    for name, r in results.get("rows", {}).items():
        o, pc, b = r["ds2"]["overall"], r["ds2"]["per_class"], r["best"]
        rows.append(
            [
                f"{name} trials",
                cell(b["params"]["training.learning_rate"], 4),
                str(b["params"]["training.batch_size"]),
                cell(b["value"]),
                cell(o["macro_sensitivity"]),
                cell(o["accuracy"]),
                *(cell(pc[c]["sensitivity"]) for c in CLASSES),
                f"{r['states']['complete']} / {r['states']['pruned']}",
                minutes(r["search_seconds"]),
                minutes(r["train_seconds"]),
            ]
        )
    return "\n".join(markdown(header, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="7,20", help="trial counts, comma-separated")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/tune_mitbih")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/tune.json")
    parser.add_argument("--table", action="store_true", help="print --out as Markdown, run nothing")
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"rows": {}}
    if args.table:
        print(table(results))
        return 0
    if not DATA.is_dir():
        parser.error(f"no MIT-BIH records at {DATA}")
    seed = json.loads((ROOT / "bench/results/mitbih.json").read_text())["rows"].get("cnn-inter")
    if seed:  # the seed's settings, as bench/mitbih.py measured them
        results["seed_settings"] = {
            "overall": seed["overall"],
            "per_class": seed["per_class"],
            "train_seconds": seed.get("train_seconds"),
        }
    for count in (int(c) for c in args.rows.split(",")):
        print(f"{count} trials", flush=True)
        results["rows"][str(count)] = run_row(count, args.work)
        results.update(
            machine=f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
            ecgml_version=__version__,
            updated=time.strftime("%Y-%m-%d"),
            space=SPACE,
        )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")
        print(table(results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
