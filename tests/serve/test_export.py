"""``ecgml export``: the exported graph gives the Keras models' outputs."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from ecgml.cli.main import main as ecgml_main
from ecgml.serve.export import ARTIFACTS, check_inputs, export_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="export needs TensorFlow"),
]


def _run_artifact(fmt: str, path, x: np.ndarray) -> np.ndarray:
    """Each format through its own runtime, independently of ecgml's check."""
    if fmt == "onnx":
        ort = pytest.importorskip("onnxruntime")
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    if fmt == "savedmodel":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(path))  # kept: its variables die with it
        return loaded.serve(tf.constant(x)).numpy()
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    interpreter = litert.Interpreter(model_path=str(path))
    index = interpreter.get_input_details()[0]["index"]
    interpreter.resize_tensor_input(index, x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(index, x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.mark.parametrize("fmt", ["savedmodel", "onnx", "tflite"])
def test_exported_outputs_equal_the_keras_models(fmt, served, ensemble, tmp_path) -> None:
    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
    card = export_run(served["run"], tmp_path, fmt=fmt, ensemble=ensemble)
    x = check_inputs(ensemble, n=3, seed=7)  # not the inputs the export checked itself on
    expected = np.moveaxis(ensemble.predict_proba(x), 0, 1)
    got = _run_artifact(fmt, tmp_path / ARTIFACTS[fmt], x)
    assert got.shape == (3, 3, 27)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert card["check"]["max_abs_difference"] <= 1e-4


def test_the_model_card_says_how_to_use_the_graph(served, ensemble, tmp_path) -> None:
    card = export_run(served["run"], tmp_path, fmt="savedmodel", ensemble=ensemble)
    assert card == json.loads((tmp_path / "model_card.json").read_text())
    assert card["input"]["shape"] == ["batch", 500, 12] and card["input"]["units"] == "mV"
    assert card["input"]["lead_order"] == [
        "I",
        "II",
        "III",
        "aVR",
        "aVL",
        "aVF",
        "V1",
        "V2",
        "V3",
        "V4",
        "V5",
        "V6",
    ]
    assert card["input"]["fs"] == 500 and card["output"]["shape"] == ["batch", 3, 27]
    np.testing.assert_array_equal(card["decision"]["thresholds"], ensemble.thresholds)
    assert card["decision"]["min_votes"] == 2
    assert [c["code"] for c in card["classes"]] == list(ensemble.class_names)
    folds = json.loads((served["run"] / "folds.json").read_text())["folds"]
    assert [f["n_val"] for f in card["training"]["folds"]] == [len(f) for f in folds]
    markdown = (tmp_path / "MODEL_CARD.md").read_text()
    assert "lead order: I, II, III, aVR" in markdown and "| AF | 164889003 |" in markdown


def test_the_command_line_and_its_errors(served, tmp_path, capsys) -> None:
    out = tmp_path / "onnx"
    args = ["export", "--run", str(served["run"]), "--format", "savedmodel", "--out", str(out)]
    assert ecgml_main(args) == 0
    assert "largest difference from the float32 Keras graph" in capsys.readouterr().out
    assert (out / "ensemble_savedmodel" / "saved_model.pb").is_file()
    assert ecgml_main([*args, "--score", str(tmp_path / "none.json")]) == 2
    assert "score file not found" in capsys.readouterr().err


def test_a_failed_check_keeps_the_earlier_artifact(served, ensemble, tmp_path) -> None:
    export_run(served["run"], tmp_path, fmt="savedmodel", ensemble=ensemble)
    saved = (tmp_path / "ensemble_savedmodel" / "saved_model.pb").read_bytes()
    card = (tmp_path / "model_card.json").read_text()
    with pytest.raises(ValueError, match="differs from the float32 Keras graph"):
        export_run(served["run"], tmp_path, fmt="savedmodel", ensemble=ensemble, tolerance=-1)
    assert (tmp_path / "ensemble_savedmodel" / "saved_model.pb").read_bytes() == saved
    assert (tmp_path / "model_card.json").read_text() == card
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "MODEL_CARD.md",
        "ensemble_savedmodel",
        "model_card.json",
    ]
