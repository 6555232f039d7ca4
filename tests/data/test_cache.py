import json
import os
import threading
import time

import numpy as np
import pytest

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.samples import load_record
from ecgml.files import locked
from tests.conftest import sine_signal

AF, NSR = "164889003", "426783006"


def test_bad_records_are_skipped_and_reported_with_reasons(messy_dir, tmp_path):
    report = prepare_cache([messy_dir], tmp_path / "cache", progress=False)
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {
        "B_header",
        "B_nosignal",
        "B_truncated",
        "B_nan",
        "B_leads",
        "B_empty",
        "G1",
    }
    assert "header does not parse" in reasons["B_header"]
    assert "signal file not found" in reasons["B_nosignal"]
    assert "signal" in reasons["B_truncated"]
    assert "NaN" in reasons["B_nan"]
    assert "expected 12 leads, got 8" in reasons["B_leads"]
    assert "zero length" in reasons["B_empty"]
    assert reasons["G1"].startswith("duplicate record id")
    assert report["cached"] == 4
    assert [w["record_id"] for w in report["warnings"]] == ["U1"]
    on_disk = json.loads((tmp_path / "cache" / "prepare_report.json").read_text())
    assert on_disk["skipped"] == report["skipped"]


def test_cache_holds_windows_labels_and_metadata(messy_dir, tmp_path):
    prepare_cache([messy_dir], tmp_path / "cache", progress=False)
    cache = Cache(tmp_path / "cache")
    index = cache.index.set_index("record_id")
    assert list(index.index) == ["G1", "G2", "G3", "U1"]
    assert cache.signals.shape == (4, 5000, 12)
    assert index.loc["G3", "fs"] == 1000.0
    assert index.loc["G3", "n_samples"] == 10000
    assert index.loc["U1", "dx"] == f"{NSR},123456789"  # unscored codes are kept
    assert index.loc["G1", "age"] == 50.0
    assert index.loc["G1", "folder"] == "data"
    y = cache.labels[list(index.index).index("G2")]
    assert y[list(cache.class_names).index(NSR)] == 1
    assert y[list(cache.class_names).index("59118001")] == 1
    assert y.sum() == 2
    expected = load_record(messy_dir / "G3.hea").windows
    np.testing.assert_array_equal(cache.windows(2), expected)


def test_rerun_skips_unchanged_and_rereads_changed_added_and_removed(
    messy_dir, tmp_path, write_wfdb
):
    out = tmp_path / "cache"
    prepare_cache([messy_dir], out, progress=False)
    again = prepare_cache([messy_dir], out, progress=False)
    assert (again["new"], again["unchanged"]) == (0, 4)

    write_wfdb("G1", 2 * sine_signal(), dx=AF)  # changed content
    os.utime(messy_dir / "G1.dat", ns=(0, 10**18))
    write_wfdb("G4", dx=AF)  # added
    (messy_dir / "G2.hea").unlink()  # removed
    report = prepare_cache([messy_dir], out, progress=False)
    assert (report["new"], report["unchanged"], report["removed"]) == (2, 2, 1)
    cache = Cache(out)
    assert list(cache.index["record_id"]) == ["G1", "G3", "G4", "U1"]
    np.testing.assert_array_equal(cache.windows(0), load_record(messy_dir / "G1.hea").windows)
    np.testing.assert_array_equal(cache.windows(2), load_record(messy_dir / "G4.hea").windows)


def test_a_torn_tail_from_an_interrupted_run_is_ignored(messy_dir, tmp_path):
    out = tmp_path / "cache"
    prepare_cache([messy_dir], out, progress=False)
    with open(out / "signals.f32", "ab") as f:
        f.write(b"\x01" * 1234)  # half a window written when the run died
    report = prepare_cache([messy_dir], out, progress=False)
    assert report["unchanged"] == 4
    cache = Cache(out)
    for i, rid in enumerate(cache.index["record_id"]):
        np.testing.assert_array_equal(
            cache.windows(i), load_record(messy_dir / f"{rid}.hea").windows
        )


def test_two_workers_give_the_same_cache_as_one(messy_dir, tmp_path):
    prepare_cache([messy_dir], tmp_path / "one", jobs=1, progress=False)
    prepare_cache([messy_dir], tmp_path / "two", jobs=2, progress=False)
    one, two = Cache(tmp_path / "one"), Cache(tmp_path / "two")
    np.testing.assert_array_equal(one.signals, two.signals)
    np.testing.assert_array_equal(one.labels, two.labels)
    assert list(one.index["record_id"]) == list(two.index["record_id"])


def test_a_second_prepare_of_one_cache_waits_for_the_first(messy_dir, tmp_path, capsys):
    prepare_cache([messy_dir], tmp_path / "alone", progress=False)
    out = tmp_path / "cache"
    out.mkdir()
    second = threading.Thread(
        target=prepare_cache, args=([messy_dir], out), kwargs={"progress": False}
    )
    with locked(out / "prepare"):  # another process preparing this cache
        second.start()
        for _ in range(300):
            if "waiting" in capsys.readouterr().err:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the second prepare did not wait")
        time.sleep(0.5)
        assert second.is_alive() and not (out / "meta.json").exists()
    second.join(timeout=120)
    assert not second.is_alive()
    alone, cache = Cache(tmp_path / "alone"), Cache(out)
    np.testing.assert_array_equal(alone.signals, cache.signals)
    assert list(alone.index["record_id"]) == list(cache.index["record_id"])


def test_other_preprocessing_rebuilds_the_cache(messy_dir, tmp_path):
    out = tmp_path / "cache"
    prepare_cache([messy_dir], out, progress=False)
    report = prepare_cache([messy_dir], out, PreprocessConfig(window_policy="all"), progress=False)
    assert report["new"] == 4
    cache = Cache(out)
    assert cache.preprocess.window_policy == "all"
    assert list(cache.index["n_windows"]) == [1, 3, 1, 1]  # G2 has 12000 samples
    assert cache.signals.shape[0] == 6


def test_label_config_is_applied(messy_dir, tmp_path):
    labels = LabelConfig(equivalent_mode="merge")
    prepare_cache([messy_dir], tmp_path / "cache", labels=labels, progress=False)
    cache = Cache(tmp_path / "cache")
    assert cache.labels.shape == (4, 24)
    assert "713427006|59118001" in cache.class_names


def test_patient_map(messy_dir, tmp_path):
    patients = tmp_path / "patients.csv"
    patients.write_text("record_id,patient_id\nG1,P1\nG3,P1\n")
    prepare_cache([messy_dir], tmp_path / "cache", patient_map=patients, progress=False)
    assert list(Cache(tmp_path / "cache").index["patient_id"]) == ["P1", "", "P1", ""]


def test_missing_data_dir_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="data directory not found"):
        prepare_cache([tmp_path / "nope"], tmp_path / "cache", progress=False)


def test_opening_a_folder_without_a_cache_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="ecgml prepare"):
        Cache(tmp_path)


def test_an_interrupted_first_run_resumes_where_it_stopped(messy_dir, tmp_path, monkeypatch):
    from ecgml.data import cache as cache_module

    real_process = cache_module._process
    calls = []

    def dies_on_the_third_good_record(task):
        if task[0].endswith("G3.hea"):
            raise KeyboardInterrupt
        calls.append(task[0])
        return real_process(task)

    monkeypatch.setattr(cache_module, "_CHECKPOINT_SECONDS", -1.0)  # checkpoint every record
    monkeypatch.setattr(cache_module, "_process", dies_on_the_third_good_record)
    out = tmp_path / "cache"
    with pytest.raises(KeyboardInterrupt):
        prepare_cache([messy_dir], out, progress=False)
    with pytest.raises(ValueError, match="incomplete"):
        Cache(out)

    monkeypatch.setattr(cache_module, "_process", real_process)
    report = prepare_cache([messy_dir], out, progress=False)
    assert report["unchanged"] == 2  # G1 and G2 were checkpointed before the interruption
    assert report["cached"] == 4
    cache = Cache(out)
    for i, rid in enumerate(cache.index["record_id"]):
        np.testing.assert_array_equal(
            cache.windows(i), load_record(messy_dir / f"{rid}.hea").windows
        )


def test_a_crash_inside_compaction_is_recovered(messy_dir, tmp_path, write_wfdb, monkeypatch):
    from ecgml.data import cache_files as cache_module

    out = tmp_path / "cache"
    prepare_cache([messy_dir], out, progress=False)
    for rid in ("G1", "G2"):  # two of four records change: half the rows become garbage
        write_wfdb(rid, 3 * sine_signal(), dx=AF)
        os.utime(messy_dir / f"{rid}.dat", ns=(0, 10**18))

    real_replace = os.replace

    def crash_before_the_index_rename(src, dst):
        if str(src).endswith(".compact"):
            raise OSError("power cut")
        real_replace(src, dst)

    monkeypatch.setattr(cache_module.os, "replace", crash_before_the_index_rename)
    with pytest.raises(OSError, match="power cut"):
        prepare_cache([messy_dir], out, progress=False)
    monkeypatch.setattr(cache_module.os, "replace", real_replace)

    prepare_cache([messy_dir], out, progress=False)
    cache = Cache(out)
    assert cache.signals.shape[0] == 4  # compacted
    for i, rid in enumerate(cache.index["record_id"]):
        np.testing.assert_array_equal(
            cache.windows(i), load_record(messy_dir / f"{rid}.hea").windows
        )
