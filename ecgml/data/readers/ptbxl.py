"""PTB-XL: 21,799 12-lead records of 18,869 patients with SCP-ECG statements.

PTB-XL (Wagner et al., 2020) is read in the layout it is distributed in::

    ptbxl_database.csv       one row per record (columns below)
    scp_statements.csv       the 71 statements: diagnostic / form / rhythm flags,
                             diagnostic class (superclass) and subclass
    records500/00000/00001_hr.hea, .dat   10 s at 500 Hz (``filename_hr``)
    records100/00000/00001_lr.hea, .dat   the same at 100 Hz (``filename_lr``)

The data folder given to ``ecgml prepare`` is the one holding
``ptbxl_database.csv``. Only the records that file names are read, at the
resolution of reader option ``rate`` (500 or 100).

Labels come from ``scp_codes`` (a dict of statement and likelihood, 0-100):
statements below option ``min_likelihood`` are dropped, and the rest aggregated
as in the PTB-XL benchmark (Strodthoff et al., 2021) by option ``labels``:

* ``"all"``: every statement;
* ``"diagnostic"``: the diagnostic statements;
* ``"subclass"``: their diagnostic subclass (23);
* ``"superclass"``: their diagnostic class: NORM, MI, STTC, CD, HYP;
* ``"form"``, ``"rhythm"``: the form or rhythm statements.

Metadata kept: ``age`` (PTB-XL writes 300 for patients over 89: read as 90),
``sex`` (0 male, 1 female), ``height`` (cm), ``weight`` (kg), ``report`` (as the
record's notes) and ``patient_id`` (folds keep a patient's records together).
``strat_fold`` (1-10) gives the benchmark's splits: ``task.split: "standard"``
holds fold 10 out as the test part and makes the run's folds in 1-9;
``"predefined"`` trains on 1-8, validates on 9 and tests on 10, in one fold.

Bad input is reported per record by ``ecgml prepare`` and the rest is read: a
missing record file, an unparsable ``scp_codes``. A statement the statement
table does not have is left out of the labels with a warning. A database file
without a needed column is an error that names the columns.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from functools import cache
from pathlib import Path

import pandas as pd

from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, RecordError, read_record
from ecgml.data.sources import FoundRecord, file_key, fingerprint

DATABASE = "ptbxl_database.csv"
STATEMENTS = "scp_statements.csv"
COLUMNS = (
    "ecg_id",
    "patient_id",
    "age",
    "sex",
    "height",
    "weight",
    "report",
    "scp_codes",
    "strat_fold",
    "filename_lr",
    "filename_hr",
)
STATEMENT_COLUMNS = ("diagnostic", "form", "rhythm", "diagnostic_class", "diagnostic_subclass")
AGGREGATIONS = ("all", "diagnostic", "subclass", "superclass", "form", "rhythm")
SUPERCLASSES = {
    "NORM": "normal ECG",
    "MI": "myocardial infarction",
    "STTC": "ST/T change",
    "CD": "conduction disturbance",
    "HYP": "hypertrophy",
}
RATES = (500, 100)
_AGE_OVER_89 = 300  # PTB-XL's code for ages above 89 (de-identification)
_UNKNOWN = "unknown statement "


@cache
def _read_statements(path: Path, mtime_ns: int) -> pd.DataFrame:
    table = pd.read_csv(path, index_col=0)
    missing = [c for c in STATEMENT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(table.columns)}")
    return table


@cache
def _read_database(path: Path, mtime_ns: int) -> pd.DataFrame:
    table = pd.read_csv(
        path, dtype={"scp_codes": str, "report": str, "filename_lr": str, "filename_hr": str}
    )
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path} lacks column(s) {missing}; it has {list(table.columns)}")
    return table


@cache
def _positions(path: Path, mtime_ns: int, column: str) -> dict[str, int]:
    """Row positions of the database by a file-name column, for lookups in O(1)."""
    names = _read_database(path, mtime_ns)[column]
    return {name: k for k, name in enumerate(names) if isinstance(name, str)}


def statement_labels(statements: pd.DataFrame, aggregation: str) -> dict[str, tuple[str, ...]]:
    """Each statement's labels under an aggregation (``()`` for a statement it leaves out)."""

    def flag(code: str, column: str) -> bool:
        return statements.at[code, column] == 1.0

    out: dict[str, tuple[str, ...]] = {}
    for code in statements.index:
        if aggregation == "all":
            out[code] = (code,)
        elif aggregation in ("diagnostic", "form", "rhythm"):
            out[code] = (code,) if flag(code, aggregation) else ()
        else:
            column = "diagnostic_class" if aggregation == "superclass" else "diagnostic_subclass"
            value = statements.at[code, column]
            out[code] = (str(value),) if flag(code, "diagnostic") and isinstance(value, str) else ()
    return out


def parse_scp_codes(text: str) -> dict[str, float]:
    """``scp_codes`` (``"{'NORM': 100.0, 'SR': 0.0}"``) as ``{statement: likelihood}``.

    Raises:
        ValueError: the text is not such a dict.
    """
    try:
        codes = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        codes = None
    if not isinstance(codes, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) for k, v in codes.items()
    ):
        raise ValueError(f"scp_codes {text!r} is not a dict of statement to likelihood")
    return {k: float(v) for k, v in codes.items()}


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


@READERS.add
class PtbxlReader(Reader):
    """Reads PTB-XL records and their statements (module docstring).

    Args:
        rate: 500 (``records500``, ``filename_hr``) or 100 (``records100``).
        labels: the aggregation of the statements (:data:`AGGREGATIONS`).
        min_likelihood: statements with a lower likelihood (0-100) are dropped.
    """

    name = "ptbxl"

    def __init__(
        self, *, rate: int = 500, labels: str = "superclass", min_likelihood: float = 0.0
    ) -> None:
        if rate not in RATES:
            raise ValueError(f"rate must be one of {RATES}, got {rate!r}")
        if labels not in AGGREGATIONS:
            raise ValueError(f"labels must be one of {AGGREGATIONS}, got {labels!r}")
        if not isinstance(min_likelihood, int | float) or not 0 <= min_likelihood <= 100:
            raise ValueError(f"min_likelihood must be in [0, 100], got {min_likelihood!r}")
        self.rate, self.labels, self.min_likelihood = rate, labels, float(min_likelihood)
        self.options = {"rate": rate, "labels": labels, "min_likelihood": self.min_likelihood}
        self._patients: dict[str, str] = {}

    @property
    def _column(self) -> str:
        return "filename_hr" if self.rate == 500 else "filename_lr"

    def database(self, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``root``'s database and statement tables.

        Raises:
            FileNotFoundError: either file is missing.
            ValueError: either lacks a needed column.
        """
        tables = []
        for name, read in ((DATABASE, _read_database), (STATEMENTS, _read_statements)):
            path = (root / name).resolve()
            if not path.is_file():
                raise FileNotFoundError(f"no {name} in {root}: give the PTB-XL folder itself")
            tables.append(read(path, path.stat().st_mtime_ns))
        return tables[0], tables[1]

    def find(self, data_dirs) -> list[FoundRecord]:
        """The records ``ptbxl_database.csv`` names, found or not (a missing file is
        reported when it is read); the tables are part of each fingerprint."""
        found = []
        for data_dir in data_dirs:
            root = Path(data_dir).resolve()
            if not root.is_dir():
                raise FileNotFoundError(f"data directory not found: {data_dir}")
            database, _ = self.database(root)
            tables = f"{file_key(root / DATABASE)}|{file_key(root / STATEMENTS)}"
            for name, patient in zip(database[self._column], database["patient_id"], strict=True):
                path = root / f"{name}.hea"
                number = _number(patient)
                self._patients[path.stem] = "" if number is None else f"ptbxl{int(number)}"
                folder = Path(name).parent.as_posix()
                found.append(FoundRecord(path, folder, f"{fingerprint(path)}|{tables}"))
        found.sort(key=lambda r: str(r.path))
        return found

    def _root(self, path: Path) -> Path:
        for parent in path.resolve().parents:
            if (parent / DATABASE).is_file():
                return parent
        raise RecordError(path.stem, f"no {DATABASE} in any folder above {path}")

    def _row(self, path: Path) -> tuple[pd.Series, pd.DataFrame]:
        path = Path(path).with_suffix("")
        root = self._root(path)
        database, statements = self.database(root)
        key = path.resolve().relative_to(root).as_posix()
        table = (root / DATABASE).resolve()
        position = _positions(table, table.stat().st_mtime_ns, self._column).get(key)
        if position is None:
            raise RecordError(path.name, f"{DATABASE} has no row with {self._column} {key}")
        return database.iloc[position], statements

    def read(self, path: str | Path) -> Record:
        path = Path(path)
        row, statements = self._row(path)
        if not path.with_suffix(".hea").is_file():
            raise RecordError(path.stem, f"record file not found: {path.with_suffix('.hea')}")
        try:
            codes = parse_scp_codes(str(row["scp_codes"]))
        except ValueError as exc:
            raise RecordError(path.stem, str(exc)) from None
        aggregated = statement_labels(statements, self.labels)
        labels: list[str] = []
        for code, likelihood in codes.items():
            if code not in aggregated:
                labels.append(_UNKNOWN + code)  # warned about, and matches no class
            elif likelihood >= self.min_likelihood:
                labels += [label for label in aggregated[code] if label not in labels]
        record = read_record(path)
        header = dataclasses.replace(record.header, dx=tuple(labels), **self.metadata(path))
        return dataclasses.replace(record, header=header)

    def metadata(self, path: str | Path) -> dict:
        """From ``ptbxl_database.csv`` where the record is in a PTB-XL folder, else
        from its header."""
        try:
            row, _ = self._row(Path(path))
        except RecordError:
            return super().metadata(path)
        age = _number(row["age"])
        return {
            "age": 90.0 if age == _AGE_OVER_89 else age,
            "sex": {0.0: "Male", 1.0: "Female"}.get(_number(row["sex"])),
            "height": _number(row["height"]),
            "weight": _number(row["weight"]),
            "notes": "" if pd.isna(row["report"]) else str(row["report"]),
        }

    def label_warnings(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t.removeprefix(_UNKNOWN) for t in labels if t.startswith(_UNKNOWN)]
        warnings = [f"statement(s) {unknown} not in {STATEMENTS}; left out"] if unknown else []
        if len(unknown) == len(labels):
            warnings.append(f"no statement of the '{self.labels}' labels")
        return tuple(warnings)

    def source(self, record_id: str, folder: str) -> str:
        return "PTB-XL"

    def patient(self, record_id: str, folder: str) -> str:
        return self._patients.get(record_id, "")

    def label_name(self, label: str) -> str:
        return SUPERCLASSES.get(label, label)

    def _strat_fold(self, path: str | Path) -> int:
        row, _ = self._row(Path(path))
        fold = _number(row["strat_fold"])
        if fold is None or not 1 <= fold <= 10:
            raise ValueError(f"{Path(path).stem}: strat_fold {row['strat_fold']!r} is not 1-10")
        return int(fold)

    def standard_split_at(self, path: str | Path) -> str | None:
        """``strat_fold`` 10 is the test part, 1-9 the training part (the run's folds)."""
        return "test" if self._strat_fold(path) == 10 else "train"

    def predefined_split_at(self, path: str | Path) -> str | None:
        """The benchmark's split: ``strat_fold`` 1-8 train, 9 validation, 10 test."""
        return {9: "validation", 10: "test"}.get(self._strat_fold(path), "train")
