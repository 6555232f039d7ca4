"""The CinC 2017 benchmark's figures and tables (:mod:`bench.cinc2017` runs the rows).

A row's out-of-fold figures are the ``cinc2017`` scorer's (F1 per class, the
challenge score, accuracy, macro AUROC, the confusion matrix) with 95 %
percentile-bootstrap intervals of the challenge score and accuracy (1,000 draws
of the records, seed 0) and, where the forest's row exists, the interval of the
row's score minus the forest's on the same draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from common import cell, markdown, minutes

from ecgml.evaluation.bootstrap import bootstrap_figures
from ecgml.evaluation.scorers import get_scorer

FOREST = "features"
# the seed's own figures: a ResECG (34 layers) on all 8,528 records, its own split
SEED_REPORT = {
    "resecg (cce)": {"f1_N": 0.889, "f1_A": 0.835, "f1_O": 0.768, "f1_~": 0.661, "score": 0.839},
    "resecg (weighted_cce)": {"score": 0.846},
    "resecg (categorical_focal)": {"score": 0.841},
    "features": {"score": 0.766},
}
SCORED = ("N", "A", "O")
HEADER = (
    *("model", "records", "F1 N", "F1 A", "F1 O", "F1 ~", "score", "95 % interval"),
    *("minus forest (95 %)", "accuracy", "macro AUROC", "score per fold", "training"),
)


def _figures(true: np.ndarray, decided: np.ndarray, scored: Sequence[int]):
    """The challenge score and accuracy of the records at the given indices."""
    k = int(max(true.max(), decided.max())) + 1

    def figures(index: np.ndarray) -> dict[str, float]:
        t, d = true[index], decided[index]
        matrix = np.bincount(t * k + d, minlength=k * k).reshape(k, k)
        tp, true_n, decided_n = np.diag(matrix), matrix.sum(axis=1), matrix.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = 2 * tp / (true_n + decided_n)
        return {
            "cinc2017_score": float(np.mean(f1[list(scored)])),
            "accuracy": float(np.mean(t == d)),
        }

    return figures


def score(
    y: np.ndarray,
    y_score: np.ndarray,
    folds: np.ndarray,
    abbreviations: Sequence[str],
    forest: np.ndarray | None,
) -> dict[str, Any]:
    """The row's out-of-fold figures, per fold, and their intervals (module docstring)."""
    scorer = get_scorer("cinc2017")
    names = list(abbreviations)
    y_pred = np.eye(y.shape[1], dtype=y.dtype)[y_score.argmax(axis=1)]
    pooled = scorer.score(y, y_score, y_pred, names, names)
    per_fold = [
        scorer.score(y[folds == k], y_score[folds == k], y_pred[folds == k], names, names)[
            "overall"
        ]["cinc2017_score"]
        for k in np.unique(folds)
    ]
    true, scored = y.argmax(axis=1), [names.index(c) for c in SCORED]
    figures = _figures(true, y_score.argmax(axis=1), scored)
    intervals = bootstrap_figures(figures, len(y))
    if forest is not None:
        theirs = _figures(true, forest.argmax(axis=1), scored)
        difference = bootstrap_figures(
            lambda i: {"minus_forest": figures(i)["cinc2017_score"] - theirs(i)["cinc2017_score"]},
            len(y),
        )
        intervals.update(difference)
    return {**pooled, "per_fold_score": per_fold, "intervals": intervals}


def seed_summary(results: dict[str, Any]) -> dict[str, Any]:
    """Per deep variant run with more than one seed: the scores' mean, SD and range."""
    by_variant: dict[str, list[float]] = {}
    for row in results.values():
        if row.get("variant") and row.get("seed") is not None:
            by_variant.setdefault(row["variant"], []).append(row["overall"]["cinc2017_score"])
    return {
        variant: {
            "n_seeds": len(scores),
            "mean": float(np.mean(scores)),
            "sd": float(np.std(scores, ddof=1)),
            "min": float(np.min(scores)),
            "max": float(np.max(scores)),
        }
        for variant, scores in by_variant.items()
        if len(scores) > 1
    }


def _interval(entry: dict[str, Any], name: str) -> str:
    figure = entry.get("intervals", {}).get(name)
    if not figure or figure["low"] is None:
        return "-"
    return f"{figure['low']:.3f}-{figure['high']:.3f}"


def row_cells(name: str, r: dict[str, Any]) -> list[str]:
    o = r["overall"]
    return [
        name,
        str(r.get("n_records", "-")),
        *(cell(o[f"f1_{c}"]) for c in ("N", "A", "O", "~")),
        f"**{o['cinc2017_score']:.3f}**",
        _interval(r, "cinc2017_score"),
        _interval(r, "minus_forest"),
        cell(o["accuracy"]),
        cell(o["macro_auroc"]),
        " ".join(f"{v:.2f}" for v in r["per_fold_score"]),
        minutes(r.get("train_seconds")),
    ]


def table(results: dict[str, Any]) -> str:
    """The full-size rows, the seeds' spread, the seed's report, the 201-record rows."""
    header = HEADER
    lines = markdown(header, (row_cells(n, r) for n, r in results["models"].items()))
    spread = results.get("seed_summary", {})
    if spread:
        rows = (
            [v, str(s["n_seeds"]), cell(s["mean"]), cell(s["sd"]), f"{s['min']:.3f}-{s['max']:.3f}"]
            for v, s in spread.items()
        )
        lines += ["", *markdown(["variant", "seeds", "mean score", "SD", "range"], rows)]
    lines += ["", "The seed's report (all 8,528 records, its own split; not these folds):", ""]
    lines += markdown(
        ["model", "F1 N", "F1 A", "F1 O", "F1 ~", "score"],
        (
            [m, *(cell(f.get(k)) for k in ("f1_N", "f1_A", "f1_O", "f1_~", "score"))]
            for m, f in SEED_REPORT.items()
        ),
    )
    earlier = results.get("earlier")
    if earlier:
        lines += ["", f"Earlier rows, {earlier['n_records']} records (labels of then):", ""]
        lines += markdown(header, (row_cells(n, r) for n, r in earlier["models"].items()))
    return "\n".join(lines)
