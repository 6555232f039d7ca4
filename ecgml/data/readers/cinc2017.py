"""PhysioNet/CinC Challenge 2017 records: single-lead AF classification.

Each record is a WFDB header and a MATLAB ``.mat`` (one lead, 300 Hz, 9-61 s;
Clifford et al., 2017). The training set's headers end their record line with
the number of samples (``A00001 1 300 9000``); the validation set's add an ISO
date before the time, which :mod:`ecgml.data.records` repairs before wfdb reads
it. Both read alike. The labels
are not in the header but in ``REFERENCE.csv`` beside the records, one line
``record,label`` per record, with the label one of::

    N  normal sinus rhythm
    A  atrial fibrillation
    O  other rhythm
    ~  too noisy to classify

A record without a ``REFERENCE.csv`` row, or with another label, is refused.
"""

from __future__ import annotations

import csv
import dataclasses
from functools import cache
from pathlib import Path

from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, RecordError, read_record
from ecgml.data.sources import FoundRecord, file_key

REFERENCE = "REFERENCE.csv"
CLASSES: dict[str, str] = {
    "N": "normal sinus rhythm",
    "A": "atrial fibrillation",
    "O": "other rhythm",
    "~": "noisy",
}


@cache
def _read_reference(path: Path, mtime_ns: int) -> dict[str, str]:
    with open(path, newline="") as f:
        return {row[0].strip(): row[1].strip() for row in csv.reader(f) if len(row) >= 2 and row[0]}


def reference_labels(folder: Path) -> dict[str, str] | None:
    """``folder/REFERENCE.csv`` as ``{record: label}``, or ``None`` if there is none."""
    path = Path(folder) / REFERENCE
    if not path.is_file():
        return None
    return _read_reference(path.resolve(), path.stat().st_mtime_ns)


@READERS.add
class Cinc2017Reader(Reader):
    """Reads CinC 2017 records and their ``REFERENCE.csv`` labels (module docstring)."""

    name = "cinc2017"

    def find(self, data_dirs) -> list[FoundRecord]:
        """As every reader, with ``REFERENCE.csv`` in each record's fingerprint, so that
        a changed label makes ``ecgml prepare`` read the record again."""
        return [
            dataclasses.replace(
                r, fingerprint=f"{r.fingerprint}|{file_key(r.path.parent / REFERENCE)}"
            )
            for r in super().find(data_dirs)
        ]

    def read(self, path: str | Path) -> Record:
        record = read_record(path)
        header = record.header
        labels = reference_labels(header.path.parent)
        if labels is None:
            raise RecordError(header.record_id, f"no {REFERENCE} beside it in {header.path.parent}")
        if header.record_id not in labels:
            raise RecordError(
                header.record_id, f"no row for it in {header.path.parent / REFERENCE}"
            )
        label = labels[header.record_id]
        if label not in CLASSES:
            raise RecordError(
                header.record_id,
                f"label {label!r} in {REFERENCE} is not one of {list(CLASSES)}",
            )
        return dataclasses.replace(record, header=dataclasses.replace(header, dx=(label,)))

    def source(self, record_id: str, folder: str) -> str:
        return "CinC2017"

    def label_name(self, label: str) -> str:
        return CLASSES.get(label, label)
