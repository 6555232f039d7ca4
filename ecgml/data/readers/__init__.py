"""Data readers: one module per data source, all behind :class:`Reader`.

A task's config names its reader (``task.reader``); ``ecgml prepare``,
``postprocessing.py`` and ``ecgml predict`` read records through it. Adding a
source is one module here and one line in ``_READERS``.
"""

from __future__ import annotations

import inspect
from typing import Any

from ecgml.data.readers.base import Reader
from ecgml.data.readers.cinc2017 import Cinc2017Reader
from ecgml.data.readers.cinc2020 import Cinc2020Reader
from ecgml.data.readers.images import ImagesReader
from ecgml.data.readers.mitbih import MitbihReader
from ecgml.data.readers.ptb import PtbReader
from ecgml.data.readers.ptbxl import PtbxlReader
from ecgml.data.readers.table import TableReader

_READERS: dict[str, type[Reader]] = {
    "cinc2020": Cinc2020Reader,
    "cinc2017": Cinc2017Reader,
    "mitbih": MitbihReader,
    "ptb": PtbReader,
    "images": ImagesReader,
    "ptbxl": PtbxlReader,
    "table": TableReader,
}
READER_NAMES = tuple(_READERS)


def get_reader(name: str, options: dict[str, Any] | None = None) -> Reader:
    """The reader a config names, made with its ``task.reader_options``.

    Raises:
        ValueError: no reader of that name, or an option it does not take.
    """
    if name not in _READERS:
        raise ValueError(f"unknown reader {name!r}; expected one of {READER_NAMES}")
    reader = _READERS[name]
    accepted = [
        p for p in inspect.signature(reader.__init__).parameters if p not in ("self", "options")
    ]
    unknown = sorted(set(options or {}) - set(accepted))
    if unknown:
        raise ValueError(
            f"reader {name!r} takes no option(s) {unknown}; its options are {accepted or 'none'}"
        )
    return reader(**(options or {}))


__all__ = ["READER_NAMES", "Reader", "get_reader"]
