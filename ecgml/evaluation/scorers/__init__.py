"""Scorers: the figures a task reports for one model's predictions on labelled data.

A scorer takes ``y_true``, ``y_score`` and ``y_pred`` (shape ``(n, n_classes)``)
and returns ``{"overall": {...}, "per_class": {class: {...}}}``, plus blocks of
its own (``"challenge"`` for CinC 2020, ``"confusion_matrix"`` for multi-class
tasks). A task's config names its scorer (``task.scorer``); adding one is a
module here and a line in ``_SCORERS``.
"""

from __future__ import annotations

from ecgml.evaluation.scorers.aami import AamiScorer
from ecgml.evaluation.scorers.base import Scorer
from ecgml.evaluation.scorers.binary import BinaryScorer
from ecgml.evaluation.scorers.chagas import ChagasScorer
from ecgml.evaluation.scorers.cinc2017 import Cinc2017Scorer, MulticlassScorer
from ecgml.evaluation.scorers.multilabel import Cinc2020Scorer, MultilabelScorer

_SCORERS: dict[str, type[Scorer]] = {
    "cinc2020": Cinc2020Scorer,
    "multilabel": MultilabelScorer,
    "multiclass": MulticlassScorer,
    "cinc2017": Cinc2017Scorer,
    "aami": AamiScorer,
    "binary": BinaryScorer,
    "chagas": ChagasScorer,
}
SCORER_NAMES = tuple(_SCORERS)


def get_scorer(name: str) -> Scorer:
    """The scorer a config names.

    Raises:
        ValueError: no scorer of that name.
    """
    if name not in _SCORERS:
        raise ValueError(f"unknown scorer {name!r}; expected one of {SCORER_NAMES}")
    return _SCORERS[name]()


__all__ = ["SCORER_NAMES", "Scorer", "get_scorer"]
