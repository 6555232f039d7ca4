"""Test-time inputs: which stretches of a record's windows a model sees, and how
their scores become the record's.

A model trained on crops shorter than the cached window (``training.input_length``)
sees at test time either the window's centre crop, ``crops`` evenly spaced crops,
or, with ``task.window_stride``, every crop of its input length ``stride`` samples
apart (the last aligned with the window's end), as the PTB-XL benchmark scores
(Strodthoff et al., 2021: 2.5 s crops, half overlapping). A record's score is the
mean or the maximum (``task.window_aggregate``) over all its crops.
"""

from __future__ import annotations

import numpy as np

AGGREGATES = ("mean", "max")


def crop_starts(
    window: int, length: int, *, stride: int | None = None, crops: int = 1
) -> np.ndarray:
    """Start samples of the crops of one window.

    Args:
        window: samples per window.
        length: samples per crop (the model's input).
        stride: samples between sliding crops; the last crop ends with the window.
        crops: without ``stride``, evenly spaced crops (1: the centre one).

    Raises:
        ValueError: a crop longer than the window, or a stride or count below 1.
    """
    if length > window:
        raise ValueError(f"the models take {length} samples, the windows have {window}")
    if stride is not None:
        if stride < 1:
            raise ValueError(f"stride must be at least 1, got {stride}")
        starts = list(range(0, window - length + 1, stride))
        if starts[-1] != window - length:
            starts.append(window - length)
        return np.array(starts, dtype=np.int64)
    if crops < 1:
        raise ValueError(f"crops must be at least 1, got {crops}")
    if crops == 1:
        return np.array([(window - length) // 2], dtype=np.int64)
    return np.linspace(0, window - length, crops).round().astype(np.int64)


def aggregate(scores: np.ndarray, owner: np.ndarray, n: int, how: str = "mean") -> np.ndarray:
    """Per-record scores from per-crop scores.

    Args:
        scores: ``(..., n_crops, n_classes)``.
        owner: the record (0..n-1) of each crop.
        n: records; each must own at least one crop.
        how: ``"mean"`` or ``"max"``.

    Returns:
        ``(..., n, n_classes)``, float32.
    """
    if how not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}, got {how!r}")
    counts = np.bincount(owner, minlength=n)
    if (counts == 0).any():
        raise ValueError("every record needs at least one crop")
    moved = np.moveaxis(np.asarray(scores, dtype=np.float64), -2, 0)
    out = np.full((n, *moved.shape[1:]), -np.inf if how == "max" else 0.0)
    (np.maximum if how == "max" else np.add).at(out, owner, moved)
    if how == "mean":
        out /= counts.reshape(-1, *([1] * (out.ndim - 1)))
    return np.moveaxis(out, 0, -2).astype(np.float32)


def cache_crops(
    n_windows: np.ndarray,
    window: int,
    length: int,
    *,
    stride: int | None = None,
    crops: int = 1,
    all_windows: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every crop of some cached records: ``(owner, window_offset, start)`` per crop.

    Args:
        n_windows: cached windows of each record.
        window, length, stride, crops: as :func:`crop_starts`.
        all_windows: crops of every window of a record; otherwise of its first.

    Returns:
        The record (position in ``n_windows``) of each crop, its window's offset
        from the record's first row, and its start sample.
    """
    starts = crop_starts(window, length, stride=stride, crops=crops)
    used = np.asarray(n_windows, dtype=np.int64) if all_windows else np.ones(len(n_windows), int)
    owner = np.repeat(np.arange(len(used)), used * len(starts))
    offset = np.repeat(
        np.concatenate([np.arange(k) for k in used]) if len(used) else np.zeros(0, int), len(starts)
    )
    start = np.tile(starts, int(used.sum()))
    return owner, offset, start


def predict_cached(
    predict,
    signals: np.ndarray,
    rows: np.ndarray,
    n_windows: np.ndarray,
    length: int,
    *,
    stride: int | None = None,
    crops: int = 1,
    all_windows: bool = False,
    how: str = "mean",
    features: np.ndarray | None = None,
    chunk: int = 256,
    progress=None,
) -> np.ndarray:
    """Record scores from the crops of cached windows.

    Args:
        predict: ``predict(x, features) -> (n_models, len(x), n_classes)``, for
            inputs ``(n, length, n_leads)`` and their tabular rows (or ``None``).
        signals: the cache's windows ``(n_rows, window, n_leads)`` (a memmap).
        rows: each record's first row in ``signals``.
        n_windows: each record's cached windows.
        length, stride, crops, all_windows: as :func:`cache_crops`.
        how: as :func:`aggregate`.
        features: one tabular row per record, or ``None``.
        chunk: crops per call of ``predict``.
        progress: wraps the chunk iterator (a progress bar), or ``None``.

    Returns:
        ``(n_models, n_records, n_classes)``.
    """
    owner, offset, start = cache_crops(
        n_windows, signals.shape[1], length, stride=stride, crops=crops, all_windows=all_windows
    )
    row = np.asarray(rows, dtype=np.int64)[owner] + offset
    chunks = range(0, len(owner), chunk)
    parts = []
    for begin in progress(chunks) if progress else chunks:
        part = slice(begin, begin + chunk)
        x = np.stack(
            [signals[r, s : s + length] for r, s in zip(row[part], start[part], strict=True)]
        )
        parts.append(predict(x, None if features is None else features[owner[part]]))
    return aggregate(np.concatenate(parts, axis=1), owner, len(rows), how)
