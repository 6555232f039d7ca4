"""Threshold learning time: ecgml's vectorised search against a per-threshold loop.

    python bench/thresholds.py [--records 43000] [--classes 27] [--folds 5]

Synthetic validation predictions (prevalence 0.5-20 % per class, positives
shifted up) stand in for ``val_predictions.npz``; each of ``--folds`` fits sees
``--records`` records. Timed:

* ecgml exact: every distinct score is a candidate (F1, then the challenge metric);
* ecgml grid: 1001 and 101 evenly spaced thresholds;
* loops at the same two resolutions, one threshold at a time: numpy counts at
  1001 thresholds, and scikit-learn's ``f1_score`` at 101 thresholds (the
  straightforward way: ``for t in grid: f1_score(y, s >= t)``).

Each loop's thresholds are checked against ecgml's at the same resolution.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from sklearn.metrics import f1_score

from ecgml.evaluation.challenge import NORMAL_CLASS, RewardMatrix
from ecgml.evaluation.thresholds import ThresholdOptimizer


def data(n: int, c: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prevalence = rng.uniform(0.005, 0.2, c)
    y = rng.random((n, c)) < prevalence
    s = np.clip(0.35 * y + 0.65 * rng.random((n, c)), 0, 1).astype(np.float32)
    return y, s


def loop_numpy(y: np.ndarray, s: np.ndarray, grid: np.ndarray) -> np.ndarray:
    out = np.empty(y.shape[1])
    for k in range(y.shape[1]):
        best, best_t = -1.0, 0.5
        for t in grid[::-1]:  # high to low: ties keep the highest threshold
            pred = s[:, k] >= t
            tp = np.sum(pred & y[:, k])
            fp = np.sum(pred) - tp
            fn = np.sum(y[:, k]) - tp
            f1 = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
            if f1 > best:
                best, best_t = f1, t
        out[k] = best_t
    return out


def loop_sklearn(y: np.ndarray, s: np.ndarray, grid: np.ndarray) -> np.ndarray:
    out = np.empty(y.shape[1])
    for k in range(y.shape[1]):
        scores = [f1_score(y[:, k], s[:, k] >= t, zero_division=0.0) for t in grid[::-1]]
        out[k] = grid[::-1][int(np.argmax(scores))]
    return out


def timed(fn, folds):
    start = time.perf_counter()
    results = [fn(y, s) for y, s in folds]
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=43000)
    parser.add_argument("--classes", type=int, default=27)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    folds = [data(args.records, args.classes, seed) for seed in range(args.folds)]
    weights = RewardMatrix.load("cinc2020")
    reward = weights.values[: args.classes, : args.classes]
    normal = min(weights.classes.index(NORMAL_CLASS), args.classes - 1)
    print(
        f"{args.folds} fits x {args.records} records x {args.classes} classes; "
        f"{platform.processor() or platform.machine()}, numpy {np.__version__}"
    )

    def fit(**kw):
        return lambda y, s: ThresholdOptimizer(**kw).fit(y, s).thresholds_

    rows = []
    t, _ = timed(fit(), folds)
    rows.append(("ecgml exact, F1", t))
    t, _ = timed(fit(objective="challenge", weights=reward, normal_index=normal), folds)
    rows.append(("ecgml exact, challenge metric (coordinate ascent)", t))
    for g in (1001, 101):
        grid = np.linspace(0, 1, g)
        t, ours = timed(fit(grid=g), folds)
        rows.append((f"ecgml grid {g}, F1", t))
        if g == 1001:
            t, theirs = timed(lambda y, s, grid=grid: loop_numpy(y, s, grid), folds)
            rows.append((f"loop over {g} thresholds, numpy counts, F1", t))
        else:
            t, theirs = timed(lambda y, s, grid=grid: loop_sklearn(y, s, grid), folds)
            rows.append((f"loop over {g} thresholds, sklearn f1_score", t))
        same = all(np.allclose(a, b) for a, b in zip(ours, theirs, strict=True))
        print(f"grid {g}: loop thresholds equal ecgml's: {same}")
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:8.2f} s")


if __name__ == "__main__":
    main()
