"""Run configuration: frozen dataclasses read from JSON files in ``configs/``.

A config file is a JSON object with one section per part of the pipeline::

    {"task": {"name": "cinc2020", "reader": "cinc2020", "target": "multilabel", ...},
     "preprocess": {"fs": 500, "window": 5000, ...},
     "labels": {"equivalent_mode": "separate"},
     "model": {"architecture": "se_resnet", ...},
     "training": {...},
     "tabular": {"features": [...]},
     "stack": {"forest": false}}

The ``task`` section says which reader reads the data, what kind of target the
model learns and which scorer scores it; a config without one is the CinC 2020
task. The ``model`` section's fields depend on its ``architecture``
(its family's config dataclass, :mod:`ecgml.models`).

Missing sections and fields take their defaults; an unknown section or field
is an error, so that a typo never silently falls back to a default. The
resolved config (every field, defaults included) is written next to every
output with :func:`save_config`.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any

from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.samples import infer_sample_kind
from ecgml.data.tabular import TabularConfig
from ecgml.models.config import model_config_class
from ecgml.models.family import ModelSpec
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.training.config import TrainingConfig
from ecgml.training.stack import StackConfig


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Which task a config is for: how its data is read, learned and scored.

    Attributes:
        name: the task's name, for reports.
        reader: the data reader (:mod:`ecgml.data.readers`): ``"cinc2020"``
            (CinC 2020/2021, labels in ``#Dx``) or ``"cinc2017"`` (single lead,
            labels in ``REFERENCE.csv``).
        target: ``"multilabel"`` (a sigmoid per class, per-class thresholds,
            majority vote) or ``"multiclass"`` (softmax, one class per record,
            the argmax of the mean fold probability); see :mod:`ecgml.targets`.
        scorer: the scorer of held-out predictions (:mod:`ecgml.evaluation.scorers`).
        all_windows: score every cached window of a record, averaged, at test
            time; otherwise its first window.
        reader_options: keyword options of the reader (``{"keep_paced": true}``
            for ``mitbih``).
        split: how the cache's records are divided. ``"folds"``: all of them
            into cross-validation folds, grouped by patient where the reader
            knows patients. ``"standard"``: the source's standard division
            (DS1/DS2 for MIT-BIH): its test part is held out of training and is
            what ``postprocessing.py`` scores; the folds are made in the rest.
            ``"predefined"``: the source's own train / validation / test split
            (PTB-XL's ``strat_fold``), one fold (``training.n_folds`` 1).
            ``"intra_patient"``: folds ignore patients, so one patient's beats
            fall on both sides; it leaks and is only for comparison with
            results reported that way.
        window_stride: at test time (validation predictions, postprocessing,
            ``ecgml predict``), score every crop of the model's input length this
            many samples apart in each window instead of its centre crop
            (:mod:`ecgml.training.crops`); ``None``: the centre crop.
        window_aggregate: how a record's crop and window scores combine:
            ``"mean"`` or ``"max"``.
        samples: what one sample is (:mod:`ecgml.data.samples`): ``"windows"``,
            ``"beats"`` or ``"images"``; ``None`` (a config written before the
            field): inferred from ``preprocess``, and written out resolved.
    """

    name: str = "cinc2020"
    reader: str = "cinc2020"
    target: str = "multilabel"
    scorer: str = "cinc2020"
    all_windows: bool = False
    reader_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    split: str = "folds"
    window_stride: int | None = None
    window_aggregate: str = "mean"
    samples: str | None = None

    def __post_init__(self) -> None:
        # the names are looked up, and the reader's options checked, by the task
        # (ecgml.task.Task.of): the config holds data and checks only its own fields
        for field in ("name", "reader", "target", "scorer", "split"):
            if not isinstance(getattr(self, field), str):
                raise ValueError(f"task.{field} must be a name, got {getattr(self, field)!r}")
        if self.samples is not None and not isinstance(self.samples, str):
            raise ValueError(f"task.samples must be a name, got {self.samples!r}")
        if self.window_stride is not None and self.window_stride < 1:
            raise ValueError(f"window_stride must be at least 1, got {self.window_stride}")
        if self.window_aggregate not in ("mean", "max"):
            raise ValueError(
                f"window_aggregate must be 'mean' or 'max', got {self.window_aggregate!r}"
            )
        if not isinstance(self.reader_options, dict):
            raise ValueError(f"reader_options must be a JSON object, got {self.reader_options!r}")


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything a run needs to know, one frozen section per stage."""

    task: TaskConfig = dataclasses.field(default_factory=TaskConfig)
    preprocess: PreprocessConfig = dataclasses.field(default_factory=PreprocessConfig)
    labels: LabelConfig = dataclasses.field(default_factory=LabelConfig)
    # a SEResNetConfig for the SE-ResNet, or another architecture's config
    model: ModelSpec = dataclasses.field(default_factory=SEResNetConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    tabular: TabularConfig = dataclasses.field(default_factory=TabularConfig)
    stack: StackConfig = dataclasses.field(default_factory=StackConfig)

    @property
    def baseline_features(self) -> bool:
        """Whether ``ecgml prepare`` caches the hand-crafted features: the tabular
        input or the stacked forest reads them."""
        return self.tabular.baseline or self.stack.forest

    def __post_init__(self) -> None:
        if self.task.samples is None:  # written out resolved, so saved runs say what they were
            samples = infer_sample_kind(self.preprocess)
            object.__setattr__(self, "task", dataclasses.replace(self.task, samples=samples))
        source = self.training.init_from
        if source is not None and source.startswith("preset:"):
            from ecgml.presets import preprocess_differences

            differences = preprocess_differences(source, self.preprocess)
            if differences:
                raise ValueError(
                    f"training.init_from {source!r}: the task's preprocessing differs from "
                    f"the preset's ({'; '.join(differences)}); set them as the preset has "
                    "them (ecgml presets show NAME)"
                )


def _freeze(value: Any) -> Any:
    """JSON lists become tuples, so that configs stay hashable and immutable."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where or 'config'} must be a JSON object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(
            f"unknown field(s) {unknown} in {where or 'config'}; expected some of {sorted(names)}"
        )
    kwargs = {}
    for key, value in data.items():
        hint = hints[key]
        path = f"{where}.{key}" if where else key
        if cls is Config and key == "model" and isinstance(value, dict):
            hint = model_config_class(value.get("architecture", "se_resnet"))
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _build(hint, value, path)
        else:
            kwargs[key] = _freeze(value)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"invalid {where or 'config'}: {exc}") from exc


def config_from_dict(data: dict[str, Any]) -> Config:
    """Build a :class:`Config` from a parsed JSON object.

    Raises:
        ValueError: an unknown section or field, or a value a section rejects.
    """
    return _build(Config, data, "")


def load_config(path: str | Path | None = None) -> Config:
    """Read a JSON config file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"config file not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"config file {path} is not valid JSON: {exc}") from exc
    try:
        return config_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


def config_to_dict(config: Any) -> dict[str, Any]:
    """Every field of a config dataclass, as JSON-ready values."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def save_config(config: Any, path: str | Path) -> None:
    """Write the resolved config as indented JSON."""
    Path(path).write_text(json.dumps(config_to_dict(config), indent=2) + "\n")
