"""Model families: one module per architecture, holding its config dataclass and
the network it builds, bound together by one :func:`register_family` call.

A family's config (a frozen :class:`ModelSpec` dataclass) is what a config
file's ``model`` section holds, picked by its ``architecture``. Its
``features`` function builds the network from the input to the features that
the shared head (:func:`ecgml.models.heads.classify`: dropout, then the float32
output layer) turns into class probabilities. Reading a config never loads
Keras: the families import it inside their builders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ecgml.registries import Registry

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class ModelSpec:
    """What every family's config has: its ``architecture`` (each family's default
    is its own name) and what the model reads, ``inputs`` (``"signals"``, time by
    lead, or ``"images"``), which must be what the task's sample kind gives."""

    inputs: ClassVar[str] = "signals"

    architecture: str = ""

    def __post_init__(self) -> None:
        own = type(self).__dataclass_fields__["architecture"].default
        if self.architecture != own:
            name = type(self).__name__
            raise ValueError(f"{name} is {own!r}'s config, got {self.architecture!r}")

    @property
    def output_dropout(self) -> float:
        """The dropout rate the shared head puts before the output layer."""
        return 0.0

    def check_preprocess(self, preprocess: Any) -> None:
        """Raises ValueError for a preprocessing the model cannot read; here none."""

    @classmethod
    def example(cls) -> ModelSpec:
        """A config of this family that the conformance battery builds and trains."""
        return cls()

    def example_input(self) -> tuple[int, int]:
        """An input shape ``(input_length, n_leads)`` the model takes."""
        return (64, 96) if self.inputs == "images" else (256, 2)


def check_rates(config: Any, *names: str) -> None:
    """Raises ValueError for a field among ``names`` outside [0, 1) (dropout rates)."""
    for name in names:
        if not 0.0 <= getattr(config, name) < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {getattr(config, name)}")


def check_momentum(config: Any) -> None:
    """Raises ValueError for a ``bn_momentum`` outside (0, 1)."""
    if not 0.0 < config.bn_momentum < 1.0:
        raise ValueError(f"bn_momentum must be in (0, 1), got {config.bn_momentum}")


@dataclass(frozen=True)
class Family:
    """One architecture: its config class and the features its network computes.

    Attributes:
        config: the family's :class:`ModelSpec` dataclass.
        features: ``features(inputs, config)``: the Keras input to the features
            the head classifies, ``(batch, n_features)``; raises ValueError for an
            input shape the network cannot take.
        model_name: the built ``keras.Model``'s name.
    """

    config: type[ModelSpec]
    features: Callable[[Any, Any], Any]
    model_name: str

    @property
    def name(self) -> str:
        return self.config.__dataclass_fields__["architecture"].default

    def build(
        self,
        config: ModelSpec,
        *,
        n_classes: int,
        input_length: int | None,
        n_leads: int,
        activation: str = "sigmoid",
    ) -> keras.Model:
        """The untrained model: ``(batch, input_length, n_leads)`` to
        ``(batch, n_classes)`` probabilities under ``activation``
        (``"sigmoid"``: multi-label; ``"softmax"``: one class per sample);
        ``input_length`` ``None`` accepts any length where the network allows."""
        import keras

        from ecgml.models.heads import classify

        inputs = keras.Input((input_length, n_leads), name="ecg")
        x = self.features(inputs, config)
        outputs = classify(x, n_classes, activation, dropout=config.output_dropout)
        return keras.Model(inputs, outputs, name=self.model_name)


MODELS: Registry[Family] = Registry("architecture")


def register_family(
    config: type[ModelSpec], features: Callable[[Any, Any], Any], *, model_name: str = ""
) -> Family:
    """Register an architecture: its config dataclass and its network (:class:`Family`)."""
    if not (dataclasses.is_dataclass(config) and issubclass(config, ModelSpec)):
        raise TypeError(f"{config.__name__} must be a ModelSpec dataclass")
    family = Family(config=config, features=features, model_name=model_name)
    family = dataclasses.replace(family, model_name=model_name or family.name)
    return MODELS.register(family.name, family)


def build_model(
    config: ModelSpec,
    *,
    n_classes: int,
    input_length: int | None,
    n_leads: int,
    activation: str = "sigmoid",
) -> keras.Model:
    """Build the architecture ``config.architecture`` names (:meth:`Family.build`)."""
    return MODELS.named(config.architecture).build(
        config,
        n_classes=n_classes,
        input_length=input_length,
        n_leads=n_leads,
        activation=activation,
    )


def check_head(config: Any) -> None:
    """Raises ValueError for a concat-pooling head's bad ``head_units``,
    ``head_dropout`` or ``bn_momentum`` (:func:`ecgml.models.heads.concat_pool_features`)."""
    if any(u < 1 for u in config.head_units):
        raise ValueError(f"head_units must be positive, got {config.head_units}")
    check_rates(config, "head_dropout")
    check_momentum(config)
