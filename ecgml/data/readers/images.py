"""ECG images (scans, photos, printouts) with a label table: reader ``images``.

Each data folder holds a CSV label table (``labels.csv`` by default, option
``table``) with a ``file`` column (a PNG or JPEG path relative to the folder)
and a ``labels`` column (label tokens separated by commas: SNOMED codes, or
the CPSC 2018 text labels ``AF``, ``I-AVB``, ``LBBB``, ``Normal``, ``PAC``,
``PVC``, ``RBBB``, mapped to their codes). An optional ``patient`` column
groups images into folds. A row naming a missing file, a file that is not a
PNG or JPEG, a corrupt image or one smaller than ``min_size`` pixels on a side
is reported by ``ecgml prepare`` and skipped; images the table does not name
are not read.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np

from ecgml.data.images import image_header, read_image
from ecgml.data.labels import normalise_dx
from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, RecordError
from ecgml.data.sources import FoundRecord, file_key

COLUMNS = ("file", "labels")


@cache
def _read_table(path: Path, mtime_ns: int) -> dict[str, tuple[tuple[str, ...], str]]:
    """``{file: (label tokens, patient)}``; the first row of a file wins."""
    with open(path, newline="") as f:
        rows = csv.DictReader(f)
        missing = [c for c in COLUMNS if c not in (rows.fieldnames or [])]
        if missing:
            raise ValueError(
                f"label table {path} lacks column(s) {missing}; it has {rows.fieldnames}"
            )
        table: dict[str, tuple[tuple[str, ...], str]] = {}
        for row in rows:
            name = (row["file"] or "").strip()
            if name and name not in table:
                tokens = tuple(
                    normalise_dx(t) for t in (row["labels"] or "").split(",") if t.strip()
                )
                table[name] = (tokens, (row.get("patient") or "").strip())
    return table


@READERS.add
class ImagesReader(Reader):
    """Reads image files named in a label table (module docstring)."""

    name = "images"

    def __init__(self, table: str = "labels.csv", min_size: int = 64) -> None:
        if min_size < 1:
            raise ValueError(f"min_size must be positive, got {min_size}")
        self.table, self.min_size = table, int(min_size)
        self.options = {"table": table, "min_size": self.min_size}
        self._patients: dict[str, str] = {}

    def _table(self, folder: Path) -> dict[str, tuple[tuple[str, ...], str]] | None:
        path = folder / self.table
        if not path.is_file():
            return None
        return _read_table(path.resolve(), path.stat().st_mtime_ns)

    def _entry(self, path: Path) -> tuple[tuple[str, ...], str] | None:
        for parent in path.resolve().parents:
            table = self._table(parent)
            if table is not None:
                return table.get(path.resolve().relative_to(parent).as_posix())
        return None

    def find(self, data_dirs) -> list[FoundRecord]:
        """The files each folder's label table names, in table order per folder.

        Raises:
            FileNotFoundError: a folder, or its label table, does not exist.
            ValueError: a table without the ``file`` and ``labels`` columns.
        """
        found = []
        for data_dir in data_dirs:
            root = Path(data_dir).resolve()
            if not root.is_dir():
                raise FileNotFoundError(f"data directory not found: {data_dir}")
            table = self._table(root)
            if table is None:
                raise FileNotFoundError(f"no label table {self.table} in {data_dir}")
            table_key = file_key(root / self.table)
            for name, (_, patient) in table.items():
                path = root / name
                self._patients[path.stem] = patient
                folder = (
                    path.parent.relative_to(root).as_posix() if path.parent != root else root.name
                )
                found.append(FoundRecord(path, folder, f"{file_key(path)}|{table_key}"))
        return found

    def read(self, path) -> Record:
        path = Path(path)
        record_id = path.stem
        entry = self._entry(path)
        if entry is None:
            raise RecordError(record_id, f"{path.name} is not in a label table {self.table}")
        try:
            image = read_image(path, self.min_size)
        except ValueError as exc:
            raise RecordError(record_id, str(exc)) from None
        size = f"{image.size[0]}x{image.size[1]}"
        header = image_header(path, record_id, dx=entry[0], comments={"size": size})
        return Record(header=header, signal=np.zeros((0, 0), np.float32), image=image)

    def patient(self, record_id: str, folder: str) -> str:
        """The table's ``patient`` column, where it has one (read by :meth:`find`)."""
        return self._patients.get(record_id, "")
