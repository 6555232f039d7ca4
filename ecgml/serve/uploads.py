"""Uploaded files to records on disk, trusting nothing the client sent.

Every file lands in one temporary folder under a checked name: the base name of
what the client called it, letters, digits, ``.``, ``_`` and ``-`` only. A zip is
unpacked by the same rule (its folders are dropped), within a cap on the unpacked
size. Each header must name only plain signal files that were uploaded with it,
and every uploaded file must belong to a header, so a header cannot point the
reader at a file outside the folder. A problem is an :class:`UploadError` with an
HTTP status and a message for a person.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

from ecgml.data.records import RecordError, read_header

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
ARRAY_SUFFIXES = (".npy", ".csv")
HOW = "upload a record's .hea header with the .mat or .dat signal file it names, or a .zip of them"


class UploadError(ValueError):
    """A bad upload: ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def safe_name(filename: str | None) -> str:
    """The base name of a client's file name, if it is a plain name.

    Raises:
        UploadError: no name, or one with other characters.
    """
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not SAFE_NAME.fullmatch(base):
        raise UploadError(
            f"file name {filename!r} is not accepted: use letters, digits, '.', '_' and '-'"
        )
    return base


def _unzip(name: str, data: bytes, *, max_bytes: int, max_files: int) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UploadError(f"{name} is not a valid zip file") from None
    members = [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith("__MACOSX/")
        and not info.filename.rsplit("/", 1)[-1].startswith(".")
    ]
    if len(members) > max_files:
        raise UploadError(f"{name} holds {len(members)} files; at most {max_files} are accepted")
    if sum(info.file_size for info in members) > max_bytes:
        raise UploadError(f"{name} unpacks to more than {max_bytes / 1e6:g} MB", status=413)
    files: dict[str, bytes] = {}
    for info in members:
        if info.flag_bits & 0x1:
            raise UploadError(f"{name} is encrypted")
        base = safe_name(info.filename)
        if base.lower().endswith(".zip"):
            raise UploadError(f"{name} holds another zip ({base}); upload records, not nested zips")
        with archive.open(info) as member:
            content = member.read(max_bytes + 1)  # the sizes in a zip's directory can lie
        if len(content) > max_bytes:
            raise UploadError(f"{name} unpacks to more than {max_bytes / 1e6:g} MB", status=413)
        if base in files:
            raise UploadError(f"{name} holds two files named {base}")
        files[base] = content
    return files


def stage_uploads(
    uploads: Iterable[tuple[str | None, bytes]],
    folder: Path,
    *,
    max_bytes: int = 100_000_000,
    max_files: int = 200,
    companions: tuple[str, ...] = (),
    arrays: bool = False,
    records: tuple[str, ...] = (),
) -> list[Path]:
    """Write uploaded files into ``folder`` and return the header of each record
    (and, with ``arrays``, each ``.npy`` or ``.csv`` signal file, a record of its own;
    and each file with one of the ``records`` suffixes: an EDF, DICOM or XML export,
    :mod:`ecgml.data.formats`).

    Args:
        uploads: ``(client file name, content)`` pairs; ``.zip`` files are unpacked.
        folder: an empty temporary folder.
        max_bytes: most bytes all files may hold, zips unpacked.
        max_files: most files, zips unpacked.
        companions: extensions of files that may come with a record beside its
            signal files (``("atr",)``: a beat run's annotations), named
            ``RECORD.EXT`` after an uploaded header.
        arrays: take ``.npy`` and ``.csv`` signal files as records without a header
            (read with :func:`ecgml.data.signal_files.read_signal_file`).

    Raises:
        UploadError: no files; a name that is not a plain file name; a bad or
            oversized zip; a header that does not parse or names a signal file that
            is missing or not a plain name; a file no header names.
    """
    files = _gathered(uploads, max_bytes=max_bytes, max_files=max_files)
    headers = sorted(name for name in files if name.endswith(".hea"))
    signal_files = sorted(n for n in files if arrays and n.lower().endswith(ARRAY_SUFFIXES))
    signal_files += sorted(n for n in files if records and n.lower().endswith(records))
    if not headers and not signal_files:
        others = (ARRAY_SUFFIXES if arrays else ()) + records
        arrays_too = f", or {' or '.join(others)} files" if others else ""
        raise UploadError(f"no header (.hea) among {sorted(files)}: {HOW}{arrays_too}")
    for name, content in files.items():
        (folder / name).write_bytes(content)
    used = set(headers) | set(signal_files) | _signal_files_named(folder, headers, files)
    stems = {name[: -len(".hea")] for name in headers}
    used |= {f"{stem}.{ext}" for stem in stems for ext in companions} & set(files)
    stray = sorted(set(files) - used)
    if stray:
        raise UploadError(
            f"{', '.join(stray)}: no uploaded header names "
            f"{'it' if len(stray) == 1 else 'them'}; {HOW}"
        )
    return [folder / name for name in headers + signal_files]


def _gathered(
    uploads: Iterable[tuple[str | None, bytes]], *, max_bytes: int, max_files: int
) -> dict[str, bytes]:
    """Every uploaded file by its plain name, zips unpacked, within the limits."""
    files: dict[str, bytes] = {}
    for filename, data in uploads:
        if not filename and not data:
            continue  # an empty file field
        name = safe_name(filename)
        found = (
            _unzip(name, data, max_bytes=max_bytes, max_files=max_files)
            if name.lower().endswith(".zip")
            else {name: data}
        )
        for base, content in found.items():
            if base in files:
                raise UploadError(f"two files named {base} in the upload")
            files[base] = content
    if not files:
        raise UploadError(f"no files in the upload: {HOW}")
    if len(files) > max_files:
        raise UploadError(f"{len(files)} files uploaded; at most {max_files} are accepted")
    if sum(map(len, files.values())) > max_bytes:
        raise UploadError(f"the upload holds more than {max_bytes / 1e6:g} MB", status=413)
    return files


def _signal_files_named(folder: Path, headers: list[str], files: dict[str, bytes]) -> set[str]:
    """The signal files the staged headers name, each a plain name that was uploaded."""
    named = set()
    for name in headers:
        try:
            header = read_header(folder / name)
        except RecordError as exc:
            raise UploadError(str(exc)) from None
        for signal_file in header.signal_files:
            if not SAFE_NAME.fullmatch(signal_file):
                raise UploadError(
                    f"record {header.record_id}: its header names signal file "
                    f"{signal_file!r}, which is not a plain file name"
                )
            if signal_file not in files:
                raise UploadError(
                    f"record {header.record_id}: its header names signal file "
                    f"{signal_file}, which was not uploaded; {HOW}"
                )
            named.add(signal_file)
    return named
