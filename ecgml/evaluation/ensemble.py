"""The five fold models of a run as one classifier.

Each fold model scores a record; each fold's own thresholds turn its scores into
decisions. Two rules combine them:

* ``"majority"`` (default): a class is decided when at least ``min_votes`` fold
  models decide it. ``min_votes`` defaults to a strict majority,
  ``n_models // 2 + 1``: 3 of 5, and for an even number of models (say 4) also 3,
  so a tie (2 of 4) is negative.
* ``"mean"``: the mean of the fold probabilities against the mean of the fold
  thresholds, per class (what the seed project did).

Under both rules the ensemble's continuous score, used for ROC and PR curves, is
the mean fold probability.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from ecgml.config import Config
from ecgml.data.cache_reader import Cache
from ecgml.data.labels import LabelEncoder
from ecgml.evaluation.run_thresholds import run_info
from ecgml.training.layout import MODEL, THRESHOLDS, fold_dir, is_done

VOTE_RULES = ("majority", "mean")


def vote(
    fold_scores: np.ndarray,
    thresholds: np.ndarray,
    *,
    rule: str = "majority",
    min_votes: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Combine fold models (module docstring).

    Args:
        fold_scores: probabilities, shape ``(n_models, n_records, n_classes)``.
        thresholds: per fold and class, shape ``(n_models, n_classes)``.
        rule: ``"majority"`` or ``"mean"``.
        min_votes: votes needed under ``"majority"``; default a strict majority.

    Returns:
        ``y_pred`` (uint8, ``(n_records, n_classes)``) and ``y_score`` (the mean
        probability, float32, same shape).
    """
    fold_scores, thresholds = np.asarray(fold_scores), np.asarray(thresholds, dtype=np.float64)
    if fold_scores.ndim != 3 or thresholds.shape != (fold_scores.shape[0], fold_scores.shape[2]):
        raise ValueError(
            "expected fold scores (n_models, n_records, n_classes) and thresholds "
            f"(n_models, n_classes), got {fold_scores.shape} and {thresholds.shape}"
        )
    n_models = fold_scores.shape[0]
    y_score = fold_scores.astype(np.float64).mean(axis=0).astype(np.float32)
    if rule == "mean":
        return (y_score >= thresholds.mean(axis=0)).astype(np.uint8), y_score
    if rule != "majority":
        raise ValueError(f"rule must be one of {VOTE_RULES}, got {rule!r}")
    needed = n_models // 2 + 1 if min_votes is None else min_votes
    if not 1 <= needed <= n_models:
        raise ValueError(f"min_votes must be between 1 and {n_models}, got {needed}")
    votes = (fold_scores >= thresholds[:, None, :]).sum(axis=0)
    return (votes >= needed).astype(np.uint8), y_score


class Ensemble:
    """The finished, thresholded fold models of a run folder.

    Attributes:
        run: the run folder.
        config: its resolved config.
        encoder: its label encoder (``class_names``, ``abbreviations``).
        folds: the fold numbers of the members.
        models: one Keras model per member.
        thresholds: shape ``(n_models, n_classes)``.
        threshold_info: each member's ``thresholds.json``.
    """

    def __init__(
        self,
        run: Path,
        config: Config,
        encoder: LabelEncoder,
        folds: Sequence[int],
        models: Sequence[keras.Model],
        threshold_info: Sequence[dict],
    ) -> None:
        self.run, self.config, self.encoder = run, config, encoder
        self.folds, self.models = list(folds), list(models)
        self.threshold_info = list(threshold_info)
        self.thresholds = np.array([t["thresholds"] for t in threshold_info], dtype=np.float64)

    @classmethod
    def load(cls, run: str | Path, *, folds: Sequence[int] | None = None) -> Ensemble:
        """Load every finished fold that has thresholds (or only ``folds``).

        Raises:
            FileNotFoundError: not a run folder.
            ValueError: a requested fold is unfinished or has no thresholds, or none is usable.
        """
        run = Path(run)
        config, encoder, fold_ids = run_info(run)
        wanted = list(range(len(fold_ids))) if folds is None else list(folds)
        problems = [
            f"fold {k} is not finished" if not is_done(run, k)
            else f"fold {k} has no {THRESHOLDS} (run threshold.py)"
            for k in wanted
            if not is_done(run, k) or not (fold_dir(run, k) / THRESHOLDS).is_file()
        ]  # fmt: skip
        if problems:
            raise ValueError(f"run {run}: " + "; ".join(problems))
        models, info = [], []
        for k in wanted:
            info.append(json.loads((fold_dir(run, k) / THRESHOLDS).read_text()))
            if info[-1]["class_names"] != list(encoder.class_names):
                raise ValueError(f"fold {k}'s thresholds are for other classes than the run's")
            # compile=False: inference needs no optimizer or loss, so nothing of the
            # training set-up has to be importable here.
            path = fold_dir(run, k) / MODEL
            models.append(keras.saving.load_model(path, safe_mode=True, compile=False))
        return cls(run, config, encoder, wanted, models, info)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.encoder.class_names

    @property
    def input_length(self) -> int:
        return int(self.models[0].input_shape[1])

    def predict_proba(self, x: np.ndarray, *, batch_size: int = 64) -> np.ndarray:
        """Each member's probabilities for inputs ``(n, input_length, n_leads)``:
        shape ``(n_models, n, n_classes)``, float32."""
        n = len(x)
        # Padding to whole batches gives every call the same input shape, so each
        # model's predict function is traced once.
        pad = -n % batch_size
        if pad:
            x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), dtype=x.dtype)])
        return np.stack(
            [m.predict(x, batch_size=batch_size, verbose=0)[:n] for m in self.models]
        ).astype(np.float32)

    def predict_cache(
        self,
        cache: Cache,
        *,
        all_windows: bool = False,
        crops: int = 1,
        batch_size: int = 64,
        progress: bool = True,
    ) -> np.ndarray:
        """Member probabilities for every record of a cache, ``(n_models, n_records, n_classes)``.

        Args:
            cache: the prepared records.
            all_windows: average over every cached window of a record (records
                longer than one window, cached with ``window_policy: "all"``);
                otherwise only its first window.
            crops: inputs per window, evenly spaced, when the model's input is
                shorter than the cache's window (1: the centre crop); averaged.
            batch_size: inputs per model call.
            progress: show a progress bar.
        """
        window, length = cache.signals.shape[1], self.input_length
        if length > window:
            raise ValueError(f"the models take {length} samples, the cache's windows are {window}")
        if crops < 1:
            raise ValueError(f"crops must be at least 1, got {crops}")
        starts = (
            np.full(1, (window - length) // 2) if crops == 1
            else np.linspace(0, window - length, crops).round().astype(np.int64)
        )  # fmt: skip
        n_windows = cache.index["n_windows"].to_numpy() if all_windows else np.ones(len(cache), int)
        rows = cache.index["row"].to_numpy()
        record = np.repeat(np.arange(len(cache)), n_windows * len(starts))
        row = np.repeat(rows, n_windows * len(starts)) + np.repeat(
            np.concatenate([np.arange(k) for k in n_windows]), len(starts)
        )
        start = np.tile(starts, int(n_windows.sum()))
        totals = np.zeros((len(self.models), len(cache), len(self.class_names)))
        chunk = batch_size * 4
        for begin in tqdm(
            range(0, len(record), chunk), desc="predict", unit="chunk", disable=not progress
        ):
            part = slice(begin, begin + chunk)
            x = np.stack(
                [cache.signals[r, s : s + length] for r, s in zip(row[part], start[part],
                                                                    strict=True)]
            )  # fmt: skip
            scores = self.predict_proba(x, batch_size=batch_size)
            for m in range(len(self.models)):
                np.add.at(totals[m], record[part], scores[m])
        counts = np.bincount(record, minlength=len(cache))[None, :, None]
        return (totals / counts).astype(np.float32)
