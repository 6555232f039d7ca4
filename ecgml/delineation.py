"""The waves of one lead delineated, and its beats compared, as NeuroKit2 does it,
faster.

The forest's interval features (:mod:`ecgml.baseline`) come from NeuroKit2's
wavelet delineation, ``ecg_delineate(cleaned, rpeaks, method="dwt")``, and the
single-lead features' beat-likeness from its ``ecg_quality(method="averageQRS")``
(version 0.3.0). Both cut the lead into beats in one pandas frame per beat
(``ecg_segment``), and the quality pivots them into a table; the delineation
also resamples the lead to 2 kHz with SciPy's ``zoom``, which interpolates point
by point, runs its wavelet transform at scales its search never reads, by
convolutions with mostly-zero kernels, and takes a window's maximum with
Python's ``max`` once per candidate peak. Here the beats are cut from one array,
the resampling is zoom's arithmetic over the whole array at once (bit for bit),
only the two scales read are computed, each kernel as the sum of its four terms
(the same to about 1e-15), and the window maximum is taken once; NeuroKit2's own
functions do the rest of the delineation. The points are NeuroKit2's exactly on
the simulated and real leads of ``tests/test_delineation.py`` and on the shared
records ``docs/benchmarks.md`` reports, and the quality the same to about 1e-15
(``bench/prepare.py`` has the time).
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
    ecg = _resample(cleaned, fs)
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


def _resample(cleaned: np.ndarray, fs: int) -> np.ndarray:
    """The lead at 2 kHz as NeuroKit2's ``signal_resample`` (its default method)
    gives it, ``scipy.ndimage.zoom`` with a cubic spline, bit for bit: SciPy's own
    spline coefficients, evaluated at zoom's points with its weights and its
    mirrored ends, over the whole array at once where zoom loops in C point by
    point (``tests/test_delineation.py``)."""
    from scipy import ndimage

    n = len(cleaned)
    wanted = int(np.round(n * _RATE / fs))
    if wanted == n:
        return cleaned
    factor = wanted / n  # NeuroKit2's; zoom makes round(n * factor) points of it
    m = round(n * factor)
    if n < 4 or m < 2:
        return ndimage.zoom(cleaned, factor)
    coefficients = ndimage.spline_filter1d(cleaned, 3, mode="constant", output=np.float64)
    at = np.arange(m, dtype=np.float64) * ((n - 1) / (m - 1))
    below = np.floor(at)
    y = at - below
    z = 1.0 - y
    w0 = z * z * z / 6.0
    w1 = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0
    w2 = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0
    w3 = 1.0 - w0 - w1 - w2
    # the four coefficients from below - 1, the array mirrored by two at each end
    padded = np.concatenate([coefficients[2:0:-1], coefficients, coefficients[-2:-4:-1]])
    first = below.astype(np.intp) + 1
    out = padded[first] * w0 + padded[first + 1] * w1 + padded[first + 2] * w2
    out += padded[first + 3] * w3
    out[at > n - 1] = 0.0  # past the end: zoom's constant
    return out


def _scales(ecg: np.ndarray, last: int) -> np.ndarray:
    """Rows ``last - 1`` and ``last`` of NeuroKit2's ``_dwt_compute_multiscales(ecg, 9)``,
    the rows before them NaN: the scale-``p`` detail is the signal smoothed at scales
    ``0..p-1`` (each a [1, 3, 3, 1] / 8 kernel spread ``g = 2**p`` apart) and
    differenced ``g`` apart, each shifted back by ``g``. NeuroKit2 convolves with
    the spread kernels, zeros and all (and SciPy may do it by FFT); here each
    kernel is a sum of its four shifted terms, which gives the same rows to about
    1e-15 of their range in a third of the time (``tests/test_delineation.py``).
    NeuroKit2 also details the first scales and smooths at the last, which no row
    read needs."""
    out = np.full((last + 1, len(ecg)), np.nan)
    x = np.asarray(ecg, dtype=np.float64)
    for p in range(last + 1):
        g, n = 2**p, len(x)
        if p >= last - 1:  # the full convolution with [2, 0.., -2], shifted back by g
            detail = np.zeros(n + g)
            detail[:n] = 2 * x
            detail[g:] -= 2 * x
            out[p] = detail[g : g + len(ecg)]
        if p < last:  # the full convolution with [1, 0.., 3, 0.., 3, 0.., 1] / 8, shifted
            smooth = np.zeros(n + 3 * g)
            for k, weight in enumerate((1 / 8, 3 / 8, 3 / 8, 1 / 8)):
                smooth[k * g : k * g + n] += weight * x
            # shifted back by g; the last g samples stay where they are, as NeuroKit2 leaves them
            smooth[:-g] = smooth[g:].copy()
            x = smooth
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
    t_scale, p_scale = scales[3 + degree], scales[2 + degree]
    t_reach, p_reach = 2 * int(rt * _RATE), 2 * int(p2r * _RATE)
    for r in rpeaks:
        t_window = slice(r + edge, r + t_reach)
        tpeaks.append(_wave_peak(ecg, t_scale, t_window, 0.25, t_penalty, normalise))
        p_window = slice(r - p_reach, r - edge)
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
