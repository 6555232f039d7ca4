"""Build the presets that ship in ``ecgml/presets/`` from ``../shared/data``.

    python bench/presets.py ptbxl-superclass
    python bench/presets.py cinc2017-rhythm
    python bench/presets.py --list
    python bench/presets.py ptbxl-superclass --check-rebuild 0   # one fold again, compared

Each preset is a five-fold run trained here on every labelled record of its
data (training is deterministic on a CPU: the same command gives the same
weights), reduced to what prediction needs by :func:`ecgml.presets.build.write_preset`.
A run already trained is reused; an interrupted one resumes.

* ``ptbxl-superclass``: ``bench/configs/preset-ptbxl-superclass.json``, the
  recipe that won on the PTB-XL subset (xresnet1d with a feature forest stacked
  on each fold model, docs/benchmarks.md), on all 1,624 records. The stacked
  forests are too large to ship (measured and written to
  ``bench/results/presets.json`` with both versions' out-of-fold figures), so
  the preset is the run's deep part: the same fold models (the forest does not
  touch their training), thresholds learned again on their own validation
  predictions. New records get the band-pass and z-score the shared arrays
  were made with, in the same order.
* ``cinc2017-rhythm``: ``configs/cinc2017-cpu.json`` as ``bench/cinc2017.py``
  trains it on the 6,028 records (its default row's run is the preset's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ecgml.config import load_config  # noqa: E402
from ecgml.presets import PRESETS_DIR  # noqa: E402
from ecgml.serve.preset_build import write_preset  # noqa: E402

DATA = ROOT.parent / "shared/data"
WORK = ROOT / "result/bench/presets"
PTBXL_CONFIG = ROOT / "bench/configs/preset-ptbxl-superclass.json"
# how the shared arrays were made (data README), so what the preset does to a record
PTBXL_PREPROCESS = {
    "bandpass": [0.5, 40.0],
    "filter_order": 4,
    "filter_at": "source",
    "normalisation": "zscore",
}

NOT_FOR = (
    "diagnosis or any clinical decision, screening, or populations, devices and "
    "recording conditions unlike its training data; it has not been validated "
    "prospectively or on an external cohort here."
)

CARDS = {
    "ptbxl-superclass": {
        "version": "1",
        "description": "Five diagnostic superclasses of a 10 s 12-lead ECG (PTB-XL's "
        "NORM, MI, STTC, CD, HYP; multi-label), from any 12-lead record at any rate.",
        "data": "PTB-XL 1.0.3 (Wagner et al., 2020; PhysioNet; Creative Commons "
        "Attribution 4.0: cite the database and PhysioNet), the labelled subset of "
        "1,624 records in `../shared/data/ptbxl` (PTB-XL's training folds 1-8, 1,441 "
        "records, and its validation fold 9, 183): 10 s at 100 Hz, band-passed "
        "(0.5-40 Hz, 4th order, zero phase) and z-scored per lead before they were "
        "resampled. Superclass labels from PTB-XL's `scp_codes` as its benchmark "
        "aggregates them. PTB-XL's test fold (10) was not used.",
        "validation": "Five multilabel-stratified folds of the 1,624 records, made by "
        "the run and saved with it; each fold model trained on four folds. The "
        "thresholds (F1 per class) and the stack's weights were learned on each fold's "
        "own validation part, so the thresholded figures and the stacked scores are "
        "slightly optimistic; the subset has no patient ids, and PTB-XL has 1.16 "
        "records per patient, so a patient can sit on both sides of a fold.",
        "intended_use": "Research: ranking and screening 12-lead recordings for "
        "further reading, features for a user's own models (`ecgml embed`), and the "
        "starting weights of a 12-lead task (`training.init_from: "
        '"preset:ptbxl-superclass"`).',
        "not_for": NOT_FOR,
        "command": "python bench/presets.py ptbxl-superclass",
    },
    "cinc2017-rhythm": {
        "version": "1",
        "description": "The rhythm of a single-lead ECG of any length: normal sinus "
        "rhythm (N), atrial fibrillation (A), other rhythm (O) or too noisy to "
        "classify (~), as in the PhysioNet/CinC Challenge 2017.",
        "data": "PhysioNet/CinC Challenge 2017 training set (Clifford et al., 2017; "
        "Open Data Commons Attribution 1.0), 6,028 of its 8,528 records in "
        "`../shared/data/cinc2017` (AliveCor single lead, 300 Hz, 9-61 s) with the "
        "challenge's final revised labels: N 3,590, A 537, O 1,706, ~ 195. The other "
        "2,500 were kept apart and not used.",
        "validation": "Five class-stratified folds of the 6,028 records, fixed and "
        "saved before any training (`bench/cinc2017.py`); each fold model trained on "
        "four folds and scored the fifth with every 10 s window averaged. Nothing was "
        "tuned: the last epoch is kept and the decision is the argmax.",
        "intended_use": "Research: sorting single-lead recordings by rhythm for "
        "review, and a starting point for single-lead tasks.",
        "not_for": NOT_FOR,
        "command": "python bench/presets.py cinc2017-rhythm",
    },
}


def record_result(name: str, entries: dict) -> None:
    """Merge ``entries`` into ``bench/results/presets.json``'s entry for ``name``."""
    import json

    results = ROOT / "bench/results/presets.json"
    saved = json.loads(results.read_text()) if results.is_file() else {}
    saved.setdefault(name, {}).update(entries)
    results.write_text(json.dumps(saved, indent=1) + "\n")


def deep_part(run: Path, out: Path) -> Path:
    """The fold models of a stacked run as a run of their own: its config without
    ``stack.forest``, each fold's validation predictions of the deep model alone,
    and F1 thresholds learned on them (as ``threshold.py`` would)."""
    import json
    import shutil

    import numpy as np

    from ecgml.runs.thresholds import fit_run_thresholds

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    config = json.loads((run / "config.json").read_text())
    config["stack"]["forest"] = False
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    for name in ("folds.json", "manifest.json"):
        shutil.copyfile(run / name, out / name)
    for fold in sorted(run.glob("fold_*")):
        (out / fold.name).mkdir()
        for name in ("model.keras", "history.csv", "done.json"):
            shutil.copyfile(fold / name, out / fold.name / name)
        with np.load(fold / "val_predictions.npz") as saved:
            arrays = {k: saved[k] for k in ("record_ids", "y_true")}
            arrays["y_score"] = saved["deep_score"]
        np.savez(out / fold.name / "val_predictions.npz", **arrays)
    fit_run_thresholds(out, objective="f1")
    return out


def compare_stack(run: Path, deep: Path, cache) -> dict:
    """Both versions' out-of-fold figures and what their members weigh."""
    from ecgml.inference.ensemble import Ensemble
    from ecgml.serve.preset_build import oof_arrays, oof_figures

    rows = {}
    for name, folder in (("stacked", run), ("deep part", deep)):
        ensemble = Ensemble.load(folder)
        oof = oof_arrays(ensemble, cache, all_windows=False)
        rows[name] = oof_figures(
            ensemble.task.scorer, oof, ensemble.class_names, ensemble.abbreviations
        )
    forests = sum(p.stat().st_size for p in run.glob("fold_*/stack.joblib"))
    models = sum(p.stat().st_size for p in run.glob("fold_*/model.keras"))
    rows["bytes"] = {"stack_forests": forests, "fold_models_float32": models}
    return rows


def build_ptbxl(out: Path) -> dict:

    from common import prepared, train_deep

    config = load_config(PTBXL_CONFIG)
    work = WORK / "ptbxl-superclass"
    cache = prepared(config, [DATA / "ptbxl"], work / "cache")
    run = work / "run"
    train_deep(cache.path, run, config)
    deep = deep_part(run, work / "deep")
    record_result("ptbxl-superclass", compare_stack(run, deep, cache))
    return write_preset(
        deep,
        out,
        cache=cache,
        card=CARDS["ptbxl-superclass"],
        prediction_reader={"reader": "cinc2020", "options": {}},
        preprocess=PTBXL_PREPROCESS,
    )


def build_cinc2017(out: Path) -> dict:
    import shutil

    import cinc2017 as bench

    from ecgml.data.labels import LabelEncoder
    from ecgml.runs import train_run

    loss = load_config(bench.CONFIG).training.loss
    variant = next(name for name, value in bench.VARIANTS.items() if value == loss)
    work = ROOT / "result/bench/cinc2017"
    work.mkdir(parents=True, exist_ok=True)
    cache, _ = bench.prepared(DATA / "cinc2017", work, jobs=2)
    encoder = LabelEncoder.from_config(load_config(bench.CONFIG).labels)
    y = encoder.encode_many([dx.split(",") for dx in cache.index["dx"]])
    bench.fixed_folds(work, cache, y)
    run = work / "runs" / bench.row_name(variant, bench.SEED)
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "folds.json").is_file():  # the benchmark's folds, as its rows have
        shutil.copyfile(work / "folds.json", run / "folds.json")
    train_run(cache.path, run, bench.deep_config(variant, bench.SEED), verbose=2)
    return write_preset(
        run,
        out,
        cache=cache,
        card=CARDS["cinc2017-rhythm"],
        prediction_reader={"reader": "cinc2017", "options": {}},
    )


def raw_against_arrays(name: str, n_records: int = 20) -> dict:
    """On synthetic 12-lead records (NeuroKit2, 10 s at 500 Hz, in mV), the largest
    difference in any probability between the preset given the raw record and (a)
    the array made from it as the shared PTB-XL arrays were made (band-pass at
    500 Hz, z-score per lead, resampled to 100 Hz, float16; and in float32),
    given to the preset with ``preprocessed=True`` (``--preprocessed``); (b) that
    array given to the preset as a raw record, which band-passes and z-scores it
    again."""
    import neurokit2 as nk
    import numpy as np

    from ecgml.data.preprocess import bandpass, resample
    from ecgml.inference.presets import load_preset

    ensemble = load_preset(name)
    as_trained = load_preset(name, preprocessed=True)
    p = ensemble.config.preprocess
    leads = list(p.leads)
    found: dict[str, list[float]] = {
        "array_as_trained": [],
        "array_float32_as_trained": [],
        "array_preprocessed_again": [],
    }
    for seed in range(n_records):
        x = nk.ecg_simulate(
            duration=10,
            sampling_rate=500,
            heart_rate=55 + 5 * (seed % 10),
            method="multileads",
            random_state=seed,
        )
        x = x.to_numpy()[:, :12].astype(np.float32)
        raw = ensemble.predict(x, fs=500, lead_names=leads).fold_scores
        y = bandpass(x, 500, *p.bandpass, order=p.filter_order)
        y = (y - y.mean(axis=0)) / y.std(axis=0)
        full = resample(y.astype(np.float32), 500, p.fs)
        array = full.astype(np.float16).astype(np.float32)  # as the shared arrays are stored
        trained = as_trained.predict(array, fs=p.fs, lead_names=leads).fold_scores
        trained32 = as_trained.predict(full, fs=p.fs, lead_names=leads).fold_scores
        again = ensemble.predict(array, fs=p.fs, lead_names=leads).fold_scores
        found["array_as_trained"].append(float(np.abs(raw - trained).max()))
        found["array_float32_as_trained"].append(float(np.abs(raw - trained32).max()))
        found["array_preprocessed_again"].append(float(np.abs(raw - again).max()))
    return {
        key: {"max": max(values), "median": float(np.median(values)), "n_records": n_records}
        for key, values in found.items()
    }


BUILDERS = {"ptbxl-superclass": build_ptbxl, "cinc2017-rhythm": build_cinc2017}


def rebuild_fold(name: str, fold: int) -> dict:
    """Train fold ``fold`` of the preset's run again, in a folder of its own, by the
    same steps, and compare its weights with the shipped ones."""
    import time

    import keras
    import numpy as np
    from common import prepared, train_deep

    if name != "ptbxl-superclass":
        raise SystemExit(f"--check-rebuild is for ptbxl-superclass, not {name}")
    config = load_config(PTBXL_CONFIG)
    work = WORK / name
    cache = prepared(config, [DATA / "ptbxl"], work / "cache")
    run = work / f"rebuild-fold{fold}"
    started = time.time()
    train_deep(cache.path, run, config, folds=[fold])
    rebuilt = keras.saving.load_model(run / f"fold_{fold}" / "model.keras").get_weights()
    with np.load(PRESETS_DIR / name / f"fold_{fold}.npz") as shipped:
        arrays = [shipped[f"w{i}"] for i in range(len(shipped.files))]
    if [a.shape for a in arrays] != [w.shape for w in rebuilt]:
        raise SystemExit("the rebuilt fold model's weights are not shaped as the shipped ones")
    differences = [float(np.abs(a - w).max()) for a, w in zip(arrays, rebuilt, strict=True)]
    return {
        "fold": fold,
        "arrays": len(arrays),
        "arrays_equal": sum(d == 0.0 for d in differences),
        "largest_weight_difference": max(differences),
        "seconds": round(time.time() - started, 1),
        "machine": "2 CPU cores, no GPU",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"some of {tuple(BUILDERS)}")
    parser.add_argument("--list", action="store_true", help="list the presets this builds")
    parser.add_argument(
        "--check-raw",
        action="store_true",
        help="ptbxl-superclass: raw records against arrays preprocessed as PTB-XL's were",
    )
    parser.add_argument(
        "--check-rebuild",
        type=int,
        metavar="FOLD",
        help="ptbxl-superclass: train that fold again and compare it with the shipped weights",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BUILDERS]
    if args.list or not args.names or unknown:
        print("presets: " + ", ".join(BUILDERS))
        return 2 if unknown else 0
    if args.check_rebuild is not None:
        for name in args.names:
            found = rebuild_fold(name, args.check_rebuild)
            record_result(name, {"rebuild": found})
            print(f"{name}: {found}")
        return 0
    if args.check_raw:
        for name in args.names:
            found = raw_against_arrays(name)
            record_result(name, {"raw_against_arrays": found})
            print(f"{name}: {found}")
        return 0
    for name in args.names:
        info = BUILDERS[name](PRESETS_DIR / name)
        print(f"{name}: {info['weights']['dtype']} weights, figures {info['figures']['intervals']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
