"""A source's standard train/test division, applied to the rows of a cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ecgml.data.readers import Reader


def standard_parts(index: pd.DataFrame, reader: Reader) -> np.ndarray:
    """The part of every cached row in the reader's standard split.

    Args:
        index: a cache's ``index.csv`` (one row per record, or per beat).
        reader: the reader the cache was read with.

    Returns:
        object array, one of ``"train"``, ``"test"`` or ``""`` (in neither) per row.

    Raises:
        ValueError: the reader has no standard split.
    """
    records = {path: Path(path).stem for path in index["path"].unique()}
    part = {stem: reader.standard_split(stem) or "" for stem in set(records.values())}
    return np.array([part[records[path]] for path in index["path"]], dtype=object)
