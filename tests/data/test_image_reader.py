"""Reader ``images``: a folder of PNG/JPEG files with a label table, bad inputs skipped."""

import numpy as np
import pytest
from PIL import Image

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.images import ImageConfig, read_image, to_model_image
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import get_reader

IMAGES = PreprocessConfig(image=ImageConfig(height=48, width=64))
LABELS = LabelConfig(classes=("426783006", "164889003"), one_class=True)


def image_folder(root):
    root.mkdir()
    Image.new("RGB", (300, 200), (255, 255, 255)).save(root / "good.png")
    Image.new("L", (300, 200), 90).save(root / "scan.jpg")
    (root / "sub").mkdir()
    Image.new("RGB", (120, 90), (0, 0, 0)).save(root / "sub" / "nested.png")
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (root / "notes.txt").write_text("an ECG, honestly")
    Image.new("RGB", (40, 30)).save(root / "tiny.png")
    Image.new("RGB", (300, 200)).save(root / "unlisted.png")
    (root / "labels.csv").write_text(
        "file,labels,patient\n"
        "good.png,Normal,P1\n"
        'scan.jpg,"164889003,59118001",P2\n'
        'sub/nested.png,"AF,Normal",P3\n'
        "corrupt.png,AF,P4\n"
        "notes.txt,AF,P5\n"
        "tiny.png,AF,P6\n"
        "missing.png,AF,P7\n"
    )
    return root


def test_prepare_reads_listed_images_and_reports_bad_ones(tmp_path):
    folder = image_folder(tmp_path / "scans")
    report = prepare_cache(
        [folder], tmp_path / "cache", IMAGES, LABELS, reader="images", progress=False
    )
    reasons = {s["record_id"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"corrupt", "notes", "tiny", "missing"}
    assert "cannot be read as an image" in reasons["corrupt"]
    assert "not a PNG or JPEG" in reasons["notes"]
    assert "40x30 pixels" in reasons["tiny"]
    assert "does not exist" in reasons["missing"]
    assert report["cached"] == 3 and report["not_one_class"] == 1  # nested has two classes
    cache = Cache(tmp_path / "cache")
    assert cache.left_out == 1
    assert list(cache.index["record_id"]) == ["good", "scan"]
    assert list(cache.index["patient_id"]) == ["P1", "P2"]
    assert cache.labels.tolist() == [[1, 0], [0, 1]]  # text labels mapped to codes
    assert cache.signals.shape == (3, 48, 64)
    good = cache.windows(0)[0]
    assert good.min() == good.max() == 255.0
    assert cache.windows(1)[0].max() == pytest.approx(90.0, abs=1)


def test_table_problems_are_errors(tmp_path):
    reader = get_reader("images")
    with pytest.raises(FileNotFoundError, match="no label table"):
        reader.find([tmp_path])
    (tmp_path / "labels.csv").write_text("image,diagnosis\na.png,AF\n")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['file', 'labels'\]"):
        reader.find([tmp_path])
    with pytest.raises(ValueError, match="min_size"):
        get_reader("images", {"min_size": 0})
    custom = get_reader("images", {"table": "dx.csv", "min_size": 10})
    (tmp_path / "dx.csv").write_text("file,labels\na.png,AF\n")
    assert [r.record_id for r in custom.find([tmp_path])] == ["a"]


def test_to_model_image_resizes_and_converts(tmp_path):
    image = Image.new("RGB", (400, 300), (255, 0, 0))
    grey = to_model_image(image, ImageConfig(height=60, width=80, channels=1))
    colour = to_model_image(image, ImageConfig(height=60, width=80, channels=3))
    assert grey.shape == (60, 80) and colour.shape == (60, 240)
    assert colour.reshape(60, 80, 3)[0, 0].tolist() == [255.0, 0.0, 0.0]
    assert grey[0, 0] == pytest.approx(76, abs=1)  # ITU-R 601 luma of pure red
    path = tmp_path / "x.png"
    image.save(path)
    with pytest.raises(ValueError, match="at least 500"):
        read_image(path, min_size=500)
    assert np.asarray(read_image(path)).shape == (300, 400, 3)


def test_model_images_do_not_show_the_record_name_length_or_rate():
    # the source database goes with the labels; the model image must not tell it
    from ecgml.data.images import render_renderings
    from ecgml.data.preprocess import STANDARD_LEADS

    config = ImageConfig(height=96, width=136)
    t = np.arange(5000) / 500.0
    signal = np.stack([0.5 * np.sin(2 * np.pi * (1 + k / 4) * t) for k in range(12)], axis=1)
    a = render_renderings(signal, 500.0, STANDARD_LEADS, config, record_id="HR00001")
    b = render_renderings(signal, 500.0, STANDARD_LEADS, config, record_id="A0001")
    longer = np.concatenate([signal, signal[:2500]])
    c = render_renderings(longer[::2], 250.0, STANDARD_LEADS, config, record_id="A0001")
    assert np.array_equal(a, b)
    assert a.shape == (1, 96, 136)
    assert np.abs(a - c).mean() < 0.5  # the same smooth trace, sampled at half the rate
