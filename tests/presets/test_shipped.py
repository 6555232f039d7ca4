"""The presets that ship in ``ecgml/presets``: their files, their cards, their
preprocessing against a hand computation, and starting a task from one."""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
import pytest
import scipy.signal as sps

from ecgml.evaluation.scorers import get_scorer
from ecgml.inference.presets import load_preset
from ecgml.presets import OOF, Preset, preset_names
from ecgml.presets.card import render_card
from ecgml.serve.preset_build import oof_figures

SHIPPED = ("cinc2017-rhythm", "ptbxl-superclass")
MEGABYTE = 1e6


@cache
def loaded(name: str):
    """Each preset loaded once for this module's tests."""
    return load_preset(name)


def test_the_presets_ship_and_stay_inside_the_size_budget() -> None:
    assert set(SHIPPED) <= set(preset_names())
    total = sum(Preset.named(name).size_bytes for name in preset_names())
    assert total <= 30 * MEGABYTE


@pytest.mark.parametrize("name", SHIPPED)
def test_card_figures_and_hashes_agree_with_the_files(name: str) -> None:
    preset = Preset.named(name)
    preset.verify()
    info = preset.info
    with np.load(preset.folder / OOF, allow_pickle=False) as saved:
        oof = {key: saved[key] for key in saved.files}
    scorer = get_scorer(preset.config_dict()["task"]["scorer"])
    again = oof_figures(scorer, oof, info["classes"], info["abbreviations"])
    assert again == info["figures"]
    size = sum(p.stat().st_size for p in preset.folder.iterdir() if p.name != "CARD.md")
    assert preset.card() == render_card(info, size_bytes=size)


def _by_hand(signal: np.ndarray, fs: float, p) -> np.ndarray:
    """The preset's preprocessing of a one-window record, written out with scipy."""

    def filtered(x: np.ndarray, rate: float) -> np.ndarray:
        sos = sps.butter(p.filter_order, p.bandpass, btype="bandpass", fs=rate, output="sos")
        padlen = min(len(x) - 1, int(np.ceil(rate / p.bandpass[0])))
        return sps.sosfiltfilt(sos, x, axis=0, padlen=padlen)

    def resampled(x: np.ndarray) -> np.ndarray:
        ratio = Fraction(p.fs / fs).limit_denominator(1000)
        return sps.resample_poly(x, ratio.numerator, ratio.denominator, axis=0)

    def zscored(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-3)

    x = signal.astype(np.float32)
    at_source = p.bandpass is not None and p.filter_at == "source"
    if at_source:  # as the PTB-XL arrays were made: filter, z-score, resample
        x = filtered(x, fs).astype(np.float32)
        if p.normalisation == "zscore":
            x = zscored(x).astype(np.float32)
        x = resampled(x)
    elif p.bandpass is not None:
        x = filtered(resampled(x).astype(np.float32), p.fs)
    else:
        x = resampled(x)
    x = x.astype(np.float32)[: p.window]
    if p.normalisation == "zscore" and not at_source:
        x = zscored(x)
    return x.astype(np.float32)[None]


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("fs", [500, 250])
def test_a_raw_record_is_preprocessed_as_the_config_says(name: str, fs: int) -> None:
    ensemble = loaded(name)
    p = ensemble.config.preprocess
    signal = _spikes(fs, p.window / p.fs, len(p.leads), fs)
    prediction = ensemble.predict(signal, fs=fs, lead_names=list(p.leads))
    expected = ensemble.predict_windows([_by_hand(signal, fs, p)])[:, 0]
    np.testing.assert_allclose(prediction.fold_scores, expected, atol=1e-5)
    assert prediction.y_score.shape == (len(ensemble.class_names),)


def _spikes(fs: float, seconds: float, n_leads: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    beats = np.sin(2 * np.pi * 1.1 * t) ** 15  # a spike every 0.9 s, in mV
    signal = (
        beats[:, None] * rng.uniform(0.5, 1.5, n_leads) + 0.1 * np.sin(2 * np.pi * 0.3 * t)[:, None]
    )
    return (signal + 0.02 * rng.normal(size=signal.shape)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_raw_record_and_its_ptbxl_style_array_agree(seed: int) -> None:
    """A raw 500 Hz record through the preset, and the array made from it as the
    shared PTB-XL arrays were (band-pass and z-score at 500 Hz, resampled to 100
    Hz, stored as float16) given with ``preprocessed=True``."""
    raw_model = loaded("ptbxl-superclass")
    p = raw_model.config.preprocess
    signal = _spikes(500, 10, len(p.leads), seed)
    leads = list(p.leads)
    array = _by_hand(signal, 500, p)[0].astype(np.float16).astype(np.float32)
    ours = raw_model.predict(signal, fs=500, lead_names=leads).fold_scores
    as_trained = load_preset("ptbxl-superclass", preprocessed=True)
    assert as_trained.config.preprocess.bandpass is None
    theirs = as_trained.predict(array, fs=100, lead_names=leads).fold_scores
    assert np.abs(ours - theirs).max() <= 1e-3
