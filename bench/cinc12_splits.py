"""The CinC 2020 benchmark's splits (:mod:`cinc12`): five outer folds made once and
saved, the train / validation / test parts of each row's variant, and the figures of
each held-out source."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.evaluation import metrics
from ecgml.training.folds import make_folds, save_folds

N_OUTER = 5
SEED = 42
MIN_POSITIVES = 5


@dataclasses.dataclass
class Split:
    """One train/validation/test split: indices into the benchmark's record order."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def outer_folds(
    work: Path,
    record_ids: list[str],
    y: np.ndarray,
    groups: list[str],
    saved_results: dict | None = None,
) -> np.ndarray:
    """The five outer folds, made once and saved to ``work/outer_folds.json``; a new
    work folder takes them from the results file, so later rows use the same splits."""
    path = work / "outer_folds.json"
    if not path.is_file() and (saved_results or {}).get("outer_folds"):
        folds = np.full(len(record_ids), -1)
        for k, ids in enumerate(saved_results["outer_folds"]):
            folds[[record_ids.index(r) for r in ids]] = k
        if (folds < 0).any():
            raise SystemExit("the results file's outer folds are for other records")
        save_folds(
            path, record_ids, folds, seed=SEED, grouped_by_patient=any(groups), from_results=True
        )
    if path.is_file():
        saved = json.loads(path.read_text())["folds"]
        fold_of = {rid: k for k, ids in enumerate(saved) for rid in ids}
        if set(fold_of) != set(record_ids):
            raise SystemExit(f"{path} is for other records; delete {work} to start over")
        return np.array([fold_of[r] for r in record_ids])
    folds = make_folds(y, n_folds=N_OUTER, seed=SEED, groups=groups)
    save_folds(path, record_ids, folds, seed=SEED, grouped_by_patient=any(groups))
    return folds


def make_splits(
    variant: str, folds: np.ndarray, sources: np.ndarray, y: np.ndarray, groups: list[str]
) -> list[Split]:
    if variant == "oof":
        return [
            Split(
                f"outer_{k}",
                train=np.nonzero((folds != k) & (folds != (k + 1) % N_OUTER))[0],
                val=np.nonzero(folds == (k + 1) % N_OUTER)[0],
                test=np.nonzero(folds == k)[0],
            )
            for k in range(N_OUTER)
        ]
    splits = []
    for source in sorted(set(sources)):
        rest = np.nonzero(sources != source)[0]
        inner = make_folds(y[rest], n_folds=5, seed=SEED, groups=[groups[i] for i in rest])
        splits.append(
            Split(
                f"loso_{source}",
                train=rest[inner != 0],
                val=rest[inner == 0],
                test=np.nonzero(sources == source)[0],
            )
        )
    return splits


def per_source(
    splits: list[Split],
    y: np.ndarray,
    test_parts: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, Any]:
    """Each held-out source alone: its size and macro AUROC over its classes with 5+ positives."""
    out = {}
    for split, (idx, score) in zip(splits, test_parts, strict=True):
        keep = y[idx].sum(axis=0) >= MIN_POSITIVES
        auroc, _ = metrics.auroc_auprc(y[idx], score)
        out[split.name.removeprefix("loso_")] = {
            "n_records": len(idx),
            "classes_with_5_positives": int(keep.sum()),
            "macro_auroc": metrics.nanmean(auroc[keep]) if keep.any() else None,
        }
    return out
