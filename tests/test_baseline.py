"""The feature baseline: features that measure what they name, and the per-class forests."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ecgml.baseline import FeatureClassifier, _rhythm, extract_features, feature_names
from ecgml.data.preprocess import STANDARD_LEADS
from tests.conftest import SHARED_DATA

nk = pytest.importorskip("neurokit2")
FS = 500


def twelve_leads(heart_rate: float, avf_sign: float = 1.0) -> np.ndarray:
    """A simulated ECG in every lead; aVF has the sign given, the rest are positive."""
    lead = nk.ecg_simulate(
        duration=10, sampling_rate=FS, heart_rate=heart_rate, method="simple", random_state=0
    )
    gains = np.linspace(0.5, 1.5, 12)
    gains[STANDARD_LEADS.index("aVF")] = avf_sign * gains[STANDARD_LEADS.index("I")]
    return lead[:, None] * gains[None, :]


def named(values: np.ndarray) -> dict[str, float]:
    return dict(zip(feature_names(STANDARD_LEADS), values, strict=True))


@pytest.mark.parametrize("heart_rate", [60, 120])
def test_heart_rate_and_regularity_of_a_simulated_ecg(heart_rate):
    f = named(extract_features(twelve_leads(heart_rate), FS, STANDARD_LEADS, age=63, sex="Male"))
    assert f["heart_rate"] == pytest.approx(heart_rate, rel=0.05)
    assert f["rr_cv"] < 0.05
    assert (f["age"], f["sex_male"]) == (63.0, 1.0)


def beat_train(qrs_sigma_s: float) -> np.ndarray:
    """Gaussian "QRS" complexes of the given width at 75 bpm, with a low T wave, in all leads."""
    t = np.arange(5000) / FS
    x = np.zeros_like(t)
    for r in np.arange(0.4, 10.0, 0.8):
        x += 1.2 * np.exp(-0.5 * ((t - r) / qrs_sigma_s) ** 2)
        x += 0.2 * np.exp(-0.5 * ((t - r - 0.3) / 0.05) ** 2)
    return np.repeat(x[:, None], 12, axis=1)


def test_a_wider_qrs_measures_wider():
    narrow = named(extract_features(beat_train(0.008), FS, STANDARD_LEADS))
    wide = named(extract_features(beat_train(0.025), FS, STANDARD_LEADS))
    assert narrow["heart_rate"] == pytest.approx(75, rel=0.03)
    assert 20 <= narrow["qrs_ms"] < 80 < wide["qrs_ms"] <= 200
    assert wide["qrs_ms"] > 2 * narrow["qrs_ms"]


def test_qrs_axis_follows_the_sign_of_avf():
    down = named(extract_features(twelve_leads(70, avf_sign=-1.0), FS, STANDARD_LEADS))
    up = named(extract_features(twelve_leads(70, avf_sign=1.0), FS, STANDARD_LEADS))
    assert up["qrs_axis_deg"] == pytest.approx(45.0, abs=1.0)
    assert down["qrs_axis_deg"] == pytest.approx(-45.0, abs=1.0)


def test_rhythm_features_from_known_r_peaks():
    regular = dict(
        zip(
            ("n", "hr", "std", "cv", "rmssd", "min", "max", "pnn50", "irr"),
            _rhythm(np.arange(0, 5000, 500), FS),
            strict=True,
        )
    )
    assert (regular["hr"], regular["cv"], regular["pnn50"]) == (60.0, 0.0, 0.0)
    alternating = np.cumsum([0] + [200, 300] * 5)  # 400 ms and 600 ms
    irregular = _rhythm(alternating, FS)
    assert irregular[3] == pytest.approx(0.2)  # coefficient of variation
    assert irregular[7] == 1.0  # every successive difference is over 50 ms
    assert irregular[4] == pytest.approx(200.0)  # RMSSD, ms


def test_a_flat_recording_gives_nan_rhythm_and_unknowns_not_an_error():
    f = named(extract_features(np.zeros((5000, 12)), FS, STANDARD_LEADS, sex="unknown"))
    assert np.isnan(f["heart_rate"]) and np.isnan(f["qrs_ms"])
    assert np.isnan(f["age"]) and np.isnan(f["sex_male"])
    assert f["V1_rms"] == 0.0


def test_wrong_lead_count_is_refused():
    with pytest.raises(ValueError, match="shape"):
        extract_features(np.zeros((5000, 11)), FS, STANDARD_LEADS)


def test_forests_learn_a_feature_rule_and_handle_missing_values_and_absent_classes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6))
    x[rng.random(x.shape) < 0.1] = np.nan
    signal = np.nan_to_num(x[:, 0])
    y = np.column_stack([signal > 0.8, rng.random(400) < 0.3, np.zeros(400)]).astype(int)
    model = FeatureClassifier(n_estimators=50, random_state=0).fit(x[:300], y[:300])
    proba = model.predict_proba(x[300:])
    assert proba.shape == (100, 3)
    assert roc_auc_score(y[300:, 0], proba[:, 0]) > 0.9
    assert np.all(proba[:, 2] == 0.0)  # no positives in training: probability 0


@pytest.mark.realdata
def test_bundle_branch_blocks_have_wider_qrs_than_sinus_rhythm_on_real_records():
    from ecgml.data.preprocess import PreprocessConfig, preprocess
    from ecgml.data.records import read_record

    folder = SHARED_DATA / "cinc12" / "cpsc2018"
    if not folder.is_dir():
        pytest.skip(f"real data not found at {folder}")
    widths: dict[str, list[float]] = {"block": [], "normal": []}
    for header in sorted(folder.glob("*.hea")):
        record = read_record(header)
        dx = set(record.header.dx)
        group = (
            "block" if dx & {"59118001", "164909002"} else "normal" if dx == {"426783006"} else None
        )
        if group is None:
            continue
        h = record.header
        x = preprocess(record.signal, h.fs, h.lead_names, PreprocessConfig())[0]
        widths[group].append(named(extract_features(x, FS, STANDARD_LEADS))["qrs_ms"])
    assert len(widths["block"]) >= 20 and len(widths["normal"]) >= 10
    assert np.nanmedian(widths["block"]) > np.nanmedian(widths["normal"]) + 20


def test_single_lead_features_share_the_twelve_lead_ones_and_tell_rhythms_apart():
    from ecgml.baseline import extract_single_lead_features, single_lead_feature_names
    from tests.cinc2017_records import FS as FS_2017
    from tests.cinc2017_records import synthetic_signal

    rng = np.random.default_rng(0)
    regular, irregular, noise = (synthetic_signal(c, 20.0, rng) for c in ("N", "A", "~"))
    names = single_lead_feature_names()
    features = {
        label: dict(zip(names, extract_single_lead_features(x, FS_2017), strict=True))
        for label, x in (("N", regular), ("A", irregular), ("~", noise))
    }
    # the rhythm, interval and morphology columns are the 12-lead path's for one lead
    shared = extract_features(regular[:, None], FS_2017, ["II"])
    n_shared = names.index("qrs_ms") + 1
    np.testing.assert_array_equal(list(features["N"].values())[:n_shared], shared[:n_shared])
    assert features["N"]["heart_rate"] == pytest.approx(70, abs=2)
    assert features["A"]["rr_cv"] > 5 * features["N"]["rr_cv"]
    # noise: beats less alike than sinus rhythm's, and a signal without sharp peaks
    assert features["~"]["qrs_template_corr"] < features["N"]["qrs_template_corr"]
    assert features["~"]["kurtosis"] < 1 < features["N"]["kurtosis"]


@pytest.mark.parametrize("fs", [500, 257, 100, 80])
def test_the_leads_are_cleaned_as_neurokit_cleans_each(fs):
    import neurokit2 as nk

    from ecgml.rpeaks import clean_leads

    rng = np.random.default_rng(fs)
    t = np.arange(10 * fs) / fs
    signal = np.column_stack(
        [np.sin(2 * np.pi * 1.1 * t) + 0.3 * t, rng.normal(size=len(t)), np.full(len(t), 2.0)]
    )
    cleaned = clean_leads(signal, fs)
    for k in range(signal.shape[1]):
        np.testing.assert_array_equal(cleaned[:, k], nk.ecg_clean(signal[:, k], sampling_rate=fs))
    assert cleaned.flags.c_contiguous and np.abs(cleaned[:, 2]).max() < 1e-6  # no offset left


@pytest.mark.parametrize("fs", [500, 300, 100])
def test_r_peaks_are_neurokits_ecg_peaks(fs):
    import neurokit2 as nk

    from ecgml.rpeaks import clean_leads, r_peaks

    ecg = nk.ecg_simulate(duration=12, sampling_rate=fs, heart_rate=75, random_state=fs)
    cleaned = clean_leads(ecg[:, None], fs)[:, 0]
    _, info = nk.ecg_peaks(cleaned, sampling_rate=fs)
    found = r_peaks(cleaned, fs)
    assert len(found) >= 12
    np.testing.assert_array_equal(found, info["ECG_R_Peaks"])
