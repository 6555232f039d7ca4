"""A run with a tabular input through predict, the web app, export and postprocessing."""

from __future__ import annotations

import io
import json

import keras
import numpy as np
import pytest

from ecgml.data.records import read_record
from ecgml.data.tabular import header_metadata
from ecgml.inference.ensemble import Ensemble
from ecgml.serve.predict import predict_records, read_summary

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tab_ensemble(tabular_served) -> Ensemble:
    return Ensemble.load(tabular_served["run"])


def _expected(ensemble: Ensemble, path, **metadata):
    record = read_record(path)
    given = {**header_metadata(record.header), **metadata}
    return ensemble.predict(
        record.signal, fs=record.header.fs, lead_names=record.header.lead_names, metadata=given
    )


def test_the_tabular_input_changes_the_answer(tabular_served, tab_ensemble) -> None:
    path = tabular_served["records"] / "D00101.hea"
    young, old = _expected(tab_ensemble, path, age=20), _expected(tab_ensemble, path, age=90)
    assert not np.allclose(young.fold_scores, old.fold_scores)
    names = tab_ensemble.feature_names
    assert names[:4] == ("age", "age_missing", "sex_male", "sex_missing")
    assert names[-4:] == ("note_0", "note_1", "note_2", "note_3") and "f_qrs_ms" in names


def test_predict_uses_the_headers_metadata(tabular_served, tab_ensemble, tmp_path) -> None:
    report = predict_records(
        tabular_served["run"],
        [tabular_served["records"]],
        tmp_path,
        progress=False,
        ensemble=tab_ensemble,
    )
    assert report["n_predicted"] == 4
    summary = read_summary(tmp_path).set_index("record")
    for rid in ("D00101", "D00104"):
        expected = _expected(tab_ensemble, tabular_served["records"] / f"{rid}.hea")
        got = summary.loc[rid, [f"p_{a}" for a in tab_ensemble.abbreviations]].to_numpy(float)
        np.testing.assert_allclose(got, expected.y_score, atol=1e-5)


def test_the_app_takes_metadata_from_the_form(tabular_served, tab_ensemble) -> None:
    from ecgml.serve.app import create_app

    client = create_app(tabular_served["run"], ensemble=tab_ensemble).test_client()
    page = client.get("/").get_data(as_text=True)
    assert 'name="age"' in page and 'id="meta-sex"' in page and 'name="notes"' in page
    folder = tabular_served["records"]

    def post(**form):
        files = [(io.BytesIO((folder / n).read_bytes()), n) for n in ("D00102.hea", "D00102.mat")]
        return client.post(
            "/api/predict", data={"files": files, **form}, content_type="multipart/form-data"
        )

    response = post(age="33", weight="70")
    assert response.status_code == 200
    got = [c["probability"] for c in response.json["records"][0]["classes"]]
    expected = _expected(tab_ensemble, folder / "D00102.hea", age=33.0, weight=70.0)
    np.testing.assert_allclose(got, expected.y_score, atol=1e-5)
    bad = post(age="old")
    assert bad.status_code == 400 and "age must be a number" in bad.json["error"]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="export needs TensorFlow")
@pytest.mark.parametrize("fmt", ["savedmodel", "onnx", "tflite"])
def test_export_takes_the_tabular_input(fmt, tabular_served, tab_ensemble, tmp_path) -> None:
    from ecgml.serve.export import ARTIFACTS, _runner, check_features, check_inputs, export_run

    if fmt == "onnx":
        pytest.importorskip("tf2onnx")
    card = export_run(tabular_served["run"], tmp_path, fmt=fmt, ensemble=tab_ensemble)
    x, f = check_inputs(tab_ensemble, n=3, seed=7), check_features(tab_ensemble, n=3, seed=7)
    assert np.isnan(f).any()
    expected = np.moveaxis(tab_ensemble.predict_proba(x, features=f), 0, 1)
    got = _runner(fmt, tmp_path / ARTIFACTS[fmt])(x, f)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    tab = card["tabular_input"]
    assert tab["columns"] == list(tab_ensemble.feature_names)
    assert tab["shape"] == ["batch", len(tab_ensemble.feature_names)]
    assert tab["warning"] and "## Tabular input" in (tmp_path / "MODEL_CARD.md").read_text()


def test_postprocessing_prepares_the_same_tabular_input(tabular_served, tmp_path) -> None:
    from ecgml.inference.postprocess import evaluate_on_data

    evaluate_on_data(tabular_served["run"], tabular_served["records"], tmp_path, progress=False)
    score = json.loads((tmp_path / "score.json").read_text())
    assert score["data"]["n_records"] == 4
    from ecgml.data.cache_reader import Cache

    assert "f_heart_rate" in Cache(tmp_path / "cache").index.columns
