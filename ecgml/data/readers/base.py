"""The one interface every data reader implements."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ecgml.data.records import Record
from ecgml.data.sources import FoundRecord, find_records


class Reader:
    """Records in; signal, rate, leads, metadata and label tokens out.

    A reader finds the records of a data source on disk and reads each into a
    :class:`~ecgml.data.records.Record` whose ``header.dx`` holds the record's
    label tokens (SNOMED codes for CinC 2020, ``N``/``A``/``O``/``~`` for CinC
    2017). A record that cannot be used raises
    :class:`~ecgml.data.records.RecordError` naming the record and the problem.

    Attributes:
        name: the name a config gives in ``task.reader``.
    """

    name = ""

    def find(self, data_dirs: Iterable[str | Path]) -> list[FoundRecord]:
        """Every record under the folders, walked recursively, sorted by path.

        Raises:
            FileNotFoundError: a folder does not exist.
        """
        return find_records(data_dirs)

    def read(self, path: str | Path) -> Record:
        """One record with its label tokens.

        Raises:
            RecordError: the record cannot be used.
        """
        raise NotImplementedError

    def source(self, record_id: str, folder: str) -> str:
        """The database a record comes from (``index.csv``'s ``source`` column)."""
        return folder

    def label_name(self, label: str) -> str:
        """A label token in words, for people (the web app); the token itself if unknown."""
        return label

    def label_warnings(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """Problems with a record's labels that do not stop it from being used."""
        return ()
