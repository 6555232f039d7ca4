"""The wave delineation and the average-QRS quality are NeuroKit2's, by a faster route."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ecgml import delineation
from ecgml.delineation import WAVES, average_qrs_quality, delineate
from ecgml.rpeaks import clean_leads, r_peaks
from tests.conftest import SHARED_DATA

nk = pytest.importorskip("neurokit2")


def neurokits(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> dict[str, list]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, waves = nk.ecg_delineate(cleaned, rpeaks, sampling_rate=fs, method="dwt")
    return {name: waves[name] for name in WAVES}


def neurokits_quality(cleaned: np.ndarray, rpeaks: np.ndarray, fs: int) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quality = nk.ecg_quality(cleaned, rpeaks=rpeaks, sampling_rate=fs, method="averageQRS")
    return float(np.nanmean(quality))


def assert_same_points(mine: dict[str, list], theirs: dict[str, list]) -> None:
    assert set(mine) == set(WAVES)
    for name in WAVES:
        np.testing.assert_array_equal(
            np.asarray(mine[name], dtype=float), np.asarray(theirs[name], dtype=float), name
        )


@pytest.mark.parametrize(
    ("fs", "heart_rate", "noise"), [(500, 70, 0.01), (500, 130, 0.05), (300, 55, 0.1), (100, 80, 0)]
)
def test_the_points_are_neurokits_on_simulated_ecgs(fs, heart_rate, noise):
    ecg = nk.ecg_simulate(
        duration=15, sampling_rate=fs, heart_rate=heart_rate, noise=noise, random_state=fs
    )
    cleaned = clean_leads(ecg[:, None], fs)[:, 0]
    rpeaks = r_peaks(cleaned, fs)
    found = delineate(cleaned, rpeaks, fs)
    assert_same_points(found, neurokits(cleaned, rpeaks, fs))
    quality = average_qrs_quality(cleaned, rpeaks, fs)
    assert quality == pytest.approx(neurokits_quality(cleaned, rpeaks, fs), abs=1e-12)
    assert 0.5 < quality <= 1  # a regular simulated rhythm: beats alike
    # and they are waves: most beats have a P wave before the QRS and a T wave after it
    assert np.isfinite(np.asarray(found["ECG_P_Peaks"], dtype=float)).mean() > 0.5
    onsets = np.asarray(found["ECG_R_Onsets"], dtype=float)
    ends = np.asarray(found["ECG_T_Offsets"], dtype=float)
    both = np.isfinite(onsets) & np.isfinite(ends)
    assert both.sum() >= len(rpeaks) // 2 and np.all(ends[both] > onsets[both])


def test_a_beat_at_the_very_start_and_one_at_the_very_end_are_handled_as_neurokit_does():
    fs = 500
    ecg = nk.ecg_simulate(duration=12, sampling_rate=fs, heart_rate=90, random_state=3)
    cleaned = clean_leads(ecg[:, None], fs)[:, 0]
    rpeaks = r_peaks(cleaned, fs)
    # cut so that the first and last R peaks sit a few samples from the ends: their
    # beats run past the record, P searches start before sample 0
    cut = cleaned[rpeaks[1] - 5 : rpeaks[-2] + 5]
    near = rpeaks[1:-1] - (rpeaks[1] - 5)
    assert_same_points(delineate(cut, near, fs), neurokits(cut, near, fs))
    # the first and last beats run past the ends: not whole, they score 0
    assert average_qrs_quality(cut, near, fs) == pytest.approx(
        neurokits_quality(cut, near, fs), abs=1e-12
    )


def test_beats_of_two_lengths_go_to_neurokit(monkeypatch):
    # rounding can cut one beat a sample longer than the rest; NeuroKit2's table of
    # beats then has gaps, and its own route decides what that gives
    fs = 250
    ecg = nk.ecg_simulate(duration=10, sampling_rate=fs, heart_rate=70, random_state=5)
    cleaned = clean_leads(ecg[:, None], fs)[:, 0]
    rpeaks = r_peaks(cleaned, fs)

    def uneven(*args):
        raise delineation._UnevenBeats

    monkeypatch.setattr(delineation, "_beats", uneven)
    assert_same_points(delineate(cleaned, rpeaks, fs), neurokits(cleaned, rpeaks, fs))
    assert average_qrs_quality(cleaned, rpeaks, fs) == neurokits_quality(cleaned, rpeaks, fs)


def test_a_very_slow_rate_fails_as_neurokit_fails_and_a_short_lead_is_refused():
    fs = 500
    ecg = nk.ecg_simulate(duration=40, sampling_rate=fs, heart_rate=60, random_state=1)
    cleaned = clean_leads(ecg[:, None], fs)[:, 0]
    sparse = np.array([500, 5000, 9500, 14500])  # 9 s apart: past the transform's scales
    with pytest.raises(IndexError):
        neurokits(cleaned, sparse, fs)
    with pytest.raises(IndexError):
        delineate(cleaned, sparse, fs)
    with pytest.raises(ValueError, match="at least 4 s"):
        delineate(cleaned[: 3 * fs], np.array([200, 700, 1200]), fs)
    with pytest.raises(ValueError, match="at least 4 s"):
        average_qrs_quality(cleaned[: 3 * fs], np.array([200, 700, 1200]), fs)


@pytest.mark.realdata
@pytest.mark.parametrize("folder", ["cinc12", "ptbxl", "cinc2017"])
def test_the_points_are_neurokits_on_real_records(folder):
    from ecgml.config import load_config
    from ecgml.data.readers import get_reader
    from ecgml.data.samples.windows import preprocess_record
    from tests.conftest import REPO

    config = {"cinc12": "se-resnet", "ptbxl": "ptbxl-arrays", "cinc2017": "cinc2017"}[folder]
    if not (SHARED_DATA / folder).is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA / folder}")
    config = load_config(REPO / "configs" / f"{config}.json")
    reader = get_reader(config.task.reader, config.task.reader_options)
    found = reader.find([SHARED_DATA / folder])
    p = config.preprocess
    compared = 0
    for k in np.random.default_rng(0).permutation(len(found))[:25]:
        window = preprocess_record(reader.read(found[k].path), p)[0].astype(np.float64)
        names = [name.lower() for name in p.leads]
        lead = names.index("ii") if "ii" in names else 0
        cleaned = clean_leads(window, p.fs)[:, lead]
        rpeaks = r_peaks(cleaned, p.fs)
        if len(rpeaks) < 3:
            continue
        fs = int(p.fs)
        assert_same_points(delineate(cleaned, rpeaks, fs), neurokits(cleaned, rpeaks, fs))
        quality = average_qrs_quality(cleaned, rpeaks, fs)
        assert quality == pytest.approx(neurokits_quality(cleaned, rpeaks, fs), abs=1e-9)
        compared += 1
    assert compared >= 20


@pytest.mark.parametrize("last", [2, 5, 8])
def test_the_two_scales_read_are_neurokits_to_rounding(last):
    import importlib

    dwt = importlib.import_module("neurokit2.ecg.ecg_delineate")
    ecg = nk.ecg_simulate(duration=10, sampling_rate=2000, heart_rate=65, random_state=last)
    theirs = dwt._dwt_compute_multiscales(ecg, 9)[last - 1 : last + 1]
    mine = delineation._scales(ecg, last)
    assert mine.shape == (last + 1, len(ecg))
    np.testing.assert_allclose(mine[last - 1 :], theirs, rtol=0, atol=1e-13 * np.ptp(theirs))
    assert np.isnan(mine[: last - 1]).all()  # not computed: a read would show


def test_no_r_peaks_give_no_points_and_no_quality_as_in_neurokit():
    fs = 500
    cleaned = np.random.default_rng(0).normal(size=10 * fs)
    none = np.array([], dtype=np.int64)
    assert delineate(cleaned, none, fs) == {name: [] for name in WAVES}
    assert all(len(points) == 0 for points in neurokits(cleaned, none, fs).values())
    assert np.isnan(average_qrs_quality(cleaned, none, fs))
    assert np.isnan(neurokits_quality(cleaned, none, fs))


@pytest.mark.parametrize(
    ("fs", "n"),
    [(500, 5000), (500, 4999), (100, 1000), (257, 3001), (1000, 7), (500, 5), (2000, 900)],
)
def test_the_lead_at_2_khz_is_neurokits_resampling_bit_for_bit(fs, n):
    x = np.cumsum(np.random.default_rng(n).normal(size=n))  # a wandering trace, ends included
    theirs = nk.signal_resample(x, sampling_rate=fs, desired_sampling_rate=2000)
    mine = delineation._resample(x, fs)
    assert mine.shape == theirs.shape
    np.testing.assert_array_equal(mine, theirs)
