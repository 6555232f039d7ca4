"""``Ensemble.explain`` and ``ecgml predict --explain``: the lead that alone carries
the signal is ranked first; the maps' shape; the files and the overlay's layout."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ecgml.inference.explain import explain_prepared
from ecgml.printout import PrintoutConfig, render_printout
from ecgml.serve.predict import predict_records
from tests.inference.test_attribution import one_lead_model

pytestmark = pytest.mark.slow


def _prepared(ensemble, path):
    return ensemble.task.samples.read_for_prediction(
        path, ensemble.config.preprocess, reader=ensemble.task.reader
    )


@pytest.mark.parametrize("lead", ["V2", "aVL"])
def test_the_lead_that_alone_carries_the_signal_is_ranked_first(served, ensemble, lead) -> None:
    leads = list(ensemble.config.preprocess.leads)
    crafted = copy.copy(ensemble)
    model = one_lead_model(len(leads), leads.index(lead), len(ensemble.class_names))
    crafted.models = [model] * len(ensemble.models)
    prepared = _prepared(ensemble, served["records"] / "D00101.hea")
    (explained,) = explain_prepared(crafted, prepared, classes=[ensemble.abbreviations[0]])
    assert explained.ranking[0] == lead
    assert explained.lead_importance[leads.index(lead)] == pytest.approx(1.0)
    # ten 1 s windows at 500 Hz, put back on the record's 10 s
    assert explained.attribution.shape == (5000, len(leads)) and explained.fs == 500


def test_predict_explain_writes_the_table_the_maps_and_the_printouts(served, ensemble, tmp_path):
    first = ensemble.abbreviations[0]
    report = predict_records(
        served["run"],
        [served["records"] / "D00102.hea"],
        tmp_path,
        explain=[first, ensemble.class_names[1]],
        progress=False,
    )
    assert report["explain"]["folder"] == "explain"
    table = pd.read_csv(tmp_path / "explain" / "D00102.csv", dtype={"code": str})
    leads = list(ensemble.config.preprocess.leads)
    assert table["class"].tolist() == [first, ensemble.abbreviations[1]]
    np.testing.assert_allclose(table[leads].sum(axis=1), 1.0, atol=1e-4)
    for _, row in table.iterrows():
        ranked = row["ranking"].split()
        assert sorted(ranked) == sorted(leads)
        assert row[ranked[0]] == table.loc[_, leads].max()
    maps = np.load(tmp_path / "explain" / "D00102.npz")
    assert maps[f"map_{first}"].shape == (5000, len(leads)) and float(maps["fs"]) == 500
    assert maps["lead_names"].tolist() == leads
    page = render_printout(np.zeros((5000, 12)), 500, leads, PrintoutConfig())
    pictures = sorted(p.name for p in (tmp_path / "explain").glob("*.png"))
    assert len(pictures) == 2 and "D00102.png" in pictures
    for name in pictures:
        image = Image.open(tmp_path / "explain" / name)
        assert image.size == page.size and image.mode == "RGB"
    with pytest.raises(ValueError, match="unknown class 'XYZ'"):
        predict_records(
            served["run"], [served["records"]], tmp_path / "x", explain=["XYZ"], progress=False
        )


def test_the_overlay_shades_only_the_lead_that_matters(served, ensemble, tmp_path) -> None:
    from ecgml.printout.layout import page_layout
    from ecgml.printout.overlay import draw_attribution_printout

    leads = list(ensemble.config.preprocess.leads)
    attribution = np.zeros((5000, 12))
    attribution[:, leads.index("V1")] = 1.0
    signal = np.zeros((5000, 12))
    picture = np.asarray(
        draw_attribution_printout(signal, 500, leads, attribution, 500, leads, title="test")
    )
    plain = np.asarray(
        render_printout(signal, 500, leads, PrintoutConfig(), header_lines=("test", "x"))
    )
    layout = page_layout(leads, 10.0)
    changed = np.any(picture != plain, axis=2)
    for seg in layout.segments:
        x = int(layout.x_px(seg.x_mm + 1.0 * 25))  # one second into the segment
        y = int(layout.baseline_px(seg.row) - 0.3 * layout.row_height_mm * layout.px_per_mm)
        assert changed[y, x] == (seg.name == "V1"), seg.name


def test_a_beat_run_explains_each_beat_over_its_window(beat_served, tmp_path) -> None:
    from ecgml.inference.ensemble import Ensemble
    from tests.beat_run import TINY_BEATS

    out = tmp_path / "beats"
    report = predict_records(
        beat_served["run"],
        [beat_served["data"] / "100.hea"],
        out,
        annotations="atr",
        explain=[],
        progress=False,
    )
    assert report["explain"]["classes"] == "decided"
    beats = pd.read_csv(out / "beats" / "100.csv")
    table = pd.read_csv(out / "explain" / "100.csv")
    assert table["class"].tolist() == beats["class"].tolist()  # each beat's decided class
    maps = np.load(out / "explain" / "100.npz")
    pre = TINY_BEATS.preprocess
    assert maps["maps"].shape == (len(beats), pre.window, 1)
    window_ms = 1000 * np.array([-pre.beat_offset, pre.window - 1 - pre.beat_offset]) / pre.fs
    assert table["peak_ms"].between(*window_ms).all()
    assert Image.open(out / "explain" / "100.png").size[0] > 0
    # one named class for every beat, by its code or abbreviation
    ensemble = Ensemble.load(beat_served["run"])
    predict_records(
        beat_served["run"],
        [beat_served["data"] / "100.hea"],
        out,
        annotations="atr",
        explain=[ensemble.abbreviations[2]],
        progress=False,
    )
    assert set(pd.read_csv(out / "explain" / "100.csv")["class"]) == {ensemble.abbreviations[2]}


def test_a_run_with_a_tabular_input_is_explained_with_its_features_held(tabular_served):
    from ecgml.inference.ensemble import Ensemble

    ensemble = Ensemble.load(tabular_served["run"])
    prepared = _prepared(ensemble, tabular_served["records"] / "D00101.hea")
    (explained,) = explain_prepared(ensemble, prepared, classes=[ensemble.abbreviations[0]])
    assert explained.lead_importance.sum() == pytest.approx(1.0)
    assert explained.attribution.shape == (5000, 12)  # four 2.5 s windows at 500 Hz
