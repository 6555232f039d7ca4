"""Are ecgml's explanations faithful? Zero the lead an explanation ranks first, the one
it ranks last, or a random one, and see how far the decided class's probability falls.

    python bench/explain.py                      # both tasks (about an hour on 2 cores)
    python bench/explain.py --tasks ptbxl
    python bench/explain.py --presets ptbxl-superclass,cinc2017-rhythm
    python bench/explain.py --table              # print the saved results

Two tasks on real records, settings fixed before anything was scored:

* ``cinc12``: ``configs/se-resnet.json`` (the SE-ResNet, 500 Hz) on
  ``../shared/data/cinc12``; the held-out part is outer fold 0 of the cinc12
  benchmark's five outer folds (``bench/cinc12_splits.py``, seed 42, patients
  kept together); the rest trains three folds (seed 42).
* ``ptbxl``: ``bench/configs/ptbxl-xresnet1d.json`` on the PTB-XL subset; the
  held-out part is its validation fold (183 records); the training part trains
  three folds (seed 42).

Each run trains on CPU in float32 (three folds rather than five, to keep the
benchmark near an hour; the explanation averages over whichever fold models the
run has). Every held-out record is read and predicted as ``ecgml predict`` does;
for every class the ensemble decides, :meth:`~ecgml.inference.ensemble.Ensemble.explain`
ranks the leads (integrated gradients, 32 steps, mean over the fold models).
Then the record's model inputs are scored again with one lead set to zero: the
first-ranked, the last-ranked, and one drawn at random (seed 0, any of the
leads). A drop is the ensemble's probability (the fold models' mean) before minus
after. Each mean carries a 95 % bootstrap interval over the (record, class)
cases (1,000 resamples, seed 0), as does the paired difference (each case's
first-ranked drop minus its random one). An explanation no better than random
shows as a paired difference whose interval holds 0.

The presets (``--presets``) are explained as shipped (``ecgml.load_preset``),
with no training:

* ``ptbxl-superclass`` on the 27 PTB-XL records of ``../shared/data/cinc12``
  (raw 500 Hz millivolts; none of them is among the preset's training records);
* ``cinc2017-rhythm`` on 60 CinC 2017 records, 15 of each class drawn with seed
  0. The preset trained on all of them (there are no others here), so the row
  says whether its explanations match what the model depends on, not how well
  it generalises. It has one lead, so the unit zeroed is one second of the
  record (the second with the most absolute attribution, the least, a random
  one) instead of a lead.
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
from ecgml.data.labels import LabelEncoder
from ecgml.task import Task
from ecgml.training.folds import HELD_OUT, make_folds, save_folds

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cinc12_splits import outer_folds
from common import cell, markdown, minutes, prepared, train_deep

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/data"
TASKS = {
    "cinc12": (ROOT / "configs/se-resnet.json", SHARED / "cinc12"),
    "ptbxl": (ROOT / "bench/configs/ptbxl-xresnet1d.json", SHARED / "ptbxl"),
}
N_FOLDS, SEED, N_BOOT = 3, 42, 1000


def _cinc2017_sample(per_class: int = 15) -> list[Path]:
    """``per_class`` records of each CinC 2017 class, drawn with seed 0."""
    folder = SHARED / "cinc2017"
    rows = [line.split(",") for line in (folder / "REFERENCE.csv").read_text().split()]
    rng = np.random.default_rng(0)
    picked = []
    for label in ("N", "A", "O", "~"):
        ids = sorted(r for r, lab in rows if lab == label)
        picked += [folder / f"{r}.hea" for r in rng.choice(ids, per_class, replace=False)]
    return picked


# preset: (the unit zeroed, the records it is explained on, where they are)
PRESET_ROWS = {
    "ptbxl-superclass": ("lead", lambda: sorted((SHARED / "cinc12").rglob("HR*.hea")), "cinc12"),
    "cinc2017-rhythm": ("second", _cinc2017_sample, "cinc2017"),
}


def cpu_config(path: Path) -> Config:
    config = load_config(path)
    training = dataclasses.replace(
        config.training, precision="float32", jit_compile=False, n_folds=N_FOLDS, seed=SEED
    )
    return dataclasses.replace(config, training=training)


def held_out(task: str, cache, config: Config, work: Path) -> np.ndarray:
    """Which cached records the run never trains or validates on."""
    resolved = Task.of(config)
    standard = resolved.split.held_out(cache.index, resolved.reader)
    if standard is not None:  # PTB-XL: its own validation (and test) part
        return np.asarray(standard, dtype=bool)
    encoder = LabelEncoder.from_config(config.labels)
    y = encoder.encode_many([d.split(",") if d else [] for d in cache.index["dx"]])
    groups = list(cache.index["patient_id"])
    outer = outer_folds(work, list(cache.index["record_id"]), y, groups)
    return outer == 0


def train(task: str, work: Path) -> tuple[Path, Config, Any, np.ndarray, dict]:
    config_path, data = TASKS[task]
    config = cpu_config(config_path)
    cache = prepared(config, [data], work / "cache")
    test = held_out(task, cache, config, work)
    run = work / "run"
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "folds.json").is_file():
        encoder = LabelEncoder.from_config(config.labels)
        y = encoder.encode_many([d.split(",") if d else [] for d in cache.index["dx"]])
        folds = np.full(len(cache), HELD_OUT)
        groups = cache.index["patient_id"].astype(str).to_numpy()
        folds[~test] = make_folds(y[~test], n_folds=N_FOLDS, seed=SEED, groups=list(groups[~test]))
        save_folds(
            run / "folds.json",
            list(cache.index["record_id"]),
            folds,
            seed=SEED,
            cache_id=cache.cache_id,
            split="explain-benchmark",
        )
    trained = train_deep(cache.path, run, config)
    return run, config, cache, test, trained


def _mean_probability(ensemble, windows: np.ndarray, prepared_record, k: int) -> float:
    features = None
    if ensemble.feature_names:
        meta = ensemble.record_metadata(prepared_record)
        features = ensemble.record_tabular(windows, meta)
    scores = ensemble.predict_windows([windows], features=features)
    return float(scores[:, 0, k].mean())


def _seconds(ensemble, record, attribution: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each whole-record second's absolute attribution, and the windows' starts on
    the record's timeline (at the model's rate)."""
    pre = ensemble.config.preprocess
    _, starts = ensemble.task.samples.explained_pieces(record, pre, record.windows.shape[1], [0])
    fs = int(pre.fs)
    length = int(starts.max()) + record.windows.shape[1]
    n = -(-length // fs)
    padded = np.zeros((n * fs, attribution.shape[1]))
    m = min(len(attribution), len(padded))
    padded[:m] = np.abs(attribution[:m])
    return padded.reshape(n, fs, -1).sum(axis=(1, 2)), starts


def _zeroed(record, unit: str, index: int, starts: np.ndarray | None, fs: int) -> np.ndarray:
    """The record's model windows with one lead, or one second of its timeline, zeroed."""
    masked = record.windows.copy()
    if unit == "lead":
        masked[..., index] = 0.0
        return masked
    width = masked.shape[1]
    for k, start in enumerate(starts):
        lo, hi = max(index * fs - start, 0), min((index + 1) * fs - start, width)
        if lo < hi:
            masked[k, lo:hi] = 0.0
    return masked


def faithfulness(ensemble, paths: list, unit: str = "lead") -> dict[str, Any]:
    """Zero each decided class's first-ranked, last-ranked and a random unit (a lead,
    or a second of the record) of each record, and record the probability drops."""
    from ecgml.inference.explain import explain_prepared

    samples, reader, pre = ensemble.task.samples, ensemble.task.reader, ensemble.config.preprocess
    leads = list(pre.leads)
    rng = np.random.default_rng(0)
    cases = []
    started = time.time()
    for i, path in enumerate(paths):
        record = samples.read_for_prediction(path, pre, reader=reader)
        (prediction,) = ensemble.predict_prepared([record])
        decided = [ensemble.abbreviations[k] for k in np.nonzero(prediction.y_pred)[0]]
        if not decided:
            continue
        for e in explain_prepared(ensemble, record, classes=decided):
            k = ensemble.abbreviations.index(e.abbreviation)
            base = _mean_probability(ensemble, record.windows, record, k)
            starts = None
            if unit == "lead":
                importance = e.lead_importance
            else:
                importance, starts = _seconds(ensemble, record, e.attribution)
            order = list(np.argsort(-importance, kind="stable"))
            n_units = len(importance)
            picks = {"first": order[0], "last": order[-1], "random": int(rng.integers(n_units))}
            drops = {
                name: base
                - _mean_probability(
                    ensemble, _zeroed(record, unit, u, starts, int(pre.fs)), record, k
                )
                for name, u in picks.items()
            }
            first = leads[order[0]] if unit == "lead" else f"second {order[0]}"
            cases.append(
                {
                    "record": record.header.record_id,
                    "class": e.abbreviation,
                    "probability": base,
                    "first_lead": first,
                    "explains": e.explains,
                    **{f"drop_{n}": d for n, d in drops.items()},
                }
            )
        if (i + 1) % 20 == 0:
            print(
                f"  {i + 1}/{len(paths)} records, {len(cases)} cases, "
                f"{time.time() - started:.0f} s",
                flush=True,
            )
    out = summarise(cases, len(paths), time.time() - started)
    out["unit"] = unit
    return out


def _interval(values: np.ndarray) -> dict[str, float]:
    rng = np.random.default_rng(0)
    means = [values[rng.integers(0, len(values), len(values))].mean() for _ in range(N_BOOT)]
    return {
        "mean": float(values.mean()),
        "low": float(np.percentile(means, 2.5)),
        "high": float(np.percentile(means, 97.5)),
    }


def summarise(cases: list[dict], n_records: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n_records": n_records,
        "n_cases": len(cases),
        "explain_seconds": round(seconds, 1),
    }
    if not cases:
        return out
    drops = {n: np.array([c[f"drop_{n}"] for c in cases]) for n in ("first", "last", "random")}
    out["drop"] = {n: _interval(v) for n, v in drops.items()}
    out["share_first_beats_random"] = float(np.mean(drops["first"] > drops["random"]))
    out["share_first_beats_last"] = float(np.mean(drops["first"] > drops["last"]))
    out["mean_probability"] = float(np.mean([c["probability"] for c in cases]))
    classes: dict[str, int] = {}
    for c in cases:
        classes[c["class"]] = classes.get(c["class"], 0) + 1
    out["cases_per_class"] = classes
    first: dict[str, int] = {}
    for c in cases:
        first[c["first_lead"]] = first.get(c["first_lead"], 0) + 1
    out["first_ranked_leads"] = dict(sorted(first.items(), key=lambda kv: -kv[1]))
    out["cases"] = cases
    return out


def table(results: dict[str, Any]) -> str:
    rows = []
    for task, r in results.get("tasks", {}).items():
        if "drop" not in r:
            rows.append([task, r.get("unit", "lead"), r["n_records"], 0, *["-"] * 6])
            continue
        d = dict(r["drop"])
        # paired: the same case's first-ranked drop minus its random one
        d["paired"] = _interval(np.array([c["drop_first"] - c["drop_random"] for c in r["cases"]]))
        rows.append(
            [
                task,
                r.get("unit", "lead"),
                r["n_records"],
                r["n_cases"],
                *(
                    f"{cell(d[n]['mean'])} [{cell(d[n]['low'])}, {cell(d[n]['high'])}]"
                    for n in ("first", "last", "random", "paired")
                ),
                cell(r["share_first_beats_random"], 2),
                minutes(r["explain_seconds"]),
            ]
        )
    header = [
        "task",
        "unit zeroed",
        "records",
        "decided cases",
        "drop, first unit zeroed",
        "drop, last unit zeroed",
        "drop, random unit zeroed",
        "first minus random, paired",
        "first > random",
        "explaining",
    ]
    return "\n".join(markdown(header, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="cinc12,ptbxl", help=f"of {', '.join(TASKS)}")
    parser.add_argument(
        "--presets", default="", help=f"presets to explain as shipped, of {', '.join(PRESET_ROWS)}"
    )
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/explain")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/explain.json")
    parser.add_argument("--table", action="store_true", help="print --out as Markdown, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    results = json.loads(args.out.read_text()) if args.out.is_file() else {"tasks": {}}
    for name in filter(None, args.presets.split(",")):
        if name not in PRESET_ROWS:
            parser.error(f"unknown preset {name!r}; of {', '.join(PRESET_ROWS)}")
        results["tasks"][f"preset:{name}"] = explain_preset(name)
        _save(results, args.out)
    for task in filter(None, args.tasks.split(",")):
        if task not in TASKS:
            parser.error(f"unknown task {task!r}; of {', '.join(TASKS)}")
        if not TASKS[task][1].exists():
            print(f"not found: {TASKS[task][1]}", file=sys.stderr)
            return 2
        print(f"{task}: training", flush=True)
        run, _config, cache, test, trained = train(task, args.work / task)
        print(f"{task}: explaining {int(test.sum())} held-out records", flush=True)
        from ecgml.inference.ensemble import Ensemble

        result = faithfulness(Ensemble.load(run), cache.index["path"][test].tolist())
        result["train_seconds"] = trained["train_seconds"]
        result["config"] = str(TASKS[task][0].relative_to(ROOT))
        results["tasks"][task] = result
        _save(results, args.out)
    return 0


def explain_preset(name: str) -> dict[str, Any]:
    """A preset's row: explained as shipped, on its records (``PRESET_ROWS``)."""
    from ecgml.inference.presets import load_preset

    unit, paths, data = PRESET_ROWS[name]
    paths = paths()
    print(f"preset {name}: explaining {len(paths)} records ({data})", flush=True)
    result = faithfulness(load_preset(name), paths, unit=unit)
    result["data"] = data
    return result


def _save(results: dict[str, Any], out: Path) -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, no GPU"
    results.update(machine=machine, ecgml_version=__version__, updated=time.strftime("%Y-%m-%d"))
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results), flush=True)


if __name__ == "__main__":
    sys.exit(main())
