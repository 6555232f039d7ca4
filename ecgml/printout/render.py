"""Drawing a record as a paper ECG, with Pillow.

The grid of a page size and colour is drawn once per process and copied for
each record; a trace is one polyline per segment, thinned to two points (the
minimum and the maximum, in their order) per pixel column so that QRS peaks
survive at any resolution. The record's diagnoses are never written on the
page: a model trained on printouts must read the trace, not the header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ecgml.printout.layout import (
    MM_PER_MV,
    MM_PER_S,
    PAPERS,
    PULSE_WIDTH_MM,
    Layout,
    page_layout,
)

GRID_COLOURS: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    # (1 mm lines, 5 mm lines)
    "red": ((250, 200, 200), (232, 130, 130)),
    "pink": ((252, 218, 228), (240, 160, 185)),
    "orange": ((252, 222, 196), (238, 164, 110)),
    "grey": ((225, 225, 225), (175, 175, 175)),
}
INK = (0, 0, 0)
PAPER_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class PrintoutConfig:
    """How a record is drawn.

    Attributes:
        dpi: pixels per inch (100 gives 3.94 px per mm).
        paper: ``"a4"`` or ``"letter"``, landscape.
        grid: the grid's colour, a key of :data:`GRID_COLOURS`.
        variation: add what scans and photos add (:mod:`ecgml.printout.variation`).
        seed: the variation's seed (with the record's name).
    """

    dpi: float = 100.0
    paper: str = "a4"
    grid: str = "red"
    variation: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.dpi > 0:
            raise ValueError(f"dpi must be positive, got {self.dpi}")
        if self.paper not in PAPERS:
            raise ValueError(f"paper must be one of {sorted(PAPERS)}, got {self.paper!r}")
        if self.grid not in GRID_COLOURS:
            raise ValueError(f"grid must be one of {sorted(GRID_COLOURS)}, got {self.grid!r}")


@lru_cache(maxsize=64)
def _font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, size_px))


@lru_cache(maxsize=8)
def _grid(
    paper: str, dpi: float, minor: tuple[int, int, int], major: tuple[int, int, int], n_rows: int
) -> Image.Image:
    layout = Layout(paper, dpi, n_rows, ())
    image = Image.new("RGB", layout.size_px, PAPER_WHITE)
    draw = ImageDraw.Draw(image)
    ppm = layout.px_per_mm
    left, top, right, bottom = layout.grid_mm
    major_width = max(1, round(0.2 * ppm))
    for colour, step, width in ((minor, 1, 1), (major, 5, major_width)):
        if step == 1 and ppm < 3.0:
            colour = tuple((255 + c) // 2 for c in colour)  # fainter where 1 mm is ~3 px
        for k in range(round((right - left) / step) + 1):
            if step == 1 and k % 5 == 0:
                continue
            x = round((left + k * step) * ppm)
            draw.line([(x, round(top * ppm)), (x, round(bottom * ppm))], fill=colour, width=width)
        for k in range(round((bottom - top) / step) + 1):
            if step == 1 and k % 5 == 0:
                continue
            y = round((top + k * step) * ppm)
            draw.line([(round(left * ppm), y), (round(right * ppm), y)], fill=colour, width=width)
    return image


def thin(x: np.ndarray, y: np.ndarray, per_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep each pixel column's minimum and maximum, in the order they occur, where a
    column holds three samples or more (``per_px`` samples per pixel)."""
    block = int(per_px)
    if block < 3 or len(y) < 2 * block:
        return x, y
    n = len(y) // block * block
    ys = y[:n].reshape(-1, block)
    low, high = ys.argmin(axis=1), ys.argmax(axis=1)
    first, second = np.minimum(low, high), np.maximum(low, high)
    base = np.arange(ys.shape[0]) * block
    take = np.stack([base + first, base + second], axis=1).ravel()
    take = np.concatenate([take, np.arange(n, len(y))])
    return x[take], y[take]


def _trace_points(layout: Layout, row: int, x_mm: float, values: np.ndarray, fs: float):
    ppm = layout.px_per_mm
    x = layout.x_px(x_mm) + np.arange(len(values)) / fs * MM_PER_S * ppm
    y = layout.baseline_px(row) - values * MM_PER_MV * ppm
    x, y = thin(x, y, fs / (MM_PER_S * ppm))
    return list(zip(x.tolist(), y.tolist(), strict=True))


def _header(draw: ImageDraw.ImageDraw, layout: Layout, lines: Sequence[str]) -> None:
    ppm = layout.px_per_mm
    font = _font(round(3.2 * ppm))
    for k, text in enumerate(lines):
        draw.text(
            (round(layout.grid_mm[0] * ppm), round((5.5 + 4.5 * k) * ppm)),
            text,
            fill=INK,
            font=font,
        )


def _draw_pulses(draw: ImageDraw.ImageDraw, layout, width: int) -> None:
    """The 1 mV calibration pulse at the start of every row."""
    ppm = layout.px_per_mm
    for row in range(layout.n_rows):
        left, right = layout.pulse_px(row)
        base, top = layout.baseline_px(row), layout.baseline_px(row) - MM_PER_MV * ppm
        points = [
            (left - 1.0 * ppm, base),
            (left, base),
            (left, top),
            (right, top),
            (right, base),
            (right + 1.0 * ppm, base),
        ]
        draw.line(points, fill=INK, width=width, joint="curve")


def _draw_traces(
    draw: ImageDraw.ImageDraw, layout, centred: np.ndarray, fs: float, width: int, font
) -> None:
    """Each segment of the layout: its trace, its lead's name and the column tick."""
    ppm = layout.px_per_mm
    for seg in layout.segments:
        start = round(seg.start_s * fs)
        values = centred[start : start + round(seg.seconds * fs), seg.lead]
        if len(values) >= 2:
            points = _trace_points(layout, seg.row, seg.x_mm, values, fs)
            draw.line(points, fill=INK, width=width, joint="curve")
        label_x = layout.x_px(seg.x_mm) + 1.0 * ppm
        label_y = layout.baseline_px(seg.row) - 0.45 * layout.row_height_mm * ppm
        draw.text((label_x, label_y), seg.name, fill=INK, font=font)
        if seg.x_mm > 0:  # the column boundary tick
            x = layout.x_px(seg.x_mm)
            base = layout.baseline_px(seg.row)
            draw.line([(x, base - 2.5 * ppm), (x, base + 2.5 * ppm)], fill=INK, width=width)


def render_printout(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    config: PrintoutConfig | None = None,
    *,
    record_id: str = "",
    header_lines: Sequence[str] | None = None,
) -> Image.Image:
    """One record as a printed page.

    Args:
        signal: shape ``(n_samples, n_leads)``, mV.
        fs: its sampling rate in Hz.
        lead_names: one name per column.
        config: resolution, paper, grid and variation.
        record_id: the record's name, for the header and the variation's seed.
        header_lines: the header's text; by default the record's name, length
            and rate, and the paper speed and gain.

    Returns:
        An RGB image of the page.

    Raises:
        ValueError: a signal that does not match its leads, a rate that is not
            positive, or NaN/inf samples.
    """
    config = config or PrintoutConfig()
    signal = np.asarray(signal, dtype=np.float64)
    if signal.ndim != 2 or signal.shape[1] != len(lead_names) or signal.shape[0] == 0:
        raise ValueError(f"signal shape {signal.shape} does not match {len(lead_names)} leads")
    if not fs > 0:
        raise ValueError(f"sampling rate must be positive, got {fs}")
    if not np.isfinite(signal).all():
        raise ValueError("the signal has NaN or infinite samples")
    seconds = signal.shape[0] / fs
    layout = page_layout(lead_names, seconds, paper=config.paper, dpi=config.dpi)
    rng = None
    grid = config.grid
    if config.variation:
        from ecgml.printout.variation import grid_choice, variation_rng

        rng = variation_rng(config.seed, record_id)
        grid = grid_choice(rng)
    image = _grid(config.paper, float(config.dpi), *GRID_COLOURS[grid], layout.n_rows).copy()
    draw = ImageDraw.Draw(image)
    ppm = layout.px_per_mm
    width = max(1, round(0.25 * ppm))
    font = _font(round(3.0 * ppm))
    centred = signal - np.median(signal[: round(10 * fs)], axis=0)  # no drift off the row
    _draw_pulses(draw, layout, width)
    _draw_traces(draw, layout, centred, fs, width, font)
    if header_lines is None:
        header_lines = (
            f"{record_id}  {seconds:.1f} s  {fs:g} Hz",
            f"{MM_PER_S:g} mm/s  {MM_PER_MV:g} mm/mV  calibration {PULSE_WIDTH_MM:g} mm",
        )
    if rng is not None:
        from ecgml.printout.variation import header_text

        header_lines = (*header_lines, *header_text(rng))
    _header(draw, layout, header_lines)
    if rng is not None:
        from ecgml.printout.variation import degrade

        image = degrade(image, rng, ppm)
    return image
