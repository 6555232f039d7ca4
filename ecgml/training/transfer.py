"""Transfer learning: seeding a new model with the weights of a trained one.

``training.init_from`` names the source: a run folder (its fold 0's model), a
fold folder (``RUN/fold_K``), a ``.keras`` file, or ``"preset:NAME"`` (a preset
that ships with ecgml: its first fold model, :mod:`ecgml.presets`). Layers are matched by name;
a layer is copied when every one of its weights has the source's shape. The
rest (an output layer with another number of classes, a layer the source does
not have) keep their random initialisation, and the report says which and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras

from ecgml.presets import PREFIX, Preset
from ecgml.training.layout import MODEL, fold_dir


def init_source(path: str | Path) -> Path:
    """The ``.keras`` file ``training.init_from`` names; a preset's folder.

    Raises:
        FileNotFoundError: nothing there, or a folder without a trained model.
        ValueError: an unknown preset, or one whose files fail their hash check.
    """
    if str(path).startswith(PREFIX):
        preset = Preset.named(str(path))
        preset.verify()
        return preset.folder
    path = Path(path)
    if path.is_file():
        if path.suffix != ".keras":
            raise ValueError(f"init_from {path} is not a .keras file")
        return path
    for candidate in (path / MODEL, fold_dir(path, 0) / MODEL):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"init_from {path}: expected a .keras file, a fold folder holding {MODEL}, or a run "
        f"folder whose fold_0 holds one"
    )


def copy_weights(model: keras.Model, source: keras.Model) -> dict[str, Any]:
    """Copy the weights of the source's layers into the model's layers of the same name.

    Args:
        model: the new model (changed in place).
        source: the trained model.

    Returns:
        ``{"copied": [layer, ...], "not_copied": {layer: reason}}`` over the
        model's layers that have weights.
    """
    theirs = {layer.name: layer for layer in source.layers}
    copied: list[str] = []
    not_copied: dict[str, str] = {}
    for layer in model.layers:
        ours = layer.get_weights()
        if not ours:
            continue
        other = theirs.get(layer.name)
        if other is None:
            not_copied[layer.name] = "not in the source"
            continue
        weights = other.get_weights()
        shapes, source_shapes = [w.shape for w in ours], [w.shape for w in weights]
        if shapes != source_shapes:
            not_copied[layer.name] = f"weight shapes {shapes} here, {source_shapes} in the source"
            continue
        layer.set_weights(weights)
        copied.append(layer.name)
    return {"copied": copied, "not_copied": not_copied}


def initialise_from(model: keras.Model, path: str | Path, *, freeze: bool) -> dict[str, Any]:
    """Seed ``model`` from ``training.init_from`` and freeze the copied layers if asked.

    Returns:
        :func:`copy_weights`'s report with the source file and ``frozen``.

    Raises:
        ValueError: no layer could be copied (the source is another architecture).
    """
    file = init_source(path)
    if str(path).startswith(PREFIX):
        preset = Preset.named(str(path))
        source = preset.model(preset.folds[0])
    else:
        source = keras.saving.load_model(file, safe_mode=True, compile=False)
    report = copy_weights(model, source)
    if not report["copied"]:
        raise ValueError(
            f"init_from {file}: no layer of {model.name!r} matches the source "
            f"{source.name!r} by name and shape"
        )
    if freeze:
        for name in report["copied"]:
            model.get_layer(name).trainable = False
    return {"source": str(file.resolve()), "frozen": freeze, **report}
