"""The one registry of named plug-ins: readers, sample kinds, split strategies,
target kinds, scorers and model families each have one.

A config names a plug-in (``task.reader``, ``task.samples``, ``task.split``,
``task.target``, ``task.scorer``, ``model.architecture``); its registry gives the
object, or an error that lists the names it knows. A new plug-in is one
registration, in the plug-in's own module.
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

    def add(self, item: T) -> T:
        """Add ``item`` under its own ``name`` attribute; returns it, so that it
        decorates a plug-in class (``@READERS.add``)."""
        return self.register(item.name, item)

    def named(self, name: str) -> T:
        """The plug-in ``name``.

        Raises:
            ValueError: an unknown name, with the known ones.
        """
        if name not in self:
            raise ValueError(f"{self.what} must be one of {tuple(self)}, got {name!r}")
        return self[name]
