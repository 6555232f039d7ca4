"""The PTB-XL reader on a fixture in the database's own layout, from real signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgml.data.cache import prepare_cache
from ecgml.data.cache_reader import Cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import get_reader
from ecgml.data.readers.ptbxl import parse_scp_codes
from ecgml.data.records import RecordError
from ecgml.data.splits import standard_parts
from tests.ptbxl_fixture import write_ptbxl

SUPER = LabelConfig(classes=("NORM", "MI", "STTC", "CD", "HYP"))


@pytest.fixture
def ptbxl(tmp_path: Path) -> Path:
    return write_ptbxl(tmp_path / "ptbxl")


def labels_of(root: Path, ecg_id: int, **options) -> tuple[str, ...]:
    reader = get_reader("ptbxl", options)
    rate = options.get("rate", 500)
    suffix = "hr" if rate == 500 else "lr"
    return reader.read(root / f"records{rate}/00000/{ecg_id:05d}_{suffix}.hea").header.dx


def test_superclass_aggregation_by_hand(ptbxl: Path) -> None:
    assert labels_of(ptbxl, 1) == ("NORM",)  # SR is a rhythm statement: no superclass
    assert labels_of(ptbxl, 2) == ("MI",)  # IMI -> MI; ABQRS is a form statement
    assert labels_of(ptbxl, 3) == ("HYP", "STTC")  # LVH -> HYP, NDT -> STTC
    assert labels_of(ptbxl, 4) == ()  # AFIB only: no diagnostic statement


def test_other_aggregations(ptbxl: Path) -> None:
    assert labels_of(ptbxl, 2, labels="subclass") == ("IMI",)
    assert labels_of(ptbxl, 2, labels="all") == ("IMI", "ABQRS", "SR")
    assert labels_of(ptbxl, 2, labels="form") == ("ABQRS",)
    assert labels_of(ptbxl, 2, labels="rhythm") == ("SR",)
    assert labels_of(ptbxl, 3, labels="diagnostic") == ("LVH", "NDT")


def test_likelihood_cut_drops_unsure_statements(ptbxl: Path) -> None:
    assert labels_of(ptbxl, 3, min_likelihood=60) == ("STTC",)  # LVH at 50 is dropped


def test_metadata_and_notes(ptbxl: Path) -> None:
    reader = get_reader("ptbxl")
    one = reader.read(ptbxl / "records500/00000/00001_hr.hea").header
    assert (one.age, one.sex, one.height, one.weight) == (56.0, "Female", None, 63.0)
    assert one.notes == "sinusrhythmus normales ekg"
    five = reader.read(ptbxl / "records500/00000/00005_hr.hea").header
    assert five.age == 90.0  # PTB-XL's 300 for patients over 89
    three = reader.read(ptbxl / "records500/00000/00003_hr.hea").header
    assert (three.sex, three.height) == ("Male", 180.0)


def test_both_rates(ptbxl: Path) -> None:
    reader = get_reader("ptbxl", {"rate": 100})
    record = reader.read(ptbxl / "records100/00000/00001_lr.hea")
    assert record.header.fs == 100.0 and record.signal.shape == (1000, 12)
    high = get_reader("ptbxl").read(ptbxl / "records500/00000/00001_hr.hea")
    np.testing.assert_allclose(record.signal, high.signal[::5], atol=1e-3)


def test_unknown_statement_is_a_warning_and_the_rest_is_kept(ptbxl: Path) -> None:
    reader = get_reader("ptbxl")
    dx = labels_of(ptbxl, 5)
    assert "CD" in dx
    warnings = reader.label_warnings(dx)
    assert any("XYZ" in w for w in warnings)


def test_parse_scp_codes() -> None:
    assert parse_scp_codes("{'NORM': 100.0, 'SR': 0}") == {"NORM": 100.0, "SR": 0.0}
    for bad in ("not a dict", "{'NORM': 'high'}", "[1, 2]"):
        with pytest.raises(ValueError, match="scp_codes"):
            parse_scp_codes(bad)


def test_prepare_reports_bad_rows_and_keeps_the_rest(ptbxl: Path, tmp_path: Path) -> None:
    report = prepare_cache(
        [ptbxl], tmp_path / "cache", PreprocessConfig(), SUPER, reader="ptbxl", progress=False
    )
    assert report["found"] == 7 and report["cached"] == 5
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert "scp_codes" in reasons["00006_hr"]
    assert "not found" in reasons["00007_hr"]
    cache = Cache(tmp_path / "cache")
    index = cache.index.set_index("record_id")
    assert index.at["00001_hr", "patient_id"] == index.at["00002_hr", "patient_id"] == "ptbxl101"
    assert index.at["00001_hr", "notes"] == "sinusrhythmus normales ekg"
    assert np.isnan(index.at["00001_hr", "height"]) and index.at["00002_hr", "height"] == 160.0
    assert index.at["00004_hr", "warnings"].startswith("no statement")
    # NORM, MI, STTC, CD, HYP columns, by hand
    y = dict(zip(cache.index["record_id"], cache.labels.tolist(), strict=True))
    assert y["00001_hr"] == [1, 0, 0, 0, 0] and y["00003_hr"] == [0, 0, 1, 0, 1]
    assert y["00005_hr"] == [0, 0, 0, 1, 0]


def test_strat_fold_splits(ptbxl: Path, tmp_path: Path) -> None:
    prepare_cache(
        [ptbxl], tmp_path / "cache", PreprocessConfig(), SUPER, reader="ptbxl", progress=False
    )
    cache = Cache(tmp_path / "cache")
    reader = get_reader("ptbxl")
    ids = list(cache.index["record_id"])
    standard = dict(zip(ids, standard_parts(cache.index, reader), strict=True))
    assert standard == {
        "00001_hr": "train",
        "00002_hr": "train",
        "00003_hr": "train",
        "00004_hr": "train",
        "00005_hr": "test",
    }
    predefined = dict(zip(ids, standard_parts(cache.index, reader, predefined=True), strict=True))
    assert predefined == {
        "00001_hr": "validation",
        "00002_hr": "validation",
        "00003_hr": "train",
        "00004_hr": "train",
        "00005_hr": "test",
    }


def test_missing_column_is_an_error_naming_it(ptbxl: Path) -> None:
    table = pd.read_csv(ptbxl / "ptbxl_database.csv").drop(columns=["scp_codes"])
    table.to_csv(ptbxl / "ptbxl_database.csv", index=False)
    with pytest.raises(ValueError, match="scp_codes"):
        get_reader("ptbxl").find([ptbxl])


def test_missing_table_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"ptbxl_database.csv"):
        get_reader("ptbxl").find([tmp_path])
    for options in ({"rate": 250}, {"labels": "superclasses"}, {"min_likelihood": 101}):
        with pytest.raises(ValueError):
            get_reader("ptbxl", options)


def test_a_record_the_table_does_not_name_is_refused(ptbxl: Path) -> None:
    stray = ptbxl / "records500/00000/00099_hr.hea"
    stray.write_text((ptbxl / "records500/00000/00001_hr.hea").read_text())
    with pytest.raises(RecordError, match="no row"):
        get_reader("ptbxl").read(stray)


def test_metadata_without_reading_the_signal(ptbxl: Path) -> None:
    reader = get_reader("ptbxl")
    meta = reader.metadata(ptbxl / "records500/00000/00003_hr.hea")
    assert meta == {
        "age": 70.0,
        "sex": "Male",
        "height": 180.0,
        "weight": 90.0,
        "notes": "lvh t abnormal",
    }
