"""MIT-BIH Arrhythmia Database records: beats labelled with the AAMI classes.

Each record (Moody and Mark, 2001) is a WFDB header, a format-212 ``.dat`` with
two leads (MLII and a chest lead in most records) at 360 Hz for 30 min, and a
``.atr`` file of reference annotations: one per beat at its R peak, with the
beat's code, and non-beat annotations between. Beats become samples with the
AAMI EC57 classes (:mod:`ecgml.data.beats`).

Following AAMI EC57, the four records with paced beats (102, 104, 107, 217) are
left out unless the reader option ``keep_paced`` is set. The standard split
(``task.split = "standard"``) is de Chazal et al.'s (2004) inter-patient
division: the 22 records of DS1 train, the 22 of DS2 test. Records 201 and 202
come from one patient (201 in DS1, 202 in DS2, as the division has it); for the
run's own folds they count as one patient.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from ecgml.data.annotations import read_annotations
from ecgml.data.beats import AAMI_CLASSES, aami_beats
from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, RecordError, read_record
from ecgml.data.sources import FoundRecord, file_key

PACED = ("102", "104", "107", "217")
DS1 = (
    "101",
    "106",
    "108",
    "109",
    "112",
    "114",
    "115",
    "116",
    "118",
    "119",
    "122",
    "124",
    "201",
    "203",
    "205",
    "207",
    "208",
    "209",
    "215",
    "220",
    "223",
    "230",
)
DS2 = (
    "100",
    "103",
    "105",
    "111",
    "113",
    "117",
    "121",
    "123",
    "200",
    "202",
    "210",
    "212",
    "213",
    "214",
    "219",
    "221",
    "222",
    "228",
    "231",
    "232",
    "233",
    "234",
)
_SAME_PATIENT = {"202": "201"}


@READERS.add
class MitbihReader(Reader):
    """Reads MIT-BIH records with their beat annotations (module docstring).

    Args:
        keep_paced: keep the paced records (their paced beats are class Q).
        annotation: the annotation file's extension.
    """

    name = "mitbih"

    def __init__(self, *, keep_paced: bool = False, annotation: str = "atr") -> None:
        if not isinstance(keep_paced, bool):
            raise ValueError(f"keep_paced must be true or false, got {keep_paced!r}")
        if not isinstance(annotation, str) or not annotation.isalnum():
            raise ValueError(
                f"annotation must be a file extension such as 'atr', got {annotation!r}"
            )
        self.keep_paced = keep_paced
        self.annotation = annotation
        self.options = {"keep_paced": keep_paced, "annotation": annotation}

    def find(self, data_dirs) -> list[FoundRecord]:
        """As every reader, with the annotation file in each record's fingerprint."""
        return [
            dataclasses.replace(
                r,
                fingerprint=f"{r.fingerprint}|{file_key(r.path.with_suffix(f'.{self.annotation}'))}",
            )
            for r in super().find(data_dirs)
        ]

    def read(self, path: str | Path) -> Record:
        record = read_record(path)
        header = record.header
        if header.record_id in PACED and not self.keep_paced:
            raise RecordError(
                header.record_id,
                "paced record, left out as AAMI EC57 recommends "
                "(the reader option keep_paced keeps it)",
            )
        annotations = read_annotations(header, self.annotation)
        return dataclasses.replace(record, annotations=annotations)

    def beats(self, record: Record) -> tuple[np.ndarray, tuple[str, ...]]:
        if record.annotations is None:
            raise RecordError(record.header.record_id, "no beat annotations were read")
        return aami_beats(record.annotations)

    def source(self, record_id: str, folder: str) -> str:
        return "MIT-BIH"

    def patient(self, record_id: str, folder: str) -> str:
        return _SAME_PATIENT.get(record_id, record_id)

    def standard_split(self, record_id: str) -> str | None:
        if record_id in DS1:
            return "train"
        if record_id in DS2:
            return "test"
        return None

    def label_name(self, label: str) -> str:
        return AAMI_CLASSES.get(label, label)
