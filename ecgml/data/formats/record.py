"""What every format reader shares: units to millivolts, and the record it gives."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecgml.data.record_types import Record, RecordHeader

__all__ = ["MissingExtra", "millivolt_record", "to_millivolts"]

# a voltage unit's factor to millivolts; the micro sign and the Greek mu both occur
_MILLIVOLTS = {"nv": 1e-6, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "mv": 1.0, "v": 1e3}


class MissingExtra(ImportError):
    """A format's library is not installed."""


def to_millivolts(unit: str) -> float | None:
    """The factor that takes values in ``unit`` to millivolts; ``None`` if it is not
    a voltage."""
    return _MILLIVOLTS.get(unit.strip().lower())


def millivolt_record(
    path: Path,
    record_id: str,
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    *,
    age: float | None = None,
    sex: str | None = None,
    comments: dict[str, str] | None = None,
    warnings: tuple[str, ...] = (),
) -> Record:
    """A record read from one file: ``signal`` ``(n_samples, n_leads)`` already in mV,
    unlabelled (the formats carry no diagnosis codes ecgml reads)."""
    header = RecordHeader(
        record_id=record_id,
        path=path,
        fs=float(fs),
        n_samples=len(signal),
        lead_names=tuple(lead_names),
        units=("mV",) * len(lead_names),
        signal_files=(path.name,),
        age=age,
        sex=sex,
        dx=(),
        comments=comments or {},
    )
    return Record(header=header, signal=signal, warnings=warnings)
