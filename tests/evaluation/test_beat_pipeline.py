"""A tiny beat-task run (MIT-BIH layout): standard DS1/DS2 split, folds by record,
scoring of DS2 only, per-beat output tables."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import postprocessing
from ecgml import runs
from ecgml.data.cache import Cache
from ecgml.task import Task
from ecgml.training.folds import load_folds
from tests.beat_run import TEST, TINY_BEATS, TRAIN, train_beat_run
from tests.mitbih_records import write_mitbih

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    return train_beat_run(tmp_path_factory.mktemp("beats"))


def test_the_standard_split_holds_ds2_out_and_folds_ds1_by_record(trained):
    folds = json.loads((trained["run"] / "folds.json").read_text())
    assert folds["split"] == "standard"
    assert {rid.split(":")[0] for rid in folds["test"]} == set(TEST)
    records_per_fold = [{rid.split(":")[0] for rid in fold} for fold in folds["folds"]]
    assert set().union(*records_per_fold) == set(TRAIN)
    # every record's beats sit in one fold
    assert sum(len(r) for r in records_per_fold) == len(TRAIN)


def test_postprocessing_scores_only_the_test_part_with_aami_figures(trained, tmp_path):
    out = tmp_path / "eval"
    assert (
        postprocessing.main(
            [
                "--run",
                str(trained["run"]),
                "--data",
                str(trained["data"]),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    score = json.loads((out / "score.json").read_text())
    n_beats_per_record = 21  # 24 annotations, 3 of them "+"
    assert score["data"]["n_records"] == len(TEST) * n_beats_per_record
    assert score["data"]["n_training_part_left_out"] == len(TRAIN) * n_beats_per_record
    assert score["run"]["scorer"] == "aami"
    overall = score["models"]["ensemble"]["overall"]
    assert {"macro_sensitivity", "accuracy", "macro_f1"} <= set(overall)
    # the interval resamples whole records (their patients), never single beats
    interval = score["models"]["ensemble"]["confidence_intervals"]["macro_sensitivity"]
    assert interval["unit"] == "group" and interval["n_resamples"] == 1000
    assert interval["estimate"] == pytest.approx(overall["macro_sensitivity"])
    per_class = score["models"]["ensemble"]["per_class"]
    assert per_class["V"]["n_positive"] == len(TEST) * 6
    assert {"sensitivity", "positive_predictivity", "f1"} <= set(per_class["V"])
    assert not (out / "outputs").exists()
    beats = pd.read_csv(out / "beats" / "100.csv")
    assert len(beats) == n_beats_per_record
    assert list(beats.columns) == [
        "sample",
        "time_s",
        "class",
        "label",
        "p_N",
        "p_S",
        "p_V",
        "p_F",
        "p_Q",
    ]
    np.testing.assert_allclose(beats["time_s"], beats["sample"] / 360, atol=1e-4)
    np.testing.assert_allclose(beats.filter(like="p_").sum(axis=1), 1.0, atol=1e-3)
    summary = pd.read_csv(out / "beats" / "summary.csv")
    assert summary["record"].astype(str).tolist() == list(TEST)
    assert (summary[["N", "S", "V", "F", "Q"]].sum(axis=1) == summary["beats"]).all()


def test_intra_patient_folds_split_a_records_beats(trained, tmp_path):
    config = dataclasses.replace(
        TINY_BEATS, task=dataclasses.replace(TINY_BEATS.task, split="intra_patient")
    )
    cache = Cache(trained["cache"])
    task = Task.of(config)
    y, _ = runs.cache_labels(cache, config, task.target)
    (tmp_path / "run").mkdir()
    folds = runs.run_folds(tmp_path / "run", cache, y, config, task)
    assert (folds >= 0).all()  # no held-out part
    per_record = pd.Series(folds).groupby(cache.index["patient_id"]).nunique()
    assert (per_record > 1).any()
    saved = json.loads((tmp_path / "run" / "folds.json").read_text())
    assert saved["split"] == "intra_patient" and saved["grouped_by_patient"] is False


def test_predict_classifies_every_annotated_beat(trained, tmp_path):
    from ecgml.serve.predict import predict_records

    report = predict_records(
        trained["run"],
        [trained["data"] / "100.hea"],
        tmp_path / "out",
        annotations="atr",
        progress=False,
    )
    assert (report["n_predicted"], report["n_beats"]) == (1, 21)
    assert "annotations of RECORD.atr" in report["input"]["beats"]
    beats = pd.read_csv(tmp_path / "out" / "beats" / "100.csv")
    _, samples = write_mitbih(
        tmp_path / "again", "100", ["N", "N", "V", "N", "+", "A", "N", "V"] * 3
    )
    beat_samples = [
        s
        for s, sym in zip(samples, ["N", "N", "V", "N", "+", "A", "N", "V"] * 3, strict=True)
        if sym != "+"
    ]
    assert beats["sample"].tolist() == beat_samples
    assert beats["label"].tolist()[:4] == ["N", "N", "V", "N"]
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    row = summary.iloc[0]
    assert row["status"] == "predicted" and row["beats"] == 21
    assert row[["N", "S", "V", "F", "Q"]].sum() == 21
    decided_ectopic = beats["class"].isin(["S", "V", "F"]).mean()
    assert row["ectopic_share"] == pytest.approx(decided_ectopic, abs=1e-4)


def test_predict_finds_beats_without_annotations(trained, tmp_path):
    from ecgml.serve.predict import predict_records

    header, drawn = write_mitbih(tmp_path / "data", "105", ["N"] * 30, seed=3)
    report = predict_records(trained["run"], [header], tmp_path / "out", progress=False)
    assert "XQRS" in report["input"]["beats"]
    beats = pd.read_csv(tmp_path / "out" / "beats" / "105.csv")
    # XQRS learns from the first beats: it may miss one or two at the start
    assert len(drawn) - 2 <= len(beats) <= len(drawn)
    nearest = np.abs(beats["sample"].to_numpy()[:, None] - drawn[None, :]).min(axis=1)
    assert nearest.max() <= 0.05 * 360
    assert beats["label"].isna().all()  # nothing annotated


def test_predict_skips_bad_beat_records_with_the_reason(trained, tmp_path):
    from ecgml.serve.predict import predict_records

    write_mitbih(tmp_path / "bad", "900", ["N"] * 10, leads=("V5", "V2"))
    write_mitbih(tmp_path / "bad", "901", ["N"] * 10)
    (tmp_path / "bad" / "901.atr").unlink()
    report = predict_records(
        trained["run"], [tmp_path / "bad"], tmp_path / "out", annotations="atr", progress=False
    )
    assert report["n_predicted"] == 0
    problems = {Path(s["path"]).stem: s["problem"] for s in report["skipped"]}
    assert "no lead MLII" in problems["900"]
    assert "annotation file not found" in problems["901"]
    with pytest.raises(ValueError, match="--missing-leads zero does not apply"):
        predict_records(
            trained["run"],
            [tmp_path / "bad"],
            tmp_path / "out2",
            missing_leads="zero",
            progress=False,
        )


def test_rr_features_as_a_second_input_through_training_and_predict(trained, tmp_path):
    from ecgml.config import TabularConfig
    from ecgml.data.beats import RR_FEATURES
    from ecgml.inference.ensemble import Ensemble
    from ecgml.serve.predict import predict_records

    config = dataclasses.replace(TINY_BEATS, tabular=TabularConfig(features=RR_FEATURES, units=4))
    runs.train_run(trained["cache"], tmp_path / "run", config, verbose=0)
    model = Ensemble.load(tmp_path / "run", folds=[0]).models[0]
    assert [t.name.split(":")[0] for t in model.inputs] == ["ecg", "features"]
    # standardised with the training fold's rows only
    cache = Cache(trained["cache"])
    folds = load_folds(tmp_path / "run" / "folds.json", list(cache.index["record_id"]))
    train = cache.features(RR_FEATURES)[(folds != 0) & (folds >= 0)]
    norm = model.get_layer("features_norm")
    np.testing.assert_allclose(np.ravel(norm.mean), train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(np.ravel(norm.variance), train.var(axis=0), rtol=1e-4)
    report = predict_records(
        tmp_path / "run",
        [trained["data"] / "100.hea"],
        tmp_path / "out",
        annotations="atr",
        progress=False,
    )
    assert report["n_beats"] == 21 and report["input"]["features"] == list(RR_FEATURES)


def test_cache_rows_carry_each_beats_rr_features(trained):
    from ecgml.data.beats import RR_FEATURES, rr_features

    cache = Cache(trained["cache"])
    rows = cache.index[cache.index["path"].str.endswith("100.hea")]
    expected = rr_features(rows["sample"].to_numpy(), 360.0)
    np.testing.assert_allclose(cache.features(RR_FEATURES)[rows.index], expected, atol=1e-5)
    with pytest.raises(ValueError, match="no feature column"):
        cache.features(("age_years",))


def test_the_recording_api_refuses_a_beat_run(trained):
    from ecgml.inference.ensemble import Ensemble

    with pytest.raises(ValueError, match="classifies beats"):
        Ensemble.load(trained["run"]).predict(np.zeros((3600, 1)), fs=360, lead_names=["MLII"])
