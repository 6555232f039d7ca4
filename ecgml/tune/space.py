"""The search space of ``ecgml tune``: a small JSON file of config paths.

::

    {
      "parameters": {
        "training.learning_rate": {"low": 0.0003, "high": 0.01, "log": true},
        "training.batch_size": {"choices": [16, 32, 64]},
        "model.blocks_per_stage": {"low": 1, "high": 3},
        "model.filters": {"choices": [[16, 32, 64, 64], [32, 64, 128, 128]]},
        "training.noise_std": {"low": 0.0, "high": 0.05, "step": 0.01}
      },
      "folds": 2,
      "pruner": {"kind": "median", "n_startup_trials": 2, "n_warmup_steps": 3},
      "sampler": {"kind": "tpe", "seed": 0}
    }

A parameter with ``choices`` is categorical (any JSON values, lists included);
one with ``low`` and ``high`` is an integer range when both are integers and a
float range otherwise, optionally on a log scale or in steps. Every path must
name a field the config has, and every range end and choice must make a config
the config's own checks accept: both are checked when the file is read, before
any trial starts. ``folds`` is how many of the config's cross-validation folds
each trial trains (the first ones; default all), ``pruner`` Optuna's pruner
(``median``, ``percentile`` or ``none``) and ``sampler`` its sampler (``tpe`` or
``random``).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

from ecgml.config import Config, config_from_dict, config_to_dict
from ecgml.task import Task

PRUNERS = ("median", "percentile", "none")
SAMPLERS = ("tpe", "random")


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One searched config field.

    Attributes:
        path: ``section.field`` (``training.learning_rate``).
        kind: ``"float"``, ``"int"`` or ``"categorical"``.
        low, high: the range's ends (numeric kinds).
        log: a log-scaled range.
        step: a stepped range (``None``: continuous, or 1 for integers).
        choices: the categorical values.
    """

    path: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: Any) -> Any:
        """The value an Optuna trial draws."""
        if self.kind == "categorical":
            if not self.encoded:
                return trial.suggest_categorical(self.path, list(self.choices))
            drawn = trial.suggest_categorical(self.path, [json.dumps(c) for c in self.choices])
            return json.loads(drawn)
        if self.kind == "int":
            return trial.suggest_int(
                self.path, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(self.path, self.low, self.high, step=self.step, log=self.log)

    @property
    def encoded(self) -> bool:
        """Whether Optuna stores the choices as JSON text (it takes only None, bools,
        numbers and strings: lists and objects travel as text)."""
        return any(isinstance(c, list | dict) for c in self.choices)

    def decode(self, stored: Any) -> Any:
        """A value as a config takes it, from what Optuna stored."""
        return json.loads(stored) if self.kind == "categorical" and self.encoded else stored

    def extremes(self) -> list[Any]:
        """Values that bound what the search can draw (each must make a valid config)."""
        return list(self.choices) if self.kind == "categorical" else [self.low, self.high]


@dataclasses.dataclass(frozen=True)
class Space:
    """A parsed search space (see the module's docstring)."""

    parameters: tuple[Parameter, ...]
    folds: int | None = None
    pruner: dict[str, Any] = dataclasses.field(default_factory=lambda: {"kind": "median"})
    sampler: dict[str, Any] = dataclasses.field(default_factory=lambda: {"kind": "tpe"})

    def apply(self, config: Config, values: dict[str, Any]) -> Config:
        """``config`` with ``values`` (path to value) set; the config's checks apply."""
        return with_values(config, values)

    def make_pruner(self) -> Any:
        import optuna

        options = {k: v for k, v in self.pruner.items() if k != "kind"}
        kind = self.pruner.get("kind", "median")
        if kind == "none":
            return optuna.pruners.NopPruner()
        if kind == "percentile":
            return optuna.pruners.PercentilePruner(**{"percentile": 50.0, **options})
        return optuna.pruners.MedianPruner(**options)

    def make_sampler(self, worker: int = 0) -> Any:
        """The sampler; a seeded one draws from ``seed + worker``, so that the workers
        of one machine do not draw the same trials."""
        import optuna

        options = {k: v for k, v in self.sampler.items() if k != "kind"}
        if options.get("seed") is not None:
            options["seed"] += worker
        if self.sampler.get("kind", "tpe") == "random":
            return optuna.samplers.RandomSampler(**options)
        return optuna.samplers.TPESampler(**options)


def with_values(config: Config, values: dict[str, Any]) -> Config:
    """``config`` with each ``section.field`` of ``values`` replaced.

    Raises:
        ValueError: a path the config does not have, or a value it refuses.
    """
    data = config_to_dict(config)
    # an architecture first: another one starts from its own defaults
    ordered = sorted(values.items(), key=lambda kv: kv[0] != "model.architecture")
    for path, value in ordered:
        section, field = _split(path)
        if section not in data or not isinstance(data[section], dict):
            raise ValueError(f"{path}: the config has no section {section!r}")
        if field not in data[section]:
            known = ", ".join(sorted(data[section]))
            raise ValueError(f"{path}: the config's {section} has no field {field!r} ({known})")
        if section == "model" and field == "architecture" and value != data["model"][field]:
            # another architecture has other fields: start from its defaults
            data["model"] = {"architecture": value}
            continue
        data[section][field] = copy.deepcopy(value)
    try:
        return config_from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{', '.join(values)}: {exc}") from None


def _split(path: str) -> tuple[str, str]:
    parts = path.split(".")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{path!r}: a parameter is a config path 'section.field'")
    return parts[0], parts[1]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parameter(path: str, spec: Any) -> Parameter:
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected an object with 'choices' or 'low' and 'high'")
    unknown = sorted(set(spec) - {"low", "high", "log", "step", "choices"})
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}")
    if "choices" in spec:
        if set(spec) != {"choices"}:
            raise ValueError(f"{path}: 'choices' takes no range keys")
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ValueError(f"{path}: 'choices' must be a non-empty list")
        if len({json.dumps(c) for c in choices}) != len(choices):
            raise ValueError(f"{path}: 'choices' repeats a value")
        return Parameter(path, "categorical", choices=tuple(choices))
    if "low" not in spec or "high" not in spec:
        raise ValueError(f"{path}: a range needs both 'low' and 'high' (or use 'choices')")
    low, high = spec["low"], spec["high"]
    log, step = spec.get("log", False), spec.get("step")
    if not (_number(low) and _number(high)):
        raise ValueError(f"{path}: 'low' and 'high' must be numbers, got {low!r} and {high!r}")
    if not low < high:
        raise ValueError(f"{path}: 'low' ({low}) must be below 'high' ({high})")
    if not isinstance(log, bool):
        raise ValueError(f"{path}: 'log' must be true or false")
    if log and low <= 0:
        raise ValueError(f"{path}: a log range needs 'low' above 0, got {low}")
    if step is not None and (not _number(step) or step <= 0):
        raise ValueError(f"{path}: 'step' must be a positive number, got {step!r}")
    if step is not None and log:
        raise ValueError(f"{path}: a range is either log-scaled or stepped, not both")
    is_int = all(isinstance(v, int) for v in (low, high, 1 if step is None else step))
    return Parameter(path, "int" if is_int else "float", low=low, high=high, log=log, step=step)


def parse_space(data: Any, config: Config) -> Space:
    """Check a parsed space file against ``config``.

    Raises:
        ValueError: a malformed entry, a path the config does not have, or a
            range end or choice the config refuses.
    """
    if not isinstance(data, dict):
        raise ValueError("a search space is a JSON object with 'parameters'")
    unknown = sorted(set(data) - {"parameters", "folds", "pruner", "sampler"})
    if unknown:
        raise ValueError(f"unknown key(s) {unknown}; expected parameters, folds, pruner, sampler")
    specs = data.get("parameters")
    if not isinstance(specs, dict) or not specs:
        raise ValueError("'parameters' must name at least one config path")
    parameters = tuple(_parameter(path, spec) for path, spec in specs.items())
    for p in parameters:
        _split(p.path)
        for value in p.extremes():
            checked = with_values(config, {p.path: value})
            try:  # what only the task knows: a loss its target kind cannot train
                Task.of(checked).target.check_loss(checked.training.loss)
            except ValueError as exc:
                raise ValueError(f"{p.path} = {value!r}: {exc}") from None
    folds = data.get("folds")
    n_folds = config.training.n_folds
    if folds is not None and (
        not isinstance(folds, int) or isinstance(folds, bool) or not 1 <= folds <= n_folds
    ):
        raise ValueError(f"'folds' must be an integer from 1 to the config's {n_folds} folds")
    if any(p.path == "training.n_folds" for p in parameters):
        raise ValueError("training.n_folds cannot be searched: every trial shares the folds")
    pruner = data.get("pruner", {"kind": "median"})
    if not isinstance(pruner, dict) or pruner.get("kind", "median") not in PRUNERS:
        raise ValueError(f"'pruner' must be an object whose 'kind' is one of {PRUNERS}")
    sampler = data.get("sampler", {"kind": "tpe"})
    if not isinstance(sampler, dict) or sampler.get("kind", "tpe") not in SAMPLERS:
        raise ValueError(f"'sampler' must be an object whose 'kind' is one of {SAMPLERS}")
    space = Space(parameters, folds=folds, pruner=dict(pruner), sampler=dict(sampler))
    try:  # options Optuna does not take fail here, not in the first trial
        space.make_pruner()
        space.make_sampler()
    except TypeError as exc:
        raise ValueError(f"pruner or sampler options: {exc}") from None
    return space


def load_space(path: str | Path, config: Config) -> Space:
    """Read and check a space file (:func:`parse_space`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"search space not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"search space {path} is not valid JSON: {exc}") from exc
    try:
        return parse_space(data, config)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
