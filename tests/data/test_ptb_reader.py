"""The PTB Diagnostic reader: its own layout and the CinC 2021 copy; MI or not; beats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecgml.data.readers import get_reader
from ecgml.data.records import RecordError, write_record

FS = 1000.0
PTB_LEADS = (
    "i",
    "ii",
    "iii",
    "avr",
    "avl",
    "avf",
    "v1",
    "v2",
    "v3",
    "v4",
    "v5",
    "v6",
    "vx",
    "vy",
    "vz",
)
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def ecg(seconds: float, bpm: float = 75.0, seed: int = 0) -> np.ndarray:
    """Beats at a regular rate on every lead, at 1000 Hz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    times = np.arange(0.6, seconds - 0.5, 60.0 / bpm)
    t = np.arange(n) / FS
    x = sum(np.exp(-0.5 * ((t - b) / 0.012) ** 2) for b in times) + rng.normal(0, 0.01, n)
    return np.repeat(np.asarray(x)[:, None], len(PTB_LEADS), axis=1), times


def write_ptb(folder: Path, record_id: str, reason: str | None, seconds: float = 20.0) -> Path:
    """A record in PTB's own layout: lower-case leads, the diagnosis in comments."""
    signal, _ = ecg(seconds)
    header = write_record(folder, record_id, signal, FS, PTB_LEADS, signal_format="dat", gain=2000)
    if reason is not None:
        with open(header, "a") as f:
            f.write(f"# Reason for admission: {reason}\n# Smoker: no\n")
    return header


def test_ptb_layout_label_and_patient_from_folder(tmp_path):
    mi = write_ptb(tmp_path / "patient001", "s0010_re", "Myocardial infarction")
    healthy = write_ptb(tmp_path / "patient104", "s0306lre", "Healthy control")
    reader = get_reader("ptb")
    assert reader.read(mi).header.dx == ("MI",)
    assert reader.read(healthy).header.dx == ("other",)
    found = reader.find([tmp_path])
    assert [r.record_id for r in found] == ["s0010_re", "s0306lre"]
    assert [reader.patient(r.record_id, r.folder) for r in found] == ["patient001", "patient104"]
    assert reader.label_name("MI") == "myocardial infarction"


def test_cinc_copy_label_from_the_snomed_code_and_other_records_are_not_found(tmp_path):
    signal, _ = ecg(12.0)
    write_record(
        tmp_path,
        "S0003",
        signal[:, :12],
        FS,
        [n.upper() for n in PTB_LEADS[:12]],
        dx=["164865005", "426783006"],
    )
    write_record(tmp_path, "S0002", signal[:, :12], FS, PTB_LEADS[:12], dx=["426783006"])
    write_record(tmp_path, "A0001", signal[:, :12], FS, PTB_LEADS[:12], dx=["164865005"])
    reader = get_reader("ptb")
    assert [r.record_id for r in reader.find([tmp_path])] == ["S0002", "S0003"]
    assert reader.read(tmp_path / "S0003.hea").header.dx == ("MI",)
    assert reader.read(tmp_path / "S0002.hea").header.dx == ("other",)
    assert reader.patient("S0003", tmp_path.name) == "S0003"


def test_a_record_without_a_diagnosis_is_refused(tmp_path):
    header = write_ptb(tmp_path / "patient002", "s0015lre", reason=None)
    with pytest.raises(RecordError, match="no diagnosis"):
        get_reader("ptb").read(header)


def test_beats_are_found_on_lead_ii_and_take_the_record_label(tmp_path):
    header = write_ptb(tmp_path / "patient001", "s0010_re", "Myocardial infarction")
    reader = get_reader("ptb")
    record = reader.read(header)
    peaks, labels = reader.beats(record)
    _, times = ecg(20.0)
    expected = np.round(times * FS)
    # every drawn beat found once, within 10 ms
    assert len(peaks) == len(expected)
    assert np.abs(peaks - expected).max() <= 10
    assert set(labels) == {"MI"}
    with pytest.raises(RecordError, match="no lead V9"):
        get_reader("ptb", {"lead": "V9"}).beats(record)


@pytest.mark.skipif(not (SHARED / "ptbdb").is_dir(), reason="needs ../shared/data/ptbdb")
def test_real_ptb_records_in_both_layouts():
    reader = get_reader("ptb")
    found = reader.find([SHARED / "cinc12" / "cinc2021", SHARED / "ptbdb"])
    assert [r.record_id for r in found] == [f"S{k:04d}" for k in range(1, 11)] + ["s0010_re"]
    labels = {r.record_id: reader.read(r.path).header.dx for r in found}
    assert sum(v == ("MI",) for k, v in labels.items() if k.startswith("S")) == 8
    own = reader.read(SHARED / "ptbdb" / "s0010_re.hea")
    assert own.header.dx == ("MI",) and len(own.header.lead_names) == 15
    peaks, _ = reader.beats(own)
    assert 45 <= len(peaks) <= 60  # 38.4 s at about 80 beats a minute
