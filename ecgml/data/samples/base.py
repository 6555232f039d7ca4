"""The interface of a sample kind (:mod:`ecgml.data.samples`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ecgml.data.loading import MIN_WINDOW_SHARE, PreparedRecord
from ecgml.data.preprocess import PreprocessConfig, window_starts
from ecgml.data.readers import Reader
from ecgml.data.records import RecordError, read_record


class SampleKind:
    """What one sample is, and what follows from it.

    Attributes:
        name: the kind's name (``task.samples``).
        inputs: what its model inputs are: ``"signals"`` (time by lead) or
            ``"images"``; a model reads one of them (``inputs`` of its config class).
        per_record: one sample per record (so a record's windows may be averaged
            at test time); ``False`` for kinds with several samples per record.
        predicts: what ``ecgml predict`` and the web app give per input:
            ``"records"`` (classes per record) or ``"beats"`` (classes per beat).
        exports: whether ``ecgml export`` writes its runs.
        hand_crafted: whether the hand-crafted record features
            (:mod:`ecgml.baseline`: ``tabular.baseline``, ``stack.forest``) can be
            measured on its samples.
        refused: training fields this kind refuses, with the reason, where a
            config sets them to anything but their default.
        input_suffixes: file suffixes ``ecgml predict`` and the app take besides
            records (``.hea``).
        upload_companions: extensions of files uploaded with a record that the
            kind reads (a beat run's annotations).
        upload_arrays: whether the app takes ``.npy`` and ``.csv`` arrays.
    """

    name = ""
    inputs = "signals"
    per_record = True
    predicts = "records"
    exports = True
    hand_crafted = True
    refused: ClassVar[dict[str, str]] = {}
    input_suffixes: tuple[str, ...] = ()
    upload_companions: tuple[str, ...] = ()
    upload_arrays = True

    def example_preprocess(self) -> PreprocessConfig:
        """A preprocessing this kind takes, for the conformance battery."""
        return PreprocessConfig(window=500, fs=100.0)

    def matches(self, preprocess: PreprocessConfig) -> str | None:
        """Why ``preprocess`` does not fit this kind; ``None`` when it does."""
        return None

    def check(self, config: Any) -> None:
        """Raises ValueError for a config (:class:`ecgml.config.Config`) that asks this
        kind for something it cannot do."""
        problem = self.matches(config.preprocess)
        if problem:
            raise ValueError(f"task.samples {self.name!r}: {problem}")
        defaults = type(config.training)()
        for field, reason in self.refused.items():
            if getattr(config.training, field) != getattr(defaults, field):
                raise ValueError(f"training.{field} does not apply to {self.name}: {reason}")
        if not self.hand_crafted and (config.stack.forest or config.tabular.baseline):
            raise ValueError(
                f"stack.forest and tabular.baseline read record signals' "
                f"hand-crafted features, which {self.name} do not have"
            )

    def row_shape(self, preprocess: PreprocessConfig) -> tuple[int, int]:
        """The shape of one cached row."""
        return preprocess.window, len(preprocess.leads)

    def min_seconds(self, preprocess: PreprocessConfig) -> float:
        """The shortest record a run accepts for prediction."""
        return MIN_WINDOW_SHARE * preprocess.window / preprocess.fs

    def load(
        self, path: str | Path, preprocess: PreprocessConfig, reader: Reader
    ) -> PreparedRecord:
        """One record with its labels, prepared for the cache (``ecgml prepare``).

        Raises:
            RecordError: naming the record and the problem.
        """
        raise NotImplementedError

    def sample_columns(self, prepared: PreparedRecord) -> list[dict[str, Any]] | None:
        """Per sample of a record with several, the index columns that differ from
        its record's (computed in the worker that read it); ``None`` for one
        sample per record."""
        return None

    def index_rows(
        self, record_row: dict[str, Any], samples: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """The cache index rows of one record, whose rows start at ``record_row["row"]``."""
        if samples is None:
            return [record_row]
        first, patient = record_row["row"], record_row["patient_id"] or record_row["record_id"]
        return [
            {**record_row, "patient_id": patient, "row": first + k, "n_windows": 1, **s}
            for k, s in enumerate(samples)
        ]

    def test_preprocess(self, preprocess: PreprocessConfig, all_windows: bool) -> PreprocessConfig:
        """The preprocessing of a test cache: with ``all_windows``, every window of a
        long record (``window_policy: "all"``) for kinds with one sample per record."""
        if all_windows and self.per_record:
            return dataclasses.replace(preprocess, window_policy="all")
        return preprocess

    def stale_index(self, index: Any) -> str | None:
        """Why a cache index made by an older ecgml cannot be reused; ``None`` if it can."""
        return None

    def explained_pieces(
        self,
        prepared: PreparedRecord,
        preprocess: PreprocessConfig,
        input_length: int,
        crops: Sequence[int],
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The model inputs an explanation traces, ``(n_pieces, input_length,
        n_leads)`` float32: each window's ``crops`` (their starts in the window);
        and each piece's start in the record's timeline at the model's rate, by
        which the pieces' maps are put back in place (``None`` for a kind whose
        inputs are not on a timeline)."""
        windows, header = prepared.windows, prepared.header
        n_model = windows.shape[1]
        if header is not None and header.fs:
            n_model = round(header.n_samples * preprocess.fs / header.fs)
        starts = window_starts(n_model, windows.shape[1], "all")
        if len(starts) != len(windows):  # not cut by the "all" policy: side by side
            starts = [k * windows.shape[1] for k in range(len(windows))]
        x = np.stack([w[c : c + input_length] for w in windows for c in crops])
        where = np.array([s + c for s in starts for c in crops])
        return x.astype(np.float32), where

    def prepare_signal(
        self,
        signal: np.ndarray,
        fs: float,
        lead_names: Sequence[str],
        preprocess: PreprocessConfig,
        *,
        missing_leads: str = "error",
    ) -> tuple[np.ndarray, tuple[str, ...]]:
        """Any recording, in memory, to the model inputs of one sample and warnings.

        Raises:
            ValueError: the recording does not fit, named in the message.
        """
        raise NotImplementedError

    def read_for_prediction(
        self,
        path: str | Path,
        preprocess: PreprocessConfig,
        *,
        reader: Reader | None = None,
        missing_leads: str = "error",
    ) -> PreparedRecord:
        """One input file of ``ecgml predict`` or the app, ready for the models.

        Raises:
            RecordError: naming the record and the problem.
        """
        record = read_record(path) if reader is None else reader.read_signal(path)
        return self.prepare_record(record, preprocess, missing_leads=missing_leads)

    def prepare_record(
        self, record: Any, preprocess: PreprocessConfig, *, missing_leads: str = "error"
    ) -> PreparedRecord:
        """A record read for prediction (from a file, or an uploaded array), ready for
        the models (:meth:`prepare_signal`).

        Raises:
            RecordError: naming the record and the problem.
        """
        header, signal = record.header, record.signal
        try:
            windows, warnings = self.prepare_signal(
                signal, header.fs, header.lead_names, preprocess, missing_leads=missing_leads
            )
        except ValueError as exc:
            raise RecordError(header.record_id, str(exc)) from exc
        warnings = tuple(record.warnings) + tuple(warnings)
        return PreparedRecord(header=header, windows=windows, warnings=warnings, signal=signal)
