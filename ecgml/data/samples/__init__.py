"""Sample kinds: what one training and prediction sample of a task is.

A task's samples are one of these kinds (``task.samples``; inferred from the
``preprocess`` section when a config does not name one):

* ``"windows"``: a record's signal cut into windows of ``preprocess.window``
  samples; one sample per record, whose windows (and crops) are combined at
  test time.
* ``"beats"``: one sample per labelled beat (``window_policy: "beats"``), a
  window around its R peak, with the beat's RR features as index columns
  (:mod:`ecgml.data.beats`).
* ``"images"``: a record drawn as its paper printout, or an image file, as one
  model image (``preprocess.image``, :mod:`ecgml.data.images`).

The kind owns everything that differs between them: the shape of a cache row,
the index rows a record gives, how a record is prepared for training and for
prediction, the shortest record it takes, which augmentations and inputs a
config may ask for, whether its runs export, and what its predictions are
(one per record, or one per beat). Every stage asks the kind
(:attr:`ecgml.task.Task.samples`) instead of the config. A new kind is a
subclass registered with :func:`register_sample_kind`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecgml.data.loading import PreparedRecord
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import Reader
from ecgml.data.samples.base import SampleKind
from ecgml.data.samples.beats import Beats
from ecgml.data.samples.images import Images
from ecgml.data.samples.windows import Windows
from ecgml.registries import Registry

__all__ = [
    "SAMPLE_KINDS",
    "Beats",
    "Images",
    "SampleKind",
    "Windows",
    "get_sample_kind",
    "infer_sample_kind",
    "load_for_prediction",
    "load_record",
    "min_seconds",
    "prepare_signal",
    "register_sample_kind",
    "sample_kind_of",
]


SAMPLE_KINDS: Registry[SampleKind] = Registry(
    "samples", {k.name: k for k in (Windows(), Beats(), Images())}
)


def register_sample_kind(kind: SampleKind) -> SampleKind:
    """Add a sample kind under its ``name``, so that ``task.samples`` can name it."""
    return SAMPLE_KINDS.register(kind.name, kind)


def get_sample_kind(name: str) -> SampleKind:
    """The registered kind ``name``; ValueError for an unknown one."""
    return SAMPLE_KINDS.named(name)


def infer_sample_kind(preprocess: PreprocessConfig) -> str:
    """The kind a config without ``task.samples`` has, as before the field existed:
    ``"images"`` with ``preprocess.image``, ``"beats"`` with ``window_policy: "beats"``,
    else ``"windows"``."""
    if preprocess.image is not None:
        return "images"
    return "beats" if preprocess.window_policy == "beats" else "windows"


def sample_kind_of(preprocess: PreprocessConfig, name: str | None = None) -> SampleKind:
    """The kind ``name``, or the one ``preprocess`` implies."""
    return get_sample_kind(name or infer_sample_kind(preprocess))


def load_record(
    path: str | Path,
    config: PreprocessConfig | None = None,
    reader: Reader | None = None,
    *,
    samples: str | None = None,
) -> PreparedRecord:
    """Read one record with its labels and prepare it as its sample kind does for the
    cache (:meth:`SampleKind.load`).

    Args:
        path: the ``.hea`` file, or the record path without extension.
        config: preprocessing settings; defaults to 12 standard leads, 500 Hz,
            5000-sample windows.
        reader: the task's data reader; defaults to CinC 2020 (labels in ``#Dx``).
        samples: the sample kind; ``None``: the one ``config`` implies.

    Raises:
        RecordError: naming the record and the problem (unparsable header,
            missing or truncated signal, NaN/inf samples, zero length, wrong
            or missing leads; for beats, no beat labels or a rate too low).
    """
    from ecgml.data.readers import get_reader

    config = config or PreprocessConfig()
    return sample_kind_of(config, samples).load(path, config, reader or get_reader("cinc2020"))


def prepare_signal(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    config: PreprocessConfig,
    *,
    missing_leads: str = "error",
    samples: str | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Any recording to the model inputs a run trained with ``config`` takes
    (:meth:`SampleKind.prepare_signal`): the windows of a signal run
    (:func:`~ecgml.data.loading.window_signal`), the clean printout of an image run.

    Args:
        signal: shape ``(n_samples, n_leads)``, millivolts.
        fs: its sampling rate in Hz.
        lead_names: names of its columns.
        config: the run's preprocessing.
        missing_leads: ``"error"`` or ``"zero"`` (:func:`~ecgml.data.preprocess.select_leads`).
        samples: the sample kind; ``None``: the one ``config`` implies.

    Raises:
        ValueError: a wrong shape, a bad rate, NaN/inf samples, a missing lead, or a
            record shorter than :func:`min_seconds`.
    """
    return sample_kind_of(config, samples).prepare_signal(
        signal, fs, lead_names, config, missing_leads=missing_leads
    )


def min_seconds(config: PreprocessConfig, samples: str | None = None) -> float:
    """The shortest record a run accepts for prediction: half a window (5 s for 10 s
    windows); one beat window for a beat run; one 2.5 s column of the printed page
    for an image run."""
    return sample_kind_of(config, samples).min_seconds(config)


def load_for_prediction(
    path: str | Path,
    config: PreprocessConfig,
    *,
    missing_leads: str = "error",
    reader: Reader | None = None,
    samples: str | None = None,
) -> PreparedRecord:
    """Read one input of any rate, length and lead order for prediction
    (:meth:`SampleKind.read_for_prediction`), through the run's ``reader``
    (default: a WFDB record).

    Raises:
        RecordError: naming the record and the problem.
    """
    return sample_kind_of(config, samples).read_for_prediction(
        path, config, reader=reader, missing_leads=missing_leads
    )
