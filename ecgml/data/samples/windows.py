"""``windows``: a record's signal cut into windows, one sample per record."""

from __future__ import annotations

from typing import Any

import numpy as np

from ecgml.data.formats import RECORD_SUFFIXES
from ecgml.data.loading import PreparedRecord, check_signal, window_signal
from ecgml.data.preprocess import PreprocessConfig, preprocess
from ecgml.data.records import RecordError
from ecgml.data.samples.base import SampleKind


class Windows(SampleKind):
    """A record's signal in windows: one sample per record."""

    name = "windows"
    input_suffixes = RECORD_SUFFIXES  # EDF and BDF files beside WFDB records

    def matches(self, preprocess):
        if preprocess.image is not None:
            return "preprocess.image is set (an image task)"
        if preprocess.window_policy == "beats":
            return "window_policy 'beats' makes one sample per beat"
        return None

    def load(self, path, preprocess, reader):
        record = reader.read(path)
        header = record.header
        try:
            windows = preprocess_record(record, preprocess)
        except ValueError as exc:
            raise RecordError(header.record_id, str(exc)) from exc
        warnings = record.warnings + reader.label_warnings(header.dx)
        return PreparedRecord(
            header=header, windows=windows, signal=record.signal, warnings=warnings
        )

    def prepare_signal(self, signal, fs, lead_names, preprocess, *, missing_leads="error"):
        signal = check_signal(signal, fs, lead_names, self.min_seconds(preprocess))
        return window_signal(signal, fs, lead_names, preprocess, missing_leads=missing_leads)


def preprocess_record(record: Any, config: PreprocessConfig) -> np.ndarray:
    """A read record's windows under ``config`` (:func:`ecgml.data.preprocess.preprocess`)."""
    header = record.header
    return preprocess(record.signal, header.fs, header.lead_names, config)
