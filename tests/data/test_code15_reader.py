"""The CODE-15 % reader: exams in HDF5 parts, labels in ``exams.csv``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import get_reader
from tests.data.format_writers import write_code15

pytest.importorskip("h5py")
CLASSES = ("1dAVb", "RBBB", "LBBB", "SB", "ST", "AF")
FS, PADDED = 400, 4096


def _tracing(seconds: float, seed: int) -> np.ndarray:
    """A tracing zero-padded to 4,096 samples as CODE-15 % pads them."""
    n = int(seconds * FS)
    t = np.arange(n) / FS
    rng = np.random.default_rng(seed)
    signal = np.sin(2 * np.pi * 1.2 * t)[:, None] * rng.uniform(0.5, 1.5, 12) + 0.01
    out = np.zeros((PADDED, 12), np.float32)
    start = (PADDED - n) // 2
    out[start : start + n] = signal
    return out


@pytest.fixture
def code15(tmp_path):
    folder = tmp_path / "code15"
    folder.mkdir()
    part0 = np.stack([_tracing(10, 1), _tracing(10, 2), np.zeros((PADDED, 12), np.float32)])
    write_code15(folder / "exams_part0.hdf5", part0, np.array([101, 102, 0]))
    part1 = np.stack([_tracing(7.3, 3), _tracing(10, 4)])
    write_code15(folder / "exams_part1.hdf5", part1, np.array([201, 999]))
    (folder / "exams_part2.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    rows = [  # exam 999 has no row; exam 0 is padding
        {"exam_id": 101, "age": 60, "is_male": True, "patient_id": 7, "AF": True, "RBBB": True},
        {"exam_id": 102, "age": 45, "is_male": False, "patient_id": 8},
        {"exam_id": 201, "age": 71, "is_male": True, "patient_id": 7, "SB": True},
    ]
    rows = [{**dict.fromkeys(CLASSES, False), **r} for r in rows]
    table = pd.DataFrame(rows).reindex(
        columns=["exam_id", "age", "is_male", *CLASSES, "patient_id", "normal_ecg", "trace_file"]
    )
    table.to_csv(folder / "exams.csv", index=False)
    return folder, {101: part0[0], 102: part0[1], 201: part1[0]}


def test_prepare_reads_the_exams_with_their_labels_patients_and_metadata(code15, tmp_path):
    folder, tracings = code15
    report = prepare_cache(
        [folder],
        tmp_path / "cache",
        PreprocessConfig(fs=FS, window=2800),
        LabelConfig(classes=CLASSES),
        reader="code15",
        progress=False,
    )
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert reasons.keys() == {"0", "999", "exams_part2.hdf5"}  # a broken file stops nothing
    assert "cannot read" in reasons["exams_part2.hdf5"]
    assert "all zeros" in reasons["0"] and "no row in exams.csv" in reasons["999"]
    cache = Cache(tmp_path / "cache")
    index = cache.index.set_index("record_id")
    assert list(index.index) == ["101", "102", "201"]
    assert index.loc["101", "dx"] == "RBBB,AF" and index.loc["102", "dx"] == ""
    assert list(index["patient_id"]) == ["7", "8", "7"]  # folds keep patient 7's exams together
    assert index.loc["201", "age"] == 71 and index.loc["102", "sex"] == "Female"
    assert index.loc["201", "n_samples"] == int(7.3 * FS)  # the padding is trimmed
    labels = dict(zip(index.index, cache.labels.tolist(), strict=True))
    assert labels["101"] == [0, 1, 0, 0, 0, 1] and labels["201"] == [0, 0, 0, 1, 0, 0]
    for i, exam in enumerate(index.index):
        padded = tracings[int(exam)]
        trace = padded[np.any(padded != 0, axis=1)]
        np.testing.assert_allclose(cache.windows(i)[0], trace[:2800], atol=1e-6)


def test_exams_read_alone_and_bad_folders_say_what_is_wrong(code15, tmp_path):
    folder, tracings = code15
    reader = get_reader("code15", {"units": "uV"})
    found = {r.record_id: r for r in reader.find([folder])}
    assert sorted(found) == ["0", "101", "102", "201", "999", "exams_part2.hdf5"]
    record = reader.read(found["102"].path)
    assert record.header.fs == FS and record.header.sex == "Female"
    expected = tracings[102][np.any(tracings[102] != 0, axis=1)] / 1000  # microvolts
    np.testing.assert_allclose(record.signal, expected, rtol=1e-6)
    assert reader.record_id_at(found["102"].path) == "102"
    (folder / "exams.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"no exams\.csv"):
        reader.find([folder])
    with pytest.raises(ValueError, match="units must be a voltage"):
        get_reader("code15", {"units": "counts"})


def test_the_code15_config_prepares_the_folder(code15, tmp_path, capsys):
    from ecgml.cli.main import main
    from tests.conftest import REPO

    folder, _ = code15
    config = str(REPO / "configs" / "code15.json")
    assert main(["prepare", str(folder), "--config", config, "--out", str(tmp_path / "c")]) == 0
    assert "3 records cached" in capsys.readouterr().out
    cache = Cache(tmp_path / "c")
    assert cache.signals.shape[1:] == (700, 12) and cache.class_names == CLASSES
