"""One record from disk to model-ready windows, with its problems named."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecgml.data.beats import aami_beats, beat_features, record_beats
from ecgml.data.images import read_image, record_images, render_renderings, to_model_image
from ecgml.data.preprocess import PreprocessConfig, preprocess, select_leads
from ecgml.data.readers import Reader, get_reader
from ecgml.data.records import (
    RecordError,
    RecordHeader,
    detect_beats,
    read_annotations,
    read_record,
)


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
    """

    header: RecordHeader
    windows: np.ndarray
    warnings: tuple[str, ...]
    beat_samples: np.ndarray | None = None
    beat_labels: tuple[str, ...] | None = None
    beat_features: np.ndarray | None = None
    beat_lead: np.ndarray | None = None


# A record shorter than this share of a window is refused for prediction: the
# rest of the window would be zero padding, which the models never saw.
MIN_WINDOW_SHARE = 0.5


def min_seconds(config: PreprocessConfig) -> float:
    """The shortest record a run accepts for prediction: half a window (5 s for 10 s
    windows, :func:`prepare_signal`); one beat window for a beat run; one 2.5 s
    column of the printed page for an image run."""
    if config.image is not None:
        return 2.5
    if config.beats:
        return config.window / config.fs
    return MIN_WINDOW_SHARE * config.window / config.fs


def load_record(
    path: str | Path, config: PreprocessConfig | None = None, reader: Reader | None = None
) -> PreparedRecord:
    """Read one record with its labels and preprocess it.

    Args:
        path: the ``.hea`` file, or the record path without extension.
        config: preprocessing settings; defaults to 12 standard leads, 500 Hz,
            5000-sample windows.
        reader: the task's data reader; defaults to CinC 2020 (labels in ``#Dx``).

    With ``window_policy="beats"``, every labelled beat the reader gives
    (:meth:`~ecgml.data.readers.Reader.beats`) becomes a window.

    Raises:
        RecordError: naming the record and the problem (unparsable header,
            missing or truncated signal, NaN/inf samples, zero length, wrong
            or missing leads; for beats, no beat labels or a rate too low).
    """
    config = config or PreprocessConfig()
    reader = reader or get_reader("cinc2020")
    record = reader.read(path)
    header = record.header
    if config.image is not None:
        try:
            windows = record_images(record, config.image)
        except ValueError as exc:
            raise RecordError(header.record_id, str(exc)) from exc
        return PreparedRecord(header=header, windows=windows,
                              warnings=reader.label_warnings(header.dx))  # fmt: skip
    if config.beats:
        r_peaks, labels = reader.beats(record)
        if not len(r_peaks):
            raise RecordError(header.record_id, "no labelled beats")
        try:
            windows = record_beats(record.signal, header.fs, header.lead_names, r_peaks, config)
        except ValueError as exc:
            raise RecordError(header.record_id, str(exc)) from exc
        return PreparedRecord(
            header=header, windows=windows, warnings=(), beat_samples=r_peaks, beat_labels=labels
        )
    try:
        windows = preprocess(record.signal, header.fs, header.lead_names, config)
    except ValueError as exc:
        raise RecordError(header.record_id, str(exc)) from exc
    return PreparedRecord(
        header=header, windows=windows, warnings=reader.label_warnings(header.dx)
    )


def prepare_signal(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    config: PreprocessConfig,
    *,
    missing_leads: str = "error",
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Any recording to the windows a model trained with ``config`` takes.

    The leads are picked by name and put in the model's order (extra leads are
    left out), the signal is resampled to ``config.fs`` and filtered as in
    training, and cut into every window (``window_policy="all"``): a long record
    gives several windows, whose predictions are averaged; a record shorter than a
    window is zero-padded.

    Args:
        signal: shape ``(n_samples, n_leads)``, millivolts.
        fs: its sampling rate in Hz.
        lead_names: names of its columns.
        config: the run's preprocessing.
        missing_leads: ``"error"`` or ``"zero"`` (see :func:`select_leads`).

    An image run's record is drawn as its clean printout instead
    (:func:`~ecgml.data.images.render_renderings`), from all its leads.

    Returns:
        float32 windows ``(n_windows, *config.row_shape)`` and warnings.

    Raises:
        ValueError: a wrong shape, a bad rate, NaN/inf samples, a missing lead, or a
            record shorter than :func:`min_seconds`.
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
    duration, shortest = signal.shape[0] / fs, min_seconds(config)
    if duration < shortest:
        raise ValueError(f"too short: {duration:.2f} s, at least {shortest:g} s needed")
    if config.image is not None:  # the clean printout of all the record's leads
        return render_renderings(signal, fs, lead_names, config.image, count=1), ()
    selected, warnings = select_leads(signal, lead_names, config.leads, missing=missing_leads)
    windows = preprocess(
        selected, fs, config.leads, dataclasses.replace(config, window_policy="all")
    )
    if duration < config.window / config.fs:
        warnings += (f"{duration:.2f} s is shorter than a {config.window / config.fs:g} s "
                     "window; zero-padded",)  # fmt: skip
    return windows, warnings


def load_for_prediction(
    path: str | Path,
    config: PreprocessConfig,
    *,
    missing_leads: str = "error",
    reader: Reader | None = None,
) -> PreparedRecord:
    """Read one record of any rate, length and lead order for prediction
    (:func:`prepare_signal`), through the run's ``reader`` (default: a WFDB record).

    Raises:
        RecordError: naming the record and the problem.
    """
    record = read_record(path) if reader is None else reader.read_signal(path)
    header = record.header
    try:
        windows, warnings = prepare_signal(
            record.signal, header.fs, header.lead_names, config, missing_leads=missing_leads
        )
    except ValueError as exc:
        raise RecordError(header.record_id, str(exc)) from exc
    return PreparedRecord(header=header, windows=windows, warnings=warnings)


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
        raise RecordError(rid, f"no lead {lead}, which the model takes; the record has "
                               f"{list(header.lead_names)}")  # fmt: skip
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
    return PreparedRecord(header=header, windows=windows, warnings=(), beat_samples=r_peaks,
                          beat_labels=labels, beat_features=table,
                          beat_lead=lead_signal)  # fmt: skip


def load_image_for_prediction(path: str | Path, config: PreprocessConfig) -> PreparedRecord:
    """An image file (a scan or printout) as an image run's model input.

    Raises:
        RecordError: not an image run, or an image that cannot be read.
    """
    path = Path(path)
    if config.image is None:
        raise RecordError(path.stem, "an image file needs a run trained on images")
    try:
        windows = to_model_image(read_image(path), config.image)[None]
    except ValueError as exc:
        raise RecordError(path.stem, str(exc)) from None
    header = RecordHeader(record_id=path.stem, path=path, fs=0.0, n_samples=0, lead_names=(),
                          units=(), signal_files=(path.name,), age=None, sex=None, dx=(),
                          comments={})  # fmt: skip
    return PreparedRecord(header=header, windows=windows, warnings=())
