"""``ecgml convert``: any record ecgml reads, written as WFDB or as arrays with a
label table, with a report of what was converted and what was skipped and why.

Inputs are files or folders (walked recursively): WFDB headers and files of any
registered format (:mod:`ecgml.data.formats`), an HDF5 cohort giving one record
per tracing. Output:

* ``wfdb``: ``ID.hea`` and ``ID.mat`` per record (the CinC layout of
  :func:`~ecgml.data.records.write_record`: int16 at 1000 steps a millivolt, so
  1 uV resolution and +-32.7 mV range), age and sex in the header;
* ``npy``: ``signals/ID.npy`` (float32 millivolts, time first) per record and
  ``labels.csv`` with ``record_id, file, fs, leads, age, sex, source``. The
  ``table`` reader takes it back with option ``leads`` where every row has the
  same leads.

A record that cannot be read, or whose id another record already took, is
skipped with its reason; the rest go on. ``convert_report.json`` lists both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ecgml.data.formats import RECORD_SUFFIXES, MissingExtra, hdf5, read_records
from ecgml.data.record_types import Record, RecordError
from ecgml.files import atomic_write

__all__ = ["REPORT", "TARGETS", "convert", "input_files"]

TARGETS = ("wfdb", "npy")
REPORT = "convert_report.json"
_SUFFIXES = (".hea", *RECORD_SUFFIXES, *hdf5.SUFFIXES)


def input_files(inputs: Sequence[str | Path]) -> list[Path]:
    """The files to convert: those named, and every readable file in the folders.

    Raises:
        FileNotFoundError: an input does not exist.
    """
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            for dirpath, dirnames, names in os.walk(item):
                dirnames.sort()
                files += [
                    Path(dirpath, n) for n in sorted(names) if Path(n).suffix.lower() in _SUFFIXES
                ]
        elif item.is_file():
            files.append(item)
        else:
            raise FileNotFoundError(f"no file or folder at {item}")
    return list(dict.fromkeys(p.resolve() for p in files))


def _records(path: Path, hdf5_options: dict[str, Any]) -> Iterator[Record | RecordError]:
    """The records of one file, or the reason it gives none."""
    from ecgml.data.records import read_record

    try:
        if path.suffix.lower() == ".hea":
            yield read_record(path)
        elif path.suffix.lower() in hdf5.SUFFIXES:
            yield from read_records(path, **hdf5_options)
        else:
            yield from read_records(path)
    except (RecordError, MissingExtra) as exc:
        yield exc if isinstance(exc, RecordError) else RecordError(path.stem, str(exc))


def _write(record: Record, out: Path, to: str) -> dict[str, Any]:
    from ecgml.data.records import write_record

    h = record.header
    if to == "wfdb":
        write_record(out, h.record_id, record.signal, h.fs, h.lead_names, age=h.age, sex=h.sex)
        return {"file": f"{h.record_id}.hea"}
    file = f"signals/{h.record_id}.npy"
    (out / "signals").mkdir(parents=True, exist_ok=True)
    np.save(out / file, record.signal.astype(np.float32))
    return {"file": file, "fs": h.fs, "leads": " ".join(h.lead_names), "age": h.age, "sex": h.sex}


def convert(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    to: str = "wfdb",
    hdf5_options: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Convert every record ``inputs`` hold (module docstring); the report.

    Args:
        inputs: files and folders.
        out: the output folder (created).
        to: ``"wfdb"`` or ``"npy"``.
        hdf5_options: options of :func:`~ecgml.data.formats.hdf5.read_hdf5`
            (``fs``, ``units``, ``leads``, ``tracings``, ``ids``).
        progress: show a progress bar over the input files.

    Raises:
        ValueError: ``to`` is not a target.
        FileNotFoundError: an input does not exist.
    """
    if to not in TARGETS:
        raise ValueError(f"--to must be one of {TARGETS}, got {to!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = input_files(inputs)
    converted, skipped, rows, seen = [], [], [], set()
    for path in tqdm(files, desc="convert", unit="file", disable=not progress):
        for record in _records(path, hdf5_options or {}):
            if isinstance(record, RecordError):
                skipped.append(
                    {"path": str(path), "record_id": record.record, "reason": record.problem}
                )
                continue
            rid = record.header.record_id
            if rid in seen:
                reason = "duplicated record id (an earlier file gave it)"
                skipped.append({"path": str(path), "record_id": rid, "reason": reason})
                continue
            seen.add(rid)
            written = _write(record, out, to)
            converted.append({"record_id": rid, "from": str(path), **written})
            rows.append({"record_id": rid, **written, "source": str(path)})
    if to == "npy":
        columns = ["record_id", "file", "fs", "leads", "age", "sex", "source"]
        table = pd.DataFrame(rows, columns=columns)
        atomic_write(out / "labels.csv", lambda p: table.to_csv(p, index=False))
    report = {
        "to": to,
        "files": len(files),
        "converted": len(converted),
        "skipped": skipped,
        "records": converted,
    }
    atomic_write(out / REPORT, lambda p: p.write_text(json.dumps(report, indent=2) + "\n"))
    return report
