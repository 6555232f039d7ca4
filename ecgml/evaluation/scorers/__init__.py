"""Scorers: the figures a task reports for one model's predictions on labelled data.

A scorer takes ``y_true``, ``y_score`` and ``y_pred`` (shape ``(n, n_classes)``)
and returns ``{"overall": {...}, "per_class": {class: {...}}}``, plus blocks of
its own (``"challenge"`` for CinC 2020, ``"confusion_matrix"`` for multi-class
tasks). A task's config names its scorer (``task.scorer``); adding one is a
module here whose scorer class is decorated ``@SCORERS.add``, named in ``BUILT_IN``.
"""

from __future__ import annotations

import importlib

from ecgml.evaluation.scorers.base import SCORERS, Scorer

# The built-in modules, each registering its scorers, in the order errors list them.
BUILT_IN = ("multilabel", "cinc2017", "aami", "binary", "chagas")
for _module in BUILT_IN:
    importlib.import_module(f"ecgml.evaluation.scorers.{_module}")

SCORER_NAMES = tuple(SCORERS)


def get_scorer(name: str) -> Scorer:
    """The scorer a config names.

    Raises:
        ValueError: no scorer of that name.
    """
    if name not in SCORERS:
        raise ValueError(f"unknown scorer {name!r}; expected one of {tuple(SCORERS)}")
    return SCORERS[name]()


__all__ = ["SCORERS", "SCORER_NAMES", "Scorer", "get_scorer"]
