"""Signal quality: is a recording fit to be trusted, lead by lead?

Each lead of a record (its signal as read, in mV, at its own rate) is checked for:

* ``flat``: no variation (peak-to-peak under 20 uV), or a run of identical
  samples at least 1 s long (a lead that dropped out for part of the record);
* ``clipping``: at least 0.5 % of the samples sit at the lead's own maximum or
  minimum in runs of three or more (an amplifier or converter at its limit);
* ``powerline``: at least 20 % of the power between 0.5 Hz and the Nyquist
  frequency lies within 1 Hz of 50 or 60 Hz (checked where the rate resolves it);
* ``noise``: at least 30 % of that power lies above 40 Hz, mains bands left out
  (muscle and electrode noise);
* ``baseline``: the baseline (the signal low-passed at 0.5 Hz) moves over more
  than twice the lead's QRS amplitude and at least 1 mV within 10 s (the median
  over the record's 10 s stretches);
* ``amplitude``: a QRS amplitude over 20 mV or under 0.03 mV, which says the
  units are wrong (microvolts read as millivolts, or volts) rather than the heart;
  only for leads whose header says mV (a table reader's ``normalised`` arrays
  have no millivolt to judge).

The QRS amplitude of a lead is the median peak-to-peak within 50 ms of each R
peak; the R peaks are found once per record by NeuroKit2 (``ecg_clean``, and
``ecg_findpeaks`` as ``ecg_peaks`` calls it: :mod:`ecgml.rpeaks`) on its
widest-ranging usable lead, and the band powers are NeuroKit2's
``signal_power`` (Welch), computed for all leads in one SciPy call as NeuroKit2
computes them for one (:func:`_band_shares`). Flat lines and clipping are our
own: the only related NeuroKit2 measure, ``signal_flatline``, is relative to the lead's
largest step and calls a perfectly constant lead 0 % flat.

The record's verdict is ``good`` (nothing found), ``acceptable`` (problems in at
most a quarter of its leads, none of them ``amplitude``) or ``poor``. The
thresholds are fixed constants below, set from physiology and recording
practice, not fitted to any data set; ``docs/quality.md`` reports how many real
records each check flags and what it catches and misses.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

CHECKS = ("flat", "clipping", "powerline", "noise", "baseline", "amplitude")
VERDICTS = ("poor", "acceptable", "good")  # worst first
DESCRIPTIONS = {
    "flat": "flat line (no signal, or a long constant stretch)",
    "clipping": "clipped at the extreme values",
    "powerline": "mains (50/60 Hz) interference",
    "noise": "high-frequency noise",
    "baseline": "baseline wander",
    "amplitude": "implausible amplitude (wrong units?)",
}

FLAT_PTP_MV = 0.02
FLAT_RUN_S = 1.0
CLIP_SHARE, CLIP_RUN = 0.005, 3
POWERLINE_SHARE, MAINS_HZ = 0.20, (50.0, 60.0)
NOISE_SHARE, NOISE_HZ = 0.30, 40.0
BASELINE_HZ, BASELINE_QRS_RATIO, BASELINE_MIN_MV, BASELINE_SPAN_S = 0.5, 2.0, 1.0, 10.0
QRS_HIGH_MV, QRS_LOW_MV, QRS_HALF_S = 20.0, 0.03, 0.05


@dataclass(frozen=True)
class Quality:
    """A record's quality: the problems found, each ``(check, lead)``, and its verdict."""

    problems: tuple[tuple[str, str], ...]
    verdict: str
    qrs_mv: tuple[float | None, ...] = ()  # per lead; None where not measured

    @property
    def label(self) -> str:
        """``good``, or the problems joined by ``;`` (``flat:V3;noise:II``)."""
        return ";".join(f"{check}:{lead}" for check, lead in self.problems) or "good"

    def in_words(self) -> list[str]:
        """One line per kind of problem, naming its leads, for a reader."""
        leads: dict[str, list[str]] = {}
        for check, lead in self.problems:
            leads.setdefault(check, []).append(lead)
        return [f"{DESCRIPTIONS[c]}: {', '.join(ls)}" for c, ls in leads.items()]


def meets(verdict: str, minimum: str) -> bool:
    """Whether ``verdict`` is at least ``minimum`` (``poor`` < ``acceptable`` < ``good``)."""
    for value in (verdict, minimum):
        if value not in VERDICTS:
            raise ValueError(f"a quality verdict is one of {VERDICTS}, got {value!r}")
    return VERDICTS.index(verdict) >= VERDICTS.index(minimum)


def _longest_runs(leads: np.ndarray) -> np.ndarray:
    """The longest run of identical consecutive samples in each row of ``leads``
    ``(n_leads, n_samples)``."""
    n_leads, n = leads.shape
    if n == 0:
        return np.zeros(n_leads, dtype=np.int64)
    # a run ends where the next sample differs, and at each row's end; -1 opens the first
    ends = np.ones((n_leads, n + 1), dtype=bool)
    ends[:, 1:n] = leads[:, 1:] != leads[:, :-1]
    rows, cols = np.nonzero(ends)
    lengths = np.diff(cols)  # across two rows this is negative, below every real run
    return np.maximum.reduceat(lengths, np.searchsorted(rows, np.arange(n_leads)))


def _clipped_shares(leads: np.ndarray) -> np.ndarray:
    """Per row of ``leads`` ``(n_leads, n_samples)``, the share of samples at the
    row's maximum or minimum in runs of ``CLIP_RUN`` or more."""
    n_leads, n = leads.shape
    at_edge = np.zeros((n_leads, n + 2), dtype=np.int8)
    at_edge[:, 1:-1] = (leads == leads.max(axis=1, keepdims=True)) | (
        leads == leads.min(axis=1, keepdims=True)
    )
    edges = np.diff(at_edge, axis=1)
    rows, starts = np.nonzero(edges == 1)
    runs = np.nonzero(edges == -1)[1] - starts  # rows are padded, so ends pair with starts
    long = runs >= CLIP_RUN
    return np.bincount(rows[long], weights=runs[long], minlength=n_leads) / n


def _r_peaks(signal: np.ndarray, fs: float, usable: np.ndarray) -> np.ndarray:
    from ecgml.rpeaks import clean_leads, r_peaks

    if not usable.any():
        return np.zeros(0, dtype=int)
    high, low = np.percentile(signal.T, [99, 1], axis=1)  # a lead's samples side by side
    lead = int(np.argmax(np.where(usable, high - low, -np.inf)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NeuroKit2 warns on short or odd traces
        try:
            return r_peaks(clean_leads(signal[:, lead : lead + 1], fs)[:, 0], fs)
        except (ValueError, IndexError, ZeroDivisionError):
            return np.zeros(0, dtype=int)


def _qrs_amplitudes(signal: np.ndarray, peaks: np.ndarray, fs: float) -> np.ndarray:
    """Per lead of ``signal`` ``(n_samples, n_leads)``, the median peak-to-peak within
    ``QRS_HALF_S`` of each peak (cut at the record's ends); without two peaks, the
    0.5-99.5 percentile range."""
    if len(peaks) < 2:
        high, low = np.percentile(signal, [99.5, 0.5], axis=0)  # no beats found
        return high - low
    half = max(1, round(QRS_HALF_S * fs))
    # repeating the end samples changes no window's maximum or minimum
    padded = np.pad(signal, ((half, half), (0, 0)), mode="edge")
    windows = padded[peaks[:, None] + np.arange(2 * half + 1)]  # (peak, sample, lead)
    return np.median(windows.max(axis=1) - windows.min(axis=1), axis=0)


@functools.lru_cache(maxsize=32)
def _baseline_lowpass(fs: float) -> np.ndarray:
    return sps.butter(2, BASELINE_HZ, btype="low", fs=fs, output="sos")


def _baseline_ranges(signal: np.ndarray, fs: float) -> np.ndarray:
    """How far each lead's baseline moves: its range within each 10 s stretch, the
    median over the stretches (a long recording may drift slowly without wandering).
    One filter call for every lead."""
    baseline = sps.sosfiltfilt(_baseline_lowpass(fs), np.ascontiguousarray(signal.T), axis=-1)
    n, step = signal.shape[0], round(BASELINE_SPAN_S * fs)
    starts = range(0, max(n - step, 0) + 1, step)
    spans = np.array([np.ptp(baseline[:, i : i + step], axis=-1) for i in starts])
    return np.median(spans, axis=0)


def _band_shares(signal: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Per lead of ``signal`` ``(n_samples, n_leads)``, the shares of the 0.5 Hz to
    Nyquist power within 1 Hz of the mains and above 40 Hz.

    The power is NeuroKit2's ``signal_power`` (Welch) computed as it computes it:
    each lead less its mean, Hann windows of half the record with an FFT of twice
    that, the spectral density integrated by the trapezoid rule over each band
    (its lower edge in, its upper edge out), a band with no power counted as none.
    Here every lead goes through one ``scipy.signal.welch`` call and no pandas,
    which makes the checks 2.5 to 5 times faster (``bench/prepare.py``);
    ``tests/data/test_quality.py`` holds the two to 1e-9.
    """
    n = signal.shape[0]
    nyquist = fs / 2
    mains = [(f - 1, f + 1) for f in MAINS_HZ if f + 1 < nyquist]
    x = np.ascontiguousarray((signal - signal.mean(axis=0)).T)
    lowest = (2 * fs) / (n / 2)  # NeuroKit2's default lowest frequency, and its window
    nperseg = min(int((2 / lowest) * fs), int(n / 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        freqs, power = sps.welch(
            x,
            fs=fs,
            window="hann",
            nperseg=nperseg,
            nfft=int(nperseg * 2),
            detrend=False,
            scaling="density",
            average="mean",
            axis=-1,
        )
    keep = (freqs >= lowest) & (freqs >= 0.5) & (freqs <= nyquist)
    freqs, power = freqs[keep], power[:, keep]

    def band(low: float, high: float) -> np.ndarray:
        inside = (freqs >= low) & (freqs < high)
        return np.trapezoid(power[:, inside], freqs[inside], axis=-1)

    total = band(0.5, nyquist)
    mains_power = np.array([band(*b) for b in mains]).reshape(len(mains), len(total))
    high = band(NOISE_HZ, nyquist) - mains_power.sum(axis=0) if nyquist > NOISE_HZ else 0 * total
    with np.errstate(divide="ignore", invalid="ignore"):
        mains_share = np.where(total > 0, mains_power.max(axis=0, initial=0.0) / total, 0.0)
        high_share = np.where(total > 0, np.maximum(high, 0.0) / total, 0.0)
    return mains_share, high_share


def assess(
    signal: np.ndarray, fs: float, lead_names: Sequence[str], units: Sequence[str] | None = None
) -> Quality:
    """The quality of a record's signal, ``(n_samples, n_leads)`` at ``fs`` Hz.

    Args:
        units: each lead's unit (the header's); the amplitude check applies only to
            leads in mV (a table of z-scored arrays says ``normalised``). ``None``: mV.
    """
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 2 or signal.shape[1] != len(lead_names):
        raise ValueError(f"signal {signal.shape} does not match {len(lead_names)} lead names")
    signal = np.nan_to_num(signal)
    n, n_leads = signal.shape
    leads = np.ascontiguousarray(signal.T)
    flat = (np.ptp(leads, axis=1) < FLAT_PTP_MV) | (_longest_runs(leads) >= FLAT_RUN_S * fs)
    clipped = ~flat & (_clipped_shares(leads) >= CLIP_SHARE)
    peaks = _r_peaks(signal, fs, ~flat & ~clipped)
    mains_shares, high_shares = _band_shares(signal, fs)
    wander = _baseline_ranges(signal, fs) if n >= 3 * fs else np.zeros(n_leads)
    amplitudes = _qrs_amplitudes(signal, peaks, fs)
    found: dict[int, list[str]] = {k: [] for k in range(n_leads)}
    qrs: list[float | None] = []
    for k in range(n_leads):
        if flat[k]:
            found[k].append("flat")
            qrs.append(None)
            continue
        if clipped[k]:
            found[k].append("clipping")
        amplitude = float(amplitudes[k])
        qrs.append(round(amplitude, 4))
        if mains_shares[k] >= POWERLINE_SHARE:
            found[k].append("powerline")
        if high_shares[k] >= NOISE_SHARE:
            found[k].append("noise")
        if n >= 3 * fs and wander[k] > max(BASELINE_QRS_RATIO * amplitude, BASELINE_MIN_MV):
            found[k].append("baseline")
        in_mv = units is None or str(units[k]).strip().lower() == "mv"
        if in_mv and not QRS_LOW_MV <= amplitude <= QRS_HIGH_MV:
            found[k].append("amplitude")
    problems = tuple(
        (check, lead_names[k]) for check in CHECKS for k in range(n_leads) if check in found[k]
    )
    bad_leads = sum(bool(v) for v in found.values())
    if not problems:
        verdict = "good"
    elif bad_leads <= n_leads / 4 and all(c != "amplitude" for c, _ in problems):
        verdict = "acceptable"
    else:
        verdict = "poor"
    return Quality(problems=problems, verdict=verdict, qrs_mv=tuple(qrs))
