"""PhysioNet/CinC Challenge 2020/2021 records: 12-lead WFDB, labels in ``#Dx``.

The labels are SNOMED-CT codes in the header's ``#Dx`` comment (text labels in
the early 2020 release, mapped to codes); the source database follows from the
record name's prefix (:data:`ecgml.data.sources.CINC_SOURCES`).
"""

from __future__ import annotations

from pathlib import Path

from ecgml.data.labels import known_diagnoses
from ecgml.data.readers.base import READERS, Reader
from ecgml.data.records import Record, read_record
from ecgml.data.sources import source_of


@READERS.add
class Cinc2020Reader(Reader):
    """Reads CinC 2020/2021 records (module docstring)."""

    name = "cinc2020"

    def read(self, path: str | Path) -> Record:
        return read_record(path)

    def source(self, record_id: str, folder: str) -> str:
        return source_of(record_id, folder)

    def label_name(self, label: str) -> str:
        known = known_diagnoses()
        return known[label].name if label in known else label

    def label_warnings(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """No Dx codes, or codes that no CinC table knows (kept in the metadata)."""
        if not labels:
            return ("no Dx codes in the header",)
        known = known_diagnoses()
        unknown = [code for code in labels if code not in known]
        if unknown:
            return (f"unknown Dx code(s) {unknown}, kept in the metadata",)
        return ()
