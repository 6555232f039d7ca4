"""A resolved task: the objects a config's ``task`` section names, built once.

:meth:`ecgml.config.Config.resolve` gives a :class:`Task`: the reader that reads
its data, the sample kind that says what one sample is, the target kind that
turns scores into decisions, the split strategy that divides the cache, and
the scorer of held-out predictions. Training, thresholds, postprocessing, the
ensemble, ``ecgml predict``, the web app and export take these objects from
the task instead of asking the config again.

Like the config, the task sits above the stages it describes: it imports from
data, training (splits), targets and evaluation (scorers), and is imported by
the stages that run a task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecgml.data.readers import Reader, get_reader
from ecgml.data.samples import SampleKind, get_sample_kind
from ecgml.evaluation.scorers import Scorer, get_scorer
from ecgml.targets import Target, get_target
from ecgml.training.splits import Split, get_split

if TYPE_CHECKING:
    from ecgml.config import Config

__all__ = ["Task"]


@dataclass(frozen=True)
class Task:
    """Everything a config's ``task`` section names, as objects.

    The rest of the section (``name``, ``all_windows``, ``window_stride``,
    ``window_aggregate``) is read from the config itself.

    Attributes:
        reader: its data reader (:mod:`ecgml.data.readers`).
        samples: its sample kind (:mod:`ecgml.data.samples`).
        target: its target kind (:mod:`ecgml.targets`).
        split: its split strategy (:mod:`ecgml.training.splits`).
        scorer: its scorer (:mod:`ecgml.evaluation.scorers`).
    """

    reader: Reader
    samples: SampleKind
    target: Target
    split: Split
    scorer: Scorer

    @classmethod
    def of(cls, config: Config) -> Task:
        """The task of ``config`` (its ``task`` section, resolved)."""
        section = config.task
        return cls(
            reader=get_reader(section.reader, section.reader_options),
            samples=get_sample_kind(section.samples),
            target=get_target(section.target),
            split=get_split(section.split),
            scorer=get_scorer(section.scorer),
        )
