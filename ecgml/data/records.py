"""Reading and writing WFDB records in the PhysioNet/CinC Challenge style.

A CinC 2020/2021 record is a WFDB header (``A0001.hea``) and a signal file, a
MATLAB v4 ``.mat`` holding an int16 matrix ``val`` of shape (leads, samples)
that the header addresses as format 16 with a 24-byte offset. Plain WFDB
``.dat`` signal files read the same way. Header comments carry the metadata::

    #Age: 74
    #Sex: Male
    #Dx: 164889003,59118001      (SNOMED-CT codes; early 2020 files: "#Dx: RBBB")

This module and :mod:`ecgml.data.annotations` (beat annotations, the beat
detector) are the only ones that import ``wfdb``. The types it gives
(:class:`Record`, :class:`RecordHeader`, :class:`RecordError`) live in
:mod:`ecgml.data.record_types`, and are importable from here too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import scipy.io
import wfdb

from ecgml.data.labels import normalise_dx
from ecgml.data.record_types import Record, RecordError, RecordHeader

# Bytes before the data in a MATLAB v4 file holding one int16 matrix named "val".
_MAT_V4_OFFSET = 24
_UNIT_SCALE_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "v": 1e3}


def _parse_comments(comments: Sequence[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for line in comments:
        key, sep, value = line.partition(":")
        if sep:
            parsed[key.strip().lower()] = value.strip()
    return parsed


def parse_age(value: str | None) -> float | None:
    """A non-negative number (an age, a height, a weight), else ``None``."""
    try:
        age = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return None if math.isnan(age) or age < 0 else age


def parse_sex(value: str | None) -> str | None:
    key = (value or "").strip().lower()
    if key in ("male", "m"):
        return "Male"
    if key in ("female", "f"):
        return "Female"
    return None


def _record_stem(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".hea", ".mat", ".dat") else path


def _record_line(header_path: Path) -> str | None:
    """The header's record line (its first line that is not a comment)."""
    with open(header_path, encoding="ascii", errors="ignore") as f:
        for line in f:
            if line.strip() and not line.lstrip().startswith("#"):
                return line.rstrip("\r\n")
    return None


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(r"\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")


def _repaired_record_line(line: str, record_id: str) -> str | None:
    """The record line with known quirks fixed, or ``None`` if it has none.

    * Some CinC 2021 headers (the Georgia set) name the record ``E00271.mat``.
    * The CinC 2017 headers give an ISO date before the time
      (``A00001 1 300 9000 2014-05-08 05:05:15``); WFDB wants the time first and
      the date as ``DD/MM/YYYY``.

    wfdb rejects both.
    """
    fields = line.split()
    if not fields:
        return None
    changed = False
    name = Path(fields[0])
    if name.suffix in (".mat", ".dat") and name.stem == record_id:
        fields[0], changed = record_id, True
    if len(fields) >= 6 and (date := _ISO_DATE.fullmatch(fields[4])) and _TIME.fullmatch(fields[5]):
        year, month, day = date.groups()
        fields[4:6] = [fields[5], f"{day}/{month}/{year}"]
        changed = True
    return " ".join(fields) if changed else None


@contextlib.contextmanager
def _wfdb_readable(stem: Path) -> Iterator[Path]:
    """The record path to hand to wfdb, repairing known header quirks.

    For a header with a quirk (:func:`_repaired_record_line`), wfdb reads a
    corrected copy in a temporary folder, beside links to the signal files.
    """
    header_path = stem.with_suffix(".hea")
    line = _record_line(header_path)
    repaired = None if line is None else _repaired_record_line(line, stem.name)
    if repaired is None:
        yield stem
        return
    with tempfile.TemporaryDirectory(prefix="ecgml-hea-") as tmp:
        text = header_path.read_text(encoding="ascii", errors="ignore")
        Path(tmp, stem.name + ".hea").write_text(text.replace(line, repaired, 1))
        for suffix in (".mat", ".dat"):
            if stem.with_suffix(suffix).exists():
                os.symlink(stem.with_suffix(suffix).resolve(), Path(tmp, stem.name + suffix))
        yield Path(tmp, stem.name)


def _other_format(path: str | Path) -> Record | None:
    """The record of a file in a registered one-record format (EDF, BDF, DICOM,
    the XML formats: :mod:`ecgml.data.formats`; a DICOM or EDF file without an
    extension, by its first bytes; one tracing of an HDF5 cohort file as
    ``FILE.hdf5::ID``, at 400 Hz in mV); ``None`` for a WFDB path."""
    from ecgml.data.formats import is_record_file, read_one
    from ecgml.data.formats.hdf5 import read_tracing, tracing_of

    if tracing_of(path) is not None:  # one tracing of a cohort file, FILE.hdf5::ID
        record = read_tracing(path)
        said = "HDF5 declares no rate or unit: read at 400 Hz in mV, as CODE-15 % is"
        return dataclasses.replace(record, warnings=(*record.warnings, said))
    if not is_record_file(path):
        return None
    return read_one(path)


def _checked_other(record: Record) -> Record:
    """A record of another format held to what :func:`read_record` checks of WFDB ones."""
    rid = record.header.record_id
    if not record.signal.size:
        raise RecordError(rid, "zero length (no samples)")
    if not np.isfinite(record.signal).all():
        raise RecordError(rid, "the signal has NaN or infinite samples")
    return record


def read_header(path: str | Path) -> RecordHeader:
    """Parse a record's header.

    Args:
        path: the ``.hea`` file, or the record path without extension.

    Raises:
        RecordError: the header is missing or does not parse.
    """
    if (other := _other_format(path)) is not None:
        return other.header
    stem = _record_stem(path)
    record_id = stem.name
    header_path = stem.with_suffix(".hea")
    if not header_path.is_file():
        raise RecordError(record_id, f"header file not found: {header_path}")
    try:
        with _wfdb_readable(stem) as readable:
            header = wfdb.rdheader(str(readable))
    except Exception as exc:  # wfdb raises many types for a malformed header
        raise RecordError(record_id, f"header does not parse: {exc}") from exc
    if not header.sig_name or not header.fs:
        raise RecordError(record_id, "header names no signals or no sampling rate")
    comments = _parse_comments(header.comments or [])
    dx_field = comments.get("dx", "")
    dx = tuple(normalise_dx(t) for t in dx_field.split(",") if t.strip())
    return RecordHeader(
        record_id=record_id,
        path=header_path,
        fs=float(header.fs),
        n_samples=int(header.sig_len or 0),
        lead_names=tuple(header.sig_name),
        units=tuple(u or "mV" for u in (header.units or ["mV"] * header.n_sig)),
        signal_files=tuple(dict.fromkeys(header.file_name or [])),
        age=parse_age(comments.get("age")),
        sex=parse_sex(comments.get("sex")),
        dx=dx,
        comments=comments,
        height=parse_age(comments.get("height")),
        weight=parse_age(comments.get("weight")),
        notes=comments.get("notes", ""),
    )


def read_record(path: str | Path) -> Record:
    """Read a record's header and signal, in millivolts.

    Args:
        path: the ``.hea`` file, or the record path without extension; or a file
            in another one-record format (``.edf``, ``.bdf``: :mod:`ecgml.data.formats`).

    Raises:
        RecordError: the header does not parse; the signal file is missing,
            truncated or unreadable; the record has no samples; a sample is
            NaN or infinite; a unit is not a voltage.
    """
    if (other := _other_format(path)) is not None:
        return _checked_other(other)
    header = read_header(path)
    rid = header.record_id
    if header.n_samples <= 0:
        raise RecordError(rid, "zero length (the header gives no samples)")
    for name in header.signal_files:
        if not (header.path.parent / name).is_file():
            raise RecordError(rid, f"signal file not found: {header.path.parent / name}")
    scales = []
    for unit in header.units:
        scale = _UNIT_SCALE_TO_MV.get(unit.strip().lower())
        if scale is None:
            raise RecordError(rid, f"unit {unit!r} is not a voltage (expected mV, uV or V)")
        scales.append(scale)
    try:
        with _wfdb_readable(header.path.with_suffix("")) as readable:
            raw = wfdb.rdrecord(str(readable), physical=True, return_res=32)
    except Exception as exc:
        raise RecordError(rid, f"signal file unreadable or truncated: {exc}") from exc
    signal = raw.p_signal
    if signal is None or signal.shape != (header.n_samples, len(header.lead_names)):
        got = None if signal is None else signal.shape
        raise RecordError(
            rid,
            f"signal truncated: header promises {header.n_samples} samples x "
            f"{len(header.lead_names)} leads, file holds {got}",
        )
    signal = np.asarray(signal, dtype=np.float32) * np.asarray(scales, dtype=np.float32)
    bad = ~np.isfinite(signal)
    if bad.any():
        leads = sorted({header.lead_names[j] for j in np.nonzero(bad)[1]})
        raise RecordError(rid, f"{int(bad.sum())} NaN or infinite samples in leads {leads}")
    return Record(header=header, signal=signal)


def _wfdb_record(
    record_id: str,
    file_name: str,
    digital: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    comments: list[str],
    gain: float,
) -> wfdb.Record:
    """The wfdb record of int16 samples ``(n_samples, n_leads)`` stored in ``file_name``
    as format 16 (a ``.mat`` file's samples start after its MATLAB v4 header)."""
    n_sig = len(lead_names)
    offset = _MAT_V4_OFFSET if file_name.endswith(".mat") else None
    return wfdb.Record(
        record_name=record_id,
        n_sig=n_sig,
        fs=fs,
        sig_len=digital.shape[0],
        file_name=[file_name] * n_sig,
        fmt=["16"] * n_sig,
        byte_offset=[offset] * n_sig,
        adc_gain=[gain] * n_sig,
        baseline=[0] * n_sig,
        units=["mV"] * n_sig,
        adc_res=[16] * n_sig,
        adc_zero=[0] * n_sig,
        init_value=[int(v) for v in digital[0]],
        checksum=[int(c) for c in (digital.astype(np.int64).sum(axis=0) % 65536)],
        block_size=[0] * n_sig,
        sig_name=list(lead_names),
        d_signal=digital,
        comments=comments,
    )


def write_record(
    directory: str | Path,
    record_id: str,
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    *,
    dx: Sequence[str] = (),
    age: float | None = None,
    sex: str | None = None,
    signal_format: str = "mat",
    gain: float = 1000.0,
) -> Path:
    """Write a record in the CinC challenge layout.

    Args:
        directory: output folder (created if needed).
        record_id: record name, used for both file names.
        signal: shape ``(n_samples, n_leads)``, millivolts.
        fs: sampling rate in Hz.
        lead_names: one name per column of ``signal``.
        dx: diagnosis codes for the ``#Dx`` comment.
        age: years, or ``None`` (written as ``NaN``).
        sex: ``"Male"``, ``"Female"`` or ``None`` (written as ``Unknown``).
        signal_format: ``"mat"`` (MATLAB v4 ``val`` matrix, as the challenge
            distributed) or ``"dat"`` (WFDB format 16).
        gain: ADC units per mV; samples are stored as int16.

    Returns:
        The path of the written header.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 2 or signal.shape[1] != len(lead_names):
        raise ValueError(f"signal shape {signal.shape} does not match {len(lead_names)} lead names")
    if signal_format not in ("mat", "dat"):
        raise ValueError(f"signal_format must be 'mat' or 'dat', got {signal_format!r}")
    digital = np.clip(np.round(signal * gain), -32767, 32767).astype(np.int16)
    comments = [
        f"Age: {'NaN' if age is None else int(age)}",
        f"Sex: {sex or 'Unknown'}",
        f"Dx: {','.join(dx)}",
        "Rx: Unknown",
        "Hx: Unknown",
        "Sx: Unknown",
    ]
    file_name = f"{record_id}.{signal_format}"
    record = _wfdb_record(record_id, file_name, digital, fs, lead_names, comments, gain)
    record.wrheader(write_dir=str(directory))
    # wfdb writes "# Dx: ..."; CinC headers, and the challenge's scoring, use "#Dx: ...".
    header = directory / f"{record_id}.hea"
    header.write_text(
        "".join(
            "#" + line[2:] if line.startswith("# ") else line
            for line in header.read_text().splitlines(keepends=True)
        )
    )
    if signal_format == "mat":
        # Column-major (leads, samples) int16 is the interleaved format-16 layout.
        scipy.io.savemat(directory / file_name, {"val": digital.T}, format="4")
    else:
        record.wr_dats(expanded=False, write_dir=str(directory))
    return directory / f"{record_id}.hea"
