"""The top-level scripts, smoke-tested through their main()."""

import keras

import modelbuild
from tests.conftest import REPO


def test_modelbuild_prints_the_summary_and_saves(tmp_path, capsys):
    out = tmp_path / "m.keras"
    assert modelbuild.main(["--config", str(REPO / "configs/demo.json"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "27 sigmoid outputs" in printed
    assert "GFLOPs per sample" in printed
    model = keras.saving.load_model(out, safe_mode=True)
    assert model.output_shape == (None, 27)


def test_modelbuild_seed_config_has_a_flatten_head(capsys):
    assert modelbuild.main(["--config", str(REPO / "configs/seed.json")]) == 0
    assert "flatten" in capsys.readouterr().out


def test_modelbuild_rejects_another_file_type(tmp_path, capsys):
    assert modelbuild.main(["--out", str(tmp_path / "m.h5")]) == 2
    assert "must end in .keras" in capsys.readouterr().err
