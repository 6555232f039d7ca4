"""End to end: headless Chromium uploads a record on the page and reads the answer.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and
Selenium; skipped where they are absent.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from ecgml.data.records import read_record
from ecgml.serve.app import create_app

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# .ci/run sets this, so that CI fails rather than skips when the browser is missing.
if os.environ.get("ECGML_REQUIRE_BROWSER") != "1":
    pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium and ChromeDriver are not installed", allow_module_level=True)
elif not (CHROMIUM and CHROMEDRIVER):
    raise RuntimeError("ECGML_REQUIRE_BROWSER=1 but chromium or chromedriver is not on PATH")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


@pytest.fixture(scope="module")
def url(served, ensemble):
    server = make_server(
        "127.0.0.1", 0, create_app(served["run"], ensemble=ensemble), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    yield driver
    driver.quit()


def _upload(browser, url: str, *paths: Path) -> None:
    browser.get(url)
    browser.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in paths))
    browser.find_element(By.ID, "submit").click()


def test_a_demo_record_uploaded_on_the_page(browser, url, served, ensemble) -> None:
    folder = served["records"]
    _upload(browser, url, folder / "D00102.hea", folder / "D00102.mat")
    section = WebDriverWait(browser, 60).until(
        expected_conditions.presence_of_element_located((By.ID, "record-D00102"))
    )
    record = read_record(folder / "D00102.hea")
    expected = ensemble.predict(record.signal, fs=500, lead_names=record.header.lead_names)
    decided = section.find_element(By.CLASS_NAME, "decided").text
    assert decided == (", ".join(expected.decided) or "none of the classes")
    rows = section.find_elements(By.CSS_SELECTOR, "table.classes tbody tr")
    shown = {
        r.get_attribute("data-class"): float(r.get_attribute("data-probability")) for r in rows
    }
    assert len(shown) == 27
    for abbreviation, probability in zip(ensemble.abbreviations, expected.y_score, strict=True):
        assert shown[abbreviation] == pytest.approx(float(probability), abs=1e-5)
    image = section.find_element(By.TAG_NAME, "img")
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 1169  # A4, 100 DPI


def test_a_header_alone_shows_what_is_missing(browser, url, served) -> None:
    _upload(browser, url, served["records"] / "D00103.hea")
    error = WebDriverWait(browser, 60).until(
        expected_conditions.presence_of_element_located((By.ID, "error"))
    )
    assert "D00103.mat, which was not uploaded" in error.text


@pytest.fixture(scope="module")
def beat_url(beat_served):
    server = make_server("127.0.0.1", 0, create_app(beat_served["run"]), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_a_beat_record_shows_counts_and_pages_through_its_strip(browser, beat_url, beat_served):
    folder = beat_served["data"]
    _upload(browser, beat_url, folder / "100.hea", folder / "100.dat", folder / "100.atr")
    section = WebDriverWait(browser, 60).until(
        expected_conditions.presence_of_element_located((By.ID, "record-100"))
    )
    counts = {
        r.get_attribute("data-class"): int(r.get_attribute("data-count"))
        for r in section.find_elements(By.CSS_SELECTOR, "table.counts tbody tr")
    }
    assert sum(counts.values()) == 21 and set(counts) == {"N", "S", "V", "F", "Q"}
    position = section.find_element(By.CLASS_NAME, "position")
    WebDriverWait(browser, 30).until(lambda _: "of " in position.text)
    assert position.text.startswith("0.0-10.0 s") and section.get_attribute("data-start") == "0"
    section.find_element(By.CLASS_NAME, "next").click()
    WebDriverWait(browser, 30).until(lambda _: section.get_attribute("data-start") != "0")
    assert float(section.get_attribute("data-start")) > 0
    strip = section.find_element(By.CSS_SELECTOR, "canvas.strip")
    drawn = browser.execute_script(
        "const c = arguments[0], d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;",
        strip,
    )
    assert drawn > 1000  # the trace and the beat marks were drawn
