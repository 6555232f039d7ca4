"""``Ensemble.predict``: one recording of any rate, length and lead order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.records import read_record
from ecgml.inference.ensemble import Ensemble, vote

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def record(served):
    """A 10 s, 500 Hz demo record: (signal in mV, lead names)."""
    r = read_record(served["records"] / "D00101.hea")
    return r.signal, list(r.header.lead_names)


def test_decisions_are_the_vote_of_the_fold_models(ensemble, record) -> None:
    signal, leads = record
    p = ensemble.predict(signal, fs=500, lead_names=leads)
    y_pred, y_score = vote(p.fold_scores[:, None, :], ensemble.thresholds)
    np.testing.assert_array_equal(p.y_pred, y_pred[0])
    np.testing.assert_allclose(p.y_score, y_score[0])
    assert p.fold_scores.shape == (3, 27) and p.n_windows == 10
    assert p.decided == [a for a, d in zip(ensemble.abbreviations, p.y_pred, strict=True) if d]
    assert p.warnings == ()


def test_leads_are_matched_by_name_not_position(ensemble, record) -> None:
    signal, leads = record
    order = np.random.default_rng(0).permutation(12)
    shuffled = ensemble.predict(
        signal[:, order], fs=500, lead_names=[leads[k].upper() for k in order]
    )
    np.testing.assert_allclose(
        shuffled.y_score, ensemble.predict(signal, fs=500, lead_names=leads).y_score, atol=1e-6
    )


def test_extra_leads_are_left_out_with_a_note(ensemble, record) -> None:
    signal, leads = record
    extra = np.hstack([signal, signal[:, :3] * 5])
    p = ensemble.predict(extra, fs=500, lead_names=[*leads, "vx", "vy", "vz"])
    expected = ensemble.predict(signal, fs=500, lead_names=leads)
    np.testing.assert_allclose(p.y_score, expected.y_score, atol=1e-6)
    assert any("not used" in w and "vx" in w for w in p.warnings)


def test_a_missing_lead_is_an_error_or_zero_filled_on_request(ensemble, record) -> None:
    signal, leads = record
    with pytest.raises(ValueError, match=r"missing leads \['V6'\]"):
        ensemble.predict(signal[:, :11], fs=500, lead_names=leads[:11])
    filled = ensemble.predict(signal[:, :11], fs=500, lead_names=leads[:11], missing_leads="zero")
    zeroed = signal.copy()
    zeroed[:, 11] = 0
    expected = ensemble.predict(zeroed, fs=500, lead_names=leads)
    np.testing.assert_allclose(filled.y_score, expected.y_score, atol=1e-6)
    assert any("V6" in w and "zeros" in w for w in filled.warnings)


def test_other_rates_are_resampled_to_the_models_rate(ensemble, record) -> None:
    signal, leads = record
    at_500 = ensemble.predict(signal, fs=500, lead_names=leads)
    at_1000 = ensemble.predict(sps.resample_poly(signal, 2, 1, axis=0), fs=1000, lead_names=leads)
    assert at_1000.n_windows == at_500.n_windows == 10
    np.testing.assert_allclose(at_1000.y_score, at_500.y_score, atol=0.02)
    # an unresampled 1000 Hz record would read as 20 s of half-speed ECG
    slowed = ensemble.predict(sps.resample_poly(signal, 2, 1, axis=0), fs=500, lead_names=leads)
    assert slowed.n_windows == 20


def test_long_records_average_their_windows(ensemble, record) -> None:
    signal, leads = record
    whole = ensemble.predict(signal, fs=500, lead_names=leads)
    parts = [
        ensemble.predict(signal[k * 500 : (k + 1) * 500], fs=500, lead_names=leads)
        for k in range(10)
    ]
    np.testing.assert_allclose(
        whole.fold_scores, np.mean([p.fold_scores for p in parts], axis=0), atol=1e-5
    )


def test_short_records_are_padded_down_to_half_a_window(ensemble, record) -> None:
    signal, leads = record
    short = ensemble.predict(signal[:300], fs=500, lead_names=leads)
    assert short.n_windows == 1 and any("zero-padded" in w for w in short.warnings)
    padded = np.zeros((500, 12), np.float32)
    padded[:300] = signal[:300]
    np.testing.assert_allclose(
        short.y_score, ensemble.predict(padded, fs=500, lead_names=leads).y_score, atol=1e-6
    )
    with pytest.raises(ValueError, match=r"too short: 0.40 s, at least 0.5 s needed"):
        ensemble.predict(signal[:200], fs=500, lead_names=leads)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda s: s.T, r"pass it as \(n_samples, n_leads\), transposed"),
        (lambda s: np.where(np.arange(len(s))[:, None] == 7, np.nan, s), "NaN or infinite"),
    ],
)
def test_bad_signals_are_clear_errors(ensemble, record, make, message) -> None:
    signal, _ = record
    with pytest.raises(ValueError, match=message):
        ensemble.predict(make(signal), fs=500, lead_names=STANDARD_LEADS)


def test_a_run_saved_before_tasks_existed_loads_as_cinc2020(served, ensemble, tmp_path) -> None:
    old = Path(shutil.copytree(served["run"], tmp_path / "old_run"))
    config = json.loads((old / "config.json").read_text())
    del config["task"]  # what config.json held before the task section
    (old / "config.json").write_text(json.dumps(config))
    loaded = Ensemble.load(old)
    assert loaded.config.task.name == "cinc2020" and loaded.target.kind == "multilabel"
    record = read_record(served["records"] / "D00101.hea")
    got = loaded.predict(record.signal, fs=500, lead_names=record.header.lead_names)
    expected = ensemble.predict(record.signal, fs=500, lead_names=record.header.lead_names)
    assert got.decided == expected.decided
    np.testing.assert_allclose(got.y_score, expected.y_score, atol=1e-6)
