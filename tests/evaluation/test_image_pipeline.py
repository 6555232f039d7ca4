"""A tiny image run: records drawn as printouts at prepare time, MobileNetV3, prediction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import postprocessing
from ecgml import runs
from ecgml.config import Config, TaskConfig
from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.images import MODEL_HEADER, ImageConfig
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.records import read_record
from ecgml.inference.ensemble import Ensemble
from ecgml.models.mobilenet import MobileNetConfig
from ecgml.printout import PrintoutConfig, render_printout
from ecgml.serve.predict import predict_records, read_summary
from ecgml.training.config import TrainingConfig

pytestmark = pytest.mark.slow

CLASSES = ("426783006", "164889003", "59118001", "164909002", "270492004")
TINY_IMAGE = Config(
    task=TaskConfig(name="image", target="multiclass", scorer="multiclass"),
    preprocess=PreprocessConfig(
        image=ImageConfig(height=48, width=68, renderings=2, printout=PrintoutConfig(dpi=30))
    ),
    labels=LabelConfig(classes=CLASSES, one_class=True),
    model=MobileNetConfig(alpha=0.35),
    training=TrainingConfig(n_folds=2, batch_size=8, epochs=1, loss="cce"),
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("image")
    write_demo_dataset(root / "train", n_records=28, progress=False)
    report = prepare_cache(
        [root / "train"], root / "cache", TINY_IMAGE.preprocess, TINY_IMAGE.labels, progress=False
    )
    runs.train_run(root / "cache", root / "run", TINY_IMAGE, verbose=0)
    write_demo_dataset(root / "test", n_records=3, seed=1, first_id=201, progress=False)
    return {"root": root, "run": root / "run", "test": root / "test", "report": report}


def test_records_are_cached_as_renderings(trained):
    cache = Cache(trained["root"] / "cache")
    not_one = trained["report"]["not_one_class"]
    assert len(cache) + not_one == 28 and len(cache) >= 12
    assert cache.left_out == not_one
    assert (cache.labels.sum(axis=1) == 1).all()
    assert (cache.index["n_windows"] == 2).all()
    assert cache.signals.shape[1:] == (48, 68)
    first = cache.windows(0)
    assert 0 <= first.min() < 128 < first.max() <= 255  # ink on paper
    assert not np.array_equal(first[0], first[1])  # the second rendering is varied


def test_the_run_predicts_records_through_their_printout(trained, tmp_path):
    ensemble = Ensemble.load(trained["run"])
    record = read_record(trained["test"] / "D00201.hea")
    prediction = ensemble.predict(record.signal, fs=500, lead_names=record.header.lead_names)
    assert prediction.y_score.shape == (5,)
    assert prediction.y_score.sum() == pytest.approx(1.0, abs=1e-4)
    assert prediction.n_windows == 1
    out = tmp_path / "pred"
    report = predict_records(trained["run"], [trained["test"]], out, printouts=True, progress=False)
    assert report["n_predicted"] == 3 and report["printouts_failed"] == []
    with Image.open(out / "printouts" / "D00201.png") as page:
        assert page.size == (1169, 827)
    assert json.loads((out / "predict.json").read_text())["printouts"] == "printouts"
    assert sorted(p.name for p in (out / "outputs").iterdir()) == [
        "D00201.csv",
        "D00202.csv",
        "D00203.csv",
    ]


def test_an_image_file_is_classified_as_its_record_is(trained, tmp_path):
    # the record's printout saved as a PNG scan gives the record's own probabilities
    record = read_record(trained["test"] / "D00202.hea")
    printout = TINY_IMAGE.preprocess.image.printout
    page = render_printout(
        record.signal, 500.0, record.header.lead_names, printout, header_lines=MODEL_HEADER
    )
    scans = tmp_path / "scans"
    scans.mkdir()
    page.save(scans / "scan.png")
    (scans / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "pred"
    report = predict_records(
        trained["run"], [scans, trained["test"] / "D00202.hea"], out, progress=False
    )
    assert report["n_predicted"] == 2 and report["n_skipped"] == 1
    assert "cannot be read as an image" in report["skipped"][0]["problem"]
    summary = read_summary(out).set_index("path")
    from_png = summary.loc[str(scans / "scan.png")].filter(like="p_").to_numpy(float)
    from_record = summary.loc[str(trained["test"] / "D00202.hea")].filter(like="p_")
    np.testing.assert_allclose(from_png, from_record.to_numpy(float), atol=1e-5)


def test_postprocessing_scores_an_image_run(trained, tmp_path):
    out = tmp_path / "eval"
    code = postprocessing.main(
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
    assert code == 0
    score = json.loads((out / "score.json").read_text())
    assert score["run"]["scorer"] == "multiclass" and score["thresholds"] is None
    ensemble = score["models"]["ensemble"]
    assert {"macro_f1", "accuracy"} <= set(ensemble["overall"])
    held_out = Cache(out / "cache")  # the held-out records, drawn as in training
    assert held_out.signals.shape[1:] == (48, 68)
    assert score["data"]["n_records"] == len(held_out) == 3 - held_out.left_out


def test_an_image_run_is_explained_as_a_heat_map_on_its_image(trained, tmp_path):
    out = tmp_path / "explained"
    report = predict_records(
        trained["run"], [trained["test"] / "D00201.hea"], out, explain=[], progress=False
    )
    assert report["n_predicted"] == 1
    maps = np.load(out / "explain" / "D00201.npz")
    (name,) = maps["classes"].tolist()  # multi-class: the one decided class
    assert maps[f"map_{name}"].shape == (48, 68)
    with Image.open(out / "explain" / "D00201.png") as picture:
        assert picture.size == (68, 48 + 28)  # the image under a line naming the class
