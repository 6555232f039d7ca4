"""Reading the training cache that ``ecgml prepare`` builds.

A cache folder holds:

* ``signals.f32``: float32 windows, C order, shape ``(n_rows, window, n_leads)``
  (``meta.json`` gives the shape); a record owns rows ``row : row + n_windows``.
* ``index.csv``: one line per cached record: ``record_id``, ``folder``,
  ``source``, ``path``, ``patient_id``, ``age``, ``sex``, ``fs``, ``n_samples``
  (original), ``dx`` (every code, scored or not), ``row``, ``n_windows``,
  ``fingerprint``, ``warnings``, ``sample`` (a beat's R-peak sample at the
  record's rate for beat tasks, where each beat is a row; -1 for a record);
  beat caches add each beat's RR features (``rr_previous_s``, ...), which a
  run's ``tabular.features`` may feed to the model (:meth:`Cache.features`).
* ``labels.npy``: uint8 multi-hot labels, shape ``(n_records, n_classes)``,
  in ``index.csv`` order.
* ``meta.json``: the preprocessing and label config, class names, versions.
* ``prepare_report.json``: what the last ``prepare`` did, per record.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.tabular import TabularConfig, tabular_matrix

FORMAT_VERSION = 1
SIGNALS, INDEX, LABELS, META, REPORT = (
    "signals.f32",
    "index.csv",
    "labels.npy",
    "meta.json",
    "prepare_report.json",
)
INDEX_COLUMNS = (
    "record_id",
    "folder",
    "source",
    "path",
    "patient_id",
    "age",
    "sex",
    "fs",
    "n_samples",
    "dx",
    "row",
    "n_windows",
    "fingerprint",
    "warnings",
    "sample",
)


def read_index(path: Path) -> pd.DataFrame:
    """``index.csv`` with text columns as text (empty, not NaN), age as a number, and a
    ``sample`` column (-1) added to an index written before beat tasks."""
    text_columns = (
        "record_id",
        "folder",
        "source",
        "path",
        "patient_id",
        "sex",
        "dx",
        "fingerprint",
        "warnings",
    )
    text_columns += ("notes",)
    index = pd.read_csv(path, dtype={c: str for c in text_columns}, keep_default_na=False)
    # prepare writes a number or nothing (an unknown age) in this column
    for column in ("age", "height", "weight"):
        if column in index.columns:
            value = index[column].astype(str)
            index[column] = pd.to_numeric(value.mask(value.isin(("", "nan"))))
    if "sample" not in index.columns:  # written before beat tasks
        index["sample"] = -1
    return index


class Cache:
    """A prepared cache, opened for reading (signals memory-mapped).

    Attributes:
        path: the cache folder.
        index: one row per record (columns in the module docstring).
        labels: uint8, shape ``(n_records, n_classes)``.
        signals: float32 memmap, shape ``(n_rows, window, n_leads)``.
        class_names: SNOMED code (or ``"a|b"`` for a merged pair) per label column.
        abbreviations: short name per label column.
        meta: the contents of ``meta.json``.
        reader: the data reader that read the records (``"cinc2020"``, ``"cinc2017"``).
        reader_options: the options it was made with.
        left_out: records left out because they do not have exactly one class,
            under ``labels.one_class`` (0 otherwise).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        meta_path = self.path / META
        if not meta_path.is_file():
            raise FileNotFoundError(
                f"no cache in {self.path} (no {META}); build one with 'ecgml prepare'"
            )
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        if not self.meta.get("complete"):
            raise ValueError(
                f"cache {self.path} is incomplete (its 'ecgml prepare' was interrupted); "
                "rerun the same command to finish it"
            )
        if self.meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"cache {self.path} has format {self.meta.get('format_version')}, "
                f"this ecgml reads format {FORMAT_VERSION}; rebuild it with 'ecgml prepare'"
            )
        self.index = read_index(self.path / INDEX)
        self.labels: np.ndarray = np.load(self.path / LABELS)
        if self.labels.shape[0] != len(self.index):
            raise ValueError(
                f"cache {self.path}: {self.labels.shape[0]} label rows for "
                f"{len(self.index)} records; rerun 'ecgml prepare'"
            )
        self.left_out = 0
        if self.meta.get("labels", {}).get("one_class"):
            keep = self.labels.sum(axis=1) == 1
            self.left_out = int((~keep).sum())
            self.index = self.index[keep].reset_index(drop=True)
            self.labels = self.labels[keep]
        shape = tuple(self.meta["shape"])
        self.signals = np.memmap(self.path / SIGNALS, dtype=np.float32, mode="r", shape=shape)
        self.class_names: tuple[str, ...] = tuple(self.meta["class_names"])
        # caches made before readers existed were all read as CinC 2020
        self.reader: str = self.meta.get("reader", "cinc2020")
        self.reader_options: dict[str, Any] = self.meta.get("reader_options", {})
        self.abbreviations: tuple[str, ...] = tuple(self.meta["abbreviations"])

    def __len__(self) -> int:
        return len(self.index)

    def features(self, names: Sequence[str]) -> np.ndarray:
        """Index columns as a float32 matrix ``(n_records, len(names))``, a model's
        tabular input.

        Raises:
            ValueError: a column the cache does not have, or an empty (NaN) value.
        """
        return self.tabular(TabularConfig(features=tuple(names)))

    def tabular(self, config: TabularConfig) -> np.ndarray:
        """The run's tabular input for every record, ``(n_records, n_columns)`` float32,
        NaN where a value is missing (:func:`ecgml.data.tabular.tabular_matrix`).

        Raises:
            ValueError: the cache lacks a column the config asks for.
        """
        try:
            return tabular_matrix(self.index, config, self.preprocess.leads)
        except ValueError as exc:
            raise ValueError(f"cache {self.path}: {exc}") from None

    def subset(self, keep: np.ndarray) -> Cache:
        """The same cache with only the rows of ``index`` where ``keep`` is true
        (a view: the signals are shared)."""
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (len(self),):
            raise ValueError(f"expected {len(self)} booleans, got shape {keep.shape}")
        part = copy.copy(self)
        part.index = self.index[keep].reset_index(drop=True)
        part.labels = self.labels[keep]
        return part

    @property
    def cache_id(self) -> str:
        """A digest of the cached records, their file fingerprints and the preprocessing."""
        text = self.meta["preprocess_hash"] + "".join(
            f"{r}|{f}|{d}\n"
            for r, f, d in zip(
                self.index["record_id"], self.index["fingerprint"], self.index["dx"], strict=True
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def preprocess(self) -> PreprocessConfig:
        """The preprocessing settings the cache was built with."""
        fields = dict(self.meta["preprocess"])
        fields["leads"] = tuple(fields["leads"])
        if fields["bandpass"] is not None:
            fields["bandpass"] = tuple(fields["bandpass"])
        return PreprocessConfig(**fields)

    def windows(self, i: int) -> np.ndarray:
        """Windows of record ``i``, shape ``(n_windows, window, n_leads)`` (a memmap view)."""
        row, count = self.index.at[i, "row"], self.index.at[i, "n_windows"]
        return self.signals[row : row + count]
