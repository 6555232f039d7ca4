"""PTB Diagnostic ECG Database records: myocardial infarction or not, beat by beat.

The PTB Diagnostic ECG Database (Bousseljot et al., 1995) holds 549 records of
290 patients: 15 leads (the 12 standard ones and Frank's vx, vy, vz) at 1000 Hz.
Two layouts are read:

* the database's own, ``patientNNN/sNNNNxxx_re.hea`` with ``.dat`` and ``.xyz``
  signal files, the diagnosis in the header comments
  (``# Reason for admission: Myocardial infarction``); the folder names the patient;
* the PhysioNet/CinC Challenge 2021 copy, records ``S0001`` ... as ``.hea`` +
  ``.mat`` with 12 leads, the diagnosis as SNOMED codes in ``#Dx`` (164865005 is
  myocardial infarction); each record is its own patient, as the copy does not say.

A record's label is ``MI`` or ``other``. Other records in the same folders (the
challenge's other sources) are not PTB records and are not found.

The database has no beat annotations: for beat tasks, R peaks are found on one
lead (reader option ``lead``, ``II`` by default) by wfdb's XQRS detector, and
every beat takes its record's label.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np

from ecgml.data.annotations import detect_beats
from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, RecordError, read_record
from ecgml.data.sources import FoundRecord

MI_CODE = "164865005"
CLASSES = {"MI": "myocardial infarction", "other": "no myocardial infarction"}
_PTB_NAME = re.compile(r"(S\d{4}|s\d{4}[a-z_]?re)")
_PATIENT_FOLDER = re.compile(r"patient\d{3}")
_REASON = "reason for admission"


@READERS.add
class PtbReader(Reader):
    """Reads PTB Diagnostic records as MI or not (module docstring).

    Args:
        lead: the lead whose R peaks give the beats of beat tasks.
    """

    name = "ptb"

    def __init__(self, *, lead: str = "II") -> None:
        if not isinstance(lead, str) or not lead:
            raise ValueError(f"lead must be a lead name, got {lead!r}")
        self.lead = lead
        self.options = {"lead": lead}

    def find(self, data_dirs) -> list[FoundRecord]:
        """The PTB records under the folders (``S0001``, ``s0010_re``, ...); others are left."""
        return [r for r in super().find(data_dirs) if _PTB_NAME.fullmatch(r.record_id)]

    def read(self, path: str | Path) -> Record:
        record = read_record(path)
        header = record.header
        if header.dx:
            label = "MI" if MI_CODE in header.dx else "other"
        elif _REASON in header.comments:
            reason = header.comments[_REASON].lower()
            label = "MI" if "myocardial infarction" in reason else "other"
        else:
            raise RecordError(
                header.record_id,
                f"no diagnosis: neither #Dx codes nor a '# {_REASON.capitalize()}:' comment",
            )
        return dataclasses.replace(record, header=dataclasses.replace(header, dx=(label,)))

    def beats(self, record: Record) -> tuple[np.ndarray, tuple[str, ...]]:
        header = record.header
        names = [n.strip().lower() for n in header.lead_names]
        if self.lead.lower() not in names:
            raise RecordError(
                header.record_id,
                f"no lead {self.lead} to find beats on; the record has {list(header.lead_names)}",
            )
        peaks = detect_beats(record.signal[:, names.index(self.lead.lower())], header.fs)
        return peaks, tuple(header.dx[:1]) * len(peaks)

    def source(self, record_id: str, folder: str) -> str:
        return "PTB"

    def patient(self, record_id: str, folder: str) -> str:
        last = Path(folder).name
        return last if _PATIENT_FOLDER.fullmatch(last) else record_id

    def label_name(self, label: str) -> str:
        return CLASSES.get(label, label)
