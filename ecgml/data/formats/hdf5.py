"""HDF5 cohorts: CODE-15 %'s ``exams_part*.hdf5`` and files laid out like them, read
with h5py.

A file holds many records: a ``tracings`` dataset ``(n_records, n_samples, 12)``
and an ``exam_id`` dataset naming each. CODE-15 %'s tracings are 400 Hz, in the
lead order I, II, III, aVR, aVL, aVF, V1-V6, and zero-padded to 4,096 samples
(a 10 s tracing gets 48 zeros at each end, a 7 s one more): the samples at
either end where every lead is exactly zero are removed. HDF5 declares no unit;
the values are taken as millivolts, as the PhysioNet/CinC 2025 challenge's
conversion of CODE-15 % reads them, unless ``units`` says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.data.formats.leads import standard_leads
from ecgml.data.formats.record import MissingExtra, millivolt_record, to_millivolts
from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.record_types import Record, RecordError

__all__ = [
    "SEPARATOR",
    "SUFFIXES",
    "read_hdf5",
    "read_tracing",
    "tracing_ids",
    "tracing_of",
    "tracing_paths",
    "trimmed",
]

SUFFIXES = (".hdf5", ".h5")
# one tracing of a cohort file as a path of its own: FILE.hdf5::EXAM_ID
SEPARATOR = "::"


def trimmed(tracing: np.ndarray) -> np.ndarray:
    """The tracing without the all-zero samples at its two ends."""
    nonzero = np.flatnonzero(np.any(tracing != 0, axis=1))
    if not len(nonzero):
        return tracing[:0]
    return tracing[nonzero[0] : nonzero[-1] + 1]


def read_hdf5(
    path: str | Path,
    *,
    fs: float = 400.0,
    units: str = "mV",
    leads: Sequence[str] = STANDARD_LEADS,
    tracings: str = "tracings",
    ids: str = "exam_id",
) -> Iterator[Record]:
    """Each record of an HDF5 file laid out as CODE-15 %'s (module docstring).

    Args:
        path: the file.
        fs: the tracings' rate in Hz (CODE-15 %: 400).
        units: their unit (a voltage: ``"mV"``, ``"uV"``, ``"V"``).
        leads: the names of the tracings' last axis.
        tracings, ids: the datasets' names.

    Yields:
        A record per tracing; an all-zero tracing is a :class:`RecordError`
        instance yielded in its place, so that the rest of the file goes on.

    Raises:
        RecordError: the file does not open, lacks the datasets, or their shapes
            disagree with each other or with ``leads``.
    """
    path = Path(path)
    factor = _factor(units, path.stem)
    with _datasets(path, tracings, ids, len(leads)) as (data, names):
        lead_names = standard_leads(leads)
        for k in range(data.shape[0]):
            rid = str(names[k].decode() if isinstance(names[k], bytes) else names[k])
            where = {"tracing": str(k)}
            yield _record(path, path.name, rid, data[k], factor, fs, lead_names, comments=where)


def _factor(units: str, rid: str) -> float:
    factor = to_millivolts(units)
    if factor is None:
        raise RecordError(rid, f"units {units!r} is not a voltage (mV, uV, V)")
    return factor


@contextmanager
def _datasets(path: Path, tracings: str, ids: str, n_leads: int) -> Iterator[tuple[Any, Any]]:
    """The file's tracings and ids datasets, checked to have the expected layout.

    Raises:
        RecordError: the file does not open, lacks them, or their shapes disagree.
    """
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise RecordError(path.stem, f"cannot read {path.name} as HDF5: {exc}") from None
    with handle:
        missing = [name for name in (tracings, ids) if name not in handle]
        if missing:
            raise RecordError(
                path.stem, f"{path.name} has no dataset {missing} (it has {sorted(handle)})"
            )
        data, names = handle[tracings], handle[ids]
        if data.ndim != 3 or data.shape[2] != n_leads or len(names) != data.shape[0]:
            raise RecordError(
                path.stem,
                f"{path.name}: {tracings} has shape {data.shape} and {ids} {names.shape}; "
                f"expected (records, samples, {n_leads}) and (records,)",
            )
        yield data, names


def _record(
    path: Path,
    file_name: str,
    rid: str,
    raw: np.ndarray,
    factor: float,
    fs: float,
    lead_names: Sequence[str],
    *,
    comments: dict[str, str] | None = None,
) -> Record | RecordError:
    """One tracing in mV without its zero padding; an all-zero one as the error."""
    signal = trimmed(np.asarray(raw, dtype=np.float32)) * np.float32(factor)
    if not len(signal):
        return RecordError(
            rid, f"{Path(str(path).split(SEPARATOR)[0]).name}: tracing {rid} is all zeros"
        )
    return millivolt_record(path, rid, signal, fs, lead_names, comments=comments)


@cache
def _ids(path: Path, mtime_ns: int, ids: str) -> dict[str, int]:
    import h5py

    with h5py.File(path, "r") as handle:
        values = np.asarray(handle[ids])
    return {str(v.decode() if isinstance(v, bytes) else v): k for k, v in enumerate(values)}


def tracing_ids(path: str | Path, ids: str = "exam_id") -> dict[str, int]:
    """Each tracing id of a cohort file, with its row (read once per file version).

    Raises:
        RecordError: the file does not open or has no ``ids`` dataset.
        MissingExtra: h5py is not installed.
    """
    path = Path(path).resolve()
    try:
        import h5py  # noqa: F401 -- the formats extra
    except ImportError:
        raise MissingExtra(
            f"reading HDF5 files ({path.name}) needs h5py: pip install 'ecgml[formats]'"
        ) from None
    try:
        return _ids(path, path.stat().st_mtime_ns, ids)
    except (OSError, KeyError) as exc:
        raise RecordError(path.stem, f"cannot read the {ids} of {path.name}: {exc}") from None


def tracing_paths(path: str | Path) -> list[Path]:
    """A path per tracing of a cohort file (``FILE::ID``), in the file's order."""
    return [Path(f"{Path(path).resolve()}{SEPARATOR}{i}") for i in tracing_ids(path)]


def tracing_of(path: str | Path) -> tuple[Path, str] | None:
    """``(file, id)`` of a ``FILE.hdf5::ID`` path; ``None`` for any other path."""
    file, separator, rid = str(path).rpartition(SEPARATOR)
    if not separator or Path(file).suffix.lower() not in SUFFIXES:
        return None
    return Path(file), rid


def read_tracing(
    path: str | Path,
    *,
    fs: float = 400.0,
    units: str = "mV",
    leads: Sequence[str] = STANDARD_LEADS,
    tracings: str = "tracings",
    ids: str = "exam_id",
) -> Record:
    """The record of one ``FILE.hdf5::ID`` path, read as :func:`read_hdf5` reads each.

    Raises:
        RecordError: not such a path, no such id, or an all-zero tracing.
    """
    where = tracing_of(path)
    if where is None:
        raise RecordError(Path(path).stem, f"not a path of one HDF5 tracing (FILE{SEPARATOR}ID)")
    file, rid = where
    row = tracing_ids(file, ids).get(rid)
    if row is None:
        raise RecordError(rid, f"{file.name} has no tracing {rid}")
    factor = _factor(units, rid)
    with _datasets(file, tracings, ids, len(leads)) as (data, _):
        record = _record(Path(path), file.name, rid, data[row], factor, fs, standard_leads(leads))
    if isinstance(record, RecordError):
        raise record
    return record
