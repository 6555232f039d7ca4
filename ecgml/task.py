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

from ecgml.data.readers import READER_NAMES, Reader, get_reader
from ecgml.data.samples import SAMPLE_KINDS, SampleKind, get_sample_kind, infer_sample_kind
from ecgml.evaluation.scorers import SCORER_NAMES, Scorer, get_scorer
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
        """The task of ``config``: its ``task`` section's names looked up, and checked
        against the rest of the config (the split against the number of folds, the
        sample kind against the preprocessing, training and model). An entry point
        calls this once and hands the task on.

        Raises:
            ValueError: an unknown name, a reader option the reader does not take, or
                a config the task's plug-ins cannot run, named in the message.
        """
        section = config.task
        if section.reader not in READER_NAMES:
            raise ValueError(f"reader must be one of {READER_NAMES}, got {section.reader!r}")
        if section.scorer not in SCORER_NAMES:
            raise ValueError(f"scorer must be one of {SCORER_NAMES}, got {section.scorer!r}")
        task = cls(
            reader=get_reader(section.reader, section.reader_options),
            samples=get_sample_kind(section.samples or infer_sample_kind(config.preprocess)),
            target=get_target(section.target),
            split=get_split(section.split),
            scorer=get_scorer(section.scorer),
        )
        task.split.check_folds(config.training.n_folds)
        task.samples.check(config)
        _check_inputs(config, task.samples)
        config.model.check_preprocess(config.preprocess)
        return task


def _check_inputs(config: Config, kind: SampleKind) -> None:
    """The model reads what the sample kind gives (signals or images)."""
    reads = config.model.inputs
    if reads == kind.inputs:
        return
    architecture = config.model.architecture
    fitting = "; ".join(
        f"{k.name}: {k.matches(config.preprocess) or 'fits'}"
        for k in SAMPLE_KINDS.values()
        if k.inputs == reads
    )
    raise ValueError(
        f"model {architecture} reads {reads}; task.samples {kind.name!r} gives "
        f"{kind.inputs} (kinds that give {reads}: {fitting})"
    )
