"""The one interface every data reader implements."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.data.records import Record, RecordError, read_header, read_record
from ecgml.data.sources import FoundRecord, find_records
from ecgml.registries import Registry

SPLIT_PARTS = ("train", "test")


class Reader:
    """Records in; signal, rate, leads, metadata and label tokens out.

    A reader finds the records of a data source on disk and reads each into a
    :class:`~ecgml.data.records.Record` whose ``header.dx`` holds the record's
    label tokens (SNOMED codes for CinC 2020, ``N``/``A``/``O``/``~`` for CinC
    2017). A record that cannot be used raises
    :class:`~ecgml.data.records.RecordError` naming the record and the problem.

    A reader's options come from the config's ``task.reader_options`` as
    keyword arguments of its constructor.

    Attributes:
        name: the name a config gives in ``task.reader``.
        options: the options it was made with (recorded in the cache's ``meta.json``).
    """

    name = ""

    def __init__(self, **options: Any) -> None:
        if options:
            raise ValueError(f"reader {self.name!r} takes no options, got {sorted(options)}")
        self.options: dict[str, Any] = {}

    @classmethod
    def example_options(cls) -> dict[str, Any]:
        """Options of a minimal reader of this kind, for the conformance battery."""
        return {}

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

    def read_signal(self, path: str | Path) -> Record:
        """One record for prediction: its signal, rate and leads; labels are not needed.

        Raises:
            RecordError: the record cannot be read.
        """
        return read_record(path)

    def find_inputs(self, item: str | Path) -> list[Path] | None:
        """The records ``ecgml predict`` should read for what a user named (a folder
        or a file), where this reader finds them its own way; ``None``: the usual
        search for WFDB headers."""
        return None

    def record_id_at(self, path: str | Path) -> str:
        """The id of the record at ``path`` (``summary.csv``'s ``record`` column): the
        file's stem, or a cohort file's tracing id (``FILE.hdf5::ID``)."""
        from ecgml.data.formats.hdf5 import tracing_of

        where = tracing_of(path)
        return Path(path).stem if where is None else where[1]

    def metadata(self, path: str | Path) -> dict[str, Any]:
        """A record's ``age``, ``sex``, ``height``, ``weight`` and ``notes`` for a run's
        tabular input at prediction time, without reading its signal: what its header
        says (``None`` or ``""`` where unknown).

        Raises:
            RecordError: the header cannot be read.
        """
        from ecgml.data.tabular import header_metadata

        return header_metadata(read_header(path))

    def source(self, record_id: str, folder: str) -> str:
        """The database a record comes from (``index.csv``'s ``source`` column)."""
        return folder

    def label_name(self, label: str) -> str:
        """A label token in words, for people (the web app); the token itself if unknown."""
        return label

    def label_warnings(self, labels: tuple[str, ...]) -> tuple[str, ...]:
        """Problems with a record's labels that do not stop it from being used."""
        return ()

    def patient(self, record_id: str, folder: str) -> str:
        """The patient a record comes from, where the source says; ``""`` if unknown."""
        return ""

    def standard_split(self, record_id: str) -> str | None:
        """The record's part in the source's standard train/test division
        (``task.split = "standard"``): ``"train"``, ``"test"``, or ``None`` for a
        record in neither, which such a run leaves out.

        Raises:
            ValueError: the source has no standard division.
        """
        raise ValueError(f"reader {self.name!r} has no standard train/test split")

    def standard_split_at(self, path: str | Path) -> str | None:
        """:meth:`standard_split` of the record at ``path`` (its ``.hea``), for
        readers whose split is in a table beside the records rather than in the name."""
        return self.standard_split(Path(path).stem)

    def predefined_split_at(self, path: str | Path) -> str | None:
        """The record's part in the source's predefined train / validation / test
        split (``task.split = "predefined"``): ``"train"``, ``"validation"``,
        ``"test"``, or ``None`` for none of them.

        Raises:
            ValueError: the source has no such split.
        """
        raise ValueError(f"reader {self.name!r} has no predefined train/validation/test split")

    def beats(self, record: Record) -> tuple[np.ndarray, tuple[str, ...]]:
        """The labelled beats of a record, for beat tasks (``window_policy: "beats"``):
        R-peak samples at the record's rate, and a label token per beat.

        Raises:
            RecordError: the reader has no beat labels for the record.
        """
        raise RecordError(
            record.header.record_id,
            f"reader {self.name!r} gives no beat labels; "
            "a beat task needs a reader of beat-annotated records (mitbih)",
        )


READERS: Registry[type[Reader]] = Registry("reader")
