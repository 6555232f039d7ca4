"""The one path of records through a run's ensemble: read, check, predict, explain.

``ecgml predict``, the web app and :meth:`Ensemble.predict_paths
<ecgml.inference.ensemble.Ensemble.predict_paths>` all go through
:func:`predict_paths`. What differs between a run that classifies records and
one that classifies beats is its :class:`~ecgml.inference.predictors.Predictor`,
not a branch here. A record that cannot be read or used is skipped with the
reason; the batch goes on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from ecgml.data.loading import PreparedRecord
from ecgml.data.records import RecordError
from ecgml.inference.predictors import Request, predictor_of

if TYPE_CHECKING:
    from ecgml.inference.ensemble import Ensemble


@dataclass(frozen=True)
class RecordResult:
    """One input of a prediction: predicted, or skipped with the reason.

    Attributes:
        path: the input file.
        record_id: the record's id (outputs are named by it).
        prepared: the record as the models saw it; ``None`` when skipped.
        answer: the predictor's answer: a
            :class:`~ecgml.inference.prediction.Prediction` for a record run, a
            beat table for a beat run; ``None`` when skipped.
        explanation: the predictor's explanation, where one was asked for.
        problem: why the record was skipped; ``None`` when predicted.
    """

    path: Path
    record_id: str
    prepared: PreparedRecord | None = None
    answer: Any = None
    explanation: Any = None
    problem: str | None = None

    @property
    def skipped(self) -> bool:
        return self.problem is not None


def predict_paths(
    ensemble: Ensemble,
    paths: Sequence[Path],
    request: Request | None = None,
    *,
    chunk: int = 32,
    read: Callable[[Path], PreparedRecord] | None = None,
    lock: contextlib.AbstractContextManager | None = None,
    progress: bool = False,
    echo_skipped: bool = False,
) -> Iterator[RecordResult]:
    """Every input through the ensemble, as it is finished: a skipped record at
    once, predicted ones ``chunk`` records to a model call.

    Args:
        ensemble: the run's ensemble.
        paths: the inputs (:func:`ecgml.serve.predict.find_inputs`).
        request: the settings; ``None``: the run's defaults.
        chunk: records read before the models run on all their windows at once.
        read: reads one input instead of the predictor (the app's uploaded
            arrays); raises :class:`~ecgml.data.records.RecordError`.
        lock: held around every model call (the app's threads share the models).
        progress: a progress bar.
        echo_skipped: print a line for each skipped record (``ecgml predict``).

    Raises:
        ValueError: an option the run's kind does not take.
    """
    request = request or Request()
    predictor = predictor_of(ensemble)
    predictor.check(request, ensemble.run)
    chunk = min(chunk, predictor.max_chunk or chunk)
    lock = lock or contextlib.nullcontext()
    read = read or (lambda path: predictor.read(ensemble, path, request))
    seen: dict[str, Path] = {}
    pending: list[tuple[Path, PreparedRecord]] = []
    bar = tqdm(total=len(paths), desc="predict", unit="record", disable=not progress)
    for path in paths:
        result = _read_one(ensemble, path, read, seen)
        if result.skipped and echo_skipped:
            bar.write(f"skipped {path}: {result.problem}")
        if result.skipped:
            yield result
        else:
            seen[result.record_id] = path
            pending.append((path, result.prepared))
            if len(pending) >= chunk:
                yield from _predict(ensemble, predictor, pending, request, lock)
                pending = []
        bar.update(1)
    if pending:
        yield from _predict(ensemble, predictor, pending, request, lock)
    bar.close()


def _read_one(ensemble: Ensemble, path: Path, read, seen: dict[str, Path]) -> RecordResult:
    """One input read, or skipped: unreadable, unusable, or an id already predicted."""
    try:
        prepared = read(path)
    except RecordError as exc:
        return RecordResult(path, ensemble.task.reader.record_id_at(path), problem=exc.problem)
    rid = prepared.header.record_id
    if rid in seen:
        problem = f"record id {rid} already predicted from {seen[rid]}; outputs are named by id"
        return RecordResult(path, rid, problem=problem)
    return RecordResult(path, rid, prepared=prepared)


def _predict(ensemble, predictor, pending, request: Request, lock) -> Iterator[RecordResult]:
    """A chunk of read records, predicted together, each explained where asked."""
    prepared = [p for _, p in pending]
    with lock:
        answers = predictor.predict(ensemble, prepared, request)
    for (path, record), answer in zip(pending, answers, strict=True):
        explanation = None
        if request.explain is not None:
            with lock:
                explanation = predictor.explain(ensemble, record, answer, request.explain)
        yield RecordResult(path, record.header.record_id, record, answer, explanation)
