"""Loading a preset as a predictor (:mod:`ecgml.presets` reads its files)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from ecgml.config import config_from_dict
from ecgml.data.labels import LabelEncoder
from ecgml.data.readers import get_reader
from ecgml.inference.ensemble import Ensemble
from ecgml.presets import PRESETS_DIR, THRESHOLDS_FILE, Preset, PresetError, stack_file
from ecgml.task import Task
from ecgml.training.stack import Stack


def load_preset(name: str, *, preprocessed: bool = False, root: Path = PRESETS_DIR) -> Ensemble:
    """The preset ``name`` as a predictor: the same :class:`Ensemble` a trained run
    gives (``.predict(signal, fs=..., lead_names=...)``, ``.predict_paths(paths)``),
    reading new records with the preset's prediction reader.

    Args:
        name: the preset (``ecgml presets`` lists them).
        preprocessed: the records were already processed as the preset's training
            data were (its card's ``preprocess_before_training`` steps, e.g. the
            PTB-XL arrays' band-pass and z-score): apply only what training
            applied, not those steps again.
        root: where the presets are.

    Raises:
        PresetError: an unknown name, a file that does not match its hash, or
            ``preprocessed`` for a preset whose training data had no steps before.
    """
    preset = Preset.named(name, root)
    preset.verify()
    info, data = preset.info, preset.config_dict()
    if preprocessed:
        if not info.get("preprocess_before_training"):
            raise PresetError(
                f"preset {preset.name} applies no step its training data had before "
                "training, so there is nothing to leave out for preprocessed records"
            )
        data["preprocess"] = info["preprocess_in_training"]
    config = config_from_dict(data)
    task = Task.of(config)
    reading = info["prediction_reader"]
    task = dataclasses.replace(task, reader=get_reader(reading["reader"], reading["options"]))
    thresholds = (
        json.loads((preset.folder / THRESHOLDS_FILE).read_text())
        if task.target.needs_thresholds
        else []
    )
    stacks = (
        [Stack.load(preset.folder / stack_file(k)) for k in preset.folds]
        if config.stack.forest
        else []
    )
    return Ensemble(
        preset.folder,
        config,
        LabelEncoder.from_config(config.labels),
        preset.folds,
        [preset.model(k) for k in preset.folds],
        thresholds,
        stacks,
        record_seconds=info.get("record_seconds"),
        task=task,
    )
