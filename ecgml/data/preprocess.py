"""Signal preprocessing, pure numpy/scipy: leads, rate, filter, windows, scale.

Every function takes and returns channels-last arrays, shape
``(n_samples, n_leads)``, in millivolts unless normalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import signal as sps

from ecgml.data.images import ImageConfig

STANDARD_LEADS: tuple[str, ...] = (
    "I",
    "II",
    "III",
    "aVR",
    "aVL",
    "aVF",
    "V1",
    "V2",
    "V3",
    "V4",
    "V5",
    "V6",
)
WINDOW_POLICIES = ("first", "centre", "all", "beats")
NORMALISATIONS = ("none", "zscore")
FILTER_AT = ("target", "source")


@dataclass(frozen=True)
class PreprocessConfig:
    """How a raw record becomes fixed-length model input.

    Attributes:
        leads: lead names in the order the model sees them.
        fs: target sampling rate in Hz; any other rate is resampled.
        window: samples per window (default 10 s at 500 Hz); for beats, samples
            per beat window.
        window_policy: for records longer than ``window``: ``"first"`` window,
            ``"centre"`` window, or ``"all"`` windows (non-overlapping where the
            length allows, the last one aligned with the record's end).
            ``"beats"``: one window per annotated beat, each a sample of its own
            (beat tasks, :mod:`ecgml.data.beats`).
        bandpass: ``(low_hz, high_hz)`` for a zero-phase Butterworth band-pass,
            or ``None`` for no filter.
        filter_order: order of that filter.
        filter_at: ``"target"``: filter after resampling to ``fs`` (the default);
            ``"source"``: filter at the record's own rate, before resampling, and
            z-score (under ``"zscore"``) there too, per lead over the whole
            record rather than per window, as the PTB-XL arrays were made
            (band-passed and z-scored at 500 Hz, then resampled).
        normalisation: ``"none"`` (keep mV) or ``"zscore"`` (per lead, per window).
        beat_offset: for ``"beats"``, samples of the window before the R peak
            (0: the window starts at the R peak, as in Kachuee et al., 2018).
        image: for image tasks, how records (drawn as printouts) or image files
            become model images (:class:`~ecgml.data.images.ImageConfig`);
            ``None`` for signal tasks. The signal settings above do not apply to
            images.
    """

    leads: tuple[str, ...] = STANDARD_LEADS
    fs: float = 500.0
    window: int = 5000
    window_policy: str = "first"
    bandpass: tuple[float, float] | None = None
    filter_order: int = 3
    filter_at: str = "target"
    normalisation: str = "none"
    beat_offset: int = 0
    image: ImageConfig | None = None

    def __post_init__(self) -> None:
        if isinstance(self.image, dict):
            object.__setattr__(self, "image", ImageConfig(**self.image))
        if self.window_policy not in WINDOW_POLICIES:
            raise ValueError(
                f"window_policy must be one of {WINDOW_POLICIES}, got {self.window_policy!r}"
            )
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(
                f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}"
            )
        if self.filter_at not in FILTER_AT:
            raise ValueError(f"filter_at must be one of {FILTER_AT}, got {self.filter_at!r}")
        if self.fs <= 0 or self.window <= 0:
            raise ValueError(f"fs and window must be positive, got {self.fs} and {self.window}")
        if self.bandpass is not None:
            low, high = self.bandpass
            if not 0 < low < high < self.fs / 2:
                raise ValueError(
                    f"bandpass must satisfy 0 < low < high < fs/2 = {self.fs / 2}, "
                    f"got {self.bandpass}"
                )
        if not 0 <= self.beat_offset < self.window:
            raise ValueError(
                f"beat_offset must be in [0, window={self.window}), got {self.beat_offset}"
            )
        if len(set(name.lower() for name in self.leads)) != len(self.leads):
            raise ValueError(f"leads contains a name twice: {self.leads}")


def reorder_leads(
    signal: np.ndarray, lead_names: Sequence[str], leads: Sequence[str] = STANDARD_LEADS
) -> np.ndarray:
    """Select and order the columns of ``signal`` to follow ``leads``.

    Names match case-insensitively ("AVR" is "aVR").

    Raises:
        ValueError: the record has a different number of leads, a lead is
            missing, or a name appears twice.
    """
    if signal.ndim != 2 or signal.shape[1] != len(lead_names):
        raise ValueError(f"signal shape {signal.shape} does not match {len(lead_names)} lead names")
    if len(lead_names) != len(leads):
        raise ValueError(f"expected {len(leads)} leads, got {len(lead_names)}: {list(lead_names)}")
    position = {name.strip().lower(): i for i, name in enumerate(lead_names)}
    if len(position) != len(lead_names):
        raise ValueError(f"a lead name appears twice: {list(lead_names)}")
    missing = [name for name in leads if name.lower() not in position]
    if missing:
        raise ValueError(f"missing leads {missing}; the record has {list(lead_names)}")
    order = [position[name.lower()] for name in leads]
    if order == list(range(len(order))):
        return signal
    return signal[:, order]


MISSING_LEADS = ("error", "zero", "derive")


def _derived(
    signal: np.ndarray, lead_names: Sequence[str], absent: Sequence[str]
) -> tuple[np.ndarray, tuple[str, ...], list[str]]:
    """The signal with whichever absent limb leads I and II give, and their names."""
    from ecgml.data.formats.leads import derive_limb_leads

    canonical = {name.lower(): name for name in STANDARD_LEADS}
    names = tuple(canonical.get(n.strip().lower(), n) for n in lead_names)
    out, out_names = derive_limb_leads(signal, names)
    n = len(names)
    pick = [*range(n), *(n + j for j, name in enumerate(out_names[n:]) if name in absent)]
    return out[:, pick], tuple(out_names[k] for k in pick), [out_names[k] for k in pick[n:]]


def select_leads(
    signal: np.ndarray,
    lead_names: Sequence[str],
    leads: Sequence[str] = STANDARD_LEADS,
    *,
    missing: str = "error",
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Pick the columns of ``signal`` named in ``leads``, in that order, for prediction.

    Unlike :func:`reorder_leads`, a record may carry more leads than the model
    takes (a 15-lead PTB record, say); the others are left out. Names match
    case-insensitively.

    Args:
        signal: shape ``(n_samples, len(lead_names))``.
        lead_names: names of its columns.
        leads: the model's lead order.
        missing: ``"error"`` (a missing lead raises), ``"zero"`` (a missing lead
            becomes a flat zero trace, with a warning) or ``"derive"`` (a missing
            III, aVR, aVL or aVF is computed from I and II, with a warning,
            :func:`~ecgml.data.formats.leads.derive_limb_leads`; any other
            missing lead raises).

    Returns:
        The selected signal ``(n_samples, len(leads))`` and warnings.

    Raises:
        ValueError: a missing lead under ``missing="error"``, a name given twice,
            or a signal that does not match its names.
    """
    if missing not in MISSING_LEADS:
        raise ValueError(f"missing must be one of {MISSING_LEADS}, got {missing!r}")
    if signal.ndim != 2 or signal.shape[1] != len(lead_names):
        raise ValueError(f"signal shape {signal.shape} does not match {len(lead_names)} lead names")
    position = {name.strip().lower(): i for i, name in enumerate(lead_names)}
    if len(position) != len(lead_names):
        raise ValueError(f"a lead name appears twice: {list(lead_names)}")
    absent = [name for name in leads if name.lower() not in position]
    warnings = []
    if absent and missing == "derive":
        signal, lead_names, derived = _derived(signal, lead_names, absent)
        position = {name.strip().lower(): i for i, name in enumerate(lead_names)}
        absent = [name for name in leads if name.lower() not in position]
        warnings += [f"leads {derived} derived from I and II"] if derived else []
    if absent and missing != "zero":
        raise ValueError(f"missing leads {absent}; the record has {list(lead_names)}")
    if absent:
        warnings.append(f"leads {absent} missing, filled with zeros")
    wanted = {name.lower() for name in leads}
    extra = [name for name in lead_names if name.strip().lower() not in wanted]
    if extra:
        warnings.append(f"leads {extra} not used by the model")
    out = np.zeros((signal.shape[0], len(leads)), dtype=signal.dtype)
    for k, name in enumerate(leads):
        if name.lower() in position:
            out[:, k] = signal[:, position[name.lower()]]
    return out, tuple(warnings)


def resample(signal: np.ndarray, fs: float, target_fs: float) -> np.ndarray:
    """Resample along time with a polyphase anti-aliasing filter.

    The ratio ``target_fs / fs`` is approximated by a fraction with a
    denominator of at most 1000 (exact for the usual ECG rates).
    """
    if fs <= 0:
        raise ValueError(f"sampling rate must be positive, got {fs}")
    if fs == target_fs:
        return signal
    ratio = Fraction(target_fs / fs).limit_denominator(1000)
    out = sps.resample_poly(signal, ratio.numerator, ratio.denominator, axis=0)
    return out.astype(signal.dtype, copy=False)


def bandpass(signal: np.ndarray, fs: float, low: float, high: float, order: int = 3) -> np.ndarray:
    """Zero-phase Butterworth band-pass filter along time."""
    sos = sps.butter(order, (low, high), btype="bandpass", fs=fs, output="sos")
    # scipy's default padding (a few samples) leaves seconds-long edge transients
    # from the high-pass corner; one period of that corner keeps them small.
    padlen = min(signal.shape[0] - 1, int(np.ceil(fs / low)))
    return sps.sosfiltfilt(sos, signal, axis=0, padlen=padlen).astype(signal.dtype, copy=False)


def source_zscore(config: PreprocessConfig) -> bool:
    """Whether the z-score comes before resampling, over the whole record (with
    ``filter_at: "source"``), rather than per window after it."""
    return (
        config.filter_at == "source"
        and config.bandpass is not None
        and (config.normalisation == "zscore")
    )


def filtered_at_rate(signal: np.ndarray, fs: float, config: PreprocessConfig) -> np.ndarray:
    """``signal`` at ``fs`` resampled to ``config.fs`` and band-passed, in the order
    ``config.filter_at`` says.

    Raises:
        ValueError: ``filter_at: "source"`` on a record whose rate is too low for
            the band's upper edge.
    """
    if config.bandpass is None:
        return resample(signal, fs, config.fs)
    if config.filter_at == "target":
        x = resample(signal, fs, config.fs)
        return bandpass(x, config.fs, *config.bandpass, order=config.filter_order)
    if config.bandpass[1] >= fs / 2:
        raise ValueError(
            f"a {fs:g} Hz record cannot be band-passed to {config.bandpass[1]:g} Hz before "
            "resampling (filter_at: source); it needs a rate above twice that"
        )
    x = bandpass(signal, fs, *config.bandpass, order=config.filter_order)
    if config.normalisation == "zscore":  # over the record, before resampling
        x = zscore(x[None])[0]
    return resample(x, fs, config.fs)


def window_starts(n_samples: int, window: int, policy: str) -> list[int]:
    """Start indices of the windows taken from a record of ``n_samples``.

    A record no longer than ``window`` gives one window at 0 (zero-padded by
    :func:`make_windows`).
    """
    if policy not in WINDOW_POLICIES:
        raise ValueError(f"window policy must be one of {WINDOW_POLICIES}, got {policy!r}")
    excess = n_samples - window
    if excess <= 0 or policy == "first":
        return [0]
    if policy == "centre":
        return [excess // 2]
    count = -(-n_samples // window)  # ceil: cover every sample
    return [int(s) for s in np.round(np.linspace(0, excess, count))]


def make_windows(signal: np.ndarray, window: int, policy: str) -> np.ndarray:
    """Cut fixed-length windows, shape ``(n_windows, window, n_leads)``.

    Short records are zero-padded at the end.
    """
    starts = window_starts(signal.shape[0], window, policy)
    out = np.zeros((len(starts), window, signal.shape[1]), dtype=np.float32)
    for k, start in enumerate(starts):
        piece = signal[start : start + window]
        out[k, : piece.shape[0]] = piece
    return out


def beat_windows(signal: np.ndarray, r_peaks: np.ndarray, window: int, offset: int) -> np.ndarray:
    """One window per beat: ``signal[r - offset : r - offset + window]``.

    Parts of a window beyond the record's ends are zeros.

    Args:
        signal: shape ``(n_samples, n_leads)``.
        r_peaks: the R-peak sample of each beat, at ``signal``'s rate.
        window: samples per window.
        offset: samples of the window before the R peak.

    Returns:
        float32, shape ``(n_beats, window, n_leads)``.
    """
    r_peaks = np.asarray(r_peaks, dtype=np.int64)
    padded = np.pad(signal.astype(np.float32, copy=False), ((window, window), (0, 0)))
    starts = r_peaks - offset + window
    take = starts[:, None] + np.arange(window)[None, :]
    np.clip(take, 0, padded.shape[0] - 1, out=take)  # beats past the ends read padding
    return padded[take]


def zscore(windows: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Per-window, per-lead standardisation; flat leads stay near zero."""
    mean = windows.mean(axis=-2, keepdims=True)
    std = windows.std(axis=-2, keepdims=True)
    return ((windows - mean) / np.maximum(std, eps)).astype(np.float32)


def preprocess(
    signal: np.ndarray, fs: float, lead_names: Sequence[str], config: PreprocessConfig
) -> np.ndarray:
    """Run the whole chain on one record.

    Args:
        signal: shape ``(n_samples, n_leads)``, mV.
        fs: its sampling rate in Hz.
        lead_names: names of its columns.
        config: what to do.

    Returns:
        float32 windows, shape ``(n_windows, config.window, len(config.leads))``.

    Raises:
        ValueError: wrong or missing leads, no samples.
    """
    if signal.shape[0] == 0:
        raise ValueError("zero length")
    x = reorder_leads(signal, lead_names, config.leads).astype(np.float32, copy=False)
    x = filtered_at_rate(x, fs, config)
    windows = make_windows(x, config.window, config.window_policy)
    if config.normalisation == "zscore" and not source_zscore(config):
        windows = zscore(windows)
    return windows
