"""The demo trained with augmentation in the step against the numpy pipeline it replaced.

    python bench/augment_paths.py [--seeds 42,43,44] [--out bench/results/augment_paths.json]

For each seed, ``configs/demo.json`` with that seed is trained twice on the
demo cache (``make demo`` writes it, and the 100-record demo test set): with
``training.augment_in: "host"`` (crops and augmentation in numpy on the host,
as before issue 11) and ``"step"`` (the default now). Each run is thresholded
and scored on the demo test set as ``make demo`` does. Printed per run: the
mean validation AUROC of the five folds, the ensemble's test macro AUROC and
challenge metric, and the training seconds. The two paths draw different
random numbers, so a seed gives different models; the question is whether the
spread over seeds overlaps.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecgml.config import load_config, save_config  # noqa: E402


def one_run(path: str, seed: int, args: argparse.Namespace) -> dict:
    base = load_config(ROOT / "configs/demo.json")
    config = dataclasses.replace(
        base, training=dataclasses.replace(base.training, seed=seed, augment_in=path)
    )
    run = args.work / f"{path}-{seed}"
    shutil.rmtree(run, ignore_errors=True)  # trained afresh: a finished run would be skipped
    run.mkdir(parents=True)
    save_config(config, run / "config.json")
    python = sys.executable
    started = time.perf_counter()
    for command in (
        [
            python,
            "model_training.py",
            "--config",
            str(run / "config.json"),
            "--data",
            str(args.cache),
            "--out",
            str(run / "run"),
            "--quiet",
        ],
        [python, "threshold.py", "--run", str(run / "run")],
        [
            python,
            "postprocessing.py",
            "--run",
            str(run / "run"),
            "--data",
            str(args.test),
            "--out",
            str(run / "test"),
            "--no-progress",
        ],
    ):
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    done = [json.loads((run / f"run/fold_{k}/done.json").read_text()) for k in range(5)]
    score = json.loads((run / "test/score.json").read_text())["models"]["ensemble"]
    return {
        "path": path,
        "seed": seed,
        "val_auroc_mean": statistics.mean(d["best"] for d in done),
        "test_macro_auroc": score["overall"]["macro_auroc"],
        "test_challenge_metric": score["challenge"]["challenge_metric"],
        "training_seconds": round(sum(d["seconds_this_job"] for d in done), 1),
        "wall_seconds": round(wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,43,44")
    parser.add_argument("--paths", default="host,step", help="some of host,step")
    parser.add_argument("--note", default="", help="recorded with each row (what the code was)")
    parser.add_argument("--append", action="store_true", help="add to --out's rows")
    parser.add_argument("--cache", type=Path, default=ROOT / "result/demo/cache")
    parser.add_argument("--test", type=Path, default=ROOT / "data/demo-test")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/augment_paths")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/augment_paths.json")
    args = parser.parse_args(argv)
    if not (args.cache / "meta.json").is_file() or not args.test.is_dir():
        parser.error("run `make demo` first: it writes the demo cache and test set")
    rows = json.loads(args.out.read_text())["rows"] if args.append else []
    for seed in (int(s) for s in args.seeds.split(",")):
        for path in args.paths.split(","):
            rows.append({**one_run(path, seed, args), "note": args.note})
            print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for variant in sorted({(r["path"], r.get("note", "")) for r in rows}):
        mine = [r for r in rows if (r["path"], r.get("note", "")) == variant]
        summary[" ".join(v for v in variant if v)] = {
            key: {
                "mean": statistics.mean(r[key] for r in mine),
                "sd": statistics.stdev(r[key] for r in mine) if len(mine) > 1 else None,
            }
            for key in (
                "val_auroc_mean",
                "test_macro_auroc",
                "test_challenge_metric",
                "training_seconds",
            )
        }
    print(json.dumps(summary, indent=1))
    args.out.write_text(
        json.dumps(
            {
                "command": "python bench/augment_paths.py " + " ".join(argv or sys.argv[1:]),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": "2 cores, no GPU",
                "rows": rows,
                "summary": summary,
            },
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
