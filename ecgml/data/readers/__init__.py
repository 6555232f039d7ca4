"""Data readers: one module per data source, all behind :class:`Reader`.

A task's config names its reader (``task.reader``); ``ecgml prepare``,
``postprocessing.py`` and ``ecgml predict`` read records through it. Adding a
source is one module here whose reader class is decorated ``@READERS.add``,
named in ``BUILT_IN``.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from ecgml.data.readers.base import READERS, Reader

# The built-in modules, each registering its readers, in the order errors list them.
BUILT_IN = ("cinc2020", "cinc2017", "mitbih", "ptb", "images", "ptbxl", "table", "code15")
for _module in BUILT_IN:
    importlib.import_module(f"ecgml.data.readers.{_module}")

READER_NAMES = tuple(READERS)


def get_reader(name: str, options: dict[str, Any] | None = None) -> Reader:
    """The reader a config names, made with its ``task.reader_options``.

    Raises:
        ValueError: no reader of that name, or an option it does not take.
    """
    if name not in READERS:
        raise ValueError(f"unknown reader {name!r}; expected one of {tuple(READERS)}")
    reader = READERS[name]
    accepted = [
        p for p in inspect.signature(reader.__init__).parameters if p not in ("self", "options")
    ]
    unknown = sorted(set(options or {}) - set(accepted))
    if unknown:
        raise ValueError(
            f"reader {name!r} takes no option(s) {unknown}; its options are {accepted or 'none'}"
        )
    return reader(**(options or {}))


__all__ = ["READERS", "READER_NAMES", "Reader", "get_reader"]
