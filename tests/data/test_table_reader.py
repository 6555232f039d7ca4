"""The label-table reader: arrays, CSV and WFDB files named by a CSV of labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgml.config import config_from_dict
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import get_reader
from ecgml.data.records import RecordError
from ecgml.data.splits import standard_parts
from ecgml.task import Task
from tests.conftest import SHARED_DATA, sine_signal

LEADS = ["I", "II", "III"]
CLASSES = LabelConfig(classes=("NORM", "MI"))
PRE = PreprocessConfig(leads=tuple(LEADS), fs=100, window=200)
OPTIONS = {"fs": 100, "leads": LEADS, "label_columns": ["NORM", "MI"]}


def signal(n=200, fs=100.0) -> np.ndarray:
    return sine_signal(n, fs, n_leads=3).astype(np.float32)


def write_table(root: Path, rows: list[dict], name: str = "labels.csv") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / name, index=False)
    return root / name


def npy(root: Path, name: str, array: np.ndarray) -> str:
    (root / "signals").mkdir(parents=True, exist_ok=True)
    np.save(root / "signals" / name, array)
    return f"signals/{name}"


def reader(**changes):
    return get_reader("table", {**OPTIONS, **changes})


def test_npy_in_both_layouts_and_any_number_dtype(tmp_path):
    x = signal()
    rows = [
        {"file": npy(tmp_path, "a.npy", x), "NORM": 1, "MI": 0},
        {"file": npy(tmp_path, "b.npy", x.astype(np.float16)), "NORM": 1, "MI": 1},
        {"file": npy(tmp_path, "c.npy", (x * 1000).astype(np.int16)), "NORM": 0, "MI": 1},
    ]
    write_table(tmp_path, rows)
    r = reader()
    found = r.find([tmp_path])
    assert [f.record_id for f in found] == ["a", "b", "c"]
    records = [r.read(f.path) for f in found]
    np.testing.assert_allclose(records[0].signal, x)
    np.testing.assert_allclose(records[1].signal, x, atol=2e-3)  # float16's precision
    np.testing.assert_allclose(records[2].signal, np.trunc(x * 1000))
    assert [rec.header.dx for rec in records] == [("NORM",), ("NORM", "MI"), ("MI",)]
    assert records[0].header.fs == 100 and records[0].header.lead_names == tuple(LEADS)
    assert records[0].header.units == ("mV",) * 3
    # leads first
    np.save(tmp_path / "signals" / "a.npy", x.T)
    np.testing.assert_allclose(reader(layout="leads_first").read(found[0].path).signal, x)


def test_csv_files_name_their_leads_and_a_row_rate_overrides_the_option(tmp_path):
    x = signal(400, 200.0)
    pd.DataFrame(x, columns=["II", "I", "III"]).to_csv(tmp_path / "r1.csv", index=False)
    write_table(tmp_path, [{"file": "r1.csv", "rate": 200, "NORM": 0, "MI": 1}])
    r = reader(fs_column="rate", leads=None)
    record = r.read(tmp_path / "r1.csv")
    assert record.header.lead_names == ("II", "I", "III") and record.header.fs == 200
    np.testing.assert_allclose(record.signal, x, atol=1e-6)
    # prepared: leads reordered by name, resampled from 200 to the config's 100 Hz
    report = prepare_cache(
        [tmp_path],
        tmp_path / "cache",
        PRE,
        CLASSES,
        reader="table",
        reader_options={**OPTIONS, "fs_column": "rate"},
        progress=False,
    )
    assert report["cached"] == 1
    window = Cache(tmp_path / "cache").windows(0)[0]
    assert window.shape == (200, 3)
    np.testing.assert_allclose(window[:, 1], x[::2, 0], atol=0.05)  # lead II is the 2nd


def test_wfdb_files_are_read_through_the_records_module(tmp_path, write_wfdb):
    header = write_wfdb(
        "A0001",
        sine_signal(200, 100.0, n_leads=3),
        fs=100,
        leads=LEADS,
        directory=tmp_path / "records",
    )
    # an empty rate column: the header's own rate
    write_table(
        tmp_path, [{"file": "records/A0001.hea", "NORM": 1, "MI": 0, "id": "rec-1", "rate": ""}]
    )
    r = reader(fs=None, fs_column="rate", leads=None, id_column="id")
    record = r.read(header)
    assert record.header.record_id == "rec-1" and record.header.fs == 100
    assert record.header.dx == ("NORM",)
    np.testing.assert_allclose(record.signal, sine_signal(200, 100.0, n_leads=3), atol=1e-3)
    # a table rate that contradicts the header is refused
    with pytest.raises(RecordError, match="the table gives 250 Hz, its header 100 Hz"):
        reader(fs=250, leads=None).read(header)


def test_label_tokens_in_one_column(tmp_path):
    x = signal()
    write_table(
        tmp_path,
        [
            {"file": npy(tmp_path, "a.npy", x), "dx": "MI; NORM"},
            {"file": npy(tmp_path, "b.npy", x), "dx": ""},
        ],
    )
    r = get_reader(
        "table", {"fs": 100, "leads": LEADS, "label_column": "dx", "label_separator": ";"}
    )
    assert r.read(tmp_path / "signals/a.npy").header.dx == ("MI", "NORM")
    assert r.read(tmp_path / "signals/b.npy").header.dx == ()


def test_split_patient_and_metadata_columns(tmp_path):
    x = signal()
    parts = ["train", "validation", "test", "train"]
    rows = [
        {
            "file": npy(tmp_path, f"{k}.npy", x),
            "NORM": 1,
            "MI": 0,
            "part": p,
            "patient": f"p{k // 2}",
            "age": 40 + k,
            "sex": "F" if k % 2 else "M",
        }
        for k, p in enumerate(parts)
    ]
    write_table(tmp_path, rows)
    options = {
        **OPTIONS,
        "split_column": "part",
        "patient_column": "patient",
        "age_column": "age",
        "sex_column": "sex",
    }
    prepare_cache(
        [tmp_path],
        tmp_path / "cache",
        PRE,
        CLASSES,
        reader="table",
        reader_options=options,
        progress=False,
    )
    index = Cache(tmp_path / "cache").index
    assert list(index["patient_id"]) == ["p0", "p0", "p1", "p1"]
    assert list(index["age"]) == [40, 41, 42, 43] and list(index["sex"]) == ["Male", "Female"] * 2
    r = get_reader("table", options)
    assert list(standard_parts(index, r)) == ["train", "train", "test", "train"]
    assert list(standard_parts(index, r, predefined=True)) == parts
    held = get_reader("table", {**options, "held_out": ["validation", "test"]})
    assert list(standard_parts(index, held)) == ["train", "test", "test", "train"]
    assert r.metadata(tmp_path / "signals/1.npy")["age"] == 41
    with pytest.raises(ValueError, match="no split without option split_column"):
        standard_parts(index, reader())


def test_bad_records_are_skipped_with_their_reason_and_the_rest_kept(tmp_path):
    x = signal()
    (tmp_path / "signals").mkdir()
    (tmp_path / "signals" / "garbage.npy").write_bytes(b"not an array")
    nan = x.copy()
    nan[5, 1] = np.nan
    rows = [
        {"file": npy(tmp_path, "good.npy", x), "NORM": 1, "MI": 0, "id": "good"},
        {"file": "signals/missing.npy", "NORM": 1, "MI": 0, "id": "missing"},
        {"file": "signals/garbage.npy", "NORM": 1, "MI": 0, "id": "garbage"},
        {"file": npy(tmp_path, "cube.npy", x[None]), "NORM": 1, "MI": 0, "id": "cube"},
        {"file": npy(tmp_path, "two.npy", x[:, :2]), "NORM": 1, "MI": 0, "id": "two"},
        {"file": npy(tmp_path, "nan.npy", nan), "NORM": 1, "MI": 0, "id": "nan"},
        {"file": npy(tmp_path, "label.npy", x), "NORM": 2, "MI": 0, "id": "label"},
        {"file": npy(tmp_path, "dup.npy", x), "NORM": 0, "MI": 1, "id": "good"},
    ]
    write_table(tmp_path, rows)
    report = prepare_cache(
        [tmp_path],
        tmp_path / "cache",
        PRE,
        CLASSES,
        reader="table",
        reader_options={**OPTIONS, "id_column": "id"},
        progress=False,
    )
    assert report["cached"] == 1 and Cache(tmp_path / "cache").index["record_id"].tolist() == [
        "good"
    ]
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"missing", "garbage", "cube", "two", "nan", "label", "good"}
    assert "file not found" in reasons["missing"]
    assert "cannot read garbage.npy" in reasons["garbage"]
    assert "shape (1, 200, 3); expected 2-D" in reasons["cube"]
    assert "has 2 leads" in reasons["two"]
    assert "1 NaN or infinite samples" in reasons["nan"]
    assert "label column NORM holds '2', expected 0 or 1" in reasons["label"]
    assert "duplicate record id" in reasons["good"]
    saved = json.loads((tmp_path / "cache" / "prepare_report.json").read_text())
    assert len(saved["skipped"]) == 7


def test_a_missing_column_or_option_is_an_error_that_names_it(tmp_path):
    write_table(tmp_path, [{"file": "a.npy", "NORM": 1}])
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['MI'\]"):
        reader().find([tmp_path])
    with pytest.raises(FileNotFoundError, match=r"no label table t.csv"):
        reader(table="t.csv").find([tmp_path])
    section = {"task": {"reader": "table", "reader_options": {"fs": 100}}}
    with pytest.raises(ValueError, match="exactly one of the options label_columns"):
        Task.of(config_from_dict(section))
    section["task"]["reader_options"] = {"label_column": "dx"}
    with pytest.raises(ValueError, match="needs option fs"):
        Task.of(config_from_dict(section))
    section["task"]["reader_options"] = {"label_column": "dx", "fs": 100, "colour": "red"}
    with pytest.raises(ValueError, match=r"takes no option\(s\) \['colour'\]"):
        Task.of(config_from_dict(section))
    for bad, match in [
        ({"layout": "diagonal"}, "layout must be"),
        ({"units": "uV"}, "units"),
        ({"held_out": ["dev"]}, "held_out must name"),
    ]:
        with pytest.raises(ValueError, match=match):
            reader(**bad)


def test_a_table_file_given_as_the_data(tmp_path):
    x = signal()
    table = write_table(
        tmp_path, [{"file": npy(tmp_path, "a.npy", x), "NORM": 1, "MI": 0}], name="my_labels.csv"
    )
    r = reader()
    found = r.find([table])
    assert [f.record_id for f in found] == ["a"]
    assert r.read(found[0].path).header.dx == ("NORM",)
    assert r.find_inputs(table) == [found[0].path]


def test_a_changed_row_is_read_again(tmp_path):
    x = signal()
    write_table(tmp_path, [{"file": npy(tmp_path, "a.npy", x), "NORM": 1, "MI": 0}])
    args = ([tmp_path], tmp_path / "cache", PRE, CLASSES)
    options = {"reader": "table", "reader_options": OPTIONS, "progress": False}
    assert prepare_cache(*args, **options)["new"] == 1
    assert prepare_cache(*args, **options)["unchanged"] == 1
    write_table(tmp_path, [{"file": "signals/a.npy", "NORM": 0, "MI": 1}])
    assert prepare_cache(*args, **options)["new"] == 1
    assert Cache(tmp_path / "cache").index["dx"].tolist() == ["MI"]


@pytest.mark.realdata
def test_the_shared_ptbxl_subset_reads_with_the_config():
    data = SHARED_DATA / "ptbxl"
    if not (data / "labels.csv").is_file():
        pytest.skip(f"no PTB-XL subset at {data}")
    config = config_from_dict(
        json.loads((Path(__file__).parents[2] / "configs" / "ptbxl-arrays.json").read_text())
    )
    r = Task.of(config).reader
    found = r.find([data])
    assert len(found) == 1624
    record = r.read(found[0].path)
    assert record.signal.shape == (1000, 12) and record.header.fs == 100
    assert record.header.record_id == found[0].record_id and record.header.units[0] == "normalised"
    table = pd.read_csv(data / "labels.csv")
    parts = {p.record_id: r.standard_split_at(p.path) for p in found[::40]}
    expected = {
        str(e): "test" if s == "validation" else "train"
        for e, s in zip(table["ecg_id"], table["split"], strict=True)
    }
    assert parts == {k: expected[k] for k in parts}


def test_a_column_named_fs_gives_each_rows_rate_and_a_differing_option_is_named(tmp_path):
    x = signal(1000, 500.0)
    rows = [
        {"file": npy(tmp_path, "a.npy", x), "Sampling_Rate": 500, "NORM": 1, "MI": 0},
        {"file": npy(tmp_path, "b.npy", signal()), "Sampling_Rate": "", "NORM": 0, "MI": 1},
        {"file": npy(tmp_path, "c.npy", signal()), "Sampling_Rate": 100, "NORM": 0, "MI": 1},
    ]
    write_table(tmp_path, rows)
    a, b, c = (reader().read(tmp_path / "signals" / f"{k}.npy") for k in "abc")
    assert (a.header.fs, a.header.n_samples) == (500, 1000)
    [warning] = a.warnings
    assert "Sampling_Rate column gives 500 Hz and option fs 100 Hz" in warning
    # an empty cell takes the option; a cell that agrees with it says nothing
    assert (b.header.fs, b.warnings) == (100, ())
    assert (c.header.fs, c.warnings) == (100, ())
    # fs_column false: every record at the option's rate, as the config says
    ignored = reader(fs_column=False).read(tmp_path / "signals" / "a.npy")
    assert (ignored.header.fs, ignored.warnings) == (100, ())


def test_the_rate_warning_reaches_the_prepare_report(tmp_path):
    row = {"file": npy(tmp_path, "a.npy", signal(400)), "fs": 200, "NORM": 1, "MI": 0}
    write_table(tmp_path, [row])
    cache = tmp_path / "cache"
    report = prepare_cache(
        [tmp_path], cache, PRE, CLASSES, reader="table", reader_options=OPTIONS, progress=False
    )
    assert report["cached"] == 1
    [warned] = report["warnings"]
    assert "fs column gives 200 Hz and option fs 100 Hz" in warned["warnings"]
    assert Cache(tmp_path / "cache").index["fs"].tolist() == [200]


def test_fs_column_takes_a_name_null_or_false(tmp_path):
    for bad in (True, "", 3):
        with pytest.raises(ValueError, match="fs_column must be a column name"):
            reader(fs_column=bad)
    with pytest.raises(ValueError, match="needs option fs"):
        reader(fs=None, fs_column=False)


def test_a_table_of_new_records_needs_no_labels_to_be_predicted(tmp_path):
    write_table(tmp_path, [{"file": npy(tmp_path, "a.npy", signal()), "age": 61}])
    r = reader(age_column="age", sex_column="sex", patient_column="patient")
    [path] = r.find_inputs(tmp_path)  # for prediction: the file column is enough
    assert r.read_signal(path).header.fs == 100
    assert r.metadata(path)["age"] == 61 and r.metadata(path)["sex"] is None
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['patient', 'sex', 'NORM', 'MI'\]"):
        r.find([tmp_path])  # training needs the labels


def test_two_rate_columns_are_an_error_until_one_is_named(tmp_path):
    row = {"file": npy(tmp_path, "a.npy", signal()), "fs": 100, "Sample_Rate": 500}
    write_table(tmp_path, [{**row, "NORM": 1, "MI": 0}])
    with pytest.raises(ValueError, match=r"several rate columns \['fs', 'Sample_Rate'\]"):
        reader().find([tmp_path])
    assert len(reader(fs_column="fs").find([tmp_path])) == 1
