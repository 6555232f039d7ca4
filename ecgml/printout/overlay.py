"""An explanation drawn on the page: how much each stretch of each lead moved a
class's probability, as a translucent band behind the trace on the standard
printout (:func:`draw_attribution_printout`), or a heat map on an image
(:func:`draw_attribution_on_image`), with a legend and the class named.

The band's strength is the absolute attribution, smoothed over 40 ms and scaled
so that the map's 99th percentile is full strength, the same scale for every lead
of the page, so that leads can be compared by eye.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from ecgml.printout.layout import MM_PER_S, page_layout
from ecgml.printout.render import PrintoutConfig, _font, render_printout

HEAT = (230, 60, 0)  # the band's colour
MAX_ALPHA = 150  # of 255: full strength still shows the trace and the grid
SMOOTH_S = 0.04
LEGEND_MM = (60.0, 3.0)  # the colour bar's width and height


def strength(attribution: np.ndarray, fs: float | None) -> np.ndarray:
    """Absolute attribution, smoothed along the first axis over 40 ms (where ``fs``
    is given), scaled to ``[0, 1]`` by its 99th percentile."""
    values = np.abs(np.asarray(attribution, dtype=np.float64))
    if fs is not None:
        width = max(1, round(SMOOTH_S * fs))
        kernel = np.ones(width) / width
        values = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), 0, values)
    top = np.percentile(values, 99) if values.size else 0.0
    return np.clip(values / top, 0.0, 1.0) if top > 0 else np.zeros_like(values)


def _legend(draw: ImageDraw.ImageDraw, x: float, y: float, ppm: float, text: str) -> None:
    width, height = LEGEND_MM[0] * ppm, LEGEND_MM[1] * ppm
    for i in range(int(width)):
        alpha = i / max(width - 1, 1)
        colour = tuple(round(255 + (c - 255) * alpha * MAX_ALPHA / 255) for c in HEAT)
        draw.line([(x + i, y), (x + i, y + height)], fill=colour)
    draw.rectangle([x, y, x + width, y + height], outline=(0, 0, 0))
    font = _font(round(2.6 * ppm))
    draw.text((x, y + height + 0.8 * ppm), text, fill=(0, 0, 0), font=font)


def draw_attribution_printout(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    attribution: np.ndarray,
    attribution_fs: float,
    attribution_leads: Sequence[str],
    *,
    title: str,
    ranking: Sequence[str] = (),
    config: PrintoutConfig | None = None,
) -> Image.Image:
    """The record's printout with ``attribution`` ``(n, n_model_leads)`` at
    ``attribution_fs`` drawn behind each lead's trace, the class named in the
    header (``title``), the leading leads (``ranking``) and a legend."""
    config = config or PrintoutConfig()
    signal = np.asarray(signal, dtype=np.float64)
    seconds = signal.shape[0] / fs
    header = (
        title,
        "shaded: what moved the probability most (integrated gradients, "
        f"mean of the fold models); leading leads: {', '.join(ranking) or '-'}",
    )
    page = render_printout(signal, fs, lead_names, config, header_lines=header).convert("RGBA")
    layout = page_layout(lead_names, seconds, paper=config.paper, dpi=config.dpi)
    ppm = layout.px_per_mm
    heat = strength(attribution, attribution_fs)
    column = {name.strip().lower(): k for k, name in enumerate(attribution_leads)}
    alpha = np.zeros((page.size[1], page.size[0]), dtype=np.float64)
    half = 0.45 * layout.row_height_mm * ppm
    for seg in layout.segments:
        k = column.get(seg.name.strip().lower())
        if k is None:
            continue  # a lead the model does not take
        x0 = layout.x_px(seg.x_mm)
        x1 = layout.x_px(seg.x_mm + seg.seconds * MM_PER_S)
        xs = np.arange(int(np.ceil(x0)), min(int(x1), page.size[0]))
        t = seg.start_s + (xs - x0) / (MM_PER_S * ppm)
        samples = np.clip(np.round(t * attribution_fs).astype(int), 0, len(heat) - 1)
        inside = t * attribution_fs < len(heat)
        base = layout.baseline_px(seg.row)
        top, bottom = max(0, int(base - half)), min(page.size[1], int(base + half))
        alpha[top:bottom, xs] = np.where(inside, heat[samples, k], 0.0)[None, :]
    band = np.zeros((*alpha.shape, 4), dtype=np.uint8)
    band[..., :3] = HEAT
    band[..., 3] = np.round(alpha * MAX_ALPHA).astype(np.uint8)
    page = Image.alpha_composite(page, Image.fromarray(band, "RGBA")).convert("RGB")
    draw = ImageDraw.Draw(page)
    width_mm = layout.size_mm[0]
    _legend(
        draw, (width_mm - 5.0 - LEGEND_MM[0]) * ppm, 6.0 * ppm, ppm, "importance: none  ->  most"
    )
    return page


def draw_attribution_on_image(
    image: np.ndarray, attribution: np.ndarray, title: str
) -> Image.Image:
    """An image input (``(height, width)`` or ``(height, width, channels)``, values
    in [0, 1] or [0, 255]) with the attribution's heat map (the same shape) on it,
    the class named above."""
    pixels = np.asarray(image, dtype=np.float64)
    if pixels.max() <= 1.0:
        pixels = pixels * 255.0
    if pixels.ndim == 2 or pixels.shape[-1] == 1:
        pixels = np.repeat(pixels.reshape(*pixels.shape[:2], 1), 3, axis=-1)
    magnitude = np.abs(np.asarray(attribution, dtype=np.float64))
    if magnitude.ndim == 3:  # (height, width, channels)
        magnitude = magnitude.sum(axis=-1)
    heat = strength(magnitude, None)
    a = (heat * MAX_ALPHA / 255.0)[..., None]
    mixed = pixels[..., :3] * (1 - a) + np.array(HEAT) * a
    picture = Image.fromarray(np.clip(mixed, 0, 255).astype(np.uint8), "RGB")
    banner = 28
    framed = Image.new("RGB", (picture.size[0], picture.size[1] + banner), (255, 255, 255))
    framed.paste(picture, (0, banner))
    ImageDraw.Draw(framed).text((4, 6), title, fill=(0, 0, 0), font=_font(14))
    return framed
