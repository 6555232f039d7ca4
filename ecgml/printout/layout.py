"""Where everything goes on a printed ECG page, in millimetres and in pixels.

The standard 12-lead page at 25 mm/s and 10 mm/mV: a 3x4 grid of 2.5 s
segments (I, aVR, V1, V4 / II, aVL, V2, V5 / III, aVF, V3, V6), each column
showing its own 2.5 s of the record, and a 10 s lead II rhythm strip below.
A record without the twelve standard leads gets rhythm strips: one 10 s row per
lead, or, for a single lead, consecutive 10 s rows of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PAPERS: dict[str, tuple[float, float]] = {  # landscape width, height in mm
    "a4": (297.0, 210.0),
    "letter": (279.4, 215.9),
}
MM_PER_S = 25.0
MM_PER_MV = 10.0
MM_PER_INCH = 25.4

TWELVE_LEAD_ROWS: tuple[tuple[str, ...], ...] = (
    ("I", "aVR", "V1", "V4"),
    ("II", "aVL", "V2", "V5"),
    ("III", "aVF", "V3", "V6"),
)
RHYTHM_LEAD = "II"
ROW_SECONDS = 10.0
MAX_ROWS = 4

MARGIN_MM = 5.0
HEADER_MM = 20.0
CALIBRATION_MM = 10.0  # space before the traces: the 1 mV pulse and a gap
PULSE_LEAD_MM = 1.0  # the pulse starts this far into that space
PULSE_WIDTH_MM = 5.0  # 0.2 s


@dataclass(frozen=True)
class Segment:
    """One piece of trace: a lead's ``seconds`` from ``start_s``, drawn in ``row``
    from ``x_mm`` on (the left edge of the trace area is 0)."""

    lead: int
    name: str
    row: int
    x_mm: float
    start_s: float
    seconds: float


@dataclass(frozen=True)
class Layout:
    """A page's geometry.

    Attributes:
        paper: a key of :data:`PAPERS`.
        dpi: pixels per inch.
        n_rows: rows of trace.
        segments: what is drawn where.
    """

    paper: str
    dpi: float
    n_rows: int
    segments: tuple[Segment, ...]

    @property
    def size_mm(self) -> tuple[float, float]:
        return PAPERS[self.paper]

    @property
    def px_per_mm(self) -> float:
        return self.dpi / MM_PER_INCH

    @property
    def size_px(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        width, height = self.size_mm
        return round(width * self.px_per_mm), round(height * self.px_per_mm)

    @property
    def grid_mm(self) -> tuple[float, float, float, float]:
        """The grid's ``(left, top, right, bottom)``, in mm; whole 5 mm squares."""
        width, height = self.size_mm
        left, top = MARGIN_MM, MARGIN_MM + HEADER_MM
        right = left + 5.0 * ((width - MARGIN_MM - left) // 5.0)
        bottom = top + 5.0 * ((height - MARGIN_MM - top) // 5.0)
        return left, top, right, bottom

    @property
    def row_height_mm(self) -> float:
        _, top, _, bottom = self.grid_mm
        return (bottom - top) / self.n_rows

    def x_px(self, x_mm: float) -> float:
        """Pixel column of a point ``x_mm`` into the trace area."""
        return (self.grid_mm[0] + CALIBRATION_MM + x_mm) * self.px_per_mm

    def baseline_px(self, row: int) -> float:
        """Pixel row of the 0 mV line of trace row ``row``."""
        top = self.grid_mm[1]
        return (top + (row + 0.5) * self.row_height_mm) * self.px_per_mm

    def pulse_px(self, row: int) -> tuple[float, float]:
        """The calibration pulse's left and right pixel columns in ``row``."""
        left = (self.grid_mm[0] + PULSE_LEAD_MM) * self.px_per_mm
        return left, left + PULSE_WIDTH_MM * self.px_per_mm


def _position(lead_names: Sequence[str]) -> dict[str, int]:
    return {name.strip().lower(): k for k, name in enumerate(lead_names)}


def is_twelve_lead(lead_names: Sequence[str]) -> bool:
    """Whether a record has all twelve standard leads (names case-insensitive)."""
    position = _position(lead_names)
    return all(name.lower() in position for row in TWELVE_LEAD_ROWS for name in row)


def page_layout(
    lead_names: Sequence[str], seconds: float, *, paper: str = "a4", dpi: float = 100.0
) -> Layout:
    """The layout of a record's page: the 12-lead layout where the record has the
    twelve standard leads, else rhythm strips.

    Args:
        lead_names: the record's leads.
        seconds: the record's length.
        paper: a key of :data:`PAPERS`.
        dpi: pixels per inch.

    Raises:
        ValueError: an unknown paper, a DPI that is not positive, or no lead.
    """
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {sorted(PAPERS)}, got {paper!r}")
    if not dpi > 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    if not lead_names:
        raise ValueError("a record without leads cannot be printed")
    position = _position(lead_names)
    segments = []
    if is_twelve_lead(lead_names):
        column_s = ROW_SECONDS / 4
        for row, names in enumerate(TWELVE_LEAD_ROWS):
            for col, name in enumerate(names):
                segments.append(
                    Segment(
                        position[name.lower()],
                        name,
                        row,
                        col * column_s * MM_PER_S,
                        col * column_s,
                        column_s,
                    )
                )
        segments.append(
            Segment(position[RHYTHM_LEAD.lower()], RHYTHM_LEAD, 3, 0.0, 0.0, ROW_SECONDS)
        )
        return Layout(paper, float(dpi), 4, tuple(segments))
    if len(lead_names) == 1:
        n_rows = max(1, min(MAX_ROWS, -(-int(seconds) // int(ROW_SECONDS))))
        segments = [
            Segment(0, lead_names[0], row, 0.0, row * ROW_SECONDS, ROW_SECONDS)
            for row in range(n_rows)
        ]
    else:
        n_rows = min(MAX_ROWS, len(lead_names))
        segments = [Segment(k, lead_names[k], k, 0.0, 0.0, ROW_SECONDS) for k in range(n_rows)]
    return Layout(paper, float(dpi), n_rows, tuple(segments))
