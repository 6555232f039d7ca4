"""What reading a record gives: its header, its signal, its annotations, or the
problem that stops it (:mod:`ecgml.data.records` reads them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


class RecordError(ValueError):
    """A record that cannot be used, with the record and the problem named."""

    def __init__(self, record: str, problem: str) -> None:
        super().__init__(f"record {record}: {problem}")
        self.record = record
        self.problem = problem


@dataclass(frozen=True)
class RecordHeader:
    """What a record's header says.

    Attributes:
        record_id: the record name (header file name without ``.hea``).
        path: the header file.
        fs: sampling rate in Hz.
        n_samples: samples per lead.
        lead_names: lead names as written in the header.
        units: physical unit of each lead, as written.
        signal_files: signal file names, relative to the header's folder.
        age: age in years, ``None`` where unknown.
        sex: ``"Male"``, ``"Female"`` or ``None`` where unknown.
        dx: diagnosis codes, text labels already mapped to SNOMED codes.
        comments: every ``key: value`` header comment, raw.
        height: height in cm, ``None`` where unknown (a ``#Height:`` comment, or
            the reader's metadata table).
        weight: weight in kg, ``None`` where unknown (``#Weight:``).
        notes: free text about the recording (PTB-XL's ``report``; a
            ``#Notes:`` comment), ``""`` where there is none.
    """

    record_id: str
    path: Path
    fs: float
    n_samples: int
    lead_names: tuple[str, ...]
    units: tuple[str, ...]
    signal_files: tuple[str, ...]
    age: float | None
    sex: str | None
    dx: tuple[str, ...]
    comments: dict[str, str]
    height: float | None = None
    weight: float | None = None
    notes: str = ""


@dataclass(frozen=True)
class Annotations:
    """Beat (and other) annotations of a record, in time order.

    Attributes:
        sample: int64, the annotated sample of each annotation (for a beat, its
            R peak), at the record's rate.
        symbol: the annotation code of each (``"N"``, ``"V"``, ``"+"``, ...).
    """

    sample: np.ndarray
    symbol: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    """A header and its signal.

    Attributes:
        header: the parsed header.
        signal: float32 array, shape ``(n_samples, n_leads)``, in millivolts,
            leads in header order.
        annotations: beat annotations where the reader reads them, else ``None``.
        image: for a record that is an image file (reader ``images``), the
            decoded image (a Pillow image) and an empty signal; else ``None``.
        warnings: what the reader assumed or resolved about the record that its
            user should know (a label table's rate that differs from the
            config's, say); they travel into ``summary.csv``'s ``note`` and the
            prepare report.
    """

    header: RecordHeader
    signal: np.ndarray
    annotations: Annotations | None = None
    image: Any = None
    warnings: tuple[str, ...] = ()


__all__ = ["Annotations", "Record", "RecordError", "RecordHeader"]
