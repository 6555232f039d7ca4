"""The five fold models of a run as one classifier.

Each fold model scores a record. How the scores become decisions depends on
the task's target kind (:mod:`ecgml.targets`, :mod:`ecgml.targets.decisions`):
for multi-label runs each fold's own thresholds decide for that fold and a
majority vote combines them; for multi-class runs the argmax of the mean fold
probability decides.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ecgml.config import Config
from ecgml.data.labels import LabelEncoder
from ecgml.data.loading import PreparedRecord
from ecgml.data.readers import get_reader
from ecgml.data.records import RecordError
from ecgml.data.tabular import column_names, header_metadata
from ecgml.inference.prediction import Prediction
from ecgml.inference.predictors import Request
from ecgml.inference.record_inputs import (
    duration_warning,
    record_tabular,
    training_seconds,
)
from ecgml.inference.records import RecordResult, predict_paths
from ecgml.inference.scores import MemberScores
from ecgml.models import registry as _registry  # noqa: F401 -- registers custom layers for loading
from ecgml.models.fusion import signal_input_length
from ecgml.runs.thresholds import run_info
from ecgml.targets import Target
from ecgml.targets.decisions import VOTE_RULES, vote, votes_needed
from ecgml.task import Task
from ecgml.training.layout import MODEL, STACK, THRESHOLDS, fold_dir, is_done
from ecgml.training.stack import Stack

__all__ = ["VOTE_RULES", "Ensemble", "Prediction", "vote", "votes_needed"]


class Ensemble(MemberScores):
    """The finished, thresholded fold models of a run folder.

    Attributes:
        run: the run folder.
        config: its resolved config.
        encoder: its label encoder (``class_names``, ``abbreviations``).
        folds: the fold numbers of the members.
        models: one Keras model per member.
        target: the task's target kind (decision and ensemble rules).
        thresholds: shape ``(n_models, n_classes)``; ``None`` for a multi-class run.
        threshold_info: each member's ``thresholds.json`` (empty for a multi-class run).
        stacks: each member's forest and weights (:mod:`ecgml.training.stack`) for a
            run with ``stack.forest``; else empty.
        record_seconds: the shortest and longest training record in seconds
            (``manifest.json``: ``{"min": ..., "max": ...}``); a prediction notes a
            record far outside them (:func:`.record_inputs.duration_warning`).
            ``None`` for a run written before ecgml recorded it.
    """

    def __init__(
        self,
        run: Path,
        config: Config,
        encoder: LabelEncoder,
        folds: Sequence[int],
        models: Sequence[keras.Model],
        threshold_info: Sequence[dict],
        stacks: Sequence[Stack] = (),
        *,
        record_seconds: dict[str, float] | None = None,
        task: Task | None = None,
    ) -> None:
        self.run, self.config, self.encoder = run, config, encoder
        self.record_seconds = record_seconds
        self.stacks = list(stacks)
        self.folds, self.models = list(folds), list(models)
        self.threshold_info = list(threshold_info)
        self.task = task or Task.of(config)
        self.target: Target = self.task.target
        self.thresholds = (
            np.array([t["thresholds"] for t in threshold_info], dtype=np.float64)
            if self.target.needs_thresholds
            else None
        )

    @classmethod
    def load(cls, run: str | Path, *, folds: Sequence[int] | None = None) -> Ensemble:
        """Load every finished fold that has thresholds (or only ``folds``).

        Raises:
            FileNotFoundError: not a run folder.
            ValueError: a requested fold is unfinished or has no thresholds, or none is usable.
        """
        run = Path(run)
        config, encoder, fold_ids = run_info(run)
        task = Task.of(config)
        needs_thresholds = task.target.needs_thresholds
        wanted = list(range(len(fold_ids))) if folds is None else list(folds)
        problems = [
            f"fold {k} is not finished"
            if not is_done(run, k)
            else f"fold {k} has no {THRESHOLDS} (run threshold.py)"
            for k in wanted
            if not is_done(run, k)
            or (needs_thresholds and not (fold_dir(run, k) / THRESHOLDS).is_file())
        ]
        if problems:
            raise ValueError(f"run {run}: " + "; ".join(problems))
        models, info = [], []
        for k in wanted:
            if needs_thresholds:
                info.append(json.loads((fold_dir(run, k) / THRESHOLDS).read_text()))
                if info[-1]["class_names"] != list(encoder.class_names):
                    raise ValueError(f"fold {k}'s thresholds are for other classes than the run's")
            # compile=False: inference needs no optimizer or loss, so nothing of the
            # training set-up has to be importable here.
            path = fold_dir(run, k) / MODEL
            models.append(keras.saving.load_model(path, safe_mode=True, compile=False))
        stacks = (
            [Stack.load(fold_dir(run, k) / STACK) for k in wanted] if config.stack.forest else []
        )
        seconds = training_seconds(run)
        return cls(
            run, config, encoder, wanted, models, info, stacks, record_seconds=seconds, task=task
        )

    def reading(self, options: dict[str, Any] | None = None) -> Ensemble:
        """This ensemble reading new data with some of its reader's options changed
        (``{"fs": 500}``: a table of 500 Hz arrays for a 100 Hz run); itself when
        ``options`` is empty.

        Raises:
            ValueError: an option the run's reader does not take, or a bad value.
        """
        if not options:
            return self
        section = self.config.task
        try:
            reader = get_reader(section.reader, {**section.reader_options, **options})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"reader options {options}: {exc}") from None
        other = copy.copy(self)
        other.task = dataclasses.replace(self.task, reader=reader)
        return other

    def stacked(self, fold_scores: np.ndarray, forest_input: np.ndarray | None) -> np.ndarray:
        """Each member's scores ``(n_models, n, n_classes)`` stacked with its forest; as
        they are for a run without ``stack.forest``."""
        if not self.stacks:
            return fold_scores
        return np.stack(
            [s.combine(f, forest_input) for s, f in zip(self.stacks, fold_scores, strict=True)]
        )

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.encoder.class_names

    @property
    def input_length(self) -> int:
        """Samples per model input: fixed by the model, or the config's window."""
        length = signal_input_length(self.models[0])
        return int(length) if length is not None else self.config.preprocess.window

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The columns of the models' tabular input; empty for signal-only models."""
        if not self.config.tabular.enabled:
            return ()
        return tuple(column_names(self.config.tabular, self.config.preprocess.leads))

    def record_tabular(
        self, windows: np.ndarray, metadata: dict[str, Any] | None = None
    ) -> np.ndarray | None:
        """The tabular input of one recording (:func:`.record_inputs.record_tabular`)."""
        return record_tabular(self.config.tabular, self.config.preprocess, windows, metadata)

    @property
    def abbreviations(self) -> tuple[str, ...]:
        return self.encoder.abbreviations

    def predict(
        self,
        signal: np.ndarray,
        *,
        fs: float,
        lead_names: Sequence[str],
        missing_leads: str = "error",
        rule: str | None = None,
        min_votes: int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Prediction:
        """Classify one recording of any rate, length and lead order.

        The recording goes through the run's own preprocessing (leads matched by
        name, resampled, filtered, cut into windows whose probabilities are averaged);
        the run's target kind turns the fold scores into decisions and combines
        them under ``rule`` (:mod:`ecgml.targets.decisions`).

        Args:
            signal: shape ``(n_samples, n_leads)``, millivolts.
            fs: its sampling rate in Hz.
            lead_names: names of its columns ("I", "II", ..., "V6"; any case).
            missing_leads: ``"error"`` or ``"zero"`` (fill a missing lead with zeros
                and say so in the warnings).
            rule: ``"majority"`` or ``"mean"``; ``None`` for the target kind's default.
            min_votes: multi-label votes needed under ``"majority"``; default a
                strict majority.
            metadata: for a run with a tabular input, the recording's ``age``,
                ``sex``, ``height``, ``weight`` and ``notes`` (any left out count as
                missing); the baseline features are computed from the signal.

        Raises:
            ValueError: the recording does not fit (wrong shape, too short, a
                missing lead), named in the message; or the run classifies beats.
        """
        try:
            windows, warnings = self.task.samples.prepare_signal(
                signal, fs, lead_names, self.config.preprocess, missing_leads=missing_leads
            )
        except ValueError as exc:
            raise ValueError(f"run {self.run}: {exc}") from None
        prepared = PreparedRecord(header=None, windows=windows, warnings=warnings, signal=signal)
        return self.predict_prepared(
            [prepared], metadata=[metadata], rule=rule, min_votes=min_votes
        )[0]

    def record_metadata(
        self, prepared: PreparedRecord, given: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A recording's metadata as training saw it: the task's reader's
        (:meth:`~ecgml.data.readers.Reader.metadata`; PTB-XL's from its table), else its
        header's, with the fields in ``given`` in their place."""
        header = prepared.header
        try:
            meta = self.task.reader.metadata(header.path)
        except (RecordError, OSError, ValueError):
            meta = header_metadata(header)
        return {**meta, **(given or {})}

    def predict_prepared(
        self,
        prepared: Sequence[PreparedRecord],
        *,
        metadata: Sequence[dict[str, Any] | None] | None = None,
        rule: str | None = None,
        min_votes: int | None = None,
    ) -> list[Prediction]:
        """The one prediction path of records that :meth:`predict`, ``ecgml predict``
        and the web app share: prepared records (their sample kind's
        :meth:`~ecgml.data.samples.SampleKind.read_for_prediction`) to predictions.

        Args:
            prepared: the records.
            metadata: per record, for a run with a tabular input or a stacked forest;
                ``None``: :meth:`record_metadata` of each.
            rule, min_votes: as :meth:`predict`.

        Raises:
            ValueError: bad metadata for the tabular input.
        """
        if metadata is None and (self.feature_names or self.stacks):
            metadata = [self.record_metadata(p) for p in prepared]
        features = None
        if self.feature_names:  # the same tabular input as training
            rows = [
                self.record_tabular(p.windows, m) for p, m in zip(prepared, metadata, strict=True)
            ]
            features = np.concatenate(rows)
        fold_scores = self.predict_windows(
            [p.windows for p in prepared], features=features, metadata=metadata
        )
        y_pred, y_score = self.decide(fold_scores, rule=rule, min_votes=min_votes)
        votes = self.fold_decisions(fold_scores).sum(axis=0)
        return [
            Prediction(
                class_names=tuple(self.class_names),
                abbreviations=tuple(self.abbreviations),
                y_score=y_score[i],
                y_pred=y_pred[i],
                fold_scores=fold_scores[:, i],
                n_windows=len(p.windows),
                warnings=self.warnings(p),
                votes=votes[i],
            )
            for i, p in enumerate(prepared)
        ]

    def predict_paths(
        self,
        paths: Sequence[str | Path],
        request: Request | None = None,
        *,
        chunk: int = 32,
        progress: bool = False,
    ) -> list[RecordResult]:
        """The one prediction path of record files that ``ecgml predict`` and the web
        app share (:func:`ecgml.inference.records.predict_paths`): each file read
        by the run's reader and sample kind, predicted (a record run's
        :class:`Prediction`, a beat run's beat table), explained where ``request``
        asks, or skipped with the reason.

        Raises:
            ValueError: an option the run's kind does not take.
        """
        return list(
            predict_paths(self, [Path(p) for p in paths], request, chunk=chunk, progress=progress)
        )

    def warnings(self, prepared: PreparedRecord) -> tuple[str, ...]:
        """What a prediction of ``prepared`` should say beside its probabilities: its
        own warnings and an implausible duration (:attr:`record_seconds`)."""
        note = duration_warning(prepared.header, self.record_seconds)
        return tuple(prepared.warnings) + ((note,) if note else ())

    def decide(
        self, fold_scores: np.ndarray, *, rule: str | None = None, min_votes: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ensemble's ``(y_pred, y_score)`` for fold scores
        ``(n_models, n_records, n_classes)``, by the run's target kind."""
        return self.target.combine(fold_scores, self.thresholds, rule=rule, min_votes=min_votes)

    def fold_decisions(self, fold_scores: np.ndarray) -> np.ndarray:
        """Each member's own decisions, uint8 ``(n_models, n_records, n_classes)``."""
        return self.target.fold_decisions(fold_scores, self.thresholds)
