"""The MIT-BIH reader, and beats as cache rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import get_reader
from ecgml.data.readers.mitbih import DS1, DS2, PACED
from ecgml.data.records import RecordError
from ecgml.data.splits import standard_parts
from tests.mitbih_records import write_mitbih

BEATS = PreprocessConfig(leads=("MLII",), fs=125, window=63, window_policy="beats", beat_offset=20)
AAMI = LabelConfig(classes=("N", "S", "V", "F", "Q"))
MITDB = Path(__file__).resolve().parents[3] / "shared" / "data" / "mitdb"


def test_reader_gives_the_aami_beats_of_a_record(tmp_path):
    header, samples = write_mitbih(tmp_path, "100", ["N", "+", "V", "A", "N", "~", "F", "/"])
    reader = get_reader("mitbih")
    record = reader.read(header)
    r_peaks, labels = reader.beats(record)
    assert labels == ("N", "V", "S", "N", "F", "Q")
    assert r_peaks.tolist() == samples[[0, 2, 3, 4, 6, 7]].tolist()
    assert reader.source("100", "mitdb") == "MIT-BIH"
    assert reader.label_name("S") == "supraventricular ectopic"


def test_paced_records_are_left_out_unless_kept(tmp_path):
    header, _ = write_mitbih(tmp_path, "217", ["N", "/", "/"])
    assert set(PACED) == {"102", "104", "107", "217"}
    with pytest.raises(RecordError, match="paced record"):
        get_reader("mitbih").read(header)
    record = get_reader("mitbih", {"keep_paced": True}).read(header)
    assert get_reader("mitbih").beats(record)[1] == ("N", "Q", "Q")


def test_ds1_and_ds2_are_de_chazals_inter_patient_division():
    reader = get_reader("mitbih")
    assert len(DS1) == len(DS2) == 22 and not set(DS1) & set(DS2)
    assert not (set(DS1) | set(DS2)) & set(PACED)
    assert [reader.standard_split(r) for r in ("101", "230", "100", "234", "102")] == [
        "train",
        "train",
        "test",
        "test",
        None,
    ]
    assert reader.patient("202", "mitdb") == reader.patient("201", "mitdb") == "201"


def test_unknown_reader_option_is_refused():
    with pytest.raises(ValueError, match="keep_pacd"):
        get_reader("mitbih", {"keep_pacd": True})
    with pytest.raises(ValueError, match="takes no option"):
        get_reader("cinc2020", {"keep_paced": True})


def test_missing_or_mismatched_annotations_are_errors(tmp_path):
    header, _ = write_mitbih(tmp_path, "100", ["N", "N"])
    header.with_suffix(".atr").unlink()
    with pytest.raises(RecordError, match="annotation file not found"):
        get_reader("mitbih").read(header)
    # the annotations of a longer record next to a shorter one
    long_header, _ = write_mitbih(tmp_path / "long", "100", ["N"] * 20)
    header.with_suffix(".atr").write_bytes(long_header.with_suffix(".atr").read_bytes())
    with pytest.raises(RecordError, match="annotation file of another record"):
        get_reader("mitbih").read(header)


def test_prepare_caches_one_row_per_beat_with_its_record_and_sample(tmp_path):
    write_mitbih(tmp_path / "data", "101", ["N", "V", "N", "+", "A"])
    write_mitbih(tmp_path / "data", "100", ["N", "N", "F"], seed=1)
    report = prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    assert (report["records"], report["beats"]) == (2, 7)
    cache = Cache(tmp_path / "cache")
    index = cache.index
    assert index["record_id"].tolist()[:3] == ["100:180", "100:468", "100:756"]
    assert index["dx"].tolist() == ["N", "N", "F", "N", "V", "N", "S"]
    assert index["patient_id"].tolist() == ["100"] * 3 + ["101"] * 4
    assert (index["n_windows"] == 1).all()
    assert cache.signals.shape == (7, 63, 1)
    assert cache.labels.argmax(axis=1).tolist() == [0, 0, 3, 0, 2, 0, 1]
    assert (cache.reader, cache.reader_options) == (
        "mitbih",
        {"keep_paced": False, "annotation": "atr"},
    )
    # the V beat is the tall wide one: its window peaks at the R sample (offset 20)
    v = cache.signals[4, :, 0]
    assert np.argmax(v) == 20 and v.max() > 1.5
    parts = standard_parts(index, get_reader("mitbih"))
    assert parts.tolist() == ["test"] * 3 + ["train"] * 4


def test_a_rerun_reuses_every_beat_and_other_reader_options_rebuild(tmp_path):
    write_mitbih(tmp_path / "data", "101", ["N", "V", "N"])
    prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    again = prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    assert (again["new"], again["unchanged"], again["cached"]) == (0, 1, 3)
    other = prepare_cache(
        [tmp_path / "data"],
        tmp_path / "cache",
        BEATS,
        AAMI,
        reader="mitbih",
        reader_options={"keep_paced": True},
        progress=False,
    )
    assert other["new"] == 1
    meta = json.loads((tmp_path / "cache" / "meta.json").read_text())
    assert meta["reader_options"]["keep_paced"] is True


def test_a_record_without_the_configured_lead_is_skipped_with_the_reason(tmp_path):
    write_mitbih(tmp_path / "data", "101", ["N", "N"], leads=("V5", "V2"))
    report = prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    [skipped] = report["skipped"]
    assert "missing leads ['MLII']" in skipped["reason"]


@pytest.mark.skipif(not MITDB.is_dir(), reason="needs ../shared/data/mitdb")
def test_real_mitbih_records_give_their_annotated_beat_counts(tmp_path):
    for rid in ("100", "208"):
        for suffix in (".hea", ".dat", ".atr"):
            (tmp_path / "data").mkdir(exist_ok=True)
            (tmp_path / "data" / f"{rid}{suffix}").symlink_to(MITDB / f"{rid}{suffix}")
    prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    counts = Cache(tmp_path / "cache").index.groupby("path")["dx"].value_counts()
    # record 100: 2239 N, 33 S (A), 1 V; record 208: 1586 N, 2 S, 992 V, 373 F, 2 Q
    assert counts[str(tmp_path / "data" / "100.hea")].to_dict() == {"N": 2239, "S": 33, "V": 1}
    assert counts[str(tmp_path / "data" / "208.hea")].to_dict() == {
        "N": 1586,
        "V": 992,
        "F": 373,
        "S": 2,
        "Q": 2,
    }


def test_a_beat_cache_without_rr_columns_is_rebuilt(tmp_path):
    write_mitbih(tmp_path / "data", "101", ["N", "V", "N"])
    prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    index_path = tmp_path / "cache" / "index.csv"
    index = pd.read_csv(index_path)
    kept = index.drop(columns=[c for c in index.columns if c.startswith("rr_")])
    kept.to_csv(index_path, index=False)
    again = prepare_cache(
        [tmp_path / "data"], tmp_path / "cache", BEATS, AAMI, reader="mitbih", progress=False
    )
    assert again["new"] == 1
    assert "rr_previous_ratio" in Cache(tmp_path / "cache").index.columns
