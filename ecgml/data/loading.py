"""One record from disk to model-ready windows, with its problems named."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ecgml.data.labels import known_diagnoses
from ecgml.data.preprocess import PreprocessConfig, preprocess
from ecgml.data.records import RecordError, RecordHeader, read_record


@dataclass(frozen=True)
class PreparedRecord:
    """A record ready for a model.

    Attributes:
        header: what its header says.
        windows: float32, shape ``(n_windows, window, n_leads)``.
        warnings: problems that do not stop the record from being used
            (an unknown Dx code, no Dx at all).
    """

    header: RecordHeader
    windows: np.ndarray
    warnings: tuple[str, ...]


def dx_warnings(header: RecordHeader) -> tuple[str, ...]:
    """Warnings about a header's diagnoses: none given, or codes no CinC table knows."""
    if not header.dx:
        return ("no Dx codes in the header",)
    known = known_diagnoses()
    unknown = [code for code in header.dx if code not in known]
    if unknown:
        return (f"unknown Dx code(s) {unknown}, kept in the metadata",)
    return ()


def load_record(path: str | Path, config: PreprocessConfig | None = None) -> PreparedRecord:
    """Read one record and preprocess it.

    Args:
        path: the ``.hea`` file, or the record path without extension.
        config: preprocessing settings; defaults to 12 standard leads, 500 Hz,
            5000-sample windows.

    Raises:
        RecordError: naming the record and the problem (unparsable header,
            missing or truncated signal, NaN/inf samples, zero length, wrong
            or missing leads).
    """
    config = config or PreprocessConfig()
    record = read_record(path)
    header = record.header
    try:
        windows = preprocess(record.signal, header.fs, header.lead_names, config)
    except ValueError as exc:
        raise RecordError(header.record_id, str(exc)) from exc
    return PreparedRecord(header=header, windows=windows, warnings=dx_warnings(header))
