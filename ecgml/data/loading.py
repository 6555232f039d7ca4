"""One record from disk to model-ready windows, with its problems named.

The parts each sample kind (:mod:`ecgml.data.samples`) is made of; which of them
a task uses is the kind's choice, not this module's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecgml.data.annotations import detect_beats, read_annotations
from ecgml.data.beats import aami_beats, beat_features, record_beats
from ecgml.data.preprocess import PreprocessConfig, preprocess, select_leads
from ecgml.data.records import RecordError, RecordHeader, read_record


@dataclass(frozen=True)
class PreparedRecord:
    """A record ready for a model.

    Attributes:
        header: what its header says.
        windows: float32, shape ``(n_windows, window, n_leads)``.
        warnings: problems that do not stop the record from being used
            (an unknown Dx code, no Dx at all, a short record).
        beat_samples: for beat windows, the R-peak sample of each (at the
            record's rate); else ``None``.
        beat_labels: for beat windows, the label token of each; else ``None``.
        beat_features: for beat windows of a model with a tabular input, its
            features per beat, ``(n_beats, n_features)``; else ``None``.
        beat_lead: for a record read for beat prediction, the model's lead at the
            record's own rate, mV (the web app's rhythm strip); else ``None``.
        signal: its signal as read, ``(n_samples, n_leads)`` in mV (the printout,
            the quality checks); ``None`` for an image.
    """

    header: RecordHeader
    windows: np.ndarray
    warnings: tuple[str, ...]
    beat_samples: np.ndarray | None = None
    beat_labels: tuple[str, ...] | None = None
    beat_features: np.ndarray | None = None
    beat_lead: np.ndarray | None = None
    signal: np.ndarray | None = None


# A record shorter than this share of a window is refused for prediction: the
# rest of the window would be zero padding, which the models never saw.
MIN_WINDOW_SHARE = 0.5


def check_signal(
    signal: np.ndarray, fs: float, lead_names: Sequence[str], shortest: float
) -> np.ndarray:
    """A recording given for prediction, as float32, once its shape, rate, values and
    length are known to be usable.

    Raises:
        ValueError: a wrong shape, a bad rate, NaN/inf samples, or a recording
            shorter than ``shortest`` seconds.
    """
    signal = np.asarray(signal, dtype=np.float32)
    if signal.ndim != 2 or signal.shape[1] != len(lead_names):
        hint = (
            "; pass it as (n_samples, n_leads), transposed"
            if signal.ndim == 2 and signal.shape[0] == len(lead_names)
            else ""
        )
        raise ValueError(
            f"expected a signal of shape (n_samples, {len(lead_names)}) for leads "
            f"{list(lead_names)}, got {signal.shape}{hint}"
        )
    if not fs > 0:
        raise ValueError(f"sampling rate must be positive, got {fs}")
    if not np.isfinite(signal).all():
        raise ValueError(f"{int((~np.isfinite(signal)).sum())} NaN or infinite samples")
    duration = signal.shape[0] / fs
    if duration < shortest:
        raise ValueError(f"too short: {duration:.2f} s, at least {shortest:g} s needed")
    return signal


def window_signal(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    config: PreprocessConfig,
    *,
    missing_leads: str = "error",
) -> tuple[np.ndarray, tuple[str, ...]]:
    """A checked recording (:func:`check_signal`) to the windows a model trained
    with ``config`` takes.

    The leads are picked by name and put in the model's order (extra leads are
    left out), the signal is resampled to ``config.fs`` and filtered as in
    training, and cut into every window (``window_policy="all"``): a long record
    gives several windows, whose predictions are averaged; a record shorter than a
    window is zero-padded.

    Returns:
        float32 windows ``(n_windows, config.window, n_leads)`` and warnings.

    Raises:
        ValueError: a missing lead (``missing_leads="error"``, :func:`select_leads`).
    """
    selected, warnings = select_leads(signal, lead_names, config.leads, missing=missing_leads)
    windows = preprocess(
        selected, fs, config.leads, dataclasses.replace(config, window_policy="all")
    )
    duration = signal.shape[0] / fs
    if duration < config.window / config.fs:
        warnings += (
            f"{duration:.2f} s is shorter than a {config.window / config.fs:g} s "
            "window; zero-padded",
        )
    return windows, warnings


def load_beats_for_prediction(
    path: str | Path,
    config: PreprocessConfig,
    *,
    annotations: str | None = None,
    features: tuple[str, ...] = (),
) -> PreparedRecord:
    """Read one record of any rate for a beat model: its beats and their windows.

    Beats come from the record's annotation file ``RECORD.<annotations>`` where
    one is named (its beat annotations; the AAMI class of each is kept as its
    label), else from wfdb's XQRS detector on the model's first lead. A model
    with a tabular input names its ``features`` (RR features,
    :func:`~ecgml.data.beats.beat_features`), computed from those beats.

    Raises:
        RecordError: naming the record and the problem (the model's lead missing,
            a rate below the model's, a record shorter than one beat window, an
            annotation file that is missing or belongs to another record, no beat,
            a feature that cannot be computed).
    """
    record = read_record(path)
    header = record.header
    rid = header.record_id
    names = [n.strip().lower() for n in header.lead_names]
    lead = config.leads[0]
    if lead.lower() not in names:
        raise RecordError(
            rid, f"no lead {lead}, which the model takes; the record has {list(header.lead_names)}"
        )
    labels: tuple[str, ...] | None = None
    lead_signal = record.signal[:, names.index(lead.lower())]
    if annotations is not None:
        r_peaks, labels = aami_beats(read_annotations(header, annotations))
    else:
        r_peaks = detect_beats(lead_signal, header.fs)
    if not len(r_peaks):
        raise RecordError(rid, "no beat " + ("annotated" if annotations else "found"))
    try:
        windows = record_beats(record.signal, header.fs, header.lead_names, r_peaks, config)
        table = beat_features(features, r_peaks, header.fs) if features else None
    except ValueError as exc:
        raise RecordError(rid, str(exc)) from exc
    return PreparedRecord(
        header=header,
        windows=windows,
        warnings=(),
        beat_samples=r_peaks,
        beat_labels=labels,
        beat_features=table,
        beat_lead=lead_signal,
    )
