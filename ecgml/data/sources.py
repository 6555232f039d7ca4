"""Finding records on disk and telling which database they come from."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Record-name prefixes of the PhysioNet/CinC Challenge 2020/2021 training sources
# (Reyna et al., 2021). Longer prefixes first so that "HR" is not read as "H".
CINC_SOURCES: tuple[tuple[str, str], ...] = (
    ("HR", "PTB-XL"),
    ("JS", "Chapman-Ningbo"),
    ("A", "CPSC"),
    ("Q", "CPSC-Extra"),
    ("I", "StPetersburg"),
    ("S", "PTB"),
    ("E", "Georgia"),
)

SIGNAL_SUFFIXES = (".mat", ".dat")


def source_of(record_id: str, folder: str) -> str:
    """The database a CinC record comes from, by its name; else its folder."""
    for prefix, source in CINC_SOURCES:
        rest = record_id[len(prefix) :]
        if record_id.startswith(prefix) and rest[:1].isdigit():
            return source
    return folder


@dataclass(frozen=True)
class FoundRecord:
    """A header found on disk.

    Attributes:
        path: the ``.hea`` file, absolute.
        folder: its folder relative to the data directory given
            (the data directory's own name for records at its top).
        fingerprint: size and modification time of the header and of the
            signal files beside it; a change means the record must be re-read.
        name: the record's id where the reader gives one (a label table's id
            column); ``""``: the file's stem.
    """

    path: Path
    folder: str
    fingerprint: str
    name: str = ""

    @property
    def record_id(self) -> str:
        return self.name or self.path.stem


def file_key(path: Path) -> str:
    """Size and modification time of a file (``-`` if it does not exist)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def fingerprint(header_path: Path) -> str:
    parts = [file_key(header_path)]
    parts += [file_key(header_path.with_suffix(s)) for s in SIGNAL_SUFFIXES]
    return "|".join(parts)


def find_records(data_dirs: Iterable[str | Path]) -> list[FoundRecord]:
    """Every ``.hea`` under the given folders, walked once, sorted by path.

    Raises:
        FileNotFoundError: a data directory does not exist.
    """
    found = []
    for data_dir in data_dirs:
        root = Path(data_dir).resolve()
        if not root.is_dir():
            raise FileNotFoundError(f"data directory not found: {data_dir}")
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = Path(dirpath).relative_to(root)
            folder = root.name if rel == Path(".") else rel.as_posix()
            for name in sorted(filenames):
                if name.endswith(".hea"):
                    path = Path(dirpath) / name
                    found.append(FoundRecord(path, folder, fingerprint(path)))
    found.sort(key=lambda r: str(r.path))
    return found
