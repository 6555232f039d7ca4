"""ECG images as model input: printouts rendered from records, or scans read from files.

A model image is a float32 array of grey levels 0-255, stored in the cache as
one row per rendering, shape ``(height, width * channels)`` (channels
interleaved per pixel), so that image tasks share the cache, folds, training
and scoring of signal tasks; the image models reshape it to
``(height, width, channels)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ecgml.data.record_types import RecordHeader
from ecgml.printout.render import PrintoutConfig, render_printout

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# The header of a model image's page: the paper speed and gain only. The record's
# name, length and rate are left off, since they tell the source database, which
# goes with the labels (a model could learn the source instead of the ECG).
MODEL_HEADER = ("25 mm/s  10 mm/mV",)


@dataclass(frozen=True)
class ImageConfig:
    """How records or image files become model images (``preprocess.image``).

    Attributes:
        height, width: the model image's size in pixels; pages are resized to it.
        channels: 1 (grey) or 3 (colour).
        renderings: printouts cached per record. The first is drawn as
            ``printout`` says (clean by default); the others always with
            variation (seeds ``printout.seed + k``). Training draws one at random
            each epoch; validation and test use the first.
        printout: how records are drawn (:class:`~ecgml.printout.PrintoutConfig`).
    """

    height: int = 288
    width: int = 408
    channels: int = 1
    renderings: int = 1
    printout: PrintoutConfig = dataclasses.field(default_factory=PrintoutConfig)

    def __post_init__(self) -> None:
        if isinstance(self.printout, dict):
            object.__setattr__(self, "printout", PrintoutConfig(**self.printout))
        if self.height < 32 or self.width < 32:
            raise ValueError(
                f"height and width must be at least 32, got {self.height}x{self.width}"
            )
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.renderings < 1:
            raise ValueError(f"renderings must be positive, got {self.renderings}")

    @property
    def row_shape(self) -> tuple[int, int]:
        return self.height, self.width * self.channels


def read_image(path: str | Path, min_size: int = 1) -> Image.Image:
    """An image file, decoded.

    Raises:
        ValueError: not a PNG/JPEG name, unreadable or corrupt, or smaller than
            ``min_size`` pixels on its shorter side.
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{path.name} is not a PNG or JPEG file")
    try:
        with Image.open(path) as image:
            image.load()
            loaded = image.copy()
    except FileNotFoundError:
        raise ValueError(f"{path.name} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ValueError(f"{path.name} cannot be read as an image: {exc}") from None
    if min(loaded.size) < min_size:
        raise ValueError(
            f"{path.name} is {loaded.size[0]}x{loaded.size[1]} pixels; at least "
            f"{min_size} on each side are needed"
        )
    return loaded


def to_model_image(image: Image.Image, config: ImageConfig) -> np.ndarray:
    """Resize and convert to grey or colour: float32 ``(height, width * channels)``."""
    image = image.convert("L" if config.channels == 1 else "RGB")
    image = image.resize((config.width, config.height), resample=Image.Resampling.BOX)
    return np.asarray(image, dtype=np.float32).reshape(config.height, -1)


def render_renderings(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    config: ImageConfig,
    *,
    record_id: str = "",
    count: int | None = None,
) -> np.ndarray:
    """A record's printouts as model images, ``(count, height, width * channels)``;
    ``count`` defaults to ``config.renderings``. The page's header holds only
    :data:`MODEL_HEADER` (and, with variation, made-up header text).

    Raises:
        ValueError: a signal that cannot be drawn.
    """
    count = config.renderings if count is None else count
    out = np.empty((count, *config.row_shape), dtype=np.float32)
    for k in range(count):
        printout = (
            config.printout
            if k == 0
            else dataclasses.replace(config.printout, variation=True, seed=config.printout.seed + k)
        )
        page = render_printout(
            signal, fs, lead_names, printout, record_id=record_id, header_lines=MODEL_HEADER
        )
        out[k] = to_model_image(page, config)
    return out


def image_header(
    path: Path, record_id: str, dx: tuple[str, ...] = (), comments: dict | None = None
) -> RecordHeader:
    """The header of an image file read as a record: no rate, samples or leads."""
    return RecordHeader(
        record_id=record_id,
        path=path,
        fs=0.0,
        n_samples=0,
        lead_names=(),
        units=(),
        signal_files=(path.name,),
        age=None,
        sex=None,
        dx=dx,
        comments=comments or {},
    )
