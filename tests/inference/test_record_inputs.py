"""A recording's inputs besides its windows, and the check of its duration."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgml.data.record_types import RecordHeader
from ecgml.inference.record_inputs import duration_warning

SECONDS = {"min": 9.0, "median": 30.0, "max": 61.0}


def header(n_samples: int, fs: float) -> RecordHeader:
    return RecordHeader(
        record_id="r",
        path=Path("r.hea"),
        fs=fs,
        n_samples=n_samples,
        lead_names=("I",),
        units=("mV",),
        signal_files=(),
        age=None,
        sex=None,
        dx=(),
        comments={},
    )


@pytest.mark.parametrize(
    ("n_samples", "fs", "flagged"),
    [
        (9000, 300, False),  # 30 s, inside the training range
        (1350, 300, False),  # 4.5 s: half the shortest, the edge
        (1349, 300, True),
        (36600, 300, False),  # 122 s: twice the longest, the edge
        (36700, 300, True),
        (5000, 100, False),  # 50 s
        (25000, 100, True),  # 250 s: a 500 Hz record of 50 s read as 100 Hz
    ],
)
def test_a_duration_far_outside_the_training_records_is_noted(n_samples, fs, flagged):
    note = duration_warning(header(n_samples, fs), SECONDS)
    assert (note is not None) == flagged
    if flagged:
        assert f"{n_samples / fs:g} s at {fs:g} Hz is implausible" in note
        assert "9-61 s" in note


def test_no_note_without_a_rate_or_a_training_range():
    assert duration_warning(header(0, 0.0), SECONDS) is None  # an image file
    assert duration_warning(header(100000, 100), None) is None  # a run from before the range
    assert duration_warning(None, SECONDS) is None
