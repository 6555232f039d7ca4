"""The ``model`` section of a config: the config dataclass of the architecture
it names (:mod:`ecgml.models.family`; each family's module documents its fields).
"""

from __future__ import annotations

import ecgml.models  # noqa: F401 -- registers the built-in families
from ecgml.models.family import MODELS, ModelSpec


def model_configs() -> dict[str, type[ModelSpec]]:
    """Every registered architecture's config dataclass, by name."""
    return {name: family.config for name, family in MODELS.items()}


def model_config_class(architecture: str) -> type[ModelSpec]:
    """The config dataclass of an architecture.

    Raises:
        ValueError: an unknown architecture.
    """
    return MODELS.named(architecture).config
