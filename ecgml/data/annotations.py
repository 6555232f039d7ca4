"""Beat annotations of WFDB records: reading and writing ``RECORD.atr`` files, and
wfdb's XQRS detector where a record has none (:mod:`ecgml.data.records` reads
the records themselves)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import wfdb
import wfdb.processing

from ecgml.data.preprocess import resample
from ecgml.data.record_types import Annotations, RecordError, RecordHeader

_DETECT_MAX_FS, _DETECT_FS = 500.0, 250.0


def read_annotations(header: RecordHeader, extension: str = "atr") -> Annotations:
    """Read the annotation file ``RECORD.<extension>`` beside a record's header.

    Raises:
        RecordError: the file is missing or unreadable, or does not match the
            record (another sampling rate, or annotations past its last sample).
    """
    rid = header.record_id
    path = header.path.with_suffix(f".{extension}")
    if not path.is_file():
        raise RecordError(rid, f"annotation file not found: {path}")
    try:
        ann = wfdb.rdann(str(header.path.with_suffix("")), extension)
    except Exception as exc:  # wfdb raises many types for a damaged file
        raise RecordError(rid, f"annotation file {path.name} unreadable: {exc}") from exc
    if ann.fs and not math.isclose(float(ann.fs), header.fs):
        raise RecordError(
            rid, f"annotations {path.name} are at {ann.fs:g} Hz, the record at {header.fs:g} Hz"
        )
    sample = np.asarray(ann.sample, dtype=np.int64)
    if len(sample) and (sample.min() < 0 or sample.max() >= header.n_samples):
        raise RecordError(
            rid,
            f"annotations {path.name} reach sample {int(sample.max())}; the record has "
            f"{header.n_samples} samples (is it the annotation file of another record?)",
        )
    order = np.argsort(sample, kind="stable")
    symbols = tuple(ann.symbol)
    return Annotations(sample=sample[order], symbol=tuple(symbols[i] for i in order))


def detect_beats(signal: np.ndarray, fs: float) -> np.ndarray:
    """R peaks of one lead, found by wfdb's XQRS detector and moved to the nearest
    extreme within 50 ms (``wfdb.processing.correct_peaks``), where annotated R
    peaks sit.

    XQRS's defaults suit rates of a few hundred hertz; it finds no beat in PTB's
    1000 Hz records. A faster record is detected at 250 Hz and the peaks are
    moved back to its rate before the correction.

    Args:
        signal: shape ``(n_samples,)``, mV.
        fs: its rate in Hz.

    Returns:
        int64 sample indices, increasing and unique.
    """
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 1:
        raise ValueError(f"expected one lead, shape (n_samples,), got {signal.shape}")
    if signal.shape[0] < 2 * fs:
        return np.zeros(0, dtype=np.int64)  # XQRS learns from the first seconds
    if fs > _DETECT_MAX_FS:
        slow = resample(signal[:, None], fs, _DETECT_FS)[:, 0]
        found = wfdb.processing.xqrs_detect(slow, fs=_DETECT_FS, verbose=False)
        found = np.round(np.asarray(found) * fs / _DETECT_FS).astype(np.int64)
    else:
        found = wfdb.processing.xqrs_detect(signal, fs=fs, verbose=False)
    found = found[(found >= 0) & (found < signal.shape[0])]
    if len(found) == 0:
        return np.zeros(0, dtype=np.int64)
    radius = max(1, round(0.05 * fs))
    peaks = wfdb.processing.correct_peaks(
        signal,
        found,
        search_radius=radius,
        smooth_window_size=max(2, int(0.1 * fs)),
        peak_dir="compare",
    )
    peaks = np.asarray(peaks, dtype=np.int64)
    return np.unique(peaks[(peaks >= 0) & (peaks < signal.shape[0])])


def write_annotations(
    header_path: str | Path, sample: Sequence[int], symbol: Sequence[str], extension: str = "atr"
) -> Path:
    """Write a WFDB annotation file beside a record's header (for tests and fixtures)."""
    header_path = Path(header_path)
    wfdb.wrann(
        header_path.stem,
        extension,
        np.asarray(sample, dtype=np.int64),
        list(symbol),
        write_dir=str(header_path.parent),
    )
    return header_path.with_suffix(f".{extension}")
