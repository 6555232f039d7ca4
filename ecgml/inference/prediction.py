"""A prediction of the ensemble, and the member models' batched scoring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np


@dataclass(frozen=True)
class Prediction:
    """The ensemble's answer for one recording.

    Attributes:
        class_names: class codes (SNOMED-CT), in output order.
        abbreviations: their short names.
        y_score: mean fold probability per class, shape ``(n_classes,)``.
        y_pred: the ensemble's 0/1 decisions, same shape.
        fold_scores: each member's probabilities, shape ``(n_models, n_classes)``.
        n_windows: windows the recording was cut into (their scores are averaged).
        warnings: what was adapted on the way (missing leads zero-filled, padding).
        votes: per class, the members that decided it on their own.
    """

    class_names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    y_score: np.ndarray
    y_pred: np.ndarray
    fold_scores: np.ndarray
    n_windows: int
    warnings: tuple[str, ...] = ()
    votes: np.ndarray | None = None

    @property
    def decided(self) -> list[str]:
        """Abbreviations of the decided classes."""
        return [a for a, p in zip(self.abbreviations, self.y_pred, strict=True) if p]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form: decided classes, then every class with its numbers."""
        return {
            "decided": self.decided,
            "n_windows": self.n_windows,
            "warnings": list(self.warnings),
            "classes": [
                {
                    "code": c,
                    "abbreviation": a,
                    "probability": round(float(p), 6),
                    "decision": int(d),
                    "fold_probabilities": [round(float(f), 6) for f in fs],
                }
                for c, a, p, d, fs in zip(
                    self.class_names,
                    self.abbreviations,
                    self.y_score,
                    self.y_pred,
                    self.fold_scores.T,
                    strict=True,
                )
            ],
        }


def predict_members(
    models: Sequence[keras.Model],
    x: np.ndarray,
    *,
    batch_size: int = 64,
    features: np.ndarray | None = None,
) -> np.ndarray:
    """Each model's outputs for inputs ``(n, ...)``: ``(n_models, n, n_classes)``, float32;
    ``features`` is the tabular input of models that take one."""
    n = len(x)
    # Padding to whole batches, or below one batch to a power of two, keeps the
    # input shapes few, so each model's predict step is traced a few times at
    # most, while one short recording does not pay for a whole batch.
    size = batch_size if n >= batch_size else min(batch_size, 1 << (n - 1).bit_length())
    pad = -n % size
    if pad:
        x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), dtype=x.dtype)])
        if features is not None:
            features = np.concatenate(
                [features, np.zeros((pad, features.shape[1]), dtype=features.dtype)]
            )

    def batch(i: int):
        if features is None:
            return x[i : i + size]
        return {"ecg": x[i : i + size], "features": features[i : i + size].astype(np.float32)}

    # predict_on_batch skips predict()'s per-call set-up (data adapter, iterator,
    # callbacks), which costs more than the model itself for one recording.
    return np.stack(
        [
            np.concatenate(
                [np.asarray(m.predict_on_batch(batch(i))) for i in range(0, len(x), size)]
            )[:n]
            for m in models
        ]
    ).astype(np.float32)
