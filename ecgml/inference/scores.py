"""The fold models' scores of inputs already prepared: windows of records, model
inputs, a whole cache. :class:`~ecgml.inference.ensemble.Ensemble` turns them
into decisions; ``postprocessing.py`` and the thresholds score caches with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np
from tqdm import tqdm

from ecgml.data.cache_reader import Cache
from ecgml.inference.prediction import predict_members
from ecgml.inference.record_inputs import forest_input
from ecgml.training.crops import aggregate, crop_starts, predict_cached
from ecgml.training.stack import FOREST_INPUT


class MemberScores:
    """The scoring half of the ensemble: its members' probabilities (it needs the
    ensemble's ``config``, ``models``, ``input_length``, ``feature_names``,
    ``stacks`` and :meth:`stacked`)."""

    def predict_windows(
        self,
        windows: Sequence[np.ndarray],
        *,
        batch_size: int = 64,
        features: np.ndarray | None = None,
        metadata: Sequence[dict[str, Any] | None] | None = None,
    ) -> np.ndarray:
        """Member probabilities for recordings already cut into windows.

        Args:
            windows: per recording, shape ``(n_windows, window, n_leads)``; a window
                longer than the model input is centre-cropped, or cut into sliding
                crops under ``task.window_stride`` (:mod:`ecgml.training.crops`).
            features: for a run with a tabular input, one row per recording
                ``(n_recordings, n_columns)`` (:meth:`record_tabular`).
            metadata: for a stacked run, each recording's age and sex for its
                forest (:meth:`forest_input`); ``None``: unknown.

        Returns:
            Shape ``(n_models, n_recordings, n_classes)``: each recording's windows
            (and crops) combined by ``task.window_aggregate`` (the mean by default).
        """
        counts = np.array([len(w) for w in windows])
        if len(windows) == 0 or counts.min() < 1:
            raise ValueError("every recording needs at least one window")
        x = np.concatenate(windows).astype(np.float32, copy=False)
        task = self.config.task
        starts = crop_starts(x.shape[1], self.input_length, stride=task.window_stride)
        owner = np.repeat(np.arange(len(windows)), counts * len(starts))
        crops = np.concatenate([x[:, s : s + self.input_length] for s in starts], axis=1)
        crops = crops.reshape(len(x) * len(starts), self.input_length, x.shape[2])
        if features is not None:  # each recording's row for each of its crops
            features = np.asarray(features, dtype=np.float32)[owner]
        scores = self.predict_proba(crops, batch_size=batch_size, features=features)
        scores = aggregate(scores, owner, len(windows), task.window_aggregate)
        if not self.stacks:
            return scores
        return self.stacked(
            scores, forest_input(self.config.preprocess, windows, metadata or [None] * len(windows))
        )

    def predict_proba(
        self, x: np.ndarray, *, batch_size: int = 64, features: np.ndarray | None = None
    ) -> np.ndarray:
        """Each member's probabilities for inputs ``(n, input_length, n_leads)``:
        shape ``(n_models, n, n_classes)``, float32.

        Args:
            x: the signal inputs.
            batch_size: inputs per model call.
            features: the tabular input ``(n, len(feature_names))``, for models
                that take one (and only for them).
        """
        if bool(self.feature_names) != (features is not None):
            raise ValueError(
                f"the models take the tabular input {list(self.feature_names)}; got "
                f"{'none' if features is None else features.shape}"
            )
        return predict_members(self.models, x, batch_size=batch_size, features=features)

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
                A run with ``task.window_stride`` scores its sliding crops
                instead, combined by ``task.window_aggregate``
                (:mod:`ecgml.training.crops`).
            batch_size: inputs per model call.
            progress: show a progress bar.
        """
        task = self.config.task
        table = cache.tabular(self.config.tabular) if self.feature_names else None
        bar = partial(tqdm, desc="predict", unit="chunk", disable=not progress)
        scores = predict_cached(
            lambda x, f: self.predict_proba(x, batch_size=batch_size, features=f),
            cache.signals,
            cache.index["row"].to_numpy(),
            cache.index["n_windows"].to_numpy(),
            self.input_length,
            stride=task.window_stride,
            crops=crops,
            all_windows=all_windows,
            how=task.window_aggregate,
            features=table,
            chunk=batch_size * 4,
            progress=bar,
        )
        return self.stacked(scores, cache.tabular(FOREST_INPUT) if self.stacks else None)
