"""The waves of one lead delineated, and its beats compared, as NeuroKit2 does it,
faster.

The forest's interval features (:mod:`ecgml.baseline`) come from NeuroKit2's
wavelet delineation, ``ecg_delineate(cleaned, rpeaks, method="dwt")``, and the
single-lead features' beat-likeness from its ``ecg_quality(method="averageQRS")``
(version 0.3.0). Both cut the lead into beats in one pandas frame per beat
(``ecg_segment``), and the quality pivots them into a table; the delineation
also runs its wavelet transform at scales its search never reads, and takes a
window's maximum with Python's ``max`` once per candidate peak. Here the beats
are cut from one array, only the two scales read are computed (by the same
operations, bit for bit) and the window maximum is taken once; NeuroKit2's own
functions do the rest of the delineation. The points are NeuroKit2's exactly
and the quality the same to about 1e-15 (``tests/test_delineation.py``;
``bench/prepare.py`` has the time).
"""

from __future__ import annotations

import importlib
import itertools
import warnings

import numpy as np

# NeuroKit2's wavelet delineation works at 2 kHz, with these settings (its defaults)
_RATE = 2000
_QRS_WIDTH = 0.13  # seconds; the T and P searches start half of it from the R peak
_AMPLITUDE_WEIGHT = 0.3
WAVES = ("ECG_P_Peaks", "ECG_P_Onsets", "ECG_R_Onsets", "ECG_T_Offsets")


def _nk_dwt():
    """NeuroKit2's delineation module (``neurokit2.ecg.ecg_delineate`` is also the name
    of the function the package exports, hence the import by name)."""
    return importlib.import_module("neurokit2.ecg.ecg_delineate")


def delineate(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> dict[str, list]:
    """The P peaks and onsets, QRS onsets and T offsets of one cleaned lead, as
    NeuroKit2's ``ecg_delineate(cleaned, rpeaks, sampling_rate=fs, method="dwt")``
    returns them under the names of :data:`WAVES`: one sample index per R peak, NaN
    where the wave is not found, and a point at or before sample 0 dropped (so the
    list is shorter), as NeuroKit2 does. Raises ``ValueError`` for a lead under 4 s,
    as NeuroKit2's ``ecg_segment`` does."""
    import neurokit2 as nk

    dwt = _nk_dwt()
    if len(rpeaks) == 0:  # NeuroKit2 returns no points, as here
        return {name: [] for name in WAVES}
    try:
        qpeaks = _q_peaks(cleaned, rpeaks, fs)
    except _UnevenBeats:
        _, waves = nk.ecg_delineate(cleaned, rpeaks, sampling_rate=fs, method="dwt")
        return {name: waves[name] for name in WAVES}
    ecg = nk.signal_resample(cleaned, sampling_rate=fs, desired_sampling_rate=_RATE)
    rr = dwt._dwt_resample_points(rpeaks, fs, _RATE)
    degree = dwt._dwt_adjust_parameters(rr, _RATE, target="degree")
    # scales 2 + degree and 3 + degree are read; where that is outside NeuroKit2's
    # nine, all nine, so that the indexing (and any error) is NeuroKit2's
    if degree + 2 >= 0 and degree + 3 <= 8:
        scales = _scales(ecg, degree + 3)
    else:
        scales = dwt._dwt_compute_multiscales(ecg, 9)
    tpeaks, ppeaks = _tp_peaks(ecg, rr, scales, degree)
    qr = dwt._dwt_resample_points(qpeaks, fs, _RATE)
    onsets, _ = dwt._dwt_delineate_qrs_bounds(rr, scales, ppeaks, tpeaks, qr, sampling_rate=_RATE)
    ponsets, _ = dwt._dwt_delineate_tp_onsets_offsets(ppeaks, rr, scales, sampling_rate=_RATE)
    _, toffsets = dwt._dwt_delineate_tp_onsets_offsets(
        tpeaks, rr, scales, sampling_rate=_RATE, onset_weight=0.6, duration_onset=0.6
    )
    out = {}
    for name, points in zip(WAVES, (ppeaks, ponsets, onsets, toffsets), strict=True):
        points = dwt._dwt_resample_points(points, _RATE, fs)
        if points and points[-1] >= len(cleaned):
            points[-1] = np.nan
        out[name] = [x for x in points if x > 0 or np.isnan(x)]
    return out


def _scales(ecg: np.ndarray, last: int) -> np.ndarray:
    """Rows ``last - 1`` and ``last`` of NeuroKit2's ``_dwt_compute_multiscales(ecg, 9)``
    by the same operations, the rows before them NaN: the scale-``p`` detail is the
    signal smoothed at scales ``0..p-1`` (each a [1, 3, 3, 1] / 8 kernel spread
    ``2**p`` apart) and differenced ``2**p`` apart, each shifted back by ``2**p``.
    NeuroKit2 also details the first scales and smooths at the last, which no row
    read needs."""
    from scipy import signal as sps

    out = np.full((last + 1, len(ecg)), np.nan)
    x = np.array(ecg)
    for p in range(last + 1):
        gap = np.zeros(2**p - 1)
        if p >= last - 1:
            detail = sps.convolve(x, np.r_[2, gap, -2], mode="full")
            detail[: -(2**p)] = detail[2**p :]
            out[p] = detail[: len(ecg)]
        if p < last:
            smooth = np.r_[1.0 / 8, gap, 3.0 / 8, gap, 3.0 / 8, gap, 1.0 / 8]
            x = sps.convolve(x, smooth, mode="full")
            x[: -(2**p)] = x[2**p :]
    return out


def _beats(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> tuple[list[np.ndarray], int]:
    """Each beat as NeuroKit2's ``ecg_segment`` cuts it, and how many of a beat's
    samples come up to its R peak. A beat runs from 35 % of the mean RR interval
    before the R peak to 65 % after it, the lead padded with NaN beyond its ends;
    NeuroKit2 labels its samples with evenly spaced times from start to end, and
    the samples at times up to 0 come up to the R peak. Raises ``ValueError`` for
    a lead under 4 s, as ``ecg_segment`` does."""
    import neurokit2 as nk

    if len(cleaned) < fs * 4:
        raise ValueError(f"expected at least 4 s to segment, got {len(cleaned) / fs:.2f} s")
    heart_rate = np.mean(nk.signal_rate(rpeaks, sampling_rate=fs, desired_length=len(cleaned)))
    window = 60 / heart_rate
    start, end = -(0.35 * window), (1 - 0.35) * window
    pad = int((end - start) * fs)
    padded = np.concatenate([np.full(pad, np.nan), cleaned, np.full(pad, np.nan)])
    beats = [padded[int(r + pad + start * fs) : int(r + pad + end * fs)] for r in rpeaks]
    if len({len(beat) for beat in beats}) != 1:  # only where rounding cuts one sample more
        raise _UnevenBeats
    return beats, int(np.count_nonzero(np.linspace(start, end, num=len(beats[0])) <= 0))


class _UnevenBeats(Exception):
    """Beats of two lengths: NeuroKit2's own route is taken (see the callers)."""


def _q_peaks(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> list[float]:
    """The Q peak before each R peak, as NeuroKit2's DWT delineation finds it: the last
    trough, of prominence at least 5 % of the range, in the part of the beat
    (:func:`_beats`) up to the R peak."""
    from scipy import signal as sps

    beats, before = _beats(cleaned, rpeaks, fs)
    qpeaks = []
    for r, beat in zip(rpeaks, beats, strict=True):
        left = beat[:before]
        troughs, _ = sps.find_peaks(-left)
        prominence = sps.peak_prominences(-left, troughs)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: no lower bound
            least = 0.05 * (np.nanmax(left) - np.nanmin(left))
        kept = troughs[~(prominence < least)]
        qpeaks.append(float(r - (before - kept[-1])) if len(kept) else np.nan)
    return qpeaks


def average_qrs_quality(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> float:
    """The mean over the lead's samples of NeuroKit2's
    ``ecg_quality(cleaned, rpeaks, sampling_rate=fs, method="averageQRS")``: each
    whole beat (:func:`_beats`; one that runs past an end is not whole and scores
    0) scored by how close it lies to the average beat, the mean of its z-scored
    samples, rescaled so that the closest beat scores 1 and the farthest 0, and
    each sample given the score of the beat it follows. The same number to about
    1e-15 (its sums run in another order) without a pandas table of beats."""
    import neurokit2 as nk

    if len(rpeaks) == 0:  # NeuroKit2 scores every sample NaN
        return float("nan")
    try:
        beats, _ = _beats(cleaned, rpeaks, fs)
    except _UnevenBeats:
        quality = nk.ecg_quality(cleaned, rpeaks=rpeaks, sampling_rate=fs, method="averageQRS")
        return float(np.nanmean(quality))
    table = np.stack(beats)
    whole = ~np.isnan(table).any(axis=1)
    if not whole.any():
        raise ValueError("no whole beat to compare")
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # one beat, a constant sample
        z = (table[whole] - np.nanmean(table[whole], axis=0)) / np.nanstd(
            table[whole], axis=0, ddof=1
        )
        distance = np.abs(np.nanmean(z, axis=1))
        low, high = np.nanmin(distance), np.nanmax(distance)
        distance = np.abs(1 / (high - low) * (distance - low) - 1)
        scores = np.zeros(len(beats))
        scores[whole] = distance
        follows = np.searchsorted(rpeaks, np.arange(len(cleaned)), side="right") - 1
        return float(np.nanmean(scores[np.maximum(follows, 0)]))


def _tp_peaks(ecg: np.ndarray, rpeaks: list, scales: np.ndarray, degree: int) -> tuple[list, list]:
    """The T and P peaks, as NeuroKit2's ``_dwt_delineate_tp_peaks`` with its defaults:
    the T peak searched from half a QRS after the R peak to twice the expected R-T
    time (0.25 s at 60 bpm), the P peak from twice the expected P-R time (0.2 s)
    before it to half a QRS before it."""
    dwt = _nk_dwt()
    edge = int(0.5 * _QRS_WIDTH * _RATE)
    p2r = dwt._dwt_adjust_parameters(rpeaks, _RATE, duration=0.2, target="duration")
    rt = dwt._dwt_adjust_parameters(rpeaks, _RATE, duration=0.25, target="duration")
    t_due = rt - 0.5 * _QRS_WIDTH

    def t_penalty(seconds: float) -> float:  # signed: a late T peak scores higher
        return seconds - t_due

    def p_penalty(seconds: float) -> float:
        return abs(seconds - p2r)

    tpeaks, ppeaks = [], []
    normalise = dwt._dwt_normalize_window
    for r in rpeaks:
        t_window = slice(r + edge, r + 2 * int(rt * _RATE))
        t_scale = scales[3 + degree]
        tpeaks.append(_wave_peak(ecg, t_scale, t_window, 0.25, t_penalty, normalise))
        p_window = slice(r - 2 * int(p2r * _RATE), r - edge)
        p_scale = scales[2 + degree]
        ppeaks.append(_wave_peak(ecg, p_scale, p_window, 0.02, p_penalty, normalise))
    return tpeaks, ppeaks


def _wave_peak(
    ecg: np.ndarray, scale: np.ndarray, window: slice, epsilon: float, penalty, normalise
):
    """The wave's peak in ``window``: of the zero crossings of the scale between a
    positive and the next negative extremum, the one whose amplitude (``normalise``d
    within the window) less its latency penalty (seconds from the window's start)
    is highest; NaN if none."""
    from scipy import signal as sps

    local = scale[window]
    if len(local) == 0:
        return np.nan
    height = epsilon * np.sqrt(np.mean(np.square(local)))
    peaks, _ = sps.find_peaks(np.abs(local), height=height)
    top = max(local) if np.isnan(local).any() else local.max()  # max's NaN handling
    peaks = [int(p) for p in peaks if np.abs(local[p]) > 0.025 * top]
    if local[0] > 0:
        peaks = [0, *peaks]
    candidates, scores, amplitude = [], [], None
    for a, b in itertools.pairwise(peaks):
        if local[a] > 0 and local[b] < 0:
            if amplitude is None:
                amplitude = normalise(ecg[window], _AMPLITUDE_WEIGHT)
            zero = int(np.nonzero(np.abs(np.diff(np.sign(local[a : b + 1]))) > 0)[0][0]) + a
            candidates.append(zero)
            scores.append(amplitude[zero] - penalty(float(zero) / _RATE))
    if not candidates:
        return np.nan
    return candidates[int(np.argmax(scores))] + window.start
