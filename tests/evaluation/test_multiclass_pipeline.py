"""A tiny single-lead multiclass run (CinC 2017 layout) through every command."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import numpy as np
import pytest

import postprocessing
import threshold
from ecgml import runs
from ecgml.config import Config, TaskConfig
from ecgml.data.cache import prepare_cache
from ecgml.data.labels import LabelConfig
from ecgml.data.loading import window_signal
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.records import read_record
from ecgml.inference.ensemble import Ensemble
from ecgml.models.resecg import ResECGConfig
from ecgml.serve.predict import predict_records, read_summary
from ecgml.training.config import TrainingConfig
from tests.cinc2017_records import write_cinc2017

pytestmark = pytest.mark.slow

TINY_2017 = Config(
    task=TaskConfig(
        name="cinc2017", reader="cinc2017", target="multiclass", scorer="cinc2017", all_windows=True
    ),
    preprocess=PreprocessConfig(leads=("ECG",), fs=300, window=600, window_policy="all"),
    labels=LabelConfig(classes=("N", "A", "O", "~")),
    model=ResECGConfig(n_blocks=4, filters=4, filters_step=4, filters_every=2, kernel_size=5),
    training=TrainingConfig(
        n_folds=3, batch_size=8, epochs=1, loss="weighted_cce", input_length=512
    ),
)
LABELS = ["N", "A", "O", "~"] * 6


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cinc2017")
    write_cinc2017(root / "train", LABELS, seed=0)
    prepare_cache(
        [root / "train"],
        root / "cache",
        TINY_2017.preprocess,
        TINY_2017.labels,
        reader="cinc2017",
        progress=False,
    )
    runs.train_run(root / "cache", root / "run", TINY_2017, verbose=0)
    write_cinc2017(root / "test", ["N", "A", "O", "~", "A", "N"], seed=1)
    return {"root": root, "run": root / "run", "test": root / "test"}


def test_threshold_script_says_there_is_nothing_to_threshold(trained, capsys):
    assert threshold.main(["--run", str(trained["run"])]) == 0
    assert "multiclass run" in capsys.readouterr().out
    assert not list(trained["run"].glob("fold_*/thresholds.json"))


def test_fold_models_are_softmax_classifiers(trained):
    ensemble = Ensemble.load(trained["run"])
    assert ensemble.thresholds is None and ensemble.target.kind == "multiclass"
    assert ensemble.models[0].get_layer("output").activation.__name__ == "softmax"
    assert (trained["run"] / "fold_0" / "tensorboard").is_dir()


def test_postprocessing_scores_the_argmax_ensemble_with_the_cinc2017_scorer(trained, tmp_path):
    out = tmp_path / "test"
    assert (
        postprocessing.main(
            [
                "--run",
                str(trained["run"]),
                "--data",
                str(trained["test"]),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    score = json.loads((out / "score.json").read_text())
    assert score["run"]["target"] == "multiclass" and score["run"]["scorer"] == "cinc2017"
    assert score["ensemble"]["rule"] == "mean" and score["ensemble"]["all_windows"] is True
    assert score["thresholds"] is None
    ensemble = score["models"]["ensemble"]
    assert "challenge" not in ensemble
    assert set(ensemble["overall"]) >= {"cinc2017_score", "f1_N", "f1_A", "f1_O", "f1_~"}
    assert sum(map(sum, ensemble["confusion_matrix"]["rows_true_columns_decided"])) == 6
    assert set(score["models"]) == {"fold_0", "fold_1", "fold_2", "ensemble", "ensemble_majority"}
    saved = np.load(out / "predictions.npz")
    mean = saved["fold_scores"].mean(axis=0)
    np.testing.assert_array_equal(saved["y_pred"].argmax(axis=1), mean.argmax(axis=1))
    assert (saved["y_pred"].sum(axis=1) == 1).all()
    assert (out / "confusion.png").read_bytes()[:4] == b"\x89PNG"


def test_min_votes_is_refused_for_a_multiclass_run(trained, tmp_path, capsys):
    code = postprocessing.main(
        [
            "--run",
            str(trained["run"]),
            "--data",
            str(trained["test"]),
            "--out",
            str(tmp_path / "o"),
            "--min-votes",
            "2",
        ]
    )
    assert code == 2
    assert "min_votes applies to multilabel runs" in capsys.readouterr().err


def test_predict_decides_exactly_one_class_per_record(trained, tmp_path):
    report = predict_records(trained["run"], [trained["test"]], tmp_path / "p", progress=False)
    assert report["n_predicted"] == 6 and report["ensemble"]["rule"] == "mean"
    summary = read_summary(tmp_path / "p")
    assert all(len(decided) == 1 for decided in summary["decided"])
    ensemble = Ensemble.load(trained["run"])
    record = read_record(trained["test"] / "A00002.hea")
    expected = ensemble.predict(record.signal, fs=300, lead_names=["ECG"])
    row = summary.set_index("record").loc["A00002"]
    assert row["decided"] == expected.decided
    np.testing.assert_allclose([row[f"p_{c}"] for c in "NAO~"], expected.y_score, atol=1e-5)


def test_a_short_and_a_61_s_record_are_decided_from_every_window(trained, tmp_path):
    data = tmp_path / "records"
    write_cinc2017(data, ["N", "A"], seconds=[1.5, 61.0], seed=3, dated=False)
    report = predict_records(trained["run"], [data], tmp_path / "p", progress=False)
    assert report["n_predicted"] == 2
    summary = read_summary(tmp_path / "p").set_index("record")
    # 2 s windows: the 1.5 s record is one zero-padded window; the 61 s record
    # (18,300 samples) 31 evenly spaced windows that cover it to its last sample
    assert list(summary["n_windows"]) == [1, 31]
    assert "shorter than a 2 s window; zero-padded" in summary.loc["A00001", "note"]
    ensemble = Ensemble.load(trained["run"])
    pre, length = TINY_2017.preprocess, 512
    for rid, n_windows in (("A00001", 1), ("A00002", 31)):
        record = read_record(data / f"{rid}.hea")
        windows, _ = window_signal(record.signal, 300, ["ECG"], pre)
        starts = np.round(np.linspace(0, record.signal.shape[0] - 600, n_windows)).astype(int)
        if n_windows > 1:  # the last window ends with the record: no tail left out
            assert starts[-1] + 600 == record.signal.shape[0]
        # by hand: each window's centre 512 samples, every fold model, the mean of all
        crops = windows[:, 44 : 44 + length]
        fold_means = [m.predict(crops, verbose=0).mean(axis=0) for m in ensemble.models]
        expected = np.mean(fold_means, axis=0)
        row = summary.loc[rid]
        np.testing.assert_allclose([row[f"p_{c}"] for c in "NAO~"], expected, atol=1e-5)
        assert row["decided"] == ["NAO~"[int(expected.argmax())]]


def test_the_web_app_shows_one_decision_and_fold_argmax_votes(trained):
    from ecgml.serve.app import create_app

    client = create_app(trained["run"]).test_client()
    folder = trained["test"]
    files = {
        "files": [(io.BytesIO((folder / n).read_bytes()), n) for n in ("A00001.hea", "A00001.mat")]
    }
    response = client.post("/api/predict", data=files, content_type="multipart/form-data")
    assert response.status_code == 200
    [result] = response.json["records"]
    assert len(result["decided"]) == 1
    assert sum(c["votes"] for c in result["classes"]) == 3  # each fold votes once
    assert sum(c["probability"] for c in result["classes"]) == pytest.approx(1.0, abs=1e-4)
    assert "argmax of the mean probability" in response.json["rule"]
    assert (
        b"printout of A00001"
        in client.post(
            "/",
            data={
                "files": [
                    (io.BytesIO((folder / n).read_bytes()), n) for n in ("A00001.hea", "A00001.mat")
                ]
            },
            content_type="multipart/form-data",
        ).data
    )


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="export needs TensorFlow")
def test_export_onnx_of_a_multiclass_run(trained, tmp_path):
    from ecgml.serve.export import export_run

    card = export_run(trained["run"], tmp_path / "onnx", fmt="onnx")
    assert card["decision"]["thresholds"] is None
    assert "argmax of the mean probability" in card["decision"]["rule"]
    assert card["check"]["max_abs_difference"] < 1e-4
    assert "softmax" in card["output"]["meaning"]
    assert "| class | code |" not in (tmp_path / "onnx" / "MODEL_CARD.md").read_text()


@pytest.mark.realdata
def test_real_cinc2017_records_predict_with_one_class_each(trained, shared_data, tmp_path):
    folder = shared_data / "cinc2017"
    records = [folder / f"{rid}.hea" for rid in ("A00001", "A00004", "A00005")]
    report = predict_records(trained["run"], records, tmp_path / "p", progress=False)
    assert report["n_predicted"] == 3
    summary = read_summary(tmp_path / "p")
    # 30, 30 and 60 s records in 2 s windows, whose predictions are averaged
    assert list(summary["n_windows"]) == [15, 15, 30]
    assert all(len(decided) == 1 for decided in summary["decided"])
