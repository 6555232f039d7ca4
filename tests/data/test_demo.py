import numpy as np
import pytest
from scipy.signal import butter, find_peaks, sosfiltfilt

from ecgml.data.demo import CODES, write_demo_dataset
from ecgml.data.labels import scored_diagnoses
from ecgml.data.records import read_record

NAMES = {code: name for name, code in CODES.items()}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    paths = write_demo_dataset(out, n_records=60, seed=3, progress=False)
    return [read_record(p) for p in paths]


def _r_peaks(record) -> np.ndarray:
    """QRS times in seconds: peaks of 8-30 Hz energy summed over the 12 leads."""
    fs = record.header.fs
    sos = butter(3, (8, 30), btype="bandpass", fs=fs, output="sos")
    energy = (sosfiltfilt(sos, record.signal, axis=0) ** 2).sum(axis=1)
    peaks, _ = find_peaks(energy, height=0.2 * np.percentile(energy, 99), distance=int(0.25 * fs))
    return peaks / fs


def test_records_are_cinc_format_12_lead_500_hz_10_s(demo):
    record = demo[0]
    assert record.header.path.with_suffix(".mat").is_file()
    assert record.signal.shape == (5000, 12)
    assert record.header.fs == 500.0
    assert record.header.age is not None


def test_at_least_five_scored_classes_and_some_two_label_records(demo):
    scored = {d.code for d in scored_diagnoses()}
    present = {code for r in demo for code in r.header.dx}
    assert present <= scored
    assert len(present) >= 5
    assert any(len(r.header.dx) == 2 for r in demo)


def test_same_seed_same_files(tmp_path):
    a = write_demo_dataset(tmp_path / "a", n_records=3, seed=7, progress=False)
    b = write_demo_dataset(tmp_path / "b", n_records=5, seed=7, progress=False)
    for pa, pb in zip(a, b[:3], strict=True):
        assert pa.with_suffix(".mat").read_bytes() == pb.with_suffix(".mat").read_bytes()
        assert pa.read_text() == pb.read_text()


def test_heart_rate_separates_brady_normal_and_tachy(demo):
    rates: dict[str, list[float]] = {"SB": [], "NSR": [], "STach": []}
    for record in demo:
        rhythm = NAMES[record.header.dx[0]]
        if rhythm in rates:
            rates[rhythm].append(60.0 / np.median(np.diff(_r_peaks(record))))
    assert all(rates.values())
    assert max(rates["SB"]) < min(rates["NSR"])
    assert max(rates["NSR"]) < min(rates["STach"])
    assert max(rates["SB"]) < 60
    assert min(rates["STach"]) > 100


def test_af_rr_intervals_are_irregular(demo):
    def rr_variation(record):
        rr = np.diff(_r_peaks(record))
        return np.std(rr) / np.mean(rr)

    af = [rr_variation(r) for r in demo if NAMES[r.header.dx[0]] == "AF"]
    sinus = [rr_variation(r) for r in demo if NAMES[r.header.dx[0]] != "AF"]
    assert af and sinus
    assert min(af) > 2 * np.median(sinus)


def test_first_id_names_a_held_out_set_after_the_training_set(tmp_path):
    paths = write_demo_dataset(tmp_path, n_records=2, seed=1, first_id=301, progress=False)
    assert [p.name for p in paths] == ["D00301.hea", "D00302.hea"]
