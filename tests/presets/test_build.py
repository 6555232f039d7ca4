"""Writing and loading a preset, on a tiny run trained here: the round trip, the
hash check, the name check and the card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ecgml.data.cache_reader import Cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.records import read_record
from ecgml.inference.ensemble import Ensemble
from ecgml.inference.presets import load_preset
from ecgml.presets import INFO, Preset, PresetError, preset_names, weights_file
from ecgml.presets.card import render_card
from ecgml.runs.thresholds import fit_run_thresholds
from ecgml.serve.preset_build import write_preset
from tests.tiny_run import train_tiny_run

CARD = {
    "version": "0",
    "description": "A tiny test preset.",
    "data": "24 synthetic demo records.",
    "validation": "Three folds.",
    "intended_use": "Tests.",
    "not_for": "Anything else.",
    "command": "pytest",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny_preset")
    run = train_tiny_run(root)
    fit_run_thresholds(run)
    presets = root / "presets"
    presets.mkdir()
    write_preset(
        run,
        presets / "tiny",
        cache=Cache(root / "cache"),
        card=CARD,
        prediction_reader={"reader": "cinc2020", "options": {}},
    )
    write_demo_dataset(root / "records", n_records=2, seed=1, first_id=201, progress=False)
    return {"run": run, "presets": presets, "records": root / "records"}


def test_a_preset_predicts_as_its_run_within_the_float16_check(tiny) -> None:
    preset = load_preset("tiny", root=tiny["presets"])
    run = Ensemble.load(tiny["run"])
    info = Preset.named("tiny", tiny["presets"]).info
    assert preset.class_names == run.class_names and preset.folds == run.folds
    record = read_record(sorted(tiny["records"].glob("*.hea"))[0])
    leads = record.header.lead_names
    ours = preset.predict(record.signal, fs=record.header.fs, lead_names=leads)
    theirs = run.predict(record.signal, fs=record.header.fs, lead_names=leads)
    difference = np.abs(ours.fold_scores - theirs.fold_scores).max()
    if info["weights"]["dtype"] == "float32":
        assert difference < 1e-6
    else:
        assert difference <= 1e-3
    np.testing.assert_allclose(preset.thresholds, run.thresholds)


def test_every_file_is_hashed_and_the_card_is_its_info(tiny) -> None:
    preset = Preset.named("tiny", tiny["presets"])
    files = {p.name for p in preset.folder.iterdir()} - {INFO, "CARD.md"}
    assert set(preset.info["files"]) == files
    assert {weights_file(k) for k in preset.folds} <= files
    size = sum(p.stat().st_size for p in preset.folder.iterdir() if p.name != "CARD.md")
    assert preset.card() == render_card(preset.info, size_bytes=size)
    assert preset.info["figures"]["n_records"] == 24
    assert "macro_auroc" in preset.info["figures"]["intervals"]


def test_a_corrupted_weights_file_is_refused(tiny, tmp_path) -> None:
    shutil.copytree(tiny["presets"] / "tiny", tmp_path / "tiny")
    path = tmp_path / "tiny" / weights_file(0)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(PresetError, match=r"fold_0\.npz does not match its SHA-256"):
        load_preset("tiny", root=tmp_path)
    path.unlink()
    with pytest.raises(PresetError, match="is missing"):
        load_preset("tiny", root=tmp_path)


def test_an_unknown_name_lists_the_known_ones(tiny) -> None:
    assert preset_names(tiny["presets"]) == ("tiny",)
    with pytest.raises(PresetError, match=r"unknown preset 'tin'.*: tiny"):
        Preset.named("tin", tiny["presets"])
    assert Preset.named("preset:tiny", tiny["presets"]).name == "tiny"


def test_a_preprocessing_override_is_written_into_the_config(tiny, tmp_path) -> None:
    cache = Cache(tiny["run"].parent / "cache")
    write_preset(
        tiny["run"],
        tmp_path / "tiny",
        cache=cache,
        card=CARD,
        prediction_reader={"reader": "cinc2020", "options": {}},
        preprocess={"bandpass": [0.5, 40.0], "normalisation": "zscore"},
    )
    config = json.loads((tmp_path / "tiny" / "config.json").read_text())
    assert config["preprocess"]["bandpass"] == [0.5, 40.0]
    assert config["preprocess"]["normalisation"] == "zscore"
    info = Preset.named("tiny", tmp_path).info
    override = {"bandpass": [0.5, 40.0], "normalisation": "zscore"}
    assert info["preprocess_before_training"] == override
    assert info["preprocess_in_training"]["bandpass"] is None
    assert load_preset("tiny", root=tmp_path).config.preprocess.bandpass == (0.5, 40.0)
    as_trained = load_preset("tiny", root=tmp_path, preprocessed=True).config.preprocess
    assert as_trained.bandpass is None and as_trained.normalisation == "none"
