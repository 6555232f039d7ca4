"""Calibration: does a probability of 0.8 come true eight times in ten?

Per class, one-vs-rest:

* the **Brier score**, the mean squared difference between probability and label
  (scikit-learn's ``brier_score_loss``): 0 is perfect, a constant 0.5 scores 0.25;
* the **expected calibration error** (ECE): the probabilities are cut into
  ``n_bins`` equal-width bins of ``[0, 1]``; in each bin, the gap between the
  share of positives and the mean probability, weighted by the bin's share of
  the records. scikit-learn's ``calibration_curve`` gives the per-bin shares and
  means (and the reliability diagram's points) but not the ECE, nor the bin
  counts it is weighted by; those come from the same binning here.

A class without positives still has a Brier score and an ECE (how close to 0 its
probabilities stay); the macro figures are the mean over the classes that have
positives, as the ranking figures are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss

N_BINS = 10


def reliability(
    y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One class's reliability diagram: per non-empty bin the share of positives,
    the mean probability and the number of records."""
    y_true, y_prob = np.asarray(y_true, dtype=bool), np.asarray(y_prob, dtype=np.float64)
    prob_true, prob_pred = calibration_curve(y_true, y_prob, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], y_prob), minlength=n_bins)
    return prob_true, prob_pred, counts[counts > 0]


def expected_calibration_error(
    y_true: np.ndarray, y_prob: np.ndarray, n_bins: int = N_BINS
) -> float:
    """One class's ECE over ``n_bins`` equal-width bins."""
    prob_true, prob_pred, counts = reliability(y_true, y_prob, n_bins)
    return float(np.sum(counts / counts.sum() * np.abs(prob_true - prob_pred)))


def calibration_figures(
    y_true: np.ndarray, y_score: np.ndarray, names: Sequence[str], n_bins: int = N_BINS
) -> dict[str, Any]:
    """Brier score and ECE per class and their macro means, for ``score.json``.

    Args:
        y_true: labels, shape ``(n, c)`` (multi-label, or one-hot multi-class).
        y_score: probabilities, shape ``(n, c)``.
        names: class names, ``c`` of them.
    """
    y_true, y_score = np.asarray(y_true), np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape or y_true.ndim != 2 or len(y_true) == 0:
        raise ValueError(f"labels {y_true.shape} and scores {y_score.shape} must match (n, c)")
    per_class, scored = {}, []
    for k, name in enumerate(names):
        brier = float(brier_score_loss(y_true[:, k], y_score[:, k], pos_label=1))
        ece = expected_calibration_error(y_true[:, k], y_score[:, k], n_bins)
        per_class[name] = {"brier": brier, "ece": ece, "n_positive": int(y_true[:, k].sum())}
        if y_true[:, k].any():
            scored.append((brier, ece))
    macro = np.mean(scored, axis=0) if scored else (float("nan"), float("nan"))
    return {
        "n_bins": n_bins,
        "binning": "equal-width bins of [0, 1]",
        "macro_brier": float(macro[0]),
        "macro_ece": float(macro[1]),
        "per_class": per_class,
    }
