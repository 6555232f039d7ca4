"""The study's storage: an Optuna database that many workers open at once.

Workers of a Slurm array, or ``--jobs K`` on one machine, start together. The
first to reach a new database creates its tables and the study; the others may
reach it in the same instant, when SQLAlchemy's "create the tables unless they
exist" races ("table trials already exists") or a row the creator is writing
is not there yet. :func:`open_study` retries the opening with a growing,
jittered wait until the tables and the study are there, on any database Optuna
supports (SQLite, PostgreSQL, MySQL).
"""

from __future__ import annotations

import contextlib
import random
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna

__all__ = ["HEARTBEAT_S", "default_storage", "experimental", "open_storage", "open_study"]

HEARTBEAT_S = 20
OPEN_ATTEMPTS = 12


@contextlib.contextmanager
def experimental() -> Iterator[None]:
    """Optuna's heartbeats and stale-trial retries, chosen knowingly, without its
    warnings that they are experimental."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def default_storage(out: Path) -> str:
    return f"sqlite:///{Path(out).resolve() / 'study.db'}"


def open_storage(url: str, heartbeat: int = HEARTBEAT_S) -> Any:
    """An Optuna storage for a database URL (``sqlite:///...``, ``postgresql://...``,
    ``mysql://...``), with heartbeats: a killed worker's trial is marked failed once
    its heartbeat is stale and retried with the same parameters, in its run folder."""
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    with experimental():
        retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=2)
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine,
            heartbeat_interval=heartbeat,
            heartbeat_stale_trial_callback=retry,
        )


def open_study(url: str, name: str, *, heartbeat: int = HEARTBEAT_S, **study: Any) -> Any:
    """The study ``name`` in the database at ``url``, created by whichever worker
    comes first (module docstring); ``study`` are ``optuna.create_study``'s other
    arguments.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database still fails after
            :data:`OPEN_ATTEMPTS` tries (it is unreachable, not merely busy).
    """
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(OPEN_ATTEMPTS):
        try:
            return optuna.create_study(
                storage=open_storage(url, heartbeat), study_name=name, load_if_exists=True, **study
            )
        except SQLAlchemyError:
            if attempt == OPEN_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))
    raise AssertionError("unreachable")
