"""ECG images on ``../shared/data/cinc12``: printouts through MobileNetV3 against the signal.

    python bench/image.py --speed                 # rendering speed, 1 and 2 workers
    python bench/image.py --rows image,signal,forest,majority
    python bench/image.py --table                 # print the saved results

The records of cinc12 with exactly one of the seven CPSC 2018 classes (normal,
AF, I-AVB, LBBB, RBBB, PAC, PVC; ``labels.one_class``) are the samples. Every
row is judged out of fold on the same five folds: the ``image`` run makes them
(grouped by patient, stratified, seed 42) and every other row copies its
``folds.json``. A deep row trains all five folds with the last epoch kept (no
early stopping, nothing chosen on the validation fold), and each fold model's
predictions of its own validation fold are pooled, one per record.

Rows:

* ``image``: ``configs/image.json``, the printouts (one clean, two varied per
  record) at 288x408 grey through MobileNetV3 Small (minimalistic).
* ``image-clean``: the same with one clean rendering per record (no variation).
* ``signal``: the SE-ResNet of ``configs/se-resnet.json`` on the signals of the
  same records and classes, float32 without XLA, the same epochs.
* ``forest``: a random forest on ecgml's hand-crafted features
  (:mod:`ecgml.baseline`), class-balanced.
* ``majority``: every record called normal.

Figures: per-class precision (the seed's headline) and recall, macro F1,
accuracy, macro AUROC, and the confusion matrix.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecgml import __version__  # noqa: E402
from ecgml.config import Config, load_config  # noqa: E402
from ecgml.data.cache import Cache  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import prepared  # noqa: E402

DATA = ROOT.parent / "shared/data/cinc12"
IMAGE_CONFIG = ROOT / "configs/image.json"
SIGNAL_CONFIG = ROOT / "configs/se-resnet.json"
ROWS = ("image", "image-clean", "signal", "forest", "majority")
SEED = 42


def row_config(row: str, epochs: int | None) -> Config:
    """The row's config, float32 without XLA (CPU)."""
    image = load_config(IMAGE_CONFIG)
    if row == "signal":
        base = load_config(SIGNAL_CONFIG)
        config = dataclasses.replace(
            base,
            task=image.task,
            labels=image.labels,
            training=dataclasses.replace(
                base.training,
                loss=image.training.loss,
                epochs=image.training.epochs,
                keep_epoch="last",
                early_stopping_patience=0,
            ),
        )
    elif row == "image-clean":
        pre = dataclasses.replace(
            image.preprocess, image=dataclasses.replace(image.preprocess.image, renderings=1)
        )
        config = dataclasses.replace(image, preprocess=pre)
    else:
        config = image
    training = dataclasses.replace(
        config.training,
        precision="float32",
        jit_compile=False,
        epochs=epochs or config.training.epochs,
    )
    return dataclasses.replace(config, training=training)


def cache_for(row: str, config: Config, work: Path) -> Cache:
    name = {"image-clean": "image-clean", "image": "image"}.get(row, "signal")
    return prepared(config, [DATA], work / f"cache_{name}")


def out_of_fold(run: Path, cache: Cache) -> np.ndarray:
    """Each fold model's probabilities for its own validation fold, in cache order."""
    from ecgml.runs.thresholds import load_validation

    folds = json.loads((run / "folds.json").read_text())["folds"]
    order = {rid: i for i, rid in enumerate(cache.index["record_id"])}
    y_score = np.full(cache.labels.shape, np.nan, np.float32)
    for k, ids in enumerate(folds):
        found = load_validation(run, k, ids)
        y_score[[order[r] for r in found["record_ids"]]] = found["y_score"]
    if np.isnan(y_score).any():
        raise SystemExit(f"{run}: some records have no out-of-fold prediction")
    return y_score


def run_deep(row: str, work: Path, epochs: int | None) -> tuple[Cache, np.ndarray, float]:
    from ecgml.runs import train_run

    config = row_config(row, epochs)
    cache = cache_for(row, config, work)
    run = work / f"run_{row}"
    run.mkdir(parents=True, exist_ok=True)
    reference = work / "run_image" / "folds.json"
    if row != "image" and not (run / "folds.json").is_file():
        if not reference.is_file():
            raise SystemExit("run the image row first: its folds are every row's folds")
        shutil.copy(reference, run / "folds.json")
    started = time.time()
    train_run(cache.path, run, config, verbose=2)
    return cache, out_of_fold(run, cache), time.time() - started


def run_baseline(row: str, work: Path) -> tuple[Cache, np.ndarray, float]:
    from sklearn.ensemble import RandomForestClassifier

    from ecgml.baseline import extract_features

    config = row_config("signal", None)
    cache = cache_for("signal", config, work)
    y = cache.labels
    started = time.time()
    if row == "majority":
        y_score = np.zeros(y.shape, np.float32)
        y_score[:, 0] = 1.0  # normal, the first class
        return cache, y_score, time.time() - started
    folds = json.loads((work / "run_image" / "folds.json").read_text())["folds"]
    fold_of = {rid: k for k, ids in enumerate(folds) for rid in ids}
    fold = np.array([fold_of[r] for r in cache.index["record_id"]])
    pre = cache.preprocess
    x = np.array(
        [
            extract_features(
                cache.windows(i)[0],
                pre.fs,
                pre.leads,
                age=cache.index.at[i, "age"],
                sex=cache.index.at[i, "sex"],
            )
            for i in range(len(cache))
        ]
    )
    x = np.nan_to_num(x, nan=0.0)
    y_score = np.zeros(y.shape, np.float32)
    for k in range(len(folds)):
        forest = RandomForestClassifier(
            n_estimators=500,
            min_samples_leaf=1,
            class_weight="balanced_subsample",
            n_jobs=os.cpu_count(),
            random_state=0,
        )
        forest.fit(x[fold != k], y[fold != k].argmax(axis=1))
        y_score[np.ix_(fold == k, forest.classes_)] = forest.predict_proba(x[fold == k])
    return cache, y_score, time.time() - started


def score(cache: Cache, y_score: np.ndarray) -> dict[str, Any]:
    from ecgml.evaluation.report import json_safe
    from ecgml.evaluation.scorers import get_scorer

    y_pred = np.zeros_like(cache.labels)
    y_pred[np.arange(len(y_pred)), y_score.argmax(axis=1)] = 1
    result = get_scorer("multiclass").score(
        cache.labels, y_score, y_pred, cache.class_names, cache.abbreviations
    )
    return json_safe(result)


def measure_speed(work: Path) -> dict[str, Any]:
    """``ecgml render`` of every cinc12 record at 100 DPI, into a new folder each time."""
    from ecgml.printout.render import PrintoutConfig
    from ecgml.serve.printouts import render_records

    figures = {}
    for jobs in (1, 2):
        for variation in (False, True):
            with tempfile.TemporaryDirectory(dir=work) as tmp:
                report = render_records(
                    [DATA],
                    tmp,
                    PrintoutConfig(dpi=100, variation=variation),
                    jobs=jobs,
                    progress=False,
                )
            key = f"jobs{jobs}{'_variation' if variation else ''}"
            figures[key] = {k: report[k] for k in ("drawn", "seconds", "printouts_per_second")}
            print(
                f"render {key}: {report['drawn']} printouts in {report['seconds']:.1f} s, "
                f"{report['printouts_per_second']} printouts/s",
                flush=True,
            )
    return figures


def _n(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(results: dict[str, Any]) -> str:
    rows = [r for r in ROWS if r in results.get("rows", {})]
    if not rows:
        return "no rows yet"
    first = results["rows"][rows[0]]["scores"]["per_class"]
    names = [c["abbreviation"] for c in first.values()]
    lines = [
        "| row | "
        + " | ".join(f"{n} P/R" for n in names)
        + " | macro F1 | accuracy | macro AUROC | wall s |",
        "|---|" + "---|" * (len(names) + 4),
    ]
    for row in rows:
        entry = results["rows"][row]
        per_class = entry["scores"]["per_class"].values()
        cells = [f"{_n(c['precision'])}/{_n(c['recall'])}" for c in per_class]
        overall = entry["scores"]["overall"]
        lines.append(
            f"| {row} | " + " | ".join(cells) + f" | {_n(overall['macro_f1'])} | "
            f"{_n(overall['accuracy'])} | {_n(overall['macro_auroc'])} | "
            f"{entry['seconds']:.0f} |"
        )
    support = [str(c["n_positive"]) for c in first.values()]
    lines.append(
        "\nrecords per class: " + ", ".join(f"{n} {s}" for n, s in zip(names, support, strict=True))
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="", help=f"comma-separated, some of {ROWS}")
    parser.add_argument("--speed", action="store_true", help="measure the rendering speed")
    parser.add_argument("--table", action="store_true", help="print the saved results")
    parser.add_argument("--epochs", type=int, help="override the configs' epochs")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/image")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/image.json")
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if args.table:
        print(table(results))
        return 0
    if not DATA.is_dir():
        raise SystemExit(f"no data in {DATA}")
    args.work.mkdir(parents=True, exist_ok=True)
    rows = [r for r in args.rows.split(",") if r]
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; expected some of {ROWS}")
    results.setdefault("rows", {})
    results["machine"] = f"{platform.platform()}, {os.cpu_count()} CPUs, no GPU"
    results["ecgml_version"] = __version__
    if args.speed:
        results["render_speed"] = measure_speed(args.work)
    for row in rows:
        print(f"== {row}", flush=True)
        if row in ("forest", "majority"):
            cache, y_score, seconds = run_baseline(row, args.work)
        else:
            cache, y_score, seconds = run_deep(row, args.work, args.epochs)
        results["rows"][row] = {
            "command": "python bench/image.py --rows "
            + row
            + (f" --epochs {args.epochs}" if args.epochs else ""),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "records": len(cache),
            "seconds": round(seconds, 1),
            "scores": score(cache, y_score),
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        print(table({"rows": {row: results["rows"][row]}}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
