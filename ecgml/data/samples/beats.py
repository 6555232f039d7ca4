"""``beats``: one sample per labelled beat, a window around its R peak."""

from __future__ import annotations

import numpy as np

from ecgml.data.beats import RR_FEATURES, record_beats, rr_features
from ecgml.data.loading import PreparedRecord, load_beats_for_prediction
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.records import RecordError
from ecgml.data.samples.base import SampleKind


class Beats(SampleKind):
    """One sample per labelled beat, each a window around its R peak."""

    name = "beats"
    per_record = False
    predicts = "beats"
    exports = False
    hand_crafted = False
    upload_companions = ("atr",)
    upload_arrays = False

    def example_preprocess(self):
        return PreprocessConfig(leads=("II",), fs=100.0, window=60, window_policy="beats")

    def matches(self, preprocess):
        if preprocess.window_policy != "beats":
            return f"needs window_policy 'beats', got {preprocess.window_policy!r}"
        return None

    def min_seconds(self, preprocess):
        return preprocess.window / preprocess.fs

    def load(self, path, preprocess, reader):
        record = reader.read(path)
        header = record.header
        r_peaks, labels = reader.beats(record)
        if not len(r_peaks):
            raise RecordError(header.record_id, "no labelled beats")
        try:
            windows = record_beats(record.signal, header.fs, header.lead_names, r_peaks, preprocess)
        except ValueError as exc:
            raise RecordError(header.record_id, str(exc)) from exc
        return PreparedRecord(
            header=header,
            windows=windows,
            warnings=record.warnings,
            beat_samples=r_peaks,
            beat_labels=labels,
            signal=record.signal,
        )

    def sample_columns(self, prepared):
        """The beat's ``record_id`` (``RECORD:SAMPLE``), R-peak ``sample``, label
        (``dx``) and RR features (:data:`~ecgml.data.beats.RR_FEATURES`)."""
        samples, header = prepared.beat_samples, prepared.header
        rr = (
            rr_features(samples, header.fs)
            if len(samples) >= 2
            else np.full((len(samples), len(RR_FEATURES)), np.nan, np.float32)
        )
        return [
            {
                "record_id": f"{header.record_id}:{int(s)}",
                "dx": label,
                "sample": int(s),
                **{name: round(float(v), 5) for name, v in zip(RR_FEATURES, rr[k], strict=True)},
            }
            for k, (s, label) in enumerate(zip(samples, prepared.beat_labels, strict=True))
        ]

    def stale_index(self, index):
        if not set(RR_FEATURES) <= set(index.columns):
            return "the beat cache has no RR-feature columns (an older ecgml)"
        return None

    def prepare_signal(self, signal, fs, lead_names, preprocess, *, missing_leads="error"):
        raise ValueError(
            "a beat run classifies beats, not recordings: use 'ecgml predict' "
            "or Ensemble.predict_paths"
        )

    def read_for_prediction(
        self, path, preprocess, *, reader=None, missing_leads="error", annotations=None, features=()
    ):
        if missing_leads != "error":
            raise ValueError("a beat run needs its lead; --missing-leads zero does not apply")
        return load_beats_for_prediction(
            path, preprocess, annotations=annotations, features=features
        )
