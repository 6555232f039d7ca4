"""``ecgml predict``: a batch of records to challenge-format outputs and a summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal as sps

from ecgml.cli.main import main as ecgml_main
from ecgml.data.quality import assess
from ecgml.data.records import read_record, write_record
from ecgml.evaluation.challenge import read_output_file
from ecgml.serve.predict import find_inputs, predict_records, read_summary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(served, tmp_path_factory) -> Path:
    """Four demo records, one of them rewritten at 250 Hz, plus a header without its
    signal file and a record 0.2 s long."""
    folder = tmp_path_factory.mktemp("batch")
    for path in sorted(served["records"].glob("*")):
        shutil.copy(path, folder)
    slow = read_record(folder / "D00104.hea")
    leads = slow.header.lead_names
    write_record(
        folder,
        "D00104",
        sps.resample_poly(slow.signal, 1, 2, axis=0),
        250,
        leads,
        dx=slow.header.dx,
    )
    header = (folder / "D00101.hea").read_text()
    (folder / "BROKEN.hea").write_text(header.replace("D00101", "BROKEN"))  # no signal file
    write_record(folder, "SHORT", slow.signal[:100], 500, leads)
    return folder


def test_every_record_gets_an_output_and_a_summary_line(served, ensemble, batch, tmp_path):
    report = predict_records(served["run"], [batch], tmp_path, progress=False, chunk=2)
    assert (report["n_records"], report["n_predicted"], report["n_skipped"]) == (6, 4, 2)
    summary = read_summary(tmp_path).set_index("record")
    assert summary.loc["BROKEN", "status"] == "skipped"
    assert "signal file not found" in summary.loc["BROKEN", "note"]
    assert "too short" in summary.loc["SHORT", "note"]
    assert {s["path"] for s in report["skipped"]} == {
        str(batch / "BROKEN.hea"),
        str(batch / "SHORT.hea"),
    }
    for rid in ["D00101", "D00102", "D00103", "D00104"]:
        record = read_record(batch / f"{rid}.hea")
        expected = ensemble.predict(
            record.signal, fs=record.header.fs, lead_names=record.header.lead_names
        )
        codes, decisions, scores = read_output_file(tmp_path / "outputs" / f"{rid}.csv")
        assert codes == list(ensemble.class_names)
        np.testing.assert_allclose(scores, expected.y_score, atol=1e-6)
        np.testing.assert_array_equal(decisions, expected.y_pred)
        row = summary.loc[rid]
        assert row["decided"] == expected.decided and row["n_windows"] == 10
        np.testing.assert_allclose(
            [row[f"p_{a}"] for a in ensemble.abbreviations], expected.y_score, atol=1e-6
        )
    assert summary.loc["D00104", "fs"] == 250
    assert summary.loc["BROKEN", "quality"] == ""  # not read, not checked
    for rid in ["D00101", "D00102", "D00103", "D00104"]:
        record = read_record(batch / f"{rid}.hea")
        quality = assess(
            record.signal, record.header.fs, record.header.lead_names, record.header.units
        )
        assert summary.loc[rid, "quality"] == quality.label
    assert not (tmp_path / "outputs" / "BROKEN.csv").exists()
    saved = json.loads((tmp_path / "predict.json").read_text())
    assert saved["ensemble"]["rule"] == "majority" and saved["ensemble"]["min_votes"] == 2
    assert saved["input"]["min_seconds"] == 0.5


def test_records_are_named_by_file_record_path_or_folder(batch) -> None:
    named = find_inputs([batch / "D00101.hea", batch / "D00102", batch])
    assert named[:2] == [(batch / "D00101.hea").resolve(), (batch / "D00102.hea").resolve()]
    assert len(named) == 6  # the folder's records, each once
    with pytest.raises(FileNotFoundError, match="no record or folder at"):
        find_inputs([batch / "NOPE"])


def test_a_second_record_with_the_same_id_is_skipped(served, batch, tmp_path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for suffix in (".hea", ".mat"):
        shutil.copy(batch / f"D00101{suffix}", other)
    report = predict_records(
        served["run"], [batch / "D00101.hea", other], tmp_path / "out", progress=False
    )
    assert report["n_predicted"] == 1
    assert "already predicted" in report["skipped"][0]["problem"]


def test_the_command_line(served, batch, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = ecgml_main(
        [
            "predict",
            "--run",
            str(served["run"]),
            str(batch / "D00101.hea"),
            str(batch / "BROKEN.hea"),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr()
    assert "1 of 2 records predicted, 1 skipped" in printed.out
    assert "skipped" in printed.out + printed.err and "BROKEN" in printed.out + printed.err
    assert (out / "outputs" / "D00101.csv").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NOPE.hea"], "no record or folder at"),
        (["{batch}", "--min-votes", "9"], "min_votes must be between 1 and 3"),
    ],
)
def test_bad_input_is_a_one_line_error(served, batch, tmp_path, capsys, args, message) -> None:
    args = [a.format(batch=batch) for a in args]
    code = ecgml_main(["predict", "--run", str(served["run"]), *args, "--out", str(tmp_path / "o")])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_nothing_usable_exits_1(served, batch, tmp_path) -> None:
    code = ecgml_main(
        [
            "predict",
            "--run",
            str(served["run"]),
            str(batch / "BROKEN.hea"),
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    assert code == 1


def test_annotations_are_refused_for_a_whole_record_run(served, ensemble, tmp_path) -> None:
    with pytest.raises(ValueError, match="annotations apply to beat runs"):
        predict_records(
            served["run"],
            [served["records"]],
            tmp_path / "out",
            annotations="atr",
            ensemble=ensemble,
            progress=False,
        )
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_operating_points_say_what_each_threshold_meant_on_validation(served, batch, tmp_path):
    report = predict_records(served["run"], [batch], tmp_path, progress=False)
    assert report["ensemble"]["operating_points"] == "operating_points.csv"
    points = pd.read_csv(tmp_path / "operating_points.csv", dtype={"code": str})
    folds = [
        json.loads(p.read_text()) for p in sorted(served["run"].glob("fold_*/thresholds.json"))
    ]
    assert points["code"].tolist() == folds[0]["class_names"]
    for k, row in points.iterrows():
        sens = [f["sensitivity"][k] for f in folds if f["sensitivity"][k] is not None]
        spec = [f["specificity"][k] for f in folds if f["specificity"][k] is not None]
        assert row["folds_with_positives"] == len(sens)
        if sens:
            assert row["sensitivity_mean"] == pytest.approx(np.mean(sens), abs=1e-4)
            assert row["sensitivity_min"] == pytest.approx(min(sens), abs=1e-4)
        assert row["specificity_mean"] == pytest.approx(np.mean(spec), abs=1e-4)
        assert row["threshold_mean"] == pytest.approx(
            np.mean([f["thresholds"][k] for f in folds]), abs=1e-4
        )
    assert (points["objective"] == "f1").all()


def test_a_mixed_folder_of_export_formats_gets_a_row_each(served, tmp_path, capsys) -> None:
    for module in ("pydicom", "edfio", "h5py", "defusedxml"):
        pytest.importorskip(module)
    from ecgml.data.preprocess import STANDARD_LEADS
    from tests.data.format_writers import (
        MUSE_LEADS,
        write_code15,
        write_dicom,
        write_edf,
        write_muse,
    )

    folder = tmp_path / "exports"
    folder.mkdir()
    signal = {p.stem: read_record(p).signal for p in sorted(served["records"].glob("*.hea"))}
    for path in served["records"].glob("D00101.*"):
        shutil.copy(path, folder)  # WFDB
    write_dicom(folder / "D00102.dcm", signal["D00102"], 500.0)
    write_edf(folder / "D00103.edf", signal["D00103"], 500.0, [f"ECG {n}" for n in STANDARD_LEADS])
    eight = signal["D00104"][:, [STANDARD_LEADS.index(n) for n in MUSE_LEADS]]
    write_muse(folder / "D00104.xml", eight, 500)
    tracing = sps.resample_poly(signal["D00101"], 4, 5, axis=0).astype(np.float32)  # 400 Hz
    write_code15(folder / "cohort.hdf5", tracing[None], np.array([7]))
    (folder / "broken.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    out = tmp_path / "out"
    args = ["predict", "--run", str(served["run"]), str(folder), "--out", str(out)]
    assert ecgml_main([*args, "--no-progress"]) == 0
    printed = capsys.readouterr()
    assert "5 of 6 records predicted, 1 skipped" in printed.out
    assert "broken.hdf5" in printed.out + printed.err  # named, and the rest goes on
    summary = read_summary(out)
    predicted = summary[summary["n_windows"].notna()]
    assert sorted(predicted["record"]) == ["7", "D00101", "D00102", "D00103", "D00104"]
