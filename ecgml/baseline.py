"""A non-deep baseline: hand-crafted ECG features and one random forest per class.

The kind of classifier the CinC challenges' example entries were: rhythm
features from the R peaks, interval features from a wave delineation (both by
NeuroKit2), per-lead morphology from the median beat, the QRS axis, age and
sex. It is the yardstick the deep models are measured against in
``bench/cinc12.py``.

Needs the ``baseline`` extra (NeuroKit2): ``pip install 'ecgml[baseline]'``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from ecgml.delineation import average_qrs_quality, delineate
from ecgml.rpeaks import clean_leads, r_peaks

RHYTHM = (
    "n_beats",
    "heart_rate",
    "rr_std_ms",
    "rr_cv",
    "rmssd_ms",
    "rr_min_ms",
    "rr_max_ms",
    "pnn50",
    "rr_irregularity",
)
INTERVALS = ("pr_ms", "qt_ms", "qtc_ms", "p_wave_fraction")
MORPHOLOGY = ("r_amp", "s_amp", "qrs_area", "st_level", "t_amp", "rms")
GLOBAL = ("qrs_ms", "qrs_axis_deg", "age", "sex_male")
RHYTHM_LEADS = ("II", "V5", "I", "V2")  # R peaks are found on the first of these present

# Median-beat windows, seconds relative to the R peak.
BEAT = (-0.25, 0.45)
QRS = (-0.06, 0.06)
ST = (0.10, 0.14)
T_WAVE = (0.15, 0.40)


def feature_names(leads: Sequence[str]) -> list[str]:
    """Names of the columns ``extract_features`` returns for these leads."""
    per_lead = [f"{lead}_{name}" for lead in leads for name in MORPHOLOGY]
    return [*RHYTHM, *INTERVALS, *per_lead, *GLOBAL]


def _rhythm(rpeaks: np.ndarray, fs: float) -> list[float]:
    if len(rpeaks) < 3:
        return [float(len(rpeaks))] + [math.nan] * (len(RHYTHM) - 1)
    rr = np.diff(rpeaks) / fs * 1000.0
    diff = np.abs(np.diff(rr))
    return [
        float(len(rpeaks)),
        60000.0 / rr.mean(),
        rr.std(),
        rr.std() / rr.mean(),
        math.sqrt(np.mean(diff**2)),
        rr.min(),
        rr.max(),
        float(np.mean(diff > 50.0)),
        float(np.median(diff) / np.median(rr)),
    ]


def _intervals(cleaned: np.ndarray, rpeaks: np.ndarray, fs: float) -> list[float]:
    if len(rpeaks) < 3:
        return [math.nan] * len(INTERVALS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            waves = delineate(cleaned, rpeaks, int(fs))
    except Exception:
        return [math.nan] * len(INTERVALS)

    def wave(name: str) -> np.ndarray:
        values = np.asarray(waves.get(name, []), dtype=np.float64)
        return values if len(values) == len(rpeaks) else np.full(len(rpeaks), np.nan)

    def median_ms(start: np.ndarray, end: np.ndarray) -> float:
        d = (end - start) / fs * 1000.0
        d = d[np.isfinite(d) & (d > 0)]
        return float(np.median(d)) if len(d) else math.nan

    pr = median_ms(wave("ECG_P_Onsets"), wave("ECG_R_Onsets"))
    qt = median_ms(wave("ECG_R_Onsets"), wave("ECG_T_Offsets"))
    rr_s = float(np.median(np.diff(rpeaks))) / fs
    qtc = qt / math.sqrt(rr_s) if math.isfinite(qt) else math.nan  # Bazett
    p_fraction = float(np.mean(np.isfinite(wave("ECG_P_Peaks"))))
    return [pr, qt, qtc, p_fraction]


def _median_beat(cleaned: np.ndarray, rpeaks: np.ndarray, fs: float) -> np.ndarray | None:
    """Median beat of every lead, shape ``(beat_samples, n_leads)``; ``None`` without beats.

    Each beat is centred on the steepest point of all leads together within
    100 ms of its R peak, so that beats line up on the QRS even where the
    rhythm lead's peak wanders (a notched or low-amplitude QRS in that lead).
    """
    before, after = round(-BEAT[0] * fs), round(BEAT[1] * fs)
    slope = np.abs(np.diff(cleaned, axis=0, prepend=cleaned[:1])).sum(axis=1)
    reach = round(0.10 * fs)
    rpeaks = np.array(
        [
            max(r - reach, 0) + int(slope[max(r - reach, 0) : r + reach + 1].argmax())
            for r in rpeaks
        ],
        dtype=np.int64,
    )
    usable = rpeaks[(rpeaks >= before) & (rpeaks + after <= len(cleaned))]
    if len(usable) == 0:
        return None
    beats = np.stack([cleaned[r - before : r + after] for r in usable])
    return np.median(beats, axis=0)


def _qrs_width(beat: np.ndarray | None, fs: float) -> float:
    """QRS duration of the median beat, all leads together: from the first to the
    last sample near the R peak where the summed absolute slope of the leads
    reaches 20 % of its peak."""
    if beat is None:
        return math.nan
    slope = np.abs(np.diff(beat, axis=0)).sum(axis=1)
    r = round(-BEAT[0] * fs)
    near = slope[r - round(0.10 * fs) : r + round(0.12 * fs)]
    above = np.nonzero(near >= 0.2 * near.max())[0]
    return (above[-1] - above[0] + 1) / fs * 1000.0


def _morphology(beat: np.ndarray | None, signal: np.ndarray, fs: float) -> np.ndarray:
    n_leads = signal.shape[1]
    rms = np.sqrt(np.mean(signal**2, axis=0))
    if beat is None:
        out = np.full((n_leads, len(MORPHOLOGY)), np.nan)
        out[:, -1] = rms
        return out

    def part(span: tuple[float, float]) -> np.ndarray:
        lo, hi = (round((s - BEAT[0]) * fs) for s in span)
        return beat[lo:hi]

    qrs, t_wave = part(QRS), part(T_WAVE)
    t_index = np.abs(t_wave).argmax(axis=0)
    return np.column_stack(
        [
            qrs.max(axis=0),
            qrs.min(axis=0),
            qrs.sum(axis=0) / fs,
            part(ST).mean(axis=0),
            t_wave[t_index, np.arange(n_leads)],
            rms,
        ]
    )


def extract_features(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    *,
    age: float | None = None,
    sex: str | None = None,
) -> np.ndarray:
    """Features of one recording, in the order of :func:`feature_names`.

    Args:
        signal: shape ``(n_samples, n_leads)``, millivolts.
        fs: sampling rate in Hz.
        lead_names: name of each column.
        age: years, or ``None``/NaN when unknown.
        sex: ``"Male"``/``"Female"`` (any case, or ``"M"``/``"F"``), else unknown.

    Returns:
        float64 vector; NaN where a feature cannot be measured (too few beats,
        a delineation that failed, an unknown age).
    """
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 2 or signal.shape[1] != len(lead_names):
        raise ValueError(
            f"expected a signal of shape (n_samples, {len(lead_names)}), got {signal.shape}"
        )
    names = [name.lower() for name in lead_names]
    cleaned, lead, rpeaks = _clean_and_detect(signal, fs, names)
    return _features_of_cleaned(cleaned, rpeaks, fs, names, lead, age=age, sex=sex)


def _clean_and_detect(
    signal: np.ndarray, fs: float, names: Sequence[str]
) -> tuple[np.ndarray, int, np.ndarray]:
    """Each lead cleaned by NeuroKit2, the rhythm lead's index and its R peaks (none
    where detection fails)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = clean_leads(signal, int(fs))
        lead = next((names.index(x.lower()) for x in RHYTHM_LEADS if x.lower() in names), 0)
        try:
            rpeaks = r_peaks(cleaned[:, lead], int(fs))
        except Exception:
            rpeaks = np.zeros(0, dtype=np.int64)
    return cleaned, lead, rpeaks


def _features_of_cleaned(
    cleaned: np.ndarray,
    rpeaks: np.ndarray,
    fs: float,
    names: Sequence[str],
    lead: int,
    *,
    age: float | None,
    sex: str | None,
) -> np.ndarray:
    """:func:`extract_features` of a cleaned recording whose R peaks are found."""
    beat = _median_beat(cleaned, rpeaks, fs)
    morphology = _morphology(beat, cleaned, fs)
    axis = math.nan
    if "i" in names and "avf" in names:
        area = morphology[:, MORPHOLOGY.index("qrs_area")]
        axis = math.degrees(math.atan2(area[names.index("avf")], area[names.index("i")]))
    sex_code = {"m": 1.0, "male": 1.0, "f": 0.0, "female": 0.0}.get(str(sex).strip().lower())
    return np.array(
        [
            *_rhythm(rpeaks, fs),
            *_intervals(cleaned[:, lead], rpeaks, fs),
            *morphology.ravel(),
            _qrs_width(beat, fs),
            axis,
            math.nan if age is None else float(age),
            math.nan if sex_code is None else sex_code,
        ],
        dtype=np.float64,
    )


QUALITY = (
    "qrs_template_corr",
    "kurtosis",
    "skewness",
    "qrs_band_power",
    "baseline_power",
    "flat_fraction",
)


def single_lead_feature_names() -> list[str]:
    """Names of the columns :func:`extract_single_lead_features` returns."""
    return [*RHYTHM, *INTERVALS, *MORPHOLOGY, "qrs_ms", *QUALITY]


def _quality(raw: np.ndarray, cleaned: np.ndarray, rpeaks: np.ndarray, fs: float) -> list[float]:
    """Signal-quality features: how alike the beats are, how peaked the signal, where
    its power lies, how much of it is flat."""
    from scipy import signal as sps
    from scipy import stats

    template = math.nan
    if len(rpeaks) >= 3:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                template = average_qrs_quality(cleaned, rpeaks, int(fs))
        except Exception:
            template = math.nan
    freqs, power = sps.welch(raw, fs=fs, nperseg=min(len(raw), int(4 * fs)))
    total = power[(freqs >= 0.05) & (freqs <= 45)].sum()

    def share(low: float, high: float) -> float:
        return (
            float(power[(freqs >= low) & (freqs < high)].sum() / total) if total > 0 else math.nan
        )

    flat = float(np.mean(np.abs(np.diff(raw)) < 1e-4)) if len(raw) > 1 else math.nan
    return [
        template,
        float(stats.kurtosis(cleaned)),
        float(stats.skew(cleaned)),
        share(5.0, 15.0),
        share(0.05, 1.0),
        flat,
    ]


def extract_single_lead_features(signal: np.ndarray, fs: float) -> np.ndarray:
    """Features of a single-lead recording, in the order of :func:`single_lead_feature_names`.

    The rhythm features (RR irregularity), the intervals with the share of beats
    that have a P wave, the median beat's morphology and QRS width, as for 12
    leads (:func:`extract_features`), and signal-quality features: the mean
    closeness of each beat to the average beat (NeuroKit2's ``averageQRS``),
    kurtosis and skewness, the share of power in 5-15 Hz (QRS) and below 1 Hz
    (baseline wander), and the share of flat samples. The CinC 2017 entries'
    "feature-based approach" used features of these three kinds.

    Args:
        signal: shape ``(n_samples,)`` or ``(n_samples, 1)``, millivolts.
        fs: sampling rate in Hz.

    Returns:
        float64 vector; NaN where a feature cannot be measured.
    """
    raw = np.asarray(signal, dtype=np.float64).reshape(-1)
    # one cleaning and one R-peak detection serve both kinds of features
    cleaned, _, rpeaks = _clean_and_detect(raw[:, None], fs, ["ii"])
    base = _features_of_cleaned(cleaned, rpeaks, fs, ["ii"], 0, age=None, sex=None)
    n_shared = len(RHYTHM) + len(INTERVALS) + len(MORPHOLOGY) + 1  # up to and with qrs_ms
    return np.concatenate([base[:n_shared], _quality(raw, cleaned[:, 0], rpeaks, fs)])


class FeatureClassifier:
    """One random forest per class on a feature table; missing values imputed with medians.

    Args:
        n_estimators: trees per forest.
        min_samples_leaf: as scikit-learn's forest.
        random_state: seeds every forest.

    Attributes (after ``fit``):
        n_classes_: label columns.
        constant_: per class, the probability given to every record when the
            training labels hold one value only (``None`` for a fitted forest).
    """

    def __init__(
        self, *, n_estimators: int = 300, min_samples_leaf: int = 1, random_state: int = 0
    ) -> None:
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state

    def fit(self, x: np.ndarray, y: np.ndarray) -> FeatureClassifier:
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.impute import SimpleImputer

        x, y = np.asarray(x, dtype=np.float64), np.asarray(y)
        if y.ndim != 2 or len(x) != len(y):
            raise ValueError(f"expected x (n, f) and y (n, classes), got {x.shape} and {y.shape}")
        # keep_empty_features: a column with no value in training stays a column (of zeros)
        self.imputer_ = SimpleImputer(strategy="median", keep_empty_features=True).fit(x)
        x = self.imputer_.transform(x)
        self.n_classes_ = y.shape[1]
        self.forests_, self.constant_ = [], []
        for c in range(self.n_classes_):
            values = np.unique(y[:, c])
            if len(values) < 2:
                self.forests_.append(None)
                self.constant_.append(float(values[0]) if len(values) else 0.0)
                continue
            forest = RandomForestClassifier(
                n_estimators=self.n_estimators,
                min_samples_leaf=self.min_samples_leaf,
                class_weight="balanced_subsample",
                random_state=self.random_state + c,
            ).fit(x, y[:, c])
            self.forests_.append(forest)
            self.constant_.append(None)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of each class, shape ``(n, n_classes)``."""
        x = self.imputer_.transform(np.asarray(x, dtype=np.float64))
        out = np.empty((len(x), self.n_classes_))
        for c, (forest, constant) in enumerate(zip(self.forests_, self.constant_, strict=True)):
            out[:, c] = constant if forest is None else forest.predict_proba(x)[:, 1]
        return out
