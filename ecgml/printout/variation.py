"""What scans and phone photos add to a printout, for training robustness.

Modelled on the distortions of ecg-image-kit (the PhysioNet Challenge 2024
toolkit): grid colour, printed header text, a small rotation, blur, contrast
and brightness, sensor noise and JPEG compression. Its wrinkles, creases,
handwriting and perspective warps are not drawn here. Every draw comes from a
generator seeded by the config's seed and the record's name, so the same
record gives the same image. All pixel work is Pillow's or numpy's.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

MAX_ROTATION_DEG = 2.0
MAX_BLUR_MM = 0.25
CONTRAST = (0.7, 1.15)
BRIGHTNESS = (0.85, 1.08)
MAX_NOISE = 10.0  # standard deviation in grey levels
JPEG_QUALITY = (35, 95)
GRIDS = ("red", "pink", "orange", "grey")


def variation_rng(seed: int, record_id: str) -> np.random.Generator:
    """The generator of one record's variation (stable across processes and runs)."""
    digest = hashlib.sha256(f"{seed}|{record_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def grid_choice(rng: np.random.Generator) -> str:
    return GRIDS[int(rng.integers(len(GRIDS)))]


def header_text(rng: np.random.Generator) -> tuple[str, ...]:
    """A made-up identifier and date line, as an acquisition device prints them."""
    year, month, day = rng.integers(2005, 2025), rng.integers(1, 13), rng.integers(1, 29)
    hour, minute = rng.integers(0, 24), rng.integers(0, 60)
    ident = "".join(str(d) for d in rng.integers(0, 10, size=8))
    return (f"ID {ident}   {year}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}",)


def degrade(image: Image.Image, rng: np.random.Generator, px_per_mm: float) -> Image.Image:
    """Rotation, blur, contrast, brightness, noise and JPEG compression, each drawn
    from ``rng``; sizes scale with ``px_per_mm``."""
    angle = rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=(255, 255, 255))
    radius = rng.uniform(0.0, MAX_BLUR_MM) * px_per_mm
    if radius > 0.3:
        image = image.filter(ImageFilter.GaussianBlur(radius))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(*CONTRAST))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(*BRIGHTNESS))
    sigma = rng.uniform(0.0, MAX_NOISE)
    pixels = np.asarray(image, dtype=np.float32)
    pixels += rng.normal(0.0, sigma, size=(*pixels.shape[:2], 1)).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=int(rng.integers(*JPEG_QUALITY)))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")
