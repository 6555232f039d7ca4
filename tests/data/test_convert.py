"""``ecgml convert``: records of every format written as WFDB or arrays, with a report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecgml.data.preprocess import STANDARD_LEADS
from tests.conftest import sine_signal
from tests.data.format_writers import MUSE_LEADS, write_code15, write_dicom, write_edf, write_muse

pytest.importorskip("edfio")
pytest.importorskip("h5py")


def test_convert_writes_every_readable_record_as_wfdb_and_reports_the_rest(
    tmp_path, write_wfdb, capsys
):
    pytest.importorskip("pydicom")
    pytest.importorskip("defusedxml")
    from ecgml.cli.main import main
    from ecgml.data.formats.convert import REPORT
    from ecgml.data.records import read_record

    data = tmp_path / "exports"
    signal = sine_signal(5000, fs=500.0)
    write_wfdb("w1", signal, directory=data)
    write_edf(data / "e1.edf", signal, 500.0, list(STANDARD_LEADS))
    (data / "sub").mkdir()
    write_dicom(data / "sub" / "d1.dcm", signal, 500.0)
    eight = signal[:, [STANDARD_LEADS.index(n) for n in MUSE_LEADS]]
    write_muse(data / "m1.xml", eight, 500)
    tracings = np.zeros((3, 4096, 12), dtype=np.float32)
    tracings[0, 48:4048] = signal[:4000]
    tracings[1, 48:4048] = signal[1000:5000]
    write_code15(data / "exams_part0.hdf5", tracings, np.array([7, 8, 9]))
    (data / "bad.edf").write_bytes(b"0       not really")
    write_wfdb("e1", signal, directory=data / "again")  # an id e1.edf took already

    out = tmp_path / "wfdb"
    assert main(["convert", str(data), "--out", str(out), "--no-progress"]) == 0
    report = json.loads((out / REPORT).read_text())
    assert sorted(r["record_id"] for r in report["records"]) == ["7", "8", "d1", "e1", "m1", "w1"]
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"bad", "9", "e1"}
    assert "all zeros" in reasons["9"] and "duplicated" in reasons["e1"]
    assert "skipped bad" in capsys.readouterr().out
    for rid, expected, resolution in [
        ("w1", signal, 1e-3),
        ("e1", signal, 1e-3),
        ("d1", signal, 1e-3),
        ("8", signal[1000:5000], 1e-3),
    ]:
        back = read_record(out / f"{rid}.hea")
        np.testing.assert_allclose(back.signal, expected, atol=resolution)
    muse = read_record(out / "m1.hea")
    assert set(muse.header.lead_names) == set(STANDARD_LEADS)  # the derived four included
    assert muse.header.age == 71 and muse.header.sex == "Female"


def test_convert_to_arrays_gives_a_table_the_table_reader_takes_back(tmp_path):
    from ecgml.data.formats.convert import convert
    from ecgml.data.readers import get_reader

    signal = sine_signal(2000, fs=250.0, n_leads=2)
    data = tmp_path / "edf"
    data.mkdir()
    write_edf(data / "h1.edf", signal, 250.0, ["I", "II"])
    report = convert([data], tmp_path / "arrays", to="npy", progress=False)
    assert report["converted"] == 1 and not report["skipped"]
    table = (tmp_path / "arrays" / "labels.csv").read_text().splitlines()
    assert table[0] == "record_id,file,fs,leads,age,sex,source"
    reader = get_reader(
        "table", {"label_column": "sex", "fs": 250, "leads": ["I", "II"], "id_column": "record_id"}
    )
    (found,) = reader.find([tmp_path / "arrays"])
    np.testing.assert_allclose(reader.read_signal(found.path).signal, signal, atol=2e-4)
    with pytest.raises(ValueError, match="--to must be one of"):
        convert([data], tmp_path / "x", to="csv")
