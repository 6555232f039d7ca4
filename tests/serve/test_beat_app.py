"""The web app with a beat run: beats, counts, the overview and the strip pages."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from ecgml.serve.app import create_app
from ecgml.serve.beats_view import STRIP_POINTS, StoredRecord, StripStore, overview, strip
from ecgml.serve.predict import predict_records
from tests.mitbih_records import write_mitbih

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(beat_served):
    return create_app(beat_served["run"]).test_client()


def _post(client, folder, *names, url="/api/predict"):
    data = {"files": [(io.BytesIO((folder / n).read_bytes()), n) for n in names]}
    return client.post(url, data=data, content_type="multipart/form-data")


def test_the_api_returns_every_annotated_beat_as_predict_does(client, beat_served, tmp_path):
    data = beat_served["data"]
    answer = _post(client, data, "100.hea", "100.dat", "100.atr")
    assert answer.status_code == 200
    [record] = answer.get_json()["records"]
    assert record["beat_source"] == "annotations (100.atr)"
    assert record["counts"]["beats"] == len(record["beats"]) == 21
    predict_records(
        beat_served["run"], [data / "100.hea"], tmp_path / "out", annotations="atr", progress=False
    )
    table = pd.read_csv(tmp_path / "out" / "beats" / "100.csv")
    assert [b["sample"] for b in record["beats"]] == table["sample"].tolist()
    assert [b["class"] for b in record["beats"]] == table["class"].tolist()
    np.testing.assert_allclose(
        [b["probabilities"]["V"] for b in record["beats"]], table["p_V"], atol=1e-4
    )
    assert len(record["overview"]["min"]) <= 1200 and "strip_token" in record


def test_without_annotations_beats_are_detected_and_plots_can_be_left_out(client, tmp_path):
    write_mitbih(tmp_path, "105", ["N"] * 30, seed=3)
    answer = _post(client, tmp_path, "105.hea", "105.dat", url="/api/predict?plot=0")
    [record] = answer.get_json()["records"]
    assert record["beat_source"] == "found by wfdb's XQRS detector"
    assert 28 <= record["counts"]["beats"] <= 30
    assert "overview" not in record and "strip_token" not in record


def test_the_strip_pages_through_the_record(client, beat_served):
    answer = _post(client, beat_served["data"], "100.hea", "100.dat", "100.atr")
    [record] = answer.get_json()["records"]
    first = client.get(f"/api/strip/{record['strip_token']}?start=0").get_json()
    assert first["start"] == 0 and first["seconds"] == 10
    # 10 s at 360 Hz is 3600 samples: every second one, within the strip's 2500 points
    assert len(first["values"]) == 1800 and first["fs"] == 180
    assert [b["time"] for b in first["beats"]] == [
        b["time"] for b in record["beats"] if b["time"] < 10
    ]
    late = client.get(f"/api/strip/{record['strip_token']}?start=100").get_json()
    assert late["start"] == pytest.approx(late["duration"] - 10)  # clamped to the end
    assert client.get("/api/strip/nonsense").status_code == 404
    assert client.get(f"/api/strip/{record['strip_token']}?start=x").status_code == 400


def test_the_page_shows_counts_and_the_strip(client, beat_served):
    page = _post(client, beat_served["data"], "100.hea", "100.dat", "100.atr", url="/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="record-100"' in html and 'class="overview"' in html and 'class="strip"' in html
    assert 'data-class="V" data-count="' in html


def test_a_record_without_the_lead_is_422_with_the_reason(client, tmp_path):
    write_mitbih(tmp_path, "900", ["N"] * 10, leads=("V5", "V2"))
    answer = _post(client, tmp_path, "900.hea", "900.dat")
    assert answer.status_code == 422
    assert "no lead MLII" in answer.get_json()["error"]


def test_an_annotation_file_of_another_record_is_refused(client, tmp_path):
    write_mitbih(tmp_path / "long", "100", ["N"] * 30)
    write_mitbih(tmp_path, "100", ["N"] * 5)
    (tmp_path / "100.atr").write_bytes((tmp_path / "long" / "100.atr").read_bytes())
    answer = _post(client, tmp_path, "100.hea", "100.dat", "100.atr")
    assert answer.status_code == 422
    assert "annotation file of another record" in answer.get_json()["error"]


def test_overview_and_strip_never_send_the_whole_record():
    signal = np.sin(np.arange(650_000) / 50).astype(np.float32)
    view = overview(signal, bins=1200)
    assert len(view["min"]) == len(view["max"]) == 1200
    assert min(view["min"]) == pytest.approx(-1, abs=1e-3) and max(view["max"]) == pytest.approx(
        1, abs=1e-3
    )
    stored = StoredRecord(
        signal=signal, fs=1000.0, beat_samples=np.array([5, 20_000]), beat_classes=("N", "V")
    )
    part = strip(stored, 15.0)
    assert len(part["values"]) <= STRIP_POINTS and part["fs"] == 250.0
    assert part["beats"] == [{"time": 20.0, "class": "V"}]


def test_the_store_keeps_the_last_records():
    store = StripStore(capacity=2)
    records = [StoredRecord(np.zeros(10, np.float32), 1.0, np.array([]), ()) for _ in range(3)]
    tokens = [store.put(r) for r in records]
    assert store.get(tokens[0]) is None and store.get(tokens[2]) is records[2]
