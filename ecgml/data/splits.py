"""A source's standard train/test division, applied to the rows of a cache."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecgml.data.readers import Reader


def standard_parts(index: pd.DataFrame, reader: Reader, *, predefined: bool = False) -> np.ndarray:
    """The part of every cached row in the reader's standard split.

    Args:
        index: a cache's ``index.csv`` (one row per record, or per beat).
        reader: the reader the cache was read with.
        predefined: the reader's train / validation / test split
            (:meth:`~ecgml.data.readers.Reader.predefined_split_at`) instead.

    Returns:
        object array, one of ``"train"``, ``"test"`` (and ``"validation"`` with
        ``predefined``) or ``""`` (in neither) per row.

    Raises:
        ValueError: the reader has no such split.
    """
    split = reader.predefined_split_at if predefined else reader.standard_split_at
    part = {path: split(path) or "" for path in index["path"].unique()}
    return np.array([part[path] for path in index["path"]], dtype=object)
