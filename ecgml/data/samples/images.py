"""``images``: a record drawn as its printout, or an image file, one per record."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from ecgml.data.images import (
    IMAGE_SUFFIXES,
    ImageConfig,
    image_header,
    read_image,
    render_renderings,
    to_model_image,
)
from ecgml.data.loading import PreparedRecord, check_signal
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.records import RecordError
from ecgml.data.samples.base import SampleKind


class Images(SampleKind):
    """A record drawn as its printout, or an image file: one model image per record."""

    name = "images"
    exports = False
    hand_crafted = False
    inputs = "images"
    refused: ClassVar[dict[str, str]] = {
        "lead_mask_prob": "an image's rows are pixels, not leads",
        "time_mask_prob": "an image's columns are pixels, not time",
        "input_length": "an image task takes whole images",
    }
    input_suffixes = IMAGE_SUFFIXES

    def example_preprocess(self):
        return PreprocessConfig(image=ImageConfig(height=64, width=96))

    def matches(self, preprocess):
        if preprocess.image is None:
            return "set preprocess.image"
        if preprocess.window_policy == "beats":
            return "an image task takes one sample per record, not beats"
        return None

    def row_shape(self, preprocess):
        return preprocess.image.row_shape

    def min_seconds(self, preprocess):
        return 2.5  # one column of the printed page

    def load(self, path, preprocess, reader):
        record = reader.read(path)
        header = record.header
        try:
            if record.image is not None:
                windows = to_model_image(record.image, preprocess.image)[None]
            else:
                windows = render_renderings(
                    record.signal,
                    header.fs,
                    header.lead_names,
                    preprocess.image,
                    record_id=header.record_id,
                )
        except ValueError as exc:
            raise RecordError(header.record_id, str(exc)) from exc
        warnings = record.warnings + reader.label_warnings(header.dx)
        return PreparedRecord(header=header, windows=windows, warnings=warnings)

    def explained_pieces(self, prepared, preprocess, input_length, crops):
        """The whole images, off any timeline."""
        return prepared.windows.astype(np.float32), None

    def prepare_signal(self, signal, fs, lead_names, preprocess, *, missing_leads="error"):
        """The clean printout of all the record's leads
        (:func:`~ecgml.data.images.render_renderings`)."""
        signal = check_signal(signal, fs, lead_names, self.min_seconds(preprocess))
        return render_renderings(signal, fs, lead_names, preprocess.image, count=1), ()

    def read_for_prediction(self, path, preprocess, *, reader=None, missing_leads="error"):
        path = Path(path)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            return super().read_for_prediction(
                path, preprocess, reader=reader, missing_leads=missing_leads
            )
        try:
            windows = to_model_image(read_image(path), preprocess.image)[None]
        except ValueError as exc:
            raise RecordError(path.stem, str(exc)) from None
        header = image_header(path, path.stem)
        return PreparedRecord(header=header, windows=windows, warnings=())
