"""Hyperparameter search on Optuna (``ecgml tune``; the ``tune`` extra).

:func:`~ecgml.tune.space.load_space` reads a search space;
:func:`~ecgml.tune.search.tune` runs the search and returns the Optuna study.
"""

from __future__ import annotations

from typing import Any

from ecgml.tune.space import Parameter, Space, load_space, parse_space


def tune(*args: Any, **kwargs: Any) -> Any:
    """:func:`ecgml.tune.search.tune` (imported on first use: it needs Optuna and Keras)."""
    from ecgml.tune.search import tune as run

    return run(*args, **kwargs)


__all__ = ["Parameter", "Space", "load_space", "parse_space", "tune"]
