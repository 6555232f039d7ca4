"""The MI rows of :mod:`mitbih`: PTB's myocardial infarction beats, trained from scratch
or from the MIT-BIH beat model's weights (frozen or not), out of fold."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.config import Config, load_config
from ecgml.data.cache import Cache, prepare_cache
from ecgml.evaluation.scorers import get_scorer
from ecgml.targets.decisions import one_hot_argmax

ROOT = Path(__file__).resolve().parent.parent
MI_CONFIG = ROOT / "configs" / "ptb-mi.json"
MI_ROWS = {
    "mi-random": {},
    "mi-transfer": {"init_freeze": False},
    "mi-frozen": {"init_freeze": True},
}


def mi_config(row: str, work: Path) -> Config:
    """``configs/ptb-mi.json``, initialised from ``cnn-inter``'s fold 0 for transfer rows."""
    config = load_config(MI_CONFIG)
    if row == "mi-random":
        return config
    source = work / "run_cnn-inter" / "fold_0" / "model.keras"
    training = dataclasses.replace(config.training, init_from=str(source), **MI_ROWS[row])
    return dataclasses.replace(config, training=training)


def run_mi(row: str, work: Path, data: Path) -> dict[str, Any]:
    """Train an MI row's five folds; its out-of-fold beat and record figures."""
    from ecgml.runs import train_run

    config = mi_config(row, work)
    source = config.training.init_from
    if source is not None and not Path(source).is_file():
        raise SystemExit(f"{row} starts from {source}; run --rows cnn-inter first")
    prepare_cache(
        [data],
        work / "cache_mi",
        config.preprocess,
        config.labels,
        reader=config.task.reader,
        reader_options=config.task.reader_options,
        progress=False,
    )
    cache = Cache(work / "cache_mi")
    run = work / f"run_{row}"
    run.mkdir(parents=True, exist_ok=True)
    if row != "mi-random":  # the same folds as mi-random
        folds = work / "run_mi-random" / "folds.json"
        if not folds.is_file():
            raise SystemExit(f"{row} uses mi-random's folds; run --rows mi-random first")
        if not (run / "folds.json").is_file():
            (run / "folds.json").write_text(folds.read_text())
    started = time.time()
    train_run(cache.path, run, config, verbose=0)
    seconds = time.time() - started
    y_score = np.zeros(cache.labels.shape, np.float32)
    order = {rid: i for i, rid in enumerate(cache.index["record_id"])}
    for k in range(config.training.n_folds):
        saved = np.load(run / f"fold_{k}" / "val_predictions.npz")
        y_score[[order[r] for r in saved["record_ids"]]] = saved["y_score"]
    y_true = cache.labels.astype(np.float32)
    names = list(cache.class_names)
    beats = get_scorer("binary").score(y_true, y_score, one_hot_argmax(y_score), names, names)
    records = cache.index["path"].map(lambda p: Path(p).stem).to_numpy()
    ids = sorted(set(records))
    r_true = np.stack([y_true[records == r][0] for r in ids])
    r_score = np.stack([y_score[records == r].mean(axis=0) for r in ids])
    per_record = get_scorer("binary").score(r_true, r_score, one_hot_argmax(r_score), names, names)
    return {
        **beats,
        "records": {
            "overall": per_record["overall"],
            "mean_p_MI": dict(zip(ids, r_score[:, 0].round(3).tolist(), strict=True)),
        },
        "split": "out of fold, 5 folds grouped by record",
        "n_train": None,
        "n_test": len(cache),
        "n_records": len(ids),
        "train_seconds": seconds,
        "init": None if source is None else json.loads((run / "fold_0" / "init.json").read_text()),
        "config_override": {"init_from": source, "init_freeze": config.training.init_freeze},
    }


def mi_table(results: dict[str, Any]) -> str:
    lines = [
        "| row | beats: MI recall | precision | F1 | AUROC | records: MI recall | "
        "records called MI | training |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        o, rec = r["overall"], r["records"]["overall"]
        called = sum(p >= 0.5 for p in r["records"]["mean_p_MI"].values())
        lines.append(
            f"| {name} | {o['recall']:.3f} | {o['precision']:.3f} | {o['f1']:.3f} | "
            f"{o['auroc']:.3f} | {rec['recall']:.3f} | {called} of {r['n_records']} | "
            f"{r['train_seconds'] / 60:.1f} min |"
        )
    return "\n".join(lines)
