"""The P, QRS and T waves of one lead delineated as NeuroKit2 does it, faster.

The forest's interval features (:mod:`ecgml.baseline`) come from NeuroKit2's
wavelet delineation, ``ecg_delineate(cleaned, rpeaks, method="dwt")`` (version
0.3.0). Three parts of it cost most of its time without doing the work: the Q
peaks, which bound the search for the QRS onset, are found in one pandas frame
per beat (``ecg_segment``); the wavelet transform runs to scales the search never
reads; and the T and P peak search takes the maximum of a window with Python's
``max`` once per candidate. Here the Q peaks are found on plain arrays, the
transform stops at the scales read, and the window maximum is taken once; the
rest is NeuroKit2's own functions. The points are NeuroKit2's exactly
(``tests/test_delineation.py``; ``bench/prepare.py`` has the time).
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
    if len(cleaned) < fs * 4:
        raise ValueError(f"expected at least 4 s to delineate, got {len(cleaned) / fs:.2f} s")
    qpeaks = _q_peaks(cleaned, rpeaks, fs)
    ecg = nk.signal_resample(cleaned, sampling_rate=fs, desired_sampling_rate=_RATE)
    rr = dwt._dwt_resample_points(rpeaks, fs, _RATE)
    degree = dwt._dwt_adjust_parameters(rr, _RATE, target="degree")
    # scales 2 + degree and 3 + degree are read; where that is outside NeuroKit2's
    # nine, all nine, so that the indexing (and any error) is NeuroKit2's
    rows = degree + 4 if degree + 2 >= 0 and degree + 3 <= 8 else 9
    scales = dwt._dwt_compute_multiscales(ecg, rows)
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


def _q_peaks(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> list[float]:
    """The Q peak before each R peak, as NeuroKit2's DWT delineation finds it: the last
    trough, of prominence at least 5 % of the range, in the part of the beat up to the
    R peak. Beats run from 35 % of the mean RR interval before the R peak to 65 %
    after it (``ecg_segment``), the record padded with NaN beyond its ends."""
    import neurokit2 as nk
    from scipy import signal as sps

    heart_rate = np.mean(nk.signal_rate(rpeaks, sampling_rate=fs, desired_length=len(cleaned)))
    window = 60 / heart_rate
    start, end = -(0.35 * window), (1 - 0.35) * window
    pad = int((end - start) * fs)
    padded = np.concatenate([np.full(pad, np.nan), cleaned, np.full(pad, np.nan)])
    qpeaks = []
    for r in rpeaks:
        beat = padded[int(r + pad + start * fs) : int(r + pad + end * fs)]
        # NeuroKit2 labels a beat's samples with evenly spaced times from start to end
        before = int(np.count_nonzero(np.linspace(start, end, num=len(beat)) <= 0))
        left = beat[:before]
        troughs, _ = sps.find_peaks(-left)
        prominence = sps.peak_prominences(-left, troughs)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all NaN: no lower bound
            least = 0.05 * (np.nanmax(left) - np.nanmin(left))
        kept = troughs[~(prominence < least)]
        qpeaks.append(float(r - (before - kept[-1])) if len(kept) else np.nan)
    return qpeaks


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
    for r in rpeaks:
        t_window = slice(r + edge, r + 2 * int(rt * _RATE))
        tpeaks.append(_wave_peak(ecg, scales[3 + degree], t_window, 0.25, t_penalty))
        p_window = slice(r - 2 * int(p2r * _RATE), r - edge)
        ppeaks.append(_wave_peak(ecg, scales[2 + degree], p_window, 0.02, p_penalty))
    return tpeaks, ppeaks


def _wave_peak(ecg: np.ndarray, scale: np.ndarray, window: slice, epsilon: float, penalty):
    """The wave's peak in ``window``: of the zero crossings of the scale between a
    positive and the next negative extremum, the one whose normalised amplitude less
    its latency penalty (seconds from the window's start) is highest; NaN if none."""
    from scipy import signal as sps

    dwt = _nk_dwt()
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
                amplitude = dwt._dwt_normalize_window(ecg[window], _AMPLITUDE_WEIGHT)
            zero = int(np.nonzero(np.abs(np.diff(np.sign(local[a : b + 1]))) > 0)[0][0]) + a
            candidates.append(zero)
            scores.append(amplitude[zero] - penalty(float(zero) / _RATE))
    if not candidates:
        return np.nan
    return candidates[int(np.argmax(scores))] + window.start
