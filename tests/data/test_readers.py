"""The reader interface and the CinC 2017 reader."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import READER_NAMES, get_reader
from ecgml.data.readers.cinc2017 import reference_labels
from ecgml.data.records import RecordError, read_header
from tests.cinc2017_records import FS, write_cinc2017

SINGLE = PreprocessConfig(leads=("ECG",), fs=300, window=3000, window_policy="all")


def test_readers_are_registered_by_name():
    assert READER_NAMES == (
        "cinc2020",
        "cinc2017",
        "mitbih",
        "ptb",
        "images",
        "ptbxl",
        "table",
        "code15",
    )
    assert get_reader("cinc2017").name == "cinc2017"
    with pytest.raises(ValueError, match="unknown reader 'cinc2019'"):
        get_reader("cinc2019")


def test_header_with_an_iso_date_before_the_time_parses(tmp_path):
    [path] = write_cinc2017(tmp_path, ["N"], seconds=[10.0])
    assert path.read_text().splitlines()[0].endswith("2014-05-08 05:05:15")
    header = read_header(path)
    assert (header.fs, header.n_samples, header.lead_names) == (300.0, 3000, ("ECG",))


def test_training_set_headers_without_a_date_read_with_their_labels(tmp_path):
    paths = write_cinc2017(tmp_path, ["A", "~"], seconds=[9.0, 61.0], dated=False)
    assert paths[0].read_text().splitlines()[0] == "A00001 1 300 2700"
    reader = get_reader("cinc2017")
    first, second = (reader.read(p) for p in paths)
    assert first.header.dx == ("A",) and first.signal.shape == (2700, 1)
    assert second.header.dx == ("~",) and second.signal.shape == (18300, 1)
    assert first.header.fs == FS and first.header.lead_names == ("ECG",)


def test_cinc2017_reader_takes_the_label_from_reference_csv(tmp_path):
    paths = write_cinc2017(tmp_path, ["N", "A", "O", "~"], seconds=[10.0] * 4)
    reader = get_reader("cinc2017")
    records = [reader.read(p) for p in paths]
    assert [r.header.dx for r in records] == [("N",), ("A",), ("O",), ("~",)]
    assert records[0].signal.shape == (3000, 1)
    assert reader.source("A00001", "training2017") == "CinC2017"
    assert reader.label_name("A") == "atrial fibrillation"


def test_record_missing_from_reference_csv_is_refused(tmp_path):
    paths = write_cinc2017(tmp_path, ["N", "A"], seconds=[10.0, 10.0])
    (tmp_path / "REFERENCE.csv").write_text("A00001,N\n")
    with pytest.raises(RecordError, match=r"no row for it in .*REFERENCE.csv"):
        get_reader("cinc2017").read(paths[1])


def test_unknown_label_and_missing_reference_file_are_refused(tmp_path):
    [path] = write_cinc2017(tmp_path, ["N"], seconds=[10.0])
    (tmp_path / "REFERENCE.csv").write_text("A00001,X\n")
    with pytest.raises(RecordError, match=r"label 'X' in REFERENCE.csv is not one of"):
        get_reader("cinc2017").read(path)
    (tmp_path / "REFERENCE.csv").unlink()
    with pytest.raises(RecordError, match=r"no REFERENCE.csv beside it"):
        get_reader("cinc2017").read(path)


def test_prepare_with_the_cinc2017_reader_skips_unlabelled_and_broken_records(tmp_path):
    data = tmp_path / "data"
    write_cinc2017(data, ["N", "A", "O", "~"], seconds=[30.0, 12.0, 9.0, 20.0])
    (data / "REFERENCE.csv").write_text("A00001,N\nA00002,A\nA00004,~\n")  # no A00003
    (data / "A00004.mat").write_bytes((data / "A00004.mat").read_bytes()[:100])  # truncated
    report = prepare_cache([data], tmp_path / "cache", SINGLE, reader="cinc2017", progress=False)
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"A00003", "A00004"}
    assert "no row for it" in reasons["A00003"]
    assert "truncated" in reasons["A00004"] or "unreadable" in reasons["A00004"]
    cache = Cache(tmp_path / "cache")
    assert cache.reader == "cinc2017"
    assert list(cache.index["dx"]) == ["N", "A"]
    assert list(cache.index["source"]) == ["CinC2017", "CinC2017"]
    # 30 s gives three 10 s windows; 12 s two (the last aligned with the end)
    assert list(cache.index["n_windows"]) == [3, 2]
    assert cache.signals.shape[1:] == (3000, 1)


def test_a_cache_read_by_another_reader_is_rebuilt(tmp_path):
    data = tmp_path / "data"
    write_cinc2017(data, ["N", "A"], seconds=[10.0, 10.0])
    out = tmp_path / "cache"
    prepare_cache([data], out, SINGLE, reader="cinc2017", progress=False)
    report = prepare_cache([data], out, SINGLE, reader="cinc2020", progress=False)
    assert report["new"] == 2 and report["unchanged"] == 0
    assert json.loads((out / "meta.json").read_text())["reader"] == "cinc2020"
    # the CinC 2020 reader finds no #Dx in these headers: kept, with a warning
    assert {w["warnings"] for w in report["warnings"]} == {"no Dx codes in the header"}


def test_caches_made_before_readers_read_as_cinc2020(tmp_path, write_wfdb):
    write_wfdb("R1")
    prepare_cache([tmp_path / "data"], tmp_path / "cache", progress=False)
    meta_path = tmp_path / "cache" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["reader"]
    meta_path.write_text(json.dumps(meta))
    assert Cache(tmp_path / "cache").reader == "cinc2020"


@pytest.mark.realdata
def test_real_cinc2017_records_read_with_their_labels(shared_data):
    folder = shared_data / "cinc2017"
    reader = get_reader("cinc2017")
    found = reader.find([folder])
    # 6,028 of the training set's 8,528 records, with the final revised labels
    assert len(found) == 6028
    reference = reference_labels(folder)
    labels = [reference[r.record_id] for r in found]
    assert {label: labels.count(label) for label in "NAO~"} == {
        "N": 3590,
        "A": 537,
        "O": 1706,
        "~": 195,
    }
    # every 60th record read whole: its label is the reference's, its length 9-61 s
    for r in found[::60]:
        record = reader.read(r.path)
        assert record.header.dx == (reference[r.record_id],)
        assert 9 <= record.signal.shape[0] / FS <= 61
    record = reader.read(folder / "A00001.hea")
    assert record.header.fs == FS and record.signal.shape == (9000, 1)
    # int16 at 1000 per mV: the first samples of A00001 are -127, -162 ... units
    np.testing.assert_allclose(record.signal[:2, 0], [-0.127, -0.162], atol=1e-6)


def test_a_changed_reference_label_is_read_again(tmp_path):
    data = tmp_path / "data"
    write_cinc2017(data, ["N", "A"], seconds=[10.0, 10.0])
    prepare_cache([data], tmp_path / "cache", SINGLE, reader="cinc2017", progress=False)
    (data / "REFERENCE.csv").write_text("A00001,O\nA00002,A\n")
    report = prepare_cache([data], tmp_path / "cache", SINGLE, reader="cinc2017", progress=False)
    assert report["new"] == 2
    assert list(Cache(tmp_path / "cache").index["dx"]) == ["O", "A"]
