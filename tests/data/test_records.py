from pathlib import Path

import numpy as np
import pytest

from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.records import RecordError, read_header, read_record, write_record
from tests.conftest import sine_signal


def test_snomed_header_is_parsed(write_wfdb):
    path = write_wfdb("R1", dx="164889003,59118001", age="74", sex="Female")
    header = read_header(path)
    assert header.record_id == "R1"
    assert header.dx == ("164889003", "59118001")
    assert header.age == 74.0
    assert header.sex == "Female"
    assert header.fs == 500.0
    assert header.n_samples == 5000
    assert header.lead_names == STANDARD_LEADS


def test_text_labels_are_mapped_to_snomed(write_wfdb):
    assert read_header(write_wfdb("R1", dx="RBBB,I-AVB")).dx == ("59118001", "270492004")


@pytest.mark.parametrize("age", ["NaN", "Unknown", ""])
def test_unknown_age_is_none(write_wfdb, age):
    assert read_header(write_wfdb("R1", age=age)).age is None


@pytest.mark.parametrize(
    ("sex", "expected"), [("Male", "Male"), ("F", "Female"), ("Unknown", None)]
)
def test_sex(write_wfdb, sex, expected):
    assert read_header(write_wfdb("R1", sex=sex)).sex == expected


def test_signal_is_in_millivolts_whatever_gain_and_baseline(write_wfdb):
    x = sine_signal()
    path = write_wfdb("R1", x, adc_gain=200.0, baseline=-50)
    record = read_record(path)
    assert record.signal.dtype == np.float32
    np.testing.assert_allclose(record.signal, x, atol=1 / 200)


def test_microvolt_units_are_converted(write_wfdb):
    x = sine_signal()
    record = read_record(write_wfdb("R1", x * 1000, units="uV", adc_gain=1.0))
    np.testing.assert_allclose(record.signal, x, atol=1e-3)


def test_mat_record_round_trip(tmp_path):
    x = sine_signal()
    path = write_record(tmp_path, "M1", x, 500, STANDARD_LEADS, dx=["164889003"], age=60)
    assert path.with_suffix(".mat").is_file()
    assert "M1.mat 16+24" in path.read_text()
    record = read_record(path)
    np.testing.assert_allclose(record.signal, x, atol=1e-3)
    assert record.header.age == 60.0
    assert record.header.sex is None


def test_record_line_naming_the_mat_file_is_repaired(tmp_path):
    # CinC 2021 Georgia headers: "E00271.mat 12 500 5000 ..." on the record line
    path = write_record(tmp_path, "E1", sine_signal(), 500, STANDARD_LEADS, dx=["59118001"])
    path.write_text(path.read_text().replace("E1 12", "E1.mat 12", 1))
    record = read_record(path)
    assert record.header.record_id == "E1"
    assert record.signal.shape == (5000, 12)


def test_missing_header_names_the_record(tmp_path):
    with pytest.raises(RecordError, match="record R9: header file not found"):
        read_record(tmp_path / "R9.hea")


def test_unparsable_header(tmp_path):
    (tmp_path / "R2.hea").write_text("this is not a header\n")
    with pytest.raises(RecordError, match="record R2: header does not parse"):
        read_record(tmp_path / "R2.hea")


def test_missing_signal_file(write_wfdb):
    path = write_wfdb("R3")
    path.with_suffix(".dat").unlink()
    with pytest.raises(RecordError, match="record R3: signal file not found"):
        read_record(path)


def test_truncated_mat_file(tmp_path):
    path = write_record(tmp_path, "R4", sine_signal(), 500, STANDARD_LEADS)
    mat = path.with_suffix(".mat")
    mat.write_bytes(mat.read_bytes()[: mat.stat().st_size // 2])
    with pytest.raises(RecordError, match="record R4: signal"):
        read_record(path)


def test_truncated_dat_file(write_wfdb):
    path = write_wfdb("R5")
    dat = path.with_suffix(".dat")
    dat.write_bytes(dat.read_bytes()[:1000])
    with pytest.raises(RecordError, match="record R5: signal"):
        read_record(path)


def test_nan_samples_are_rejected_with_the_lead_named(write_wfdb):
    x = sine_signal()
    x[100:110, 6] = np.nan
    with pytest.raises(
        RecordError, match=r"record R6: 10 NaN or infinite samples in leads \['V1'\]"
    ):
        read_record(write_wfdb("R6", x))


def test_zero_length(tmp_path: Path):
    lines = ["R7 12 500 0"] + [f"R7.dat 16 1000/mV 16 0 0 0 0 {lead}" for lead in STANDARD_LEADS]
    (tmp_path / "R7.hea").write_text("\n".join(lines) + "\n#Dx: 426783006\n")
    (tmp_path / "R7.dat").write_bytes(b"")
    with pytest.raises(RecordError, match="record R7: zero length"):
        read_record(tmp_path / "R7.hea")


def test_write_record_checks_the_lead_names(tmp_path):
    with pytest.raises(ValueError, match="does not match 12 lead names"):
        write_record(tmp_path, "W", np.zeros((10, 3)), 500, STANDARD_LEADS)
