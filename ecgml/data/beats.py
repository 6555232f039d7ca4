"""Heartbeats as samples: the AAMI EC57 beat classes, and beat windows of a record.

The ANSI/AAMI EC57 standard groups the MIT-BIH beat annotation codes into five
classes (de Chazal et al., 2004, table 1)::

    N  normal and bundle branch block beats   N, L, R, e, j
    S  supraventricular ectopic beats         A, a, J, S
    V  ventricular ectopic beats              V, E
    F  fusion of ventricular and normal       F
    Q  paced and unclassifiable beats         /, f, Q

Every other annotation (rhythm changes ``+``, noise ``~``, waves, comments) is
not a beat and gives no sample.
"""

from __future__ import annotations

import numpy as np

from ecgml.data.preprocess import PreprocessConfig, bandpass, beat_windows, resample, select_leads
from ecgml.data.preprocess import zscore as zscore_windows
from ecgml.data.record_types import Annotations

AAMI_CLASSES: dict[str, str] = {
    "N": "normal or bundle branch block",
    "S": "supraventricular ectopic",
    "V": "ventricular ectopic",
    "F": "fusion",
    "Q": "paced or unclassifiable",
}
AAMI_SYMBOLS: dict[str, str] = {
    **dict.fromkeys(("N", "L", "R", "e", "j"), "N"),
    **dict.fromkeys(("A", "a", "J", "S"), "S"),
    **dict.fromkeys(("V", "E"), "V"),
    "F": "F",
    **dict.fromkeys(("/", "f", "Q"), "Q"),
}


def aami_class(symbol: str) -> str | None:
    """The AAMI class of a beat annotation code, or ``None`` for a non-beat annotation."""
    return AAMI_SYMBOLS.get(symbol)


def aami_beats(annotations: Annotations) -> tuple[np.ndarray, tuple[str, ...]]:
    """The beats among ``annotations``: their R-peak samples and AAMI classes."""
    classes = [AAMI_SYMBOLS.get(s) for s in annotations.symbol]
    keep = np.array([c is not None for c in classes], dtype=bool)
    return annotations.sample[keep], tuple(c for c in classes if c is not None)


def record_beats(
    signal: np.ndarray,
    fs: float,
    lead_names: tuple[str, ...],
    r_peaks: np.ndarray,
    config: PreprocessConfig,
) -> np.ndarray:
    """The beat windows of one record.

    The configured leads are picked by name (others are left out), resampled to
    ``config.fs`` and filtered as configured; each R peak is moved to the new
    rate and its window cut (:func:`~ecgml.data.preprocess.beat_windows`).

    Args:
        signal: shape ``(n_samples, n_leads)``, mV.
        fs: its rate in Hz.
        lead_names: names of its columns.
        r_peaks: beat samples at ``fs``.
        config: a ``window_policy="beats"`` preprocessing.

    Returns:
        float32, shape ``(n_beats, config.window, len(config.leads))``.

    Raises:
        ValueError: a configured lead is missing; the rate is below the
            configured one (a beat window needs that resolution); the record
            is shorter than one window.
    """
    if fs < config.fs:
        raise ValueError(f"sampling rate {fs:g} Hz is below the beat window's {config.fs:g} Hz")
    x, _ = select_leads(signal, lead_names, config.leads)
    x = resample(x.astype(np.float32, copy=False), fs, config.fs)
    if x.shape[0] < config.window:
        raise ValueError(
            f"record of {x.shape[0] / config.fs:.2f} s is shorter than one beat window "
            f"({config.window / config.fs:.2f} s)"
        )
    if config.bandpass is not None:
        x = bandpass(x, config.fs, *config.bandpass, order=config.filter_order)
    positions = np.round(np.asarray(r_peaks, dtype=np.float64) * config.fs / fs).astype(np.int64)
    windows = beat_windows(x, positions, config.window, config.beat_offset)
    if config.normalisation == "zscore":
        windows = zscore_windows(windows)
    return windows


RR_FEATURES = ("rr_previous_s", "rr_next_s", "rr_local_mean_s", "rr_previous_ratio")


def rr_features(r_peaks: np.ndarray, fs: float, *, local: int = 10) -> np.ndarray:
    """RR-interval features of every beat of one record (de Chazal et al., 2004).

    Args:
        r_peaks: the record's beat samples, in time order.
        fs: their rate in Hz.
        local: beats on each side averaged into the local mean RR.

    Returns:
        float32, shape ``(n_beats, 4)``, columns :data:`RR_FEATURES`: the RR
        interval before and after the beat (s), the mean RR of the ``local``
        beats around it (s), and the previous RR over that mean (a premature
        beat is well below 1). A record's first and last beats, which lack a
        neighbour, take the neighbouring interval.
    """
    r = np.asarray(r_peaks, dtype=np.float64)
    if r.ndim != 1 or len(r) < 2:
        raise ValueError(f"RR intervals need at least two beats, got {r.shape}")
    if np.any(np.diff(r) <= 0):
        raise ValueError("beat samples must be strictly increasing")
    rr = np.diff(r) / fs
    previous = np.concatenate([rr[:1], rr])
    following = np.concatenate([rr, rr[-1:]])
    kernel = np.ones(2 * local + 1)
    padded = np.pad(previous, local, mode="edge")
    local_mean = np.convolve(padded, kernel, mode="valid") / kernel.size
    ratio = previous / local_mean
    return np.stack([previous, following, local_mean, ratio], axis=1).astype(np.float32)


def beat_features(names: tuple[str, ...], r_peaks: np.ndarray, fs: float) -> np.ndarray:
    """The tabular input of a beat model, ``(n_beats, len(names))``, for beats found at
    prediction time: the named columns of :func:`rr_features`.

    Raises:
        ValueError: a name that is not an RR feature, or fewer than two beats.
    """
    unknown = [n for n in names if n not in RR_FEATURES]
    if unknown:
        raise ValueError(
            f"the model takes features {unknown}, which are not RR features "
            f"{list(RR_FEATURES)}; they cannot be computed from a new record"
        )
    rr = rr_features(r_peaks, fs)
    return rr[:, [RR_FEATURES.index(n) for n in names]]
