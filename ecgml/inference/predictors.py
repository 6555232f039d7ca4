"""What a run predicts per input, and how: one :class:`Predictor` per kind of
answer, picked by the task's sample kind (``SampleKind.predicts``).

* ``"records"``: classes per record. Records are read and prepared by their
  sample kind (windows, or a printout image), predicted a chunk at a time
  (:meth:`~ecgml.inference.ensemble.Ensemble.predict_prepared`) and explained
  by :func:`~ecgml.inference.explain.explain_prepared`.
* ``"beats"``: classes per beat. A record's beats come from its annotation file
  or wfdb's detector; each beat window is predicted on its own
  (:func:`~ecgml.inference.beat_tables.predict_beat_table`) and explained by
  :func:`~ecgml.inference.explain.explain_beats`.

The record loop (:mod:`ecgml.inference.records`) and the writers of its
outputs ask the predictor; none of them branches on the kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecgml.data.loading import PreparedRecord
from ecgml.evaluation.challenge import output_codes, write_output_file
from ecgml.inference.beat_tables import predict_beat_table, write_beat_tables
from ecgml.inference.explain import explain_beats, explain_prepared
from ecgml.registries import Registry

if TYPE_CHECKING:
    import pandas as pd

    from ecgml.inference.ensemble import Ensemble


@dataclass(frozen=True)
class Request:
    """The settings of one prediction (``ecgml predict``'s options, docs/commands.md).

    Attributes:
        rule, min_votes: the vote; ``None``: the target kind's, a strict majority.
        missing_leads: ``"error"`` (skip the record) or ``"zero"``.
        annotations: beat runs: classify the beats of ``RECORD.EXT``; ``None``:
            beats found by wfdb's detector.
        explain: the classes to explain (``()``: the decided ones); ``None``: none.
        metadata: fields that replace each record's own metadata (the app's form).
    """

    rule: str | None = None
    min_votes: int | None = None
    missing_leads: str = "error"
    annotations: str | None = None
    explain: tuple[str, ...] | None = None
    metadata: dict[str, Any] | None = None


class Predictor:
    """How a run of one kind reads, predicts and explains its inputs."""

    predicts = ""
    # records predicted by one model call at most (None: as many as the caller asks)
    max_chunk: int | None = None

    def check(self, request: Request, run: Any) -> None:
        """Raises ValueError for an option the run's kind does not take."""

    def read(self, ensemble: Ensemble, path: Path, request: Request) -> PreparedRecord:
        """One input ready for the models.

        Raises:
            RecordError: the record cannot be used, named with the problem.
        """
        raise NotImplementedError

    def predict(
        self, ensemble: Ensemble, prepared: Sequence[PreparedRecord], request: Request
    ) -> list[Any]:
        """The answer for each prepared record."""
        raise NotImplementedError

    def explain(
        self, ensemble: Ensemble, prepared: PreparedRecord, answer: Any, classes: Sequence[str]
    ) -> Any:
        """The explanation of one answer, for ``classes`` (empty: the decided ones)."""
        raise NotImplementedError

    def write_scored(
        self, out: Path, ensemble: Ensemble, index: pd.DataFrame, y_score, y_pred
    ) -> None:
        """The outputs of a scored test cache (``postprocessing.py``), one file per record."""
        raise NotImplementedError


class RecordPredictor(Predictor):
    """Classes per record: a record's windows (or image) predicted together."""

    predicts = "records"

    def check(self, request, run):
        if request.annotations is not None:
            raise ValueError(f"annotations apply to beat runs; {run} classifies whole records")

    def read(self, ensemble, path, request):
        return ensemble.task.samples.read_for_prediction(
            path,
            ensemble.config.preprocess,
            reader=ensemble.task.reader,
            missing_leads=request.missing_leads,
        )

    def predict(self, ensemble, prepared, request):
        metadata = None
        if request.metadata is not None:
            metadata = [ensemble.record_metadata(p, request.metadata) for p in prepared]
        return ensemble.predict_prepared(
            prepared, metadata=metadata, rule=request.rule, min_votes=request.min_votes
        )

    def explain(self, ensemble, prepared, answer, classes):
        return explain_prepared(ensemble, prepared, classes=list(classes) or None)

    def write_scored(self, out, ensemble, index, y_score, y_pred):
        """``outputs/RECORD.csv`` in the challenge format."""
        outputs = out / "outputs"
        outputs.mkdir(exist_ok=True)
        codes, source = output_codes(ensemble.class_names)
        for i, record in enumerate(index["record_id"].tolist()):
            write_output_file(
                outputs / f"{record}.csv", record, codes, y_pred[i, source], y_score[i, source]
            )


class BeatPredictor(Predictor):
    """Classes per beat: each beat window of a record is its own sample."""

    predicts = "beats"
    max_chunk = 1  # a record of 30 minutes has thousands of beats

    def check(self, request, run):
        if request.missing_leads != "error":
            raise ValueError("a beat run needs its lead; --missing-leads zero does not apply")

    def read(self, ensemble, path, request):
        return ensemble.task.samples.read_for_prediction(
            path,
            ensemble.config.preprocess,
            annotations=request.annotations,
            features=ensemble.feature_names,
        )

    def predict(self, ensemble, prepared, request):
        """One beat table per record (:func:`~ecgml.inference.beat_tables.beat_table`)."""
        return [predict_beat_table(ensemble, p, rule=request.rule) for p in prepared]

    def explain(self, ensemble, prepared, answer, classes):
        """Each beat's map and the class it explains (:func:`explain_beats`)."""
        return explain_beats(ensemble, prepared, list(answer["class"]), classes=list(classes))

    def write_scored(self, out, ensemble, index, y_score, y_pred):
        """``beats/RECORD.csv`` and ``beats/summary.csv``."""
        write_beat_tables(out / "beats", index, y_score, y_pred, ensemble.abbreviations)


PREDICTORS: Registry[Predictor] = Registry("predicts")
for _predictor in (RecordPredictor(), BeatPredictor()):
    PREDICTORS.register(_predictor.predicts, _predictor)


def predictor_of(ensemble: Ensemble) -> Predictor:
    """The predictor of a run's sample kind (``SampleKind.predicts``)."""
    return PREDICTORS.named(ensemble.task.samples.predicts)


__all__ = ["PREDICTORS", "BeatPredictor", "Predictor", "RecordPredictor", "Request", "predictor_of"]
