"""A run on a label-table folder of arrays, end to end: sliding test-time crops with the
maximum, AdamW with the one-cycle schedule, and every way of scoring and predicting."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import postprocessing
import threshold
from ecgml import runs
from ecgml.config import config_from_dict
from ecgml.data.cache import Cache, prepare_cache
from ecgml.inference.ensemble import Ensemble
from ecgml.serve.app import create_app
from ecgml.serve.predict import predict_records, read_summary
from ecgml.training.folds import load_folds

pytestmark = pytest.mark.slow

LEADS = ["I", "II", "V1"]
CONFIG = {
    "task": {
        "name": "arrays",
        "reader": "table",
        "scorer": "multilabel",
        "split": "standard",
        "window_stride": 50,
        "window_aggregate": "max",
        "reader_options": {
            "fs": 100,
            "leads": LEADS,
            "id_column": "id",
            "label_columns": ["A", "B"],
            "split_column": "split",
            "units": "normalised",
        },
    },
    "preprocess": {"leads": LEADS, "fs": 100, "window": 200},
    "labels": {"classes": ["A", "B"]},
    "model": {
        "architecture": "xresnet1d",
        "layers": [1, 1],
        "widths": [4, 4],
        "stem_filters": [4, 4, 4],
        "head_units": [4],
    },
    "training": {
        "n_folds": 3,
        "batch_size": 8,
        "epochs": 2,
        "input_length": 100,
        "loss": "bce",
        "optimizer": "adamw",
        "schedule": "one_cycle",
        "learning_rate": 0.01,
        "weight_decay": 0.01,
        "warmup_proportion": 0.0,
        "early_stopping_patience": 0,
        "keep_epoch": "last",
        "reduce_lr_patience": 0,
    },
}


def write_arrays(root: Path, n: int, n_test: int) -> None:
    """Class A records carry a 5 Hz wave in lead I; B a step in V1; the last ``n_test``
    rows are the test part."""
    rng = np.random.default_rng(0)
    (root / "signals").mkdir(parents=True)
    t = np.arange(200) / 100
    rows = []
    for k in range(n):
        a, b = int(k % 2 == 0), int(k % 3 == 0)
        x = rng.normal(0, 0.3, (200, 3))
        x[:, 0] += a * np.sin(2 * np.pi * 5 * t)
        x[100:, 2] += b
        np.save(root / "signals" / f"r{k}.npy", x.astype(np.float16))
        rows.append(
            {
                "id": f"ecg{k}",
                "file": f"signals/r{k}.npy",
                "A": a,
                "B": b,
                "split": "test" if k >= n - n_test else "train",
            }
        )
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)


@pytest.fixture(scope="module")
def table_run(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("table_run")
    write_arrays(root / "data", 30, 6)
    config = config_from_dict(CONFIG)
    prepare_cache(
        [root / "data"],
        root / "cache",
        config.preprocess,
        config.labels,
        reader="table",
        reader_options=config.task.reader_options,
        progress=False,
    )
    runs.train_run(root / "cache", root / "run", config, verbose=0)
    assert threshold.main(["--run", str(root / "run")]) == 0
    return {"root": root, "data": root / "data", "run": root / "run", "config": config}


def test_validation_predictions_are_the_test_time_crops(table_run):
    """Thresholds learn from the same sliding-crop maximum that scores held-out records."""
    cache = Cache(table_run["root"] / "cache")
    folds = load_folds(table_run["run"] / "folds.json", list(cache.index["record_id"]))
    assert (folds == -1).sum() == 6  # the test part is held out of the folds
    saved = np.load(table_run["run"] / "fold_0" / "val_predictions.npz")
    member = Ensemble.load(table_run["run"], folds=[0])
    again = member.predict_cache(cache.subset(folds == 0), progress=False)[0]
    np.testing.assert_allclose(saved["y_score"], again, atol=1e-5)
    # the maximum over the crops: at least the centre crop's score
    centre = member.predict_proba(cache.signals[cache.index["row"].to_numpy()[folds == 0], 50:150])[
        0
    ]
    assert np.all(again >= centre - 1e-6)


def test_postprocessing_scores_the_tables_test_part(table_run, tmp_path):
    out = tmp_path / "scored"
    assert (
        postprocessing.main(
            [
                "--run",
                str(table_run["run"]),
                "--data",
                str(table_run["data"]),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    score = json.loads((out / "score.json").read_text())
    assert score["data"]["n_records"] == 6 and score["data"]["n_training_part_left_out"] == 24
    assert (score["ensemble"]["window_stride"], score["ensemble"]["window_aggregate"]) == (
        50,
        "max",
    )
    assert sorted(p.stem for p in (out / "outputs").iterdir()) == [f"ecg{k}" for k in range(24, 30)]
    assert "macro_auroc" in score["models"]["ensemble"]["confidence_intervals"]


def test_predict_takes_the_table_folder_one_row_per_table_row(table_run, tmp_path):
    out = tmp_path / "predicted"
    predict_records(table_run["run"], [table_run["data"]], out, progress=False)
    summary = read_summary(out)
    assert sorted(summary["record"]) == sorted(f"ecg{k}" for k in range(30))
    assert set(summary["status"]) == {"predicted"}
    ensemble = Ensemble.load(table_run["run"])
    x = np.load(table_run["data"] / "signals" / "r3.npy").astype(np.float32)
    expected = ensemble.predict(x, fs=100, lead_names=LEADS)
    row = summary.set_index("record").loc["ecg3"]
    np.testing.assert_allclose([row["p_A"], row["p_B"]], expected.y_score, atol=1e-5)
    # the table file itself names the same records
    predict_records(
        table_run["run"], [table_run["data"] / "labels.csv"], tmp_path / "p2", progress=False
    )
    assert len(read_summary(tmp_path / "p2")) == 30


def test_the_app_takes_an_uploaded_array_with_its_rate(table_run):
    ensemble = Ensemble.load(table_run["run"])
    client = create_app(table_run["run"], ensemble=ensemble).test_client()
    x = np.load(table_run["data"] / "signals" / "r5.npy")
    buffer = io.BytesIO()
    np.save(buffer, x)

    def post(fs):
        data = {"files": [(io.BytesIO(buffer.getvalue()), "mine.npy")], "fs": fs}
        return client.post("/api/predict", data=data, content_type="multipart/form-data")

    response = post("100")
    assert response.status_code == 200
    [result] = response.json["records"]
    expected = ensemble.predict(x.astype(np.float32), fs=100, lead_names=LEADS)
    assert result["record"] == "mine" and result["fs"] == 100
    np.testing.assert_allclose(
        [c["probability"] for c in result["classes"]], expected.y_score, atol=1e-5
    )
    refused = post("")
    assert refused.status_code == 422 and "needs its sampling rate" in refused.json["error"]
    csv = pd.DataFrame(x.astype(np.float32), columns=LEADS).to_csv(index=False).encode()
    data = {"files": [(io.BytesIO(csv), "mine.csv")], "fs": "100"}
    response = client.post("/api/predict", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    np.testing.assert_allclose(
        [c["probability"] for c in response.json["records"][0]["classes"]],
        expected.y_score,
        atol=1e-4,
    )


def write_500_hz(root: Path, source: Path, ids: range, *, column: str = "fs") -> None:
    """The records of ``source`` resampled to 500 Hz, with the rate in a table column and
    no labels, patients or split: new records to predict."""
    from scipy.signal import resample_poly

    (root / "signals").mkdir(parents=True)
    rows = []
    for k in ids:
        x = np.load(source / "signals" / f"r{k}.npy").astype(np.float32)
        np.save(root / "signals" / f"r{k}.npy", resample_poly(x, 5, 1, axis=0).astype(np.float32))
        rows.append({"id": f"ecg{k}", "file": f"signals/r{k}.npy", column: 500})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)


def test_a_500_hz_table_with_an_fs_column_is_read_at_500_hz_by_a_100_hz_run(table_run, tmp_path):
    """The table's own rate column, not the run's ``fs`` option, gives each record's rate;
    the difference is named in the note, and the probabilities are the 500 Hz arrays'."""
    write_500_hz(tmp_path / "fast", table_run["data"], range(24, 30))
    out = tmp_path / "predicted"
    predict_records(table_run["run"], [tmp_path / "fast"], out, progress=False)
    summary = read_summary(out).set_index("record")
    assert set(summary["status"]) == {"predicted"}
    assert summary["fs"].tolist() == [500.0] * 6 and summary["seconds"].tolist() == [2.0] * 6
    assert all("fs column gives 500 Hz and option fs 100 Hz" in n for n in summary["note"])
    ensemble = Ensemble.load(table_run["run"])
    x = np.load(tmp_path / "fast" / "signals" / "r25.npy")
    expected = ensemble.predict(x, fs=500, lead_names=LEADS).y_score
    got = summary.loc["ecg25", ["p_A", "p_B"]].to_numpy(float)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_a_rate_read_wrong_is_flagged_and_the_new_datas_rate_can_be_given(table_run, tmp_path):
    from ecgml.cli.main import main as ecgml_main

    write_500_hz(tmp_path / "fast", table_run["data"], range(24, 30), column="rate")
    manifest = json.loads((table_run["run"] / "manifest.json").read_text())
    assert manifest["record_seconds"] == {"min": 2.0, "median": 2.0, "max": 2.0}
    # no rate column the reader knows: read at the run's 100 Hz, 10 s instead of 2 s
    predict_records(table_run["run"], [tmp_path / "fast"], tmp_path / "wrong", progress=False)
    wrong = read_summary(tmp_path / "wrong")
    assert wrong["fs"].tolist() == [100.0] * 6 and wrong["seconds"].tolist() == [10.0] * 6
    assert all("10 s at 100 Hz is implausible" in n for n in wrong["note"])
    # the run's own records are not flagged
    predict_records(table_run["run"], [table_run["data"]], tmp_path / "own", progress=False)
    assert not any("implausible" in n for n in read_summary(tmp_path / "own")["note"])
    # the data's own rate, given on the command line or as the column's name
    for options in (["--fs", "500"], ["--reader-option", "fs_column=rate"]):
        out = tmp_path / options[0]
        args = [
            "predict",
            "--run",
            str(table_run["run"]),
            str(tmp_path / "fast"),
            "--out",
            str(out),
        ]
        assert ecgml_main([*args, *options, "--no-progress"]) == 0
        right = read_summary(out)
        assert right["seconds"].tolist() == [2.0] * 6
        assert not any("implausible" in n for n in right["note"])
        report = json.loads((out / "predict.json").read_text())
        assert report["input"]["reader"]["changed"] in ({"fs": 500.0}, {"fs_column": "rate"})
    with pytest.raises(ValueError, match=r"takes no option\(s\) \['colour'\]"):
        Ensemble.load(table_run["run"]).reading({"colour": "red"})


@pytest.fixture(scope="module")
def stacked_run(tmp_path_factory) -> dict:
    """The same run with a feature forest stacked on every fold model."""
    root = tmp_path_factory.mktemp("stacked_run")
    write_arrays(root / "data", 30, 6)
    config = config_from_dict({**CONFIG, "stack": {"forest": True, "n_estimators": 20}})
    assert config.baseline_features
    prepare_cache(
        [root / "data"],
        root / "cache",
        config.preprocess,
        config.labels,
        reader="table",
        reader_options=config.task.reader_options,
        progress=False,
        baseline=config.baseline_features,
    )
    runs.train_run(root / "cache", root / "run", config, verbose=0)
    assert threshold.main(["--run", str(root / "run")]) == 0
    return {"root": root, "data": root / "data", "run": root / "run"}


def test_a_stacked_fold_mixes_its_model_and_forest_by_validation_weights(stacked_run):
    from ecgml.training.stack import FOREST_INPUT, Stack

    run, cache = stacked_run["run"], Cache(stacked_run["root"] / "cache")
    saved = np.load(run / "fold_1" / "val_predictions.npz")
    stack = Stack.load(run / "fold_1" / "stack.joblib")
    np.testing.assert_array_equal(saved["stack_weights"], stack.weights_)
    assert set(np.round(stack.weights_, 1)) <= set(np.round(np.linspace(0, 1, 11), 1))
    position = {r: i for i, r in enumerate(cache.index["record_id"])}
    rows = [position[r] for r in saved["record_ids"]]
    forest = stack.forest_.predict_proba(cache.tabular(FOREST_INPUT)[rows])
    w = stack.weights_
    np.testing.assert_allclose(
        saved["y_score"], w * saved["deep_score"] + (1 - w) * forest, atol=1e-6
    )
    # the ensemble scores cached records the same way
    member = Ensemble.load(run, folds=[1])
    again = member.predict_cache(
        cache.subset(np.isin(np.arange(len(cache)), rows)), progress=False
    )[0]
    order = np.argsort(rows)
    np.testing.assert_allclose(again, saved["y_score"][order], atol=1e-5)


def _deep_members(ensemble: Ensemble) -> Ensemble:
    """The stacked run's fold models alone, without their forests."""
    return Ensemble(
        ensemble.run,
        ensemble.config,
        ensemble.encoder,
        ensemble.folds,
        ensemble.models,
        ensemble.threshold_info,
    )


def test_a_stacked_run_predicts_scores_and_serves_the_whole_stack(stacked_run, tmp_path):
    run = stacked_run["run"]
    ensemble = Ensemble.load(run)
    assert len(ensemble.stacks) == 3
    x = np.load(stacked_run["data"] / "signals" / "r7.npy").astype(np.float32)
    expected = ensemble.predict(x, fs=100, lead_names=LEADS)
    deep = _deep_members(ensemble)
    assert not np.allclose(deep.predict(x, fs=100, lead_names=LEADS).y_score, expected.y_score)
    predict_records(run, [stacked_run["data"]], tmp_path / "p", progress=False)
    row = read_summary(tmp_path / "p").set_index("record").loc["ecg7"]
    np.testing.assert_allclose([row["p_A"], row["p_B"]], expected.y_score, atol=1e-5)
    out = tmp_path / "scored"
    assert (
        postprocessing.main(
            [
                "--run",
                str(run),
                "--data",
                str(stacked_run["data"]),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    stack = json.loads((out / "score.json").read_text())["ensemble"]["stack"]
    assert stack["forest"] and set(stack["deep_weights"]) == {"fold_0", "fold_1", "fold_2"}
    client = create_app(run, ensemble=ensemble).test_client()
    buffer = io.BytesIO()
    np.save(buffer, x)
    data = {"files": [(io.BytesIO(buffer.getvalue()), "r7.npy")], "fs": "100"}
    response = client.post("/api/predict", data=data, content_type="multipart/form-data")
    got = [c["probability"] for c in response.json["records"][0]["classes"]]
    np.testing.assert_allclose(got, expected.y_score, atol=1e-5)


def test_a_stacked_run_is_not_exported(stacked_run, tmp_path):
    import keras

    from ecgml.serve.export import export_run

    if keras.backend.backend() != "tensorflow":
        pytest.skip("export needs TensorFlow")
    with pytest.raises(ValueError, match="forests are not Keras graphs"):
        export_run(stacked_run["run"], tmp_path / "x", fmt="onnx")


def test_a_stacked_run_explanation_says_it_explains_the_deep_part(stacked_run, tmp_path):
    from ecgml.inference.explain import DEEP_PART, SHOWN, explained_part

    run = stacked_run["run"]
    out = tmp_path / "p"
    predict_records(run, [stacked_run["data"]], out, explain=[], progress=False)
    assert json.loads((out / "predict.json").read_text())["explain"]["explains"] == DEEP_PART
    tables = [pd.read_csv(p) for p in sorted((out / "explain").glob("*.csv"))]
    assert tables and all((t["explains"] == DEEP_PART).all() for t in tables)
    ensemble = Ensemble.load(run)
    deep = _deep_members(ensemble)
    assert explained_part(ensemble) == DEEP_PART and explained_part(deep) == SHOWN
