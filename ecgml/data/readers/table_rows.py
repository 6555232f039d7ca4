"""The rows of a label table (:mod:`ecgml.data.readers.table`): reading the table
once per change, finding a file's row, and a row's sampling rate.

A row's rate comes from a column of per-row rates where the table has one: the
column the option ``fs_column`` names, or else the first column called ``fs``,
``sampling_rate`` or ``sample_rate`` (:data:`RATE_COLUMNS`, any case). The option
``fs`` is the rate of rows without one. A row whose rate differs from ``fs`` is
read at its own rate, with a warning naming both (``summary.csv``'s ``note``,
``prepare_report.json``), so that a table of 500 Hz records is never read as
100 Hz because a config says 100. ``fs_column: false`` ignores every such column.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml.data.records import RecordError

RATE_COLUMNS = ("fs", "sampling_rate", "sample_rate")


@cache
def read_table(path: Path, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@cache
def positions(path: Path, mtime_ns: int, column: str) -> dict[str, int]:
    """Row positions by resolved file path (the first row naming each file)."""
    table = read_table(path, mtime_ns)
    found: dict[str, int] = {}
    for k, name in enumerate(table[column]):
        if name:
            found.setdefault(str((path.parent / name).resolve()), k)
    return found


def number(value: str) -> float | None:
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(parsed) else parsed


def as_list(value: Any, name: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of column names, got {value!r}")
    return tuple(value)


def check_fs_column(fs_column: Any) -> None:
    """``fs_column`` is a column name, ``None`` (find one of :data:`RATE_COLUMNS`) or
    ``False`` (no rate column).

    Raises:
        ValueError: anything else.
    """
    if fs_column is None or fs_column is False:
        return
    if not isinstance(fs_column, str) or not fs_column:
        raise ValueError(
            f"fs_column must be a column name, null (use a column named one of "
            f"{list(RATE_COLUMNS)} if the table has one) or false (none), got {fs_column!r}"
        )


def rate_column(columns: pd.Index, fs_column: str | bool | None) -> str | None:
    """The column of per-row rates: the one named, else the first of
    :data:`RATE_COLUMNS` the table has (any case); ``None`` where there is none
    or ``fs_column`` is ``False``."""
    if fs_column is False:
        return None
    if fs_column:
        return fs_column
    return next((c for c in columns if c.strip().lower() in RATE_COLUMNS), None)


def row_rate(
    row: pd.Series, rid: str, *, fs: float | None, fs_column: str | bool | None
) -> tuple[float | None, tuple[str, ...]]:
    """A row's rate in Hz and the warnings about it (module docstring); ``None``
    where neither the row nor ``fs`` gives one.

    Raises:
        RecordError: the row's rate is not a positive number.
    """
    column = rate_column(row.index, fs_column)
    if column is None or not row[column].strip():
        return (None if fs is None else float(fs)), ()
    rate = number(row[column])
    if rate is None or rate <= 0:
        raise RecordError(rid, f"{column} {row[column]!r} is not a positive rate")
    if fs is None or rate == fs:
        return rate, ()
    return rate, (
        f"the table's {column} column gives {rate:g} Hz and option fs {fs:g} Hz: "
        f"read at {rate:g} Hz (fs_column: false reads every record at fs)",
    )
