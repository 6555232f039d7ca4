"""The printed page: scale, calibration, lead placement, determinism, variation."""

import numpy as np
import pytest

from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.printout import PrintoutConfig, page_layout, render_printout
from ecgml.printout.layout import MM_PER_MV, is_twelve_lead
from ecgml.printout.render import GRID_COLOURS, INK, thin

FS = 500.0


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def is_colour(array: np.ndarray, colour) -> np.ndarray:
    return (array == np.array(colour, dtype=np.int16)).all(axis=-1)


@pytest.mark.parametrize("dpi", [100, 200])
def test_grid_lines_are_1_and_5_mm_apart_at_the_dpi(dpi):
    flat = np.zeros((int(10 * FS), 12), np.float32)
    page = render_printout(flat, FS, STANDARD_LEADS, PrintoutConfig(dpi=dpi))
    layout = page_layout(STANDARD_LEADS, 10.0, dpi=dpi)
    ppm = layout.px_per_mm
    left, top, right, _ = layout.grid_mm
    assert page.size == layout.size_px == (round(297 * ppm), round(210 * ppm))
    row = pixels(page)[round((top + 2.5) * ppm)]  # between two 1 mm lines
    minor, major = GRID_COLOURS["red"]
    major_x = np.nonzero(is_colour(row, major))[0]
    starts = major_x[np.r_[True, np.diff(major_x) > 1]]  # a line may be several px wide
    assert len(starts) == round((right - left) / 5) + 1
    assert np.mean(np.diff(starts)) == pytest.approx(5 * ppm, abs=0.05)
    minor_x = np.nonzero(is_colour(row, minor))[0]
    assert np.mean(
        np.diff(minor_x[(minor_x > starts[0]) & (minor_x < starts[1])])
    ) == pytest.approx(ppm, abs=0.5)
    assert len(minor_x) == 4 * (len(starts) - 1)  # four 1 mm lines between 5 mm lines


@pytest.mark.parametrize("dpi", [100, 300])
def test_calibration_pulse_is_10_mm_high(dpi):
    flat = np.zeros((int(10 * FS), 12), np.float32)
    page = pixels(render_printout(flat, FS, STANDARD_LEADS, PrintoutConfig(dpi=dpi)))
    layout = page_layout(STANDARD_LEADS, 10.0, dpi=dpi)
    width = max(1, round(0.25 * layout.px_per_mm))
    for row in range(layout.n_rows):
        left, right = layout.pulse_px(row)
        middle = round((left + right) / 2)
        band = slice(
            round(layout.baseline_px(row) - 15 * layout.px_per_mm),
            round(layout.baseline_px(row) + 3 * layout.px_per_mm),
        )
        ink = np.nonzero(is_colour(page[band, middle], INK))[0]
        top = ink.min() + band.start
        # the pulse's top edge is 1 mV = 10 mm above the baseline (line width aside)
        height = layout.baseline_px(row) - top
        assert height == pytest.approx(MM_PER_MV * layout.px_per_mm, abs=1 + width)
        assert right - left == pytest.approx(5 * layout.px_per_mm)


def test_each_lead_is_drawn_in_its_place():
    # lead k of the standard order carries a 0.5 s pulse of (k + 1) x 0.1 mV in every
    # 2.5 s column; the record's columns are in reverse order, so placement by name
    # is what is checked
    n = int(10 * FS)
    t = np.arange(n) / FS
    pulse = ((t % 2.5) >= 1.0) & ((t % 2.5) < 1.5)
    amplitude = {name: 0.1 * (k + 1) for k, name in enumerate(STANDARD_LEADS)}
    names = tuple(reversed(STANDARD_LEADS))
    signal = np.stack([pulse * amplitude[name] for name in names], axis=1).astype(np.float32)
    page = pixels(render_printout(signal, FS, names, PrintoutConfig(dpi=100)))
    layout = page_layout(names, 10.0, dpi=100)
    ppm = layout.px_per_mm
    checked = 0
    for seg in layout.segments:
        for t_mid in np.arange(seg.start_s, seg.start_s + seg.seconds, 2.5) + 1.25:
            x = round(layout.x_px(seg.x_mm + (t_mid - seg.start_s) * 25))
            base = layout.baseline_px(seg.row)
            band = slice(round(base - 15 * ppm), round(base + 3 * ppm))
            ink = np.nonzero(is_colour(page[band, x], INK))[0] + band.start
            expected = base - amplitude[seg.name] * MM_PER_MV * ppm
            assert len(ink), (seg.name, t_mid)
            assert abs(ink.mean() - expected) <= 1.0, (seg.name, t_mid, ink.mean(), expected)
            checked += 1
    assert checked == 12 + 4  # one pulse per 3x4 segment, four in the rhythm strip
    assert [s.name for s in layout.segments if s.row == 3] == ["II"]


def test_the_same_record_gives_the_same_image():
    rng = np.random.default_rng(0)
    signal = rng.normal(0, 0.3, (int(10 * FS), 12)).astype(np.float32)
    a = render_printout(signal, FS, STANDARD_LEADS, record_id="R1")
    b = render_printout(signal, FS, STANDARD_LEADS, record_id="R1")
    assert np.array_equal(pixels(a), pixels(b))
    varied = PrintoutConfig(variation=True, seed=3)
    c = render_printout(signal, FS, STANDARD_LEADS, varied, record_id="R1")
    d = render_printout(signal, FS, STANDARD_LEADS, varied, record_id="R1")
    e = render_printout(signal, FS, STANDARD_LEADS, varied, record_id="R2")
    assert np.array_equal(pixels(c), pixels(d))
    assert not np.array_equal(pixels(c), pixels(e))
    assert not np.array_equal(pixels(a), pixels(c))
    assert c.size == a.size


def test_records_without_the_twelve_leads_get_rhythm_strips():
    single = page_layout(["ECG"], 30.0)
    assert single.n_rows == 3
    assert [(s.row, s.start_s) for s in single.segments] == [(0, 0.0), (1, 10.0), (2, 20.0)]
    assert page_layout(["ECG"], 200.0).n_rows == 4
    two = page_layout(["MLII", "V5"], 1800.0)
    assert [(s.name, s.row, s.start_s) for s in two.segments] == [("MLII", 0, 0.0), ("V5", 1, 0.0)]
    assert not is_twelve_lead(["I", "II", "V1"])
    assert is_twelve_lead([name.upper() for name in STANDARD_LEADS])
    page = render_printout(np.zeros((9000, 1), np.float32), 300.0, ["ECG"])
    assert page.size == single.size_px


@pytest.mark.parametrize(
    ("signal", "fs", "message"),
    [
        (np.zeros((100, 2)), 500.0, "does not match"),
        (np.zeros((0, 1)), 500.0, "does not match"),
        (np.zeros((100, 1)), 0.0, "positive"),
        (np.full((100, 1), np.nan), 500.0, "NaN"),
    ],
)
def test_bad_signals_are_refused(signal, fs, message):
    with pytest.raises(ValueError, match=message):
        render_printout(signal, fs, ["ECG"])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="paper"):
        PrintoutConfig(paper="a3")
    with pytest.raises(ValueError, match="dpi"):
        PrintoutConfig(dpi=0)
    with pytest.raises(ValueError, match="grid"):
        PrintoutConfig(grid="blue")


def test_thin_keeps_peaks_and_order():
    y = np.zeros(1000)
    y[503] = 5.0
    y[200] = -3.0
    x = np.arange(1000, dtype=float)
    tx, ty = thin(x, y, per_px=20.0)
    assert len(ty) < 150
    assert ty.max() == 5.0 and ty.min() == -3.0
    assert np.all(np.diff(tx) >= 0)  # in time order
    _same_x, same_y = thin(x, y, per_px=2.0)  # few samples per pixel: all kept
    assert len(same_y) == 1000
