"""Presets: trained models that ship inside the package.

A preset is a finished run reduced to what prediction needs, in
``ecgml/presets/NAME/``::

    preset.json     name, version, task, classes, the reader new records are read
                    with, the weights' dtype, the SHA-256 of every other file,
                    the training data and the validation figures (the card)
    config.json     the run's config: its preprocessing is applied to every record
    fold_K.json     fold K's architecture (Keras's serialised model)
    fold_K.npz      fold K's weights, in the model's weight order
    fold_K.stack.joblib   with ``stack.forest``: fold K's forest and weights
    thresholds.json       each fold's ``thresholds.json`` (multi-label tasks)
    oof.npz         the run's out-of-fold labels and scores, from which the
                    card's figures are computed (a test recomputes them)
    CARD.md         the card, written from ``preset.json``

This module reads and checks the files (below training, which starts from a
preset's weights); :func:`ecgml.inference.presets.load_preset` checks every
file's hash and returns the same :class:`~ecgml.inference.ensemble.Ensemble` a
trained run folder gives, so a preset predicts through the one inference path.
``bench/presets.py`` rebuilds each preset from ``../shared/data``
(:mod:`ecgml.serve.preset_build`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

PRESETS_DIR = Path(__file__).parent
INFO, CARD, CONFIG_FILE, THRESHOLDS_FILE, OOF = (
    "preset.json",
    "CARD.md",
    "config.json",
    "thresholds.json",
    "oof.npz",
)
PREFIX = "preset:"


class PresetError(ValueError):
    """A preset that is unknown, or whose files do not match their hashes."""


def preset_names(root: Path = PRESETS_DIR) -> tuple[str, ...]:
    """The presets installed under ``root``, sorted."""
    return tuple(sorted(p.parent.name for p in root.glob(f"*/{INFO}")))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_file(fold: int) -> str:
    return f"fold_{fold}.npz"


def architecture_file(fold: int) -> str:
    return f"fold_{fold}.json"


def stack_file(fold: int) -> str:
    return f"fold_{fold}.stack.joblib"


@dataclass(frozen=True)
class Preset:
    """One installed preset: its folder and ``preset.json``."""

    name: str
    folder: Path

    @classmethod
    def named(cls, name: str, root: Path = PRESETS_DIR) -> Preset:
        """The preset ``name`` (``"preset:NAME"`` also), its files not yet checked.

        Raises:
            PresetError: no preset of that name; the message lists the known ones.
        """
        name = name.removeprefix(PREFIX)
        folder = root / name
        if not (folder / INFO).is_file():
            known = ", ".join(preset_names(root)) or "none"
            raise PresetError(f"unknown preset {name!r}; the presets are: {known}")
        return cls(name, folder)

    @cached_property
    def info(self) -> dict[str, Any]:
        return json.loads((self.folder / INFO).read_text())

    @property
    def folds(self) -> list[int]:
        return list(self.info["folds"])

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())

    def verify(self) -> None:
        """Check every listed file against its SHA-256.

        Raises:
            PresetError: a file missing or changed, named with both hashes.
        """
        for file, expected in self.info["files"].items():
            path = self.folder / file
            if not path.is_file():
                raise PresetError(f"preset {self.name}: {file} is missing; reinstall ecgml")
            found = sha256(path)
            if found != expected:
                raise PresetError(
                    f"preset {self.name}: {file} does not match its SHA-256 (expected "
                    f"{expected[:16]}..., found {found[:16]}...); the file is corrupt or "
                    f"was changed: reinstall ecgml, or rebuild it ({self.info['command']})"
                )

    def config_dict(self) -> dict[str, Any]:
        """``config.json`` as written (``ecgml.config.config_from_dict`` reads it)."""
        return json.loads((self.folder / CONFIG_FILE).read_text())

    def model(self, fold: int) -> keras.Model:
        """Fold ``fold``'s Keras model, its weights in float32 (files not re-checked)."""
        import keras
        import numpy as np

        from ecgml.models import registry as _registry  # noqa: F401 -- custom layers

        spec = json.loads((self.folder / architecture_file(fold)).read_text())
        model = keras.saving.deserialize_keras_object(spec, safe_mode=True)
        with np.load(self.folder / weights_file(fold), allow_pickle=False) as saved:
            arrays = [saved[f"w{i}"] for i in range(len(saved.files))]
        if len(arrays) != len(model.weights):
            raise PresetError(
                f"preset {self.name}: {weights_file(fold)} holds {len(arrays)} arrays, the "
                f"model has {len(model.weights)} weights"
            )
        model.set_weights([a.astype(w.dtype) for a, w in zip(arrays, model.weights, strict=True)])
        return model

    def card(self) -> str:
        return (self.folder / CARD).read_text()


# what a task that starts from a preset must do to its records as the preset does
MATCHED = ("leads", "fs", "bandpass", "filter_order", "filter_at", "normalisation")


def preprocess_differences(name: str, preprocess: Any, root: Path = PRESETS_DIR) -> list[str]:
    """How ``preprocess`` (a :class:`~ecgml.data.preprocess.PreprocessConfig`) differs
    from the preset's in the settings of :data:`MATCHED`, one line each; empty
    when they match (lead names in any case).

    Raises:
        PresetError: an unknown preset.
    """
    theirs = Preset.named(name, root).info["preprocess"]
    ours = dataclasses.asdict(preprocess)
    defaults = {"filter_order": 3, "filter_at": "target", "normalisation": "none"}
    found = []
    for key in MATCHED:
        mine, other = ours.get(key), theirs.get(key, defaults.get(key))
        if key == "leads":
            mine, other = [x.lower() for x in mine], [x.lower() for x in other]
        elif key == "bandpass":
            mine = None if mine is None else [float(v) for v in mine]
            other = None if other is None else [float(v) for v in other]
        elif key == "fs":
            mine, other = float(mine), float(other)
        unfiltered = ours.get("bandpass") is None and not theirs.get("bandpass")
        if key in ("filter_order", "filter_at") and unfiltered:
            continue
        if mine != other:
            found.append(f"preprocess.{key}: {ours.get(key)!r} here, {theirs.get(key)!r} in it")
    return found


__all__ = [
    "PREFIX",
    "Preset",
    "PresetError",
    "preprocess_differences",
    "preset_names",
]
