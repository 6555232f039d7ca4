"""Label tables: a CSV of records, each row naming a signal file beside it.

Many data sets are not WFDB folders but a folder of arrays or CSV files with a
spreadsheet of labels::

    labels.csv               one row per record (option ``table``)
    signals/00001.npy        a file named by the row's ``file`` column,
    signals/00002.csv        relative to the table's folder
    records/A0001.hea        (a WFDB record, read as every other WFDB input)

A signal file is one of:

* ``.npy``: a 2-D array of any float or integer dtype (float16 too), time first
  (``layout: "time_first"``, shape ``(n_samples, n_leads)``) or leads first
  (``"leads_first"``); its leads are named by option ``leads``;
* ``.csv``: one column per lead, the header naming the leads;
* ``.hea``: a WFDB record, with its own rate and lead names;
* ``.edf``, ``.bdf``: an EDF/BDF record (:mod:`ecgml.data.formats`), with its
  own rate, lead names and, where the table has no age or sex, the file's.

The data folder given to ``ecgml prepare`` holds the table (or is the table
file itself). Labels come from 0/1 columns (option ``label_columns``; a record
may have several) or from one column of tokens (``label_column``, joined by
``label_separator``). The rate is a per-row column where the table has one
(``fs_column``, else a column named ``fs``, ``sampling_rate`` or
``sample_rate``), and option ``fs`` for the rows without one; a row whose rate
differs from ``fs`` is read at its own rate with a warning that names both
(:mod:`ecgml.data.readers.table_rows`). Optional columns give the record id
(``id_column``, else the file's stem), the patient (``patient_column``: folds
keep a patient's records together), the source's split (``split_column``:
``train`` / ``validation`` / ``test``, feeding ``task.split`` ``"standard"``
and ``"predefined"`` as PTB-XL's own reader does), and age and sex
(``age_column``, ``sex_column``) for the tabular input.

``units``: ``"mV"`` (the default) for millivolts; ``"normalised"`` for arrays
already scaled (z-scored, say). ecgml's preprocessing is the same for both
(filters are linear, so they act on scaled signals alike); what differs is
what a millivolt means: the hand-crafted baseline features measure amplitudes
in the signal's units, and a printout draws one unit as 1 mV (10 mm), so a
z-scored record's printout is not to scale.

Bad input is reported per record by ``ecgml prepare`` and the rest is read: a
missing or unreadable file, a wrong shape or lead count, NaN or inf samples, a
label value that is not 0 or 1, a rate that is missing or not positive, a
duplicate record id. A table without a column the options name is an error
that names it; so is a set of options that cannot work (no labels, no rate).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml.data.formats import RECORD_SUFFIXES
from ecgml.data.readers.base import READERS, Reader
from ecgml.data.readers.table_rows import (
    RATE_COLUMNS,
    as_list,
    check_fs_column,
    number,
    positions,
    rate_column,
    read_table,
    row_rate,
)
from ecgml.data.records import Record, RecordError, parse_age, parse_sex, read_record
from ecgml.data.signal_files import LAYOUTS, UNITS, read_signal_file
from ecgml.data.sources import FoundRecord, file_key, fingerprint

SUFFIXES = (".npy", ".csv", ".hea", *RECORD_SUFFIXES)
PARTS = ("train", "validation", "test")


@READERS.add
class TableReader(Reader):
    """Reads the records a label table names (module docstring).

    Args:
        table: the table's path relative to the data folder.
        file_column: the column naming each record's file, relative to the table.
        id_column: the column of record ids; ``None``: each file's stem.
        fs: the sampling rate in Hz of every record.
        fs_column: a column of per-row rates, which override ``fs`` where filled;
            ``None``: a column named ``fs``, ``sampling_rate`` or ``sample_rate``
            if the table has one; ``False``: none (every record at ``fs``).
        leads: names of the columns of ``.npy`` arrays (CSV and WFDB files name
            their own).
        layout: ``"time_first"`` or ``"leads_first"``, for ``.npy`` arrays.
        label_columns: 0/1 columns, one per label (the column name is the token).
        label_column: one column of label tokens joined by ``label_separator``.
        label_separator: what joins the tokens of ``label_column``.
        patient_column, split_column, age_column, sex_column: optional columns.
        units: ``"mV"`` or ``"normalised"``.
        held_out: the ``split_column`` values that form the standard split's test
            part (``task.split: "standard"``); the other parts are the run's folds.
            ``["validation", "test"]`` holds a validation part out as well, so
            that folds made in ``train`` choose thresholds and the validation
            part is scored once, as the PTB-XL benchmark does.
    """

    name = "table"

    @classmethod
    def example_options(cls) -> dict[str, Any]:
        return {"label_column": "dx", "fs": 100.0, "leads": ["I"]}

    def __init__(
        self,
        *,
        table: str = "labels.csv",
        file_column: str = "file",
        id_column: str | None = None,
        fs: float | None = None,
        fs_column: str | bool | None = None,
        leads: list[str] | tuple[str, ...] | None = None,
        layout: str = "time_first",
        label_columns: list[str] | tuple[str, ...] | None = None,
        label_column: str | None = None,
        label_separator: str = ",",
        patient_column: str | None = None,
        split_column: str | None = None,
        age_column: str | None = None,
        sex_column: str | None = None,
        units: str = "mV",
        held_out: list[str] | tuple[str, ...] = ("test",),
    ) -> None:
        label_columns = as_list(label_columns, "label_columns")
        leads = as_list(leads, "leads")
        if (label_columns is None) == (label_column is None):
            raise ValueError(
                "reader 'table' needs exactly one of the options label_columns "
                "(0/1 columns) and label_column (a column of label tokens)"
            )
        if label_columns is not None and not label_columns:
            raise ValueError("label_columns names no column")
        check_fs_column(fs_column)
        if fs is None and not fs_column:
            raise ValueError(
                "reader 'table' needs option fs (the sampling rate in Hz) or "
                "fs_column (a column of per-row rates)"
            )
        if fs is not None and not (isinstance(fs, int | float) and fs > 0):
            raise ValueError(f"fs must be a positive number, got {fs!r}")
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
        if units not in UNITS:
            raise ValueError(f"units must be one of {UNITS}, got {units!r}")
        if not label_separator:
            raise ValueError("label_separator must not be empty")
        held_out = as_list(held_out, "held_out") or ()
        if not held_out or set(held_out) - set(PARTS):
            raise ValueError(f"held_out must name some of {PARTS}, got {list(held_out)}")
        if leads is not None and len({n.lower() for n in leads}) != len(leads):
            raise ValueError(f"leads names a lead twice: {list(leads)}")
        self.table, self.file_column, self.id_column = table, file_column, id_column
        self.fs, self.fs_column, self.leads, self.layout = fs, fs_column, leads, layout
        self.label_columns, self.label_column = label_columns, label_column
        self.label_separator, self.units = label_separator, units
        self.patient_column, self.split_column = patient_column, split_column
        self.age_column, self.sex_column = age_column, sex_column
        self.held_out = held_out
        self.options = {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in {
                "table": table,
                "file_column": file_column,
                "id_column": id_column,
                "fs": fs,
                "fs_column": fs_column,
                "leads": leads,
                "layout": layout,
                "label_columns": label_columns,
                "label_column": label_column,
                "label_separator": label_separator,
                "patient_column": patient_column,
                "split_column": split_column,
                "age_column": age_column,
                "sex_column": sex_column,
                "units": units,
                "held_out": held_out,
            }.items()
        }
        self._patients: dict[str, str] = {}
        self._tables: list[Path] = []  # tables given as files rather than folders

    # -- the table ---------------------------------------------------------------

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the options name."""
        named = [
            self.file_column,
            self.id_column,
            self.fs_column,
            self.label_column,
            self.patient_column,
            self.split_column,
            self.age_column,
            self.sex_column,
            *(self.label_columns or ()),
        ]
        return tuple(dict.fromkeys(c for c in named if c))

    @property
    def signal_columns(self) -> tuple[str, ...]:
        """The columns prediction needs: the file, the id and the rate named by the
        options (new records need no labels, patients or split; age and sex are
        read where the table has them)."""
        return tuple(c for c in (self.file_column, self.id_column, self.fs_column) if c)

    def table_at(self, data: str | Path, columns: tuple[str, ...] | None = None) -> Path:
        """The table of a data folder (or the table file itself), resolved.

        Args:
            data: the folder or the table.
            columns: the columns it must have; ``None``: every one the options name.

        Raises:
            FileNotFoundError: no such folder or table.
            ValueError: the table lacks a column the options name.
        """
        data = Path(data)
        path = data if data.is_file() else data / self.table
        if not data.exists():
            raise FileNotFoundError(f"data directory not found: {data}")
        if not path.is_file():
            raise FileNotFoundError(f"no label table {self.table} in {data} (option table)")
        path = path.resolve()
        frame = read_table(path, path.stat().st_mtime_ns)
        rates = [c for c in frame.columns if c.strip().lower() in RATE_COLUMNS]
        if self.fs_column is None and len(rates) > 1:
            raise ValueError(
                f"label table {path} has several rate columns {rates}; name the one to "
                "use with option fs_column (or fs_column: false for none)"
            )
        missing = [
            c for c in (self.columns if columns is None else columns) if c not in frame.columns
        ]
        if missing:
            raise ValueError(
                f"label table {path} lacks column(s) {missing} that the reader "
                f"options name; it has {list(frame.columns)}"
            )
        return path

    def _frame(self, table: Path) -> pd.DataFrame:
        return read_table(table, table.stat().st_mtime_ns)

    def _locate(self, path: Path) -> tuple[Path, pd.Series]:
        """The table and row of a record file."""
        path = Path(path).resolve()
        candidates = [*self._tables, *(p / self.table for p in path.parents)]
        for table in candidates:
            if table.is_file():
                table = table.resolve()
                row = positions(table, table.stat().st_mtime_ns, self.file_column).get(str(path))
                if row is not None:
                    return table, self._frame(table).iloc[row]
        raise RecordError(path.stem, f"no label table ({self.table}) above {path} names it")

    def _record_id(self, row: pd.Series, path: Path) -> str:
        rid = row[self.id_column].strip() if self.id_column else ""
        return rid or path.stem

    def find(self, data_dirs, *, labelled: bool = True) -> list[FoundRecord]:
        """The files the tables name, found or not (a missing file is reported when it
        is read); each fingerprint holds the file's and its row's. ``labelled=False``:
        for prediction, from tables with only :attr:`signal_columns`."""
        found = []
        for data in data_dirs:
            table = self.table_at(data, None if labelled else self.signal_columns)
            if Path(data).is_file():
                self._tables.append(table)
            frame = self._frame(table)
            for _, row in frame.iterrows():
                name = row[self.file_column]
                path = (table.parent / name).resolve() if name else table.parent / "(no file)"
                rid = self._record_id(row, path)
                if self.patient_column and self.patient_column in row:
                    self._patients[rid] = row[self.patient_column].strip()
                key = fingerprint(path) if path.suffix == ".hea" else file_key(path)
                digest = hashlib.sha1("\x1f".join(row.astype(str)).encode()).hexdigest()[:12]
                folder = Path(name).parent.as_posix() if name else "."
                found.append(FoundRecord(path, folder, f"{key}|{digest}", name=rid))
        found.sort(key=lambda r: str(r.path))
        return found

    def find_inputs(self, item: str | Path) -> list[Path] | None:
        """For ``ecgml predict``: the files of a folder holding the table, or of the
        table file; ``None`` for anything else."""
        item = Path(item)
        if not (
            (item.is_dir() and (item / self.table).is_file())
            or (item.is_file() and item.suffix.lower() == ".csv")
        ):
            return None
        return [r.path for r in self.find([item], labelled=False)]

    def record_id_at(self, path: str | Path) -> str:
        try:
            _, row = self._locate(Path(path))
        except RecordError:
            return Path(path).stem
        return self._record_id(row, Path(path))

    # -- one record ---------------------------------------------------------------

    def _labels(self, row: pd.Series, rid: str) -> tuple[str, ...]:
        if self.label_column is not None:
            tokens = (t.strip() for t in row[self.label_column].split(self.label_separator))
            return tuple(dict.fromkeys(t for t in tokens if t))
        labels = []
        for column in self.label_columns:
            value = number(row[column])
            if value not in (0.0, 1.0):
                raise RecordError(
                    rid, f"label column {column} holds {row[column]!r}, expected 0 or 1"
                )
            if value == 1.0:
                labels.append(column)
        return tuple(labels)

    def _record(self, path: Path, *, labelled: bool) -> Record:
        path = Path(path)
        _, row = self._locate(path)
        rid = self._record_id(row, path)
        if not path.is_file():
            raise RecordError(rid, f"file not found: {path}")
        fs, warnings = row_rate(row, rid, fs=self.fs, fs_column=self.fs_column)
        dx = self._labels(row, rid) if labelled else ()
        if path.suffix.lower() in (".hea", *RECORD_SUFFIXES):  # files that say their rate
            record = read_record(path)
            if fs is not None and fs != record.header.fs:
                raise RecordError(
                    rid, f"the table gives {fs:g} Hz, its header {record.header.fs:g} Hz"
                )
            meta = self._meta(row)
            if path.suffix.lower() != ".hea":  # the file's age and sex where the table has none
                meta = {k: getattr(record.header, k) if v is None else v for k, v in meta.items()}
            header = dataclasses.replace(record.header, record_id=rid, dx=dx, **meta)
            return dataclasses.replace(record, header=header, warnings=record.warnings + warnings)
        if fs is None:
            column = rate_column(row.index, self.fs_column) or "the rate column"
            raise RecordError(rid, f"no rate: {column} is empty and option fs unset")
        record = read_signal_file(
            path,
            rid,
            fs=fs,
            leads=self.leads,
            layout=self.layout,
            units=self.units,
            dx=dx,
            **self._meta(row),
        )
        return dataclasses.replace(record, warnings=warnings)

    def _meta(self, row: pd.Series) -> dict[str, Any]:
        # a table of new records for prediction may leave them out
        age = parse_age(row.get(self.age_column, "")) if self.age_column else None
        sex = parse_sex(row.get(self.sex_column, "")) if self.sex_column else None
        return {"age": age, "sex": sex}

    def read(self, path: str | Path) -> Record:
        return self._record(Path(path), labelled=True)

    def read_signal(self, path: str | Path) -> Record:
        """The record for prediction: its labels are not read."""
        return self._record(Path(path), labelled=False)

    def metadata(self, path: str | Path) -> dict[str, Any]:
        """Age and sex from the table's columns (height, weight and notes unknown)."""
        try:
            _, row = self._locate(Path(path))
        except RecordError:
            return {"age": None, "sex": None, "height": None, "weight": None, "notes": ""}
        return {**self._meta(row), "height": None, "weight": None, "notes": ""}

    def patient(self, record_id: str, folder: str) -> str:
        return self._patients.get(record_id, "")

    def _part(self, path: str | Path) -> str | None:
        if not self.split_column:
            raise ValueError("reader 'table' has no split without option split_column")
        _, row = self._locate(Path(path))
        part = row[self.split_column].strip().lower()
        return part if part in PARTS else None

    def standard_split_at(self, path: str | Path) -> str | None:
        """Rows of a ``held_out`` part are the test part, the others the training
        part (the run's folds)."""
        part = self._part(path)
        return None if part is None else ("test" if part in self.held_out else "train")

    def predefined_split_at(self, path: str | Path) -> str | None:
        """The table's own ``train`` / ``validation`` / ``test``."""
        return self._part(path)
