"""Registries of named plug-ins: sample kinds, split strategies, target kinds.

A config names a plug-in (``task.samples``, ``task.split``, ``task.target``); its
registry gives the object, or an error that lists the names it knows. A new
plug-in is one ``register`` call.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")

__all__ = ["Registry"]


class Registry(dict[str, T], Generic[T]):
    """Named plug-ins of one kind: a dict with a name for its errors."""

    def __init__(self, what: str, items: dict[str, T] | None = None) -> None:
        super().__init__(items or {})
        self.what = what

    def register(self, name: str, item: T) -> T:
        """Add ``item`` under ``name`` (replacing one of that name); returns it."""
        if not name:
            raise ValueError(f"a {self.what} plug-in needs a name")
        self[name] = item
        return item

    def named(self, name: str) -> T:
        """The plug-in ``name``.

        Raises:
            ValueError: an unknown name, with the known ones.
        """
        if name not in self:
            raise ValueError(f"{self.what} must be one of {tuple(self)}, got {name!r}")
        return self[name]
