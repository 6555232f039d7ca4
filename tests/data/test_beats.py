"""Heartbeats as samples: the AAMI classes, beat windows, RR features."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.data.beats import (
    AAMI_CLASSES,
    aami_beats,
    aami_class,
    record_beats,
    rr_features,
)
from ecgml.data.preprocess import PreprocessConfig, beat_windows
from ecgml.data.record_types import Annotations
from ecgml.data.samples import infer_sample_kind

BEATS = PreprocessConfig(leads=("MLII",), fs=360, window=9, window_policy="beats", beat_offset=4)


def test_aami_classes_group_the_beat_codes_as_ec57_does():
    groups = {
        "N": "NLRej",
        "S": "AaJS",
        "V": "VE",
        "F": "F",
        "Q": "/fQ",
    }
    for aami, symbols in groups.items():
        assert [aami_class(s) for s in symbols] == [aami] * len(symbols)
    assert list(AAMI_CLASSES) == ["N", "S", "V", "F", "Q"]


def test_non_beat_annotations_are_not_beats():
    for symbol in ("+", "~", "|", "x", "!", '"', "[", "]", "p", "t"):
        assert aami_class(symbol) is None
    ann = Annotations(np.array([10, 20, 30, 40]), ("+", "N", "~", "V"))
    samples, labels = aami_beats(ann)
    assert samples.tolist() == [20, 40]
    assert labels == ("N", "V")


def test_beat_windows_take_offset_samples_before_the_peak():
    signal = np.arange(100, dtype=np.float32)[:, None]
    windows = beat_windows(signal, np.array([50]), window=6, offset=2)
    assert windows.shape == (1, 6, 1)
    assert windows[0, :, 0].tolist() == [48, 49, 50, 51, 52, 53]


def test_beat_windows_at_the_record_edges_are_zero_padded():
    signal = np.arange(1, 11, dtype=np.float32)[:, None]  # samples 1..10
    windows = beat_windows(signal, np.array([1, 9]), window=5, offset=2)
    assert windows[0, :, 0].tolist() == [0, 1, 2, 3, 4]  # starts before sample 0
    assert windows[1, :, 0].tolist() == [8, 9, 10, 0, 0]  # runs past the end


def test_record_beats_picks_the_configured_lead_by_name():
    n = 400
    signal = np.stack([np.zeros(n), np.arange(n, dtype=float)], axis=1)
    windows = record_beats(signal, 360.0, ("V1", "MLII"), np.array([100, 200]), BEATS)
    assert windows.shape == (2, 9, 1)
    assert windows[0, :, 0].tolist() == list(range(96, 105))


def test_record_beats_refuses_a_missing_lead_a_low_rate_and_a_short_record():
    signal = np.zeros((400, 1))
    with pytest.raises(ValueError, match="missing leads"):
        record_beats(signal, 360.0, ("V5",), np.array([100]), BEATS)
    with pytest.raises(ValueError, match="below the beat window's 360 Hz"):
        record_beats(signal, 250.0, ("MLII",), np.array([100]), BEATS)
    with pytest.raises(ValueError, match="shorter than one beat window"):
        record_beats(np.zeros((5, 1)), 360.0, ("MLII",), np.array([2]), BEATS)


def test_record_beats_moves_peaks_to_the_new_rate():
    fs, n = 360.0, 3600
    signal = np.zeros((n, 1))
    signal[1800, 0] = 1.0  # a spike at 5 s
    config = PreprocessConfig(
        leads=("MLII",), fs=120, window=5, window_policy="beats", beat_offset=2
    )
    [window] = record_beats(signal, fs, ("MLII",), np.array([1800]), config)
    assert np.argmax(window[:, 0]) == 2  # the peak sits at the offset


def test_rr_features_by_hand():
    r = np.array([0, 100, 300, 400])  # RR 100, 200, 100 samples at 100 Hz
    f = rr_features(r, 100.0, local=1)
    assert f[:, 0].tolist() == pytest.approx([1.0, 1.0, 2.0, 1.0])  # previous (first: next)
    assert f[:, 1].tolist() == pytest.approx([1.0, 2.0, 1.0, 1.0])  # next (last: previous)
    local = [(1 + 1 + 1) / 3, (1 + 1 + 2) / 3, (1 + 2 + 1) / 3, (2 + 1 + 1) / 3]
    assert f[:, 2].tolist() == pytest.approx(local)
    assert f[:, 3].tolist() == pytest.approx([p / m for p, m in zip(f[:, 0], local, strict=True)])


def test_rr_features_refuse_unordered_or_too_few_beats():
    with pytest.raises(ValueError, match="at least two beats"):
        rr_features(np.array([5]), 100.0)
    with pytest.raises(ValueError, match="strictly increasing"):
        rr_features(np.array([5, 5, 9]), 100.0)


def test_beats_policy_needs_an_offset_inside_the_window():
    with pytest.raises(ValueError, match="beat_offset"):
        PreprocessConfig(window=9, window_policy="beats", beat_offset=9)
    assert (
        infer_sample_kind(BEATS) == "beats" and infer_sample_kind(PreprocessConfig()) == "windows"
    )
