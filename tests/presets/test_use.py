"""Using the shipped presets with no training: ``ecgml presets``, ``predict
--preset``, ``embed --preset`` and ``training.init_from: "preset:NAME"``."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from ecgml.cli.main import main
from ecgml.config import config_from_dict
from ecgml.data.demo import write_demo_dataset
from ecgml.models.family import build_model
from ecgml.presets import Preset
from ecgml.training.transfer import initialise_from

PTBXL = "ptbxl-superclass"


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """Three demo records: 12 leads, 500 Hz, 10 s, in mV."""
    folder = tmp_path_factory.mktemp("preset_records")
    write_demo_dataset(folder, n_records=3, seed=5, first_id=301, progress=False)
    return folder


def test_presets_lists_every_preset_and_shows_a_card(capsys) -> None:
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    assert "ptbxl-superclass (v1)" in listed and "cinc2017-rhythm (v1)" in listed
    assert "NORM MI STTC CD HYP" in listed and "MB" in listed
    assert main(["presets", "show", PTBXL]) == 0
    assert capsys.readouterr().out.startswith("# Preset `ptbxl-superclass`")
    assert main(["presets", "show", "nope"]) == 2
    assert "the presets are: cinc2017-rhythm, ptbxl-superclass" in capsys.readouterr().err


def test_predict_with_a_preset_needs_no_run(records, tmp_path) -> None:
    out = tmp_path / "out"
    code = main(["predict", "--preset", PTBXL, str(records), "--out", str(out), "--no-progress"])
    assert code == 0
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 3 and (summary["status"] == "predicted").all()
    assert {f"p_{c}" for c in ("NORM", "MI", "STTC", "CD", "HYP")} <= set(summary.columns)


def test_embed_writes_one_pooled_vector_per_record(records, tmp_path) -> None:
    out = tmp_path / "embed.npz"
    assert main(["embed", "--preset", PTBXL, str(records), "--out", str(out), "--no-progress"]) == 0
    with np.load(out) as saved:
        assert saved["embeddings"].shape == (3, 512)  # max and mean of 256 channels
        assert list(saved["record_ids"]) == ["D00301", "D00302", "D00303"]
        assert np.isfinite(saved["embeddings"]).all()
        assert saved["embeddings"].std(axis=0).max() > 0  # the records differ


def _config(preprocess: dict, n_classes: int = 3):
    preset = Preset.named(PTBXL)
    data = {
        "preprocess": {**preset.info["preprocess"], **preprocess},
        "labels": {"classes": ["426783006", "164889003", "270492004"][:n_classes]},
        "model": json.loads((preset.folder / "config.json").read_text())["model"],
        "training": {"init_from": f"preset:{PTBXL}", "input_length": 250},
    }
    return config_from_dict(data)


def test_init_from_a_preset_copies_its_backbone_and_not_its_head() -> None:
    config = _config({})
    model = build_model(
        config.model, n_classes=3, input_length=250, n_leads=12, activation="sigmoid"
    )
    report = initialise_from(model, config.training.init_from, freeze=False)
    assert report["source"].endswith(PTBXL)
    assert "output" in report["not_copied"] and len(report["copied"]) > 50
    theirs = Preset.named(PTBXL).model(0).get_layer("stem1_conv").get_weights()[0]
    np.testing.assert_array_equal(model.get_layer("stem1_conv").get_weights()[0], theirs)


def test_init_from_a_preset_refuses_other_preprocessing_and_says_what_differs() -> None:
    with pytest.raises(ValueError, match=r"preprocess\.fs: 500.* 100"):
        _config({"fs": 500, "window": 5000})
    with pytest.raises(ValueError, match=r"preprocess\.normalisation"):
        _config({"normalisation": "none"})
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        config_from_dict({"training": {"init_from": "preset:nope"}})
    assert dataclasses.replace(_config({}).preprocess).fs == 100


def test_the_app_serves_a_preset(records) -> None:
    import io

    from ecgml.inference.presets import load_preset
    from ecgml.serve.app import create_app

    ensemble = load_preset(PTBXL)
    client = create_app(ensemble.run, ensemble=ensemble).test_client()
    files = [
        (io.BytesIO((records / name).read_bytes()), name) for name in ("D00301.hea", "D00301.mat")
    ]
    response = client.post(
        "/api/predict?plot=0", data={"files": files}, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    [result] = response.json["records"]
    assert [c["abbreviation"] for c in result["classes"]] == ["NORM", "MI", "STTC", "CD", "HYP"]


def test_preprocessed_is_refused_where_it_would_change_nothing(records, tmp_path) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "predict",
            "--preset",
            "cinc2017-rhythm",
            "--preprocessed",
            str(records),
            "--out",
            str(out),
        ]
    )
    assert code == 2 and not out.exists()
    assert (
        main(["predict", "--run", str(tmp_path), "--preprocessed", str(records), "--out", str(out)])
        == 2
    )
