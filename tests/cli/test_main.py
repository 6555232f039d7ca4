import argparse
import json
import os
import subprocess
import sys

import keras
import pytest

from ecgml.cli.main import main
from ecgml.data.cache import Cache
from tests.conftest import REPO


def test_demo_data_then_prepare(tmp_path, capsys):
    assert main(["demo-data", str(tmp_path / "demo"), "--n-records", "12"]) == 0
    assert len(list((tmp_path / "demo").glob("*.hea"))) == 12
    code = main(
        [
            "prepare",
            str(tmp_path / "demo"),
            "--out",
            str(tmp_path / "cache"),
            "-j",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "12 records cached (12 new, 0 unchanged), 0 skipped" in capsys.readouterr().out
    assert len(Cache(tmp_path / "cache")) == 12


def test_prepare_with_a_config(tmp_path, write_wfdb):
    write_wfdb("R1")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"preprocess": {"window": 1000, "window_policy": "all"}}))
    assert (
        main(
            [
                "prepare",
                str(tmp_path / "data"),
                "--out",
                str(tmp_path / "cache"),
                "--config",
                str(config),
                "--no-progress",
            ]
        )
        == 0
    )
    assert Cache(tmp_path / "cache").signals.shape == (5, 1000, 12)


def test_missing_data_dir_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["prepare", str(tmp_path / "nope"), "--out", str(tmp_path / "c")]) == 2
    assert "data directory not found" in capsys.readouterr().err


def test_folder_without_records_exits_1(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert (
        main(["prepare", str(tmp_path / "empty"), "--out", str(tmp_path / "c"), "--no-progress"])
        == 1
    )
    assert "no usable record" in capsys.readouterr().out


def test_bad_config_is_one_line_and_exit_2(tmp_path, capsys, write_wfdb):
    write_wfdb("R1")
    config = tmp_path / "c.json"
    config.write_text('{"preprocess": {"fs": -1}}')
    assert (
        main(
            [
                "prepare",
                str(tmp_path / "data"),
                "--out",
                str(tmp_path / "c"),
                "--config",
                str(config),
            ]
        )
        == 2
    )
    assert "fs and window must be positive" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("ecgml ")


def test_score_prints_the_challenge_metrics_and_writes_json(tmp_path, capsys):
    import numpy as np

    from ecgml.evaluation.challenge import write_output_file

    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    labels.mkdir()
    outputs.mkdir()
    for record, dx in (("A", "164889003"), ("B", "426783006")):
        (labels / f"{record}.hea").write_text(f"{record} 12 500 5000\n#Dx: {dx}\n")
        write_output_file(outputs / f"{record}.csv", record, [dx], np.array([1]), np.array([0.9]))
    out = tmp_path / "s.json"
    code = main(["score", "--labels", str(labels), "--outputs", str(outputs), "--out", str(out)])
    assert code == 0
    assert "challenge_metric: 1.000" in capsys.readouterr().out
    assert json.loads(out.read_text())["overall"]["accuracy"] == 1.0


def test_score_without_the_output_folder_is_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "labels").mkdir()
    args = ["score", "--labels", str(tmp_path / "labels"), "--outputs", str(tmp_path / "x")]
    assert main(args) == 2
    assert "output folder" in capsys.readouterr().err


def test_threshold_on_a_folder_that_is_not_a_run_is_exit_2(tmp_path, capsys):
    assert main(["threshold", "--run", str(tmp_path)]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def _modelbuild_output(**env_changes: str) -> str:
    hidden = ("TF_CPP_MIN_LOG_LEVEL", "ECGML_TF_LOGS")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    done = subprocess.run(
        [sys.executable, "-m", "ecgml", "modelbuild", "--config", str(REPO / "configs/demo.json")],
        capture_output=True,
        text=True,
        env=env | env_changes,
        check=True,
    )
    assert "27 sigmoid outputs" in done.stdout
    return done.stdout + done.stderr


TF_MARKERS = ("absl::InitializeLog", "oneDNN", "cpu_feature_guard")


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's own logging")
def test_tensorflow_start_up_lines_are_hidden_unless_asked_for():
    assert not any(marker in _modelbuild_output() for marker in TF_MARKERS)
    assert any(marker in _modelbuild_output(ECGML_TF_LOGS="1") for marker in TF_MARKERS)


def test_predict_reader_options_parse_as_json_where_they_can():
    from ecgml.cli.serve import add_predict_arguments, reader_options

    parser = argparse.ArgumentParser()
    add_predict_arguments(parser)
    base = ["--run", "r", "--out", "o", "x"]
    options = ["fs_column=false", "units=mV", 'leads=["I","II"]']
    args = parser.parse_args([*base, *(f"--reader-option={o}" for o in options), "--fs", "500"])
    expected = {"fs_column": False, "units": "mV", "leads": ["I", "II"], "fs": 500.0}
    assert reader_options(args) == expected
    for bad, match in [
        (["--reader-option", "fs"], "must be KEY=VALUE"),
        (["--reader-option", "fs=250", "--fs", "500"], "disagree"),
    ]:
        with pytest.raises(ValueError, match=match):
            reader_options(parser.parse_args([*base, *bad]))
