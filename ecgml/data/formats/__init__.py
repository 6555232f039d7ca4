"""Record files other than WFDB, one module per format, and the registry that tells
them apart.

Each format is recognised by its first bytes where it has a signature (EDF's
``0`` and seven spaces, BDF's ``\\xffBIOSEMI``, HDF5's ``\\x89HDF``, DICOM's
``DICM`` after a 128-byte preamble), else by its extension, and read to the
same :class:`~ecgml.data.record_types.Record` as a WFDB record: the signal in
millivolts, the rate, standard lead names (:mod:`ecgml.data.formats.leads`)
and the metadata the format carries. The libraries that read them are the
``formats`` extra (``pip install 'ecgml[formats]'``); without it, reading such
a file names the extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecgml.data.formats import cart_xml, dicom, edf, hdf5
from ecgml.data.formats.record import MissingExtra
from ecgml.data.record_types import Record, RecordError

__all__ = [
    "FORMATS",
    "RECORD_SUFFIXES",
    "Format",
    "MissingExtra",
    "format_of",
    "is_record_file",
    "read_one",
    "read_records",
]


@dataclass(frozen=True)
class Format:
    """A record file format.

    Attributes:
        name: its name in reports.
        suffixes: file extensions, lower case.
        signatures: ``(offset, bytes)`` that identify it whatever the extension.
        module: the library that reads it (the ``formats`` extra).
        read: ``(path, **options)`` to the file's records (one, or many for a
            cohort file); a record that cannot be used comes as a
            :class:`RecordError` in its place.
    """

    name: str
    suffixes: tuple[str, ...]
    signatures: tuple[tuple[int, bytes], ...]
    module: str
    read: Callable[..., Iterator[Record | RecordError]]


def _one(read: Callable[..., Record]) -> Callable[..., Iterator[Record | RecordError]]:
    def records(path: Path, **options: Any) -> Iterator[Record | RecordError]:
        yield read(path, **options)

    return records


FORMATS: dict[str, Format] = {
    "edf": Format(
        "EDF/BDF",
        edf.SUFFIXES,
        ((0, b"0       "), (0, b"\xffBIOSEMI")),
        "edfio",
        _one(edf.read_edf),
    ),
    "hdf5": Format("HDF5", hdf5.SUFFIXES, ((0, b"\x89HDF\r\n\x1a\n"),), "h5py", hdf5.read_hdf5),
    "dicom": Format(
        "DICOM", dicom.SUFFIXES, ((128, dicom.SIGNATURE),), "pydicom", _one(dicom.read_dicom)
    ),
    # GE MUSE and HL7 aECG: told apart by the root element once parsed
    "xml": Format("MUSE/aECG XML", cart_xml.SUFFIXES, (), "defusedxml", _one(cart_xml.read_xml)),
}


# the extensions of formats whose files hold one record each: what ecgml.data.records
# reads beside WFDB headers, and what ecgml predict takes in a folder
RECORD_SUFFIXES = (*edf.SUFFIXES, *dicom.SUFFIXES, *cart_xml.SUFFIXES)


def format_of(path: str | Path) -> str | None:
    """The name of the registered format of a file (by its first bytes, else its
    extension); ``None`` for a file no format here reads (WFDB, images, tables)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(136)
    except OSError:
        head = b""
    for name, fmt in FORMATS.items():
        if any(head[at : at + len(s)] == s for at, s in fmt.signatures):
            return name
    suffix = path.suffix.lower()
    return next((name for name, fmt in FORMATS.items() if suffix in fmt.suffixes), None)


def is_record_file(path: str | Path) -> bool:
    """Whether ``path`` is a file of a one-record format: by its extension, or, for
    a file without one (DICOM exports often have none), by its first bytes."""
    path = Path(path)
    if path.suffix.lower() in RECORD_SUFFIXES:
        return True
    return not path.suffix and path.is_file() and format_of(path) in ("dicom", "edf")


def read_records(path: str | Path, **options: Any) -> Iterator[Record | RecordError]:
    """The records of a file in a registered format (``options`` go to its reader);
    a cohort file's records are read as they are iterated.

    Raises:
        RecordError: no registered format reads the file, or the whole file is
            unusable.
        MissingExtra: the format's library is not installed.
    """
    path = Path(path)
    name = format_of(path)
    if name is None:
        raise RecordError(path.stem, f"{path.name} is in no format ecgml reads")
    fmt = FORMATS[name]
    try:
        __import__(fmt.module)
    except ImportError:
        raise MissingExtra(
            f"reading {fmt.name} files ({path.name}) needs {fmt.module}: "
            "pip install 'ecgml[formats]'"
        ) from None
    return fmt.read(path, **options)


def read_one(path: str | Path, **options: Any) -> Record:
    """The record of a file that holds one (EDF, or a one-record cohort file).

    Raises:
        RecordError: the file is unusable, or holds more than one record.
        MissingExtra: the format's library is not installed.
    """
    path = Path(path)
    records = list(read_records(path, **options))
    if len(records) != 1:
        raise RecordError(path.stem, f"{path.name} holds {len(records)} records, not one")
    (record,) = records
    if isinstance(record, RecordError):
        raise record
    return record
