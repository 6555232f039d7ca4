"""Data readers: one module per data source, all behind :class:`Reader`.

A task's config names its reader (``task.reader``); ``ecgml prepare``,
``postprocessing.py`` and ``ecgml predict`` read records through it. Adding a
source is one module here and one line in ``_READERS``.
"""

from __future__ import annotations

from ecgml.data.readers.base import Reader
from ecgml.data.readers.cinc2017 import Cinc2017Reader
from ecgml.data.readers.cinc2020 import Cinc2020Reader

_READERS: dict[str, type[Reader]] = {
    "cinc2020": Cinc2020Reader,
    "cinc2017": Cinc2017Reader,
}
READER_NAMES = tuple(_READERS)


def get_reader(name: str) -> Reader:
    """The reader a config names.

    Raises:
        ValueError: no reader of that name.
    """
    if name not in _READERS:
        raise ValueError(f"unknown reader {name!r}; expected one of {READER_NAMES}")
    return _READERS[name]()


__all__ = ["READER_NAMES", "Reader", "get_reader"]
