"""``ecgml embed``: a fold model's pooled features per record, for a user's own
linear probes or clustering.

The features are the output of the model's global pooling, the layer before its
classification head (``head_pool`` for a concat-pooling head, else the last
global pooling layer). A record's windows and crops are read and prepared as
for prediction, and their features averaged. One fold model gives them (fold 0
by default): fold models are trained apart, so their feature spaces differ and
are not averaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
from tqdm import tqdm

from ecgml.data.records import RecordError
from ecgml.training.crops import crop_starts

POOLING = ("GlobalAveragePooling1D", "GlobalMaxPooling1D")


def pooled_layer(model: keras.Model) -> keras.layers.Layer:
    """The layer whose output is the model's pooled features.

    Raises:
        ValueError: a model without global pooling (a beat or image model).
    """
    names = [layer.name for layer in model.layers]
    if "head_pool" in names:
        return model.get_layer("head_pool")
    pools = [layer for layer in model.layers if type(layer).__name__ in POOLING]
    if not pools:
        raise ValueError(f"model {model.name!r} has no global pooling layer to embed with")
    return pools[-1]


def backbone(model: keras.Model) -> keras.Model:
    """``model`` up to its pooled features."""
    return keras.Model(model.inputs, pooled_layer(model).output, name=f"{model.name}_backbone")


def embed_windows(
    ensemble, windows: Sequence[np.ndarray], *, fold: int = 0, batch_size: int = 64
) -> np.ndarray:
    """Pooled features ``(n_records, n_features)`` of recordings cut into windows
    ``(n_windows, window, n_leads)``, by the ensemble's ``fold``-th member."""
    if ensemble.feature_names:
        raise ValueError("embedding needs a model of the signal alone (no tabular input)")
    net = backbone(ensemble.models[fold])
    counts = np.array([len(w) for w in windows])
    x = np.concatenate(windows).astype(np.float32, copy=False)
    length = ensemble.input_length
    starts = crop_starts(x.shape[1], length, stride=ensemble.config.task.window_stride)
    crops = np.concatenate([x[:, s : s + length] for s in starts], axis=1)
    crops = crops.reshape(len(x) * len(starts), length, x.shape[2])
    owner = np.repeat(np.arange(len(windows)), counts * len(starts))
    features = np.asarray(net.predict(crops, batch_size=batch_size, verbose=0), dtype=np.float64)
    sums = np.zeros((len(windows), features.shape[1]))
    np.add.at(sums, owner, features)
    return (sums / np.bincount(owner, minlength=len(windows))[:, None]).astype(np.float32)


def embed_paths(
    ensemble,
    paths: Sequence[Path],
    *,
    fold: int = 0,
    missing_leads: str = "error",
    chunk: int = 32,
    progress: bool = True,
) -> dict[str, Any]:
    """Every record file's pooled features, ``chunk`` records to a model call; a
    record that cannot be used is skipped with the reason.

    Returns:
        ``{"record_ids", "paths", "embeddings" (n, n_features), "skipped":
        [(path, problem), ...]}``.
    """
    samples, config = ensemble.task.samples, ensemble.config.preprocess
    n_features = pooled_layer(ensemble.models[fold]).output.shape[-1]
    ids, used, parts, pending, skipped = [], [], [], [], []
    for path in tqdm(paths, desc="embed", unit="record", disable=not progress):
        try:
            prepared = samples.read_for_prediction(
                path, config, reader=ensemble.task.reader, missing_leads=missing_leads
            )
        except RecordError as exc:
            skipped.append((str(path), exc.problem))
            continue
        ids.append(prepared.header.record_id)
        used.append(str(path))
        pending.append(prepared.windows)
        if len(pending) == chunk:
            parts.append(embed_windows(ensemble, pending, fold=fold))
            pending = []
    if pending:
        parts.append(embed_windows(ensemble, pending, fold=fold))
    embeddings = np.concatenate(parts) if parts else np.zeros((0, n_features), np.float32)
    return {"record_ids": ids, "paths": used, "embeddings": embeddings, "skipped": skipped}
