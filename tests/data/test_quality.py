"""Signal-quality checks: each synthetic fault is found in the lead it was put in,
a clean synthetic record passes, and the verdicts and column format."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.data.demo import synthesize
from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.quality import Quality, assess, meets

FS = 500.0
LEADS = list(STANDARD_LEADS)


@pytest.fixture(scope="module")
def clean() -> np.ndarray:
    return synthesize(np.random.default_rng(7), "NSR", None, fs=FS).astype(np.float64)


def _with(clean: np.ndarray, lead: str, change) -> np.ndarray:
    signal = clean.copy()
    k = LEADS.index(lead)
    signal[:, k] = change(signal[:, k], np.arange(len(signal)) / FS)
    return signal


def test_a_clean_synthetic_record_is_good(clean) -> None:
    quality = assess(clean, FS, LEADS)
    assert quality.label == "good" and quality.verdict == "good" and quality.problems == ()
    assert all(0.1 < a < 5 for a in quality.qrs_mv if a is not None)


FAULTS = {
    "flat": lambda x, t: np.zeros_like(x),
    "flat ": lambda x, t: np.where(t > 6, 0.2, x),  # a dropout: 4 s constant
    "clipping": lambda x, t: np.clip(x, -0.3, 0.3),
    "powerline": lambda x, t: x + 0.6 * np.sin(2 * np.pi * 50 * t),
    "powerline ": lambda x, t: x + 0.6 * np.sin(2 * np.pi * 60 * t),
    "noise": lambda x, t: x + np.random.default_rng(0).normal(0, 0.4, len(x)),
    "baseline": lambda x, t: x + 2.5 * np.sin(2 * np.pi * 0.3 * t),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_is_named_with_its_lead(clean, fault: str) -> None:
    quality = assess(_with(clean, "V3", FAULTS[fault]), FS, LEADS)
    assert quality.problems == ((fault.strip(), "V3"),)
    assert quality.label == f"{fault.strip()}:V3"
    assert quality.verdict == "acceptable"  # one lead of twelve


def test_wrong_units_are_an_implausible_amplitude_and_a_poor_record(clean) -> None:
    micro = assess(clean * 1000, FS, LEADS)  # microvolts read as millivolts
    assert {c for c, _ in micro.problems} == {"amplitude"} and micro.verdict == "poor"
    assert len(micro.problems) == 12
    volts = assess(clean / 1000, FS, LEADS)
    assert {c for c, _ in volts.problems} <= {"amplitude", "flat"} and volts.verdict == "poor"


def test_problems_in_many_leads_make_a_poor_record_and_the_label_joins_them(clean) -> None:
    signal = clean.copy()
    for lead in ("V1", "V2", "V3", "V4"):
        signal[:, LEADS.index(lead)] = 0.0
    signal[:, LEADS.index("II")] += np.random.default_rng(1).normal(0, 0.4, len(signal))
    quality = assess(signal, FS, LEADS)
    assert quality.label == "flat:V1;flat:V2;flat:V3;flat:V4;noise:II"
    assert quality.verdict == "poor"
    assert quality.in_words() == [
        "flat line (no signal, or a long constant stretch): V1, V2, V3, V4",
        "high-frequency noise: II",
    ]


def test_a_record_at_100_hz_is_checked_without_mains_bands(clean) -> None:
    slow = clean[::5]
    assert assess(slow, 100.0, LEADS).verdict == "good"
    flat = slow.copy()
    flat[:, 0] = 0
    assert assess(flat, 100.0, LEADS).label == "flat:I"


def test_verdict_order_and_bad_input() -> None:
    assert meets("good", "acceptable") and meets("acceptable", "acceptable")
    assert not meets("poor", "acceptable") and not meets("acceptable", "good")
    with pytest.raises(ValueError, match="verdict"):
        meets("fine", "good")
    with pytest.raises(ValueError, match="lead names"):
        assess(np.zeros((1000, 3)), FS, ["I", "II"])
    assert Quality(problems=(), verdict="good").label == "good"


def test_prepare_reports_quality_and_min_quality_leaves_poor_records_out(tmp_path) -> None:
    from ecgml.data.cache import prepare_cache, read_index
    from ecgml.data.demo import write_demo_dataset
    from ecgml.data.records import read_record, write_record

    data = tmp_path / "data"
    write_demo_dataset(data, n_records=3, seed=2, progress=False)
    record = read_record(data / "D00002.hea")
    dead = record.signal.copy()
    dead[:, 6:] = 0.0  # V1-V6 disconnected
    write_record(
        data, "D00002", dead, record.header.fs, record.header.lead_names, dx=record.header.dx
    )

    report = prepare_cache([data], tmp_path / "all", progress=False)
    index = read_index(tmp_path / "all" / "index.csv").set_index("record_id")
    assert index.loc["D00002", "quality"] == ";".join(f"flat:V{k}" for k in range(1, 7))
    assert index.loc["D00002", "quality_verdict"] == "poor"
    assert report["quality"]["records_flagged"]["flat"] == 1 and report["cached"] == 3
    assert report["quality"]["flagged"][0]["record_id"] == "D00002"

    report = prepare_cache([data], tmp_path / "all", min_quality="acceptable", progress=False)
    assert report["cached"] == 2  # the cached record is left out on reuse too
    (skipped,) = report["skipped"]
    assert skipped["record_id"] == "D00002" and "quality poor" in skipped["reason"]
    assert "flat:V1" in skipped["reason"]
    with pytest.raises(ValueError, match="verdict"):
        prepare_cache([data], tmp_path / "x", min_quality="fine", progress=False)


def test_the_amplitude_check_applies_to_leads_in_millivolts_only(clean) -> None:
    scaled = clean * 1000
    assert assess(scaled, FS, LEADS, units=["mV"] * 12).verdict == "poor"
    assert assess(scaled, FS, LEADS, units=["normalised"] * 12).label == "good"


def _neurokit_shares(x: np.ndarray, fs: float) -> tuple[float, float]:
    """The band shares as NeuroKit2's ``signal_power`` gives them, one lead at a time."""
    import neurokit2 as nk

    nyquist = fs / 2
    mains = [(f - 1, f + 1) for f in (50.0, 60.0) if f + 1 < nyquist]
    bands = [(0.5, nyquist), *mains] + ([(40.0, nyquist)] if nyquist > 40 else [])
    power = nk.signal_power(x, frequency_band=bands, sampling_rate=fs, normalize=False)
    values = np.nan_to_num(power.to_numpy()[0].astype(np.float64))
    if values[0] <= 0:
        return 0.0, 0.0
    high = values[-1] - values[1 : 1 + len(mains)].sum() if nyquist > 40 else 0.0
    return values[1 : 1 + len(mains)].max(initial=0.0) / values[0], max(high, 0.0) / values[0]


@pytest.mark.parametrize(("fs", "seconds"), [(500.0, 10), (257.0, 30), (100.0, 10), (300.0, 7)])
def test_the_band_shares_are_neurokits_signal_power(fs, seconds) -> None:
    from ecgml.data.quality import _band_shares

    rng = np.random.default_rng(int(fs))
    t = np.arange(int(fs * seconds)) / fs
    signal = np.column_stack(
        [
            np.sin(2 * np.pi * 1.2 * t) + 0.5 * np.sin(2 * np.pi * 50 * t),  # mains
            rng.normal(size=len(t)),  # white noise: power at every frequency
            np.sin(2 * np.pi * 60 * t) + 3.0,  # mains on an offset
            np.zeros(len(t)),  # no power at all
        ]
    )
    mains, high = _band_shares(signal, fs)
    for k in range(signal.shape[1]):
        expected = _neurokit_shares(signal[:, k], fs)
        np.testing.assert_allclose((mains[k], high[k]), expected, rtol=0, atol=1e-9)
    assert high[1] > 0.2 and mains[3] == high[3] == 0.0
    assert mains[0] > 0.1 if fs > 102 else mains[0] == 0.0  # no mains band under 51 Hz Nyquist


def test_the_qrs_amplitude_is_the_median_span_around_each_peak_cut_at_the_ends():
    from ecgml.data.quality import _qrs_amplitudes

    signal = np.random.default_rng(3).normal(size=(1000, 3))
    fs, half = 200.0, 10  # 50 ms at 200 Hz
    peaks = np.array([0, 4, 300, 650, 995, 999])  # the first two and last two reach past an end
    for k, amplitude in enumerate(_qrs_amplitudes(signal, peaks, fs)):
        x = signal[:, k]
        assert amplitude == np.median([np.ptp(x[max(0, p - half) : p + half + 1]) for p in peaks])
    one = np.array([300])  # fewer than two beats: the percentile range
    for k, amplitude in enumerate(_qrs_amplitudes(signal, one, fs)):
        x = signal[:, k]
        assert amplitude == np.percentile(x, 99.5) - np.percentile(x, 0.5)


def test_only_runs_of_three_or_more_at_an_extreme_count_as_clipped():
    from ecgml.data.quality import _clipped_shares

    leads = np.array(
        [
            [0.0, 5, 5, 5, 1, 5, 5, 2, -3, -3, -3, -3, 1, 0, 5, 5, 5, 5],
            [1.0, 2.0, 3.0, *[2.0] * 15],  # runs of one at each extreme
            [7.0] * 18,  # constant: every sample is at an extreme
        ]
    )
    # row 0 at its maximum 5 or minimum -3: runs of 3, 2 (too short), 4 and 4 (at the end)
    assert list(_clipped_shares(leads)) == [(3 + 4 + 4) / 18, 0.0, 1.0]


def test_the_longest_run_of_equal_samples_is_found_in_every_lead():
    from ecgml.data.quality import _longest_runs

    leads = np.array(
        [
            [1.0, 1, 1, 2, 3, 4, 5, 6, 7, 8],  # at the start
            [1.0, 2, 3, 4, 5, 6, 0, 0, 0, 0],  # at the end
            [1.0, 2, 2, 3, 3, 3, 3, 3, 4, 4],  # in the middle
            [0.0] * 10,  # the whole lead
            np.arange(10.0),  # no two alike
        ]
    )
    assert list(_longest_runs(leads)) == [3, 4, 5, 10, 1]
    assert list(_longest_runs(np.zeros((2, 0)))) == [0, 0]
