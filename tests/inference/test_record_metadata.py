"""A recording's metadata at prediction time comes from the task's reader, as in
training, for ``ecgml predict`` and the web app alike."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from ecgml.data.loading import PreparedRecord
from ecgml.data.records import RecordError, RecordHeader
from ecgml.inference.ensemble import Ensemble


def _prepared(path: Path) -> PreparedRecord:
    header = RecordHeader(
        record_id=path.stem,
        path=path,
        fs=500.0,
        n_samples=5000,
        lead_names=("I",),
        units=("mV",),
        signal_files=(),
        age=61.0,
        sex="Male",
        dx=(),
        comments={},
    )
    return PreparedRecord(header=header, windows=np.zeros((1, 10, 1), np.float32), warnings=())


class _TableReader:
    """A reader whose metadata table knows one record."""

    def metadata(self, path):
        if Path(path).stem != "known":
            raise RecordError(Path(path).stem, "not in the table")
        return {"age": 70.0, "sex": "Female", "height": 160.0, "weight": None, "notes": "SR"}


def _ensemble() -> SimpleNamespace:
    return SimpleNamespace(task=SimpleNamespace(reader=_TableReader()))


def test_the_readers_metadata_is_taken_over_the_header(tmp_path: Path) -> None:
    meta = Ensemble.record_metadata(_ensemble(), _prepared(tmp_path / "known.hea"))
    assert meta == {"age": 70.0, "sex": "Female", "height": 160.0, "weight": None, "notes": "SR"}


def test_given_fields_replace_the_readers(tmp_path: Path) -> None:
    meta = Ensemble.record_metadata(_ensemble(), _prepared(tmp_path / "known.hea"), {"age": "44"})
    assert meta["age"] == "44" and meta["sex"] == "Female"


def test_a_record_the_reader_does_not_know_falls_back_to_its_header(tmp_path: Path) -> None:
    meta = Ensemble.record_metadata(_ensemble(), _prepared(tmp_path / "upload.hea"))
    assert meta["age"] == 61.0 and meta["sex"] == "Male" and meta["notes"] == ""
