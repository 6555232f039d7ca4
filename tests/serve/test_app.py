"""The web app through Flask's test client."""

from __future__ import annotations

import base64
import io
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

import numpy as np
import pytest
from PIL import Image

from ecgml.cli.serve import _is_loopback
from ecgml.data.records import read_record, write_record
from ecgml.printout import page_layout
from ecgml.serve.app import APP_DPI, create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(served, ensemble):
    return create_app(served["run"], ensemble=ensemble, max_upload_mb=2).test_client()


def _files(folder, *names):
    return {"files": [(io.BytesIO((folder / n).read_bytes()), n) for n in names]}


def _post(client, data, url="/api/predict"):
    return client.post(url, data=data, content_type="multipart/form-data")


def test_the_page_has_an_upload_form(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<input type="file" id="files" name="files" multiple>' in page
    assert 'enctype="multipart/form-data"' in page


def test_the_api_returns_what_the_ensemble_says(client, served, ensemble) -> None:
    folder = served["records"]
    response = _post(client, _files(folder, "D00101.hea", "D00101.mat"))
    assert response.status_code == 200
    [result] = response.json["records"]
    record = read_record(folder / "D00101.hea")
    expected = ensemble.predict(record.signal, fs=500, lead_names=record.header.lead_names)
    assert result["record"] == "D00101" and result["decided"] == expected.decided
    got = [c["probability"] for c in result["classes"]]
    np.testing.assert_allclose(got, expected.y_score, atol=1e-5)
    votes = (expected.fold_scores >= ensemble.thresholds).sum(axis=0)
    assert [c["votes"] for c in result["classes"]] == votes.tolist()
    png = base64.b64decode(result["plot_png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as page:  # the record's A4 printout at the app's DPI
        assert page.size == page_layout(record.header.lead_names, 10.0, dpi=APP_DPI).size_px
    assert response.json["errors"] == []


def test_a_zip_of_several_records_and_no_plots(client, served) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(served["records"].glob("D0010[12].*")):
            archive.write(path, f"upload/{path.name}")
    response = _post(
        client, {"files": [(io.BytesIO(buffer.getvalue()), "two.zip")]}, url="/api/predict?plot=0"
    )
    assert response.status_code == 200
    assert [r["record"] for r in response.json["records"]] == ["D00101", "D00102"]
    assert all("plot_png" not in r for r in response.json["records"])


def test_a_missing_signal_file_is_400_with_the_reason(client, served) -> None:
    response = _post(client, _files(served["records"], "D00101.hea"))
    assert response.status_code == 400
    assert "signal file D00101.mat, which was not uploaded" in response.json["error"]


def test_a_wrong_file_type_is_400(client) -> None:
    response = _post(client, {"files": [(io.BytesIO(b"%PDF-1.4"), "report.pdf")]})
    assert response.status_code == 400 and "no header (.hea)" in response.json["error"]


def test_too_large_is_413_with_the_limit(client) -> None:
    response = _post(client, {"files": [(io.BytesIO(b"0" * 2_100_000), "A0001.dat")]})
    assert response.status_code == 413
    assert response.json["error"] == "upload too large: the limit is 2 MB"


def test_too_short_is_422_and_a_good_record_beside_it_still_counts(client, served, tmp_path):
    record = read_record(served["records"] / "D00101.hea")
    write_record(tmp_path, "SHORT", record.signal[:100], 500, record.header.lead_names)
    alone = _post(client, _files(tmp_path, "SHORT.hea", "SHORT.mat"))
    assert alone.status_code == 422
    assert alone.json["error"] == "record SHORT: too short: 0.20 s, at least 0.5 s needed"
    short = _files(tmp_path, "SHORT.hea", "SHORT.mat")["files"]
    good = _files(served["records"], "D00101.hea", "D00101.mat")["files"]
    both = _post(client, {"files": short + good})
    assert both.status_code == 200
    assert [r["record"] for r in both.json["records"]] == ["D00101"]
    assert both.json["errors"] == [{"record": "SHORT", "error": alone.json["error"]}]


def test_the_page_shows_results_and_errors(client, served) -> None:
    page = _post(client, _files(served["records"], "D00101.hea", "D00101.mat"), url="/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="record-D00101"' in html and "data:image/png;base64," in html
    bad = _post(client, _files(served["records"], "D00101.hea"), url="/")
    assert bad.status_code == 400
    assert "which was not uploaded" in bad.get_data(as_text=True)


def test_uploads_are_removed_after_the_request(client, served, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _post(client, _files(served["records"], "D00101.hea", "D00101.mat"))
    _post(client, _files(served["records"], "D00101.hea"))
    assert list(tmp_path.iterdir()) == []


def test_info_describes_the_run(client, ensemble) -> None:
    info = client.get("/api/info").json
    assert [c["code"] for c in info["classes"]] == list(ensemble.class_names)
    assert info["classes"][1]["name"] == "atrial fibrillation"
    assert info["input"]["leads"][:3] == ["I", "II", "III"] and info["input"]["min_seconds"] == 0.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ecgml_serve_starts_on_loopback(served) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ecgml", "serve", "--run", str(served["run"]), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=5) as r:
                    info = json.load(r)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not answer: {process.stdout.read()}")
                time.sleep(0.5)
        assert info["folds"] == [0, 1, 2]
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"serving {served['run']} on http://127.0.0.1:{port}/" in output
    assert "warning" not in output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_hosts_other_than_loopback_are_flagged(host, loopback) -> None:
    assert _is_loopback(host) is loopback


def test_a_missing_lead_is_422_unless_the_app_fills_it(client, served, ensemble, tmp_path):
    record = read_record(served["records"] / "D00101.hea")
    write_record(tmp_path, "NOV6", record.signal[:, :11], 500, record.header.lead_names[:11])
    files = lambda: _files(tmp_path, "NOV6.hea", "NOV6.mat")  # noqa: E731
    refused = _post(client, files())
    assert refused.status_code == 422 and "missing leads ['V6']" in refused.json["error"]
    filling = create_app(served["run"], ensemble=ensemble, missing_leads="zero").test_client()
    answered = _post(filling, files())
    assert answered.status_code == 200
    assert answered.json["records"][0]["warnings"] == ["leads ['V6'] missing, filled with zeros"]


def test_serve_refuses_a_taken_or_impossible_port(served, capsys) -> None:
    from ecgml.cli.main import main as ecgml_main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert ecgml_main(["serve", "--run", str(served["run"]), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert ecgml_main(["serve", "--run", str(served["run"]), "--port", "70000"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err


def test_the_signal_quality_is_shown_beside_the_decision_in_words(client, served, tmp_path):
    record = read_record(served["records"] / "D00101.hea")
    dead = record.signal.copy()
    dead[:, 6:] = 0.0  # V1-V6 off
    write_record(tmp_path, "DEAD", dead, 500, record.header.lead_names)
    answer = _post(client, _files(tmp_path, "DEAD.hea", "DEAD.mat"))
    (result,) = answer.json["records"]
    assert result["quality"] == "flat:V1;flat:V2;flat:V3;flat:V4;flat:V5;flat:V6"
    assert result["quality_verdict"] == "poor"
    page = _post(client, _files(tmp_path, "DEAD.hea", "DEAD.mat"), url="/").get_data(as_text=True)
    assert "Signal quality: <strong>poor</strong>" in page
    assert "flat line (no signal, or a long constant stretch): V1, V2, V3, V4, V5, V6" in page
    assert "Check the recording before trusting these decisions" in page


def test_the_user_picks_a_class_to_explain_and_sees_the_overlay_and_lead_bars(
    client, served, ensemble
) -> None:
    picked = ensemble.abbreviations[2]
    files = _files(served["records"], "D00101.hea", "D00101.mat")
    answer = _post(client, {**files, "explain": picked})
    explained = answer.json["records"][0]["explanation"]
    assert explained["class"] == picked
    shares = [lead["importance"] for lead in explained["leads"]]
    assert sum(shares) == pytest.approx(1.0) and shares == sorted(shares, reverse=True)
    assert sorted(lead["lead"] for lead in explained["leads"]) == sorted(
        ensemble.config.preprocess.leads
    )
    page = _post(
        client,
        {**_files(served["records"], "D00101.hea", "D00101.mat"), "explain": picked},
        url="/",
    ).get_data(as_text=True)
    assert f'class="explanation" data-class="{picked}"' in page
    assert page.count('data-lead="') == 12 and 'class="explained"' in page
    bad = _post(
        client, {**_files(served["records"], "D00101.hea", "D00101.mat"), "explain": "NOPE"}
    )
    assert bad.status_code == 400 and "not one of this run's classes" in bad.json["error"]


def _edf_bytes(record) -> bytes:
    """A WFDB record written again as EDF, in mV over +-10 mV."""
    edfio = pytest.importorskip("edfio")
    signals = [
        edfio.EdfSignal(
            record.signal[:, k].astype(np.float64),
            500.0,
            label=f"ECG {name}",
            physical_dimension="mV",
            physical_range=(-10.0, 10.0),
        )
        for k, name in enumerate(record.header.lead_names)
    ]
    content = io.BytesIO()
    edfio.Edf(signals).write(content)
    return content.getvalue()


def test_an_edf_export_is_uploaded_and_predicted_as_its_wfdb_record(client, served, ensemble):
    record = read_record(served["records"] / "D00101.hea")
    response = _post(client, {"files": [(io.BytesIO(_edf_bytes(record)), "D00101.edf")]})
    assert response.status_code == 200, response.json
    [result] = response.json["records"]
    expected = ensemble.predict(record.signal, fs=500, lead_names=record.header.lead_names)
    got = [c["probability"] for c in result["classes"]]
    np.testing.assert_allclose(got, expected.y_score, atol=1e-3)  # 16 bits over +-10 mV


def test_a_zip_of_an_edf_export_and_a_wfdb_record(client, served, ensemble):
    edf_record = read_record(served["records"] / "D00101.hea")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/D00101.edf", _edf_bytes(edf_record))
        for path in sorted(served["records"].glob("D00102.*")):
            archive.write(path, f"export/{path.name}")
    response = _post(
        client, {"files": [(io.BytesIO(buffer.getvalue()), "mixed.zip")]}, url="/api/predict?plot=0"
    )
    assert response.status_code == 200, response.json
    results = {r["record"]: r for r in response.json["records"]}
    assert sorted(results) == ["D00101", "D00102"]
    header = edf_record.header
    expected = ensemble.predict(edf_record.signal, fs=500, lead_names=header.lead_names)
    got = [c["probability"] for c in results["D00101"]["classes"]]
    np.testing.assert_allclose(got, expected.y_score, atol=1e-3)
