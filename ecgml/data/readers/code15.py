"""CODE-15 %: a Brazilian telehealth cohort's 12-lead exams in HDF5, with their labels.

The folder given to ``ecgml prepare`` holds ``exams.csv`` and the
``exams_part*.hdf5`` files it names (Ribeiro et al., 2021; Zenodo 4916206,
CC BY 4.0). Each HDF5 file is read as :mod:`ecgml.data.formats.hdf5` reads it
(400 Hz, the twelve standard leads in order, zero padding trimmed, values taken
as millivolts unless option ``units`` says otherwise); ``exams.csv`` gives each
``exam_id`` its labels, ``age``, sex (``is_male``) and ``patient_id`` (folds keep
a patient's exams together). The labels are the six abnormalities the table
flags, as tokens::

    1dAVb  first-degree AV block        SB  sinus bradycardia
    RBBB   right bundle branch block    ST  sinus tachycardia
    LBBB   left bundle branch block     AF  atrial fibrillation

An exam with none of them has no label (CODE-15 % marks normal ECGs apart, in
``normal_ecg``). An exam is a record of its own: its path is the HDF5 file's
with ``::`` and the exam id after it. An exam without a row in ``exams.csv``, or
whose tracing is all zeros (the files' padding), is skipped with the reason.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml.data.formats.hdf5 import SEPARATOR, SUFFIXES, read_tracing, tracing_ids, tracing_of
from ecgml.data.formats.record import to_millivolts
from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, RecordError
from ecgml.data.sources import FoundRecord, file_key

TABLE = "exams.csv"
CLASSES: dict[str, str] = {
    "1dAVb": "first-degree AV block",
    "RBBB": "right bundle branch block",
    "LBBB": "left bundle branch block",
    "SB": "sinus bradycardia",
    "ST": "sinus tachycardia",
    "AF": "atrial fibrillation",
}


@cache
def _table(path: Path, mtime_ns: int) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"exam_id": str, "patient_id": str})
    missing = {"exam_id", *CLASSES} - set(table.columns)
    if missing:
        raise ValueError(f"{path} lacks column(s) {sorted(missing)}; it has {list(table.columns)}")
    return table.drop_duplicates("exam_id").set_index("exam_id")


def _exams(folder: Path) -> pd.DataFrame:
    path = folder / TABLE
    if not path.is_file():
        raise FileNotFoundError(f"no {TABLE} in {folder} (the CODE-15 % label table)")
    return _table(path.resolve(), path.stat().st_mtime_ns)


# each exam's patient, filled by Code15Reader.find in the process that runs prepare
# (kept out of the reader, which is sent to every worker with every record)
_PATIENTS: dict[str, str] = {}


def _split(path: str | Path) -> tuple[Path, str]:
    where = tracing_of(path)
    if where is None:
        raise RecordError(Path(path).stem, f"not a CODE-15 % exam path (FILE{SEPARATOR}EXAM_ID)")
    return where


@READERS.add
class Code15Reader(Reader):
    """Reads CODE-15 % exams and their ``exams.csv`` labels (module docstring).

    Options:
        units: the tracings' unit (``"mV"``, the default; ``"uV"``, ``"V"``).
    """

    name = "code15"

    def __init__(self, *, units: str = "mV") -> None:
        if to_millivolts(units) is None:
            raise ValueError(f"code15: units must be a voltage (mV, uV, V), got {units!r}")
        self.options: dict[str, Any] = {"units": units}

    def find(self, data_dirs) -> list[FoundRecord]:
        """Every exam of every HDF5 file in the folders (not their subfolders)."""
        found = []
        for data_dir in data_dirs:
            root = Path(data_dir).resolve()
            if not root.is_dir():
                raise FileNotFoundError(f"data directory not found: {data_dir}")
            table_key = file_key(root / TABLE)
            table = _exams(root)  # a folder without the table fails here, before any work
            if "patient_id" in table.columns:
                _PATIENTS.update(table["patient_id"].dropna().items())
            for file in sorted(p for p in root.iterdir() if p.suffix.lower() in SUFFIXES):
                key = f"{file_key(file)}|{table_key}"
                try:
                    exams = list(tracing_ids(file))
                except RecordError:  # read again and skipped with the reason
                    found.append(FoundRecord(Path(f"{file}{SEPARATOR}"), root.name, key, file.name))
                    continue
                for exam in exams:
                    path = Path(f"{file}{SEPARATOR}{exam}")
                    found.append(FoundRecord(path, root.name, key, name=exam))
        found.sort(key=lambda r: str(r.path))
        return found

    def _row(self, path: str | Path) -> tuple[Path, str, pd.Series]:
        file, exam = _split(path)
        table = _exams(file.parent)
        if exam not in table.index:
            raise RecordError(exam, f"exam {exam} of {file.name} has no row in {TABLE}")
        return file, exam, table.loc[exam]

    def read(self, path: str | Path) -> Record:
        record = read_tracing(path, units=self.options["units"])  # all zeros: the padding
        _, _, row = self._row(path)
        labels = tuple(c for c in CLASSES if str(row[c]).strip().lower() in ("true", "1"))
        header = dataclasses.replace(record.header, dx=labels, **self._meta(row))
        return dataclasses.replace(record, header=header)

    @staticmethod
    def _meta(row: pd.Series) -> dict[str, Any]:
        age = pd.to_numeric(row.get("age"), errors="coerce")
        male = str(row.get("is_male", "")).strip().lower()
        sex = {"true": "Male", "1": "Male", "false": "Female", "0": "Female"}.get(male)
        return {"age": None if age is None or math.isnan(age) else float(age), "sex": sex}

    def read_signal(self, path: str | Path) -> Record:
        return self.read(path)

    def record_id_at(self, path: str | Path) -> str:
        return _split(path)[1]

    def metadata(self, path: str | Path) -> dict[str, Any]:
        _, _, row = self._row(path)
        return {**self._meta(row), "height": None, "weight": None, "notes": ""}

    def source(self, record_id: str, folder: str) -> str:
        return "CODE-15"

    def patient(self, record_id: str, folder: str) -> str:
        return _PATIENTS.get(record_id, "")

    def label_name(self, label: str) -> str:
        return CLASSES.get(label, label)
