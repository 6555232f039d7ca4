import dataclasses
import hashlib
import json

import numpy as np
import pytest
import scipy.signal as sps

from ecgml.data.preprocess import (
    STANDARD_LEADS,
    PreprocessConfig,
    bandpass,
    make_windows,
    preprocess,
    reorder_leads,
    resample,
    select_leads,
    window_starts,
    zscore,
)
from tests.conftest import sine_signal


def test_reorder_leads_follows_names_case_insensitively():
    names = [n.upper() for n in reversed(STANDARD_LEADS)]
    signal = np.arange(12, dtype=np.float32)[None, :].repeat(3, axis=0)
    out = reorder_leads(signal, names)
    np.testing.assert_array_equal(out[0], np.arange(12)[::-1])


def test_reorder_leads_rejects_a_wrong_lead_count():
    with pytest.raises(ValueError, match="expected 12 leads, got 8"):
        reorder_leads(np.zeros((10, 8)), STANDARD_LEADS[:8])


def test_reorder_leads_names_the_missing_lead():
    names = [*STANDARD_LEADS[:11], "X"]
    with pytest.raises(ValueError, match="missing leads \\['V6'\\]"):
        reorder_leads(np.zeros((10, 12)), names)


def test_resample_halves_1000_hz_and_keeps_a_sine():
    x = sine_signal(10000, fs=1000.0, n_leads=2).astype(np.float32)
    y = resample(x, 1000.0, 500.0)
    assert y.shape == (5000, 2)
    assert y.dtype == np.float32
    expected = sine_signal(5000, fs=500.0, n_leads=2)
    np.testing.assert_allclose(y[100:-100], expected[100:-100], atol=2e-3)


def test_resample_handles_a_non_integer_ratio():
    y = resample(np.zeros((2570, 1), dtype=np.float32), 257.0, 500.0)
    assert y.shape == (5000, 1)


def test_bandpass_keeps_the_band_and_removes_drift():
    fs = 500.0
    t = np.arange(5000) / fs
    band = np.sin(2 * np.pi * 10 * t)
    x = (band + 2 * np.sin(2 * np.pi * 0.05 * t) + 0.5)[:, None]
    y = bandpass(x, fs, 0.5, 45.0)[:, 0]
    np.testing.assert_allclose(y[250:-250], band[250:-250], atol=0.03)


def test_bandpass_attenuates_high_frequency_noise():
    fs = 500.0
    rng = np.random.default_rng(0)
    noise = bandpass(rng.normal(0, 1, size=(5000, 1)), fs, 100.0, 240.0, order=6)
    y = bandpass(noise, fs, 0.5, 45.0)
    assert y[250:-250].std() < 0.02 * noise.std()


@pytest.mark.parametrize(
    ("n", "policy", "starts"),
    [
        (4000, "all", [0]),
        (5000, "centre", [0]),
        (12000, "first", [0]),
        (12000, "centre", [3500]),
        (10000, "all", [0, 5000]),
        (12000, "all", [0, 3500, 7000]),
    ],
)
def test_window_starts(n, policy, starts):
    assert window_starts(n, 5000, policy) == starts


def test_short_records_are_zero_padded_at_the_end():
    x = np.ones((3000, 2), dtype=np.float32)
    w = make_windows(x, 5000, "first")
    assert w.shape == (1, 5000, 2)
    assert w[0, :3000].min() == 1.0
    assert np.all(w[0, 3000:] == 0.0)


def test_zscore_gives_zero_mean_unit_std_per_lead():
    rng = np.random.default_rng(0)
    w = rng.normal(3.0, 2.0, size=(2, 500, 3)).astype(np.float32)
    z = zscore(w)
    np.testing.assert_allclose(z.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=1), 1.0, atol=1e-4)


def test_preprocess_chain_shape_and_order():
    x = sine_signal(15000, fs=1000.0)
    names = list(reversed(STANDARD_LEADS))
    out = preprocess(x, 1000.0, names, PreprocessConfig(window_policy="all"))
    assert out.shape == (2, 5000, 12)
    # lead I of the output is the last column of the input (12 Hz, amplitude 1.2 mV)
    assert np.abs(out[0, :, 0]).max() == pytest.approx(1.2, abs=0.02)


def test_config_rejects_an_impossible_bandpass():
    with pytest.raises(ValueError, match="bandpass"):
        PreprocessConfig(bandpass=(1.0, 300.0))


def test_select_leads_orders_by_name_and_leaves_extra_leads_out() -> None:
    signal = np.arange(15, dtype=np.float32)[None, :].repeat(3, axis=0)
    names = [n.lower() for n in reversed(STANDARD_LEADS)] + ["vx", "vy", "vz"]
    out, warnings = select_leads(signal, names)
    np.testing.assert_array_equal(out[0], np.arange(11, -1, -1))
    assert warnings == ("leads ['vx', 'vy', 'vz'] not used by the model",)


def test_select_leads_zero_fills_a_missing_lead_only_on_request() -> None:
    signal = np.ones((4, 11), np.float32)
    with pytest.raises(ValueError, match=r"missing leads \['V6'\]"):
        select_leads(signal, STANDARD_LEADS[:11])
    out, warnings = select_leads(signal, STANDARD_LEADS[:11], missing="zero")
    assert out[:, 11].tolist() == [0, 0, 0, 0] and out[:, :11].min() == 1
    assert warnings == ("leads ['V6'] missing, filled with zeros",)
    with pytest.raises(ValueError, match="missing must be one of"):
        select_leads(signal, STANDARD_LEADS[:11], missing="drop")


def test_filter_at_source_band_passes_before_resampling() -> None:
    rng = np.random.default_rng(3)
    signal = rng.normal(size=(5000, 2)).astype(np.float32)
    fields = dict(leads=("I", "II"), fs=100, window=1000, bandpass=(0.5, 40.0), filter_order=4)
    source = PreprocessConfig(**fields, filter_at="source")
    target = PreprocessConfig(**fields)
    by_hand = sps.sosfiltfilt(
        sps.butter(4, (0.5, 40.0), btype="bandpass", fs=500, output="sos"),
        signal,
        axis=0,
        padlen=1000,
    )
    by_hand = sps.resample_poly(by_hand, 1, 5, axis=0)
    got = preprocess(signal, 500, ["I", "II"], source)[0]
    np.testing.assert_allclose(got, by_hand, atol=1e-5)
    # the default order filters at 100 Hz, after resampling: another signal
    assert np.abs(preprocess(signal, 500, ["I", "II"], target)[0] - by_hand).max() > 0.05


def test_filter_at_source_refuses_a_rate_too_low_for_the_band() -> None:
    config = PreprocessConfig(fs=100, window=1000, bandpass=(0.5, 40.0), filter_at="source")
    with pytest.raises(ValueError, match="above twice"):
        preprocess(np.zeros((500, 12), np.float32), 50, list(config.leads), config)
    with pytest.raises(ValueError, match="filter_at"):
        PreprocessConfig(filter_at="before")


def test_filter_at_leaves_existing_cache_hashes_alone() -> None:
    from ecgml.data.cache_reuse import config_hash

    default = PreprocessConfig(bandpass=(0.5, 40.0))
    assert config_hash(default) == config_hash(PreprocessConfig(bandpass=(0.5, 40.0)))
    assert config_hash(default) != config_hash(
        PreprocessConfig(bandpass=(0.5, 40.0), filter_at="source")
    )
    fields = dataclasses.asdict(default)
    del fields["image"], fields["filter_at"]  # a cache made before filter_at
    text = json.dumps(fields, sort_keys=True)
    assert config_hash(default) == hashlib.sha256(text.encode()).hexdigest()[:16]
