"""Split strategies: how a cache's samples are divided into folds and a held-out part.

A task names one (``task.split``); training assigns its folds with
:meth:`Split.assign` (saved in ``folds.json``, :mod:`ecgml.training.folds`), and
postprocessing scores the part :meth:`Split.test_part` holds out, so that both
stages apply the same division.

* ``"folds"``: every sample into cross-validation folds, grouped by patient where
  the reader knows patients.
* ``"standard"``: the source's standard division (DS1/DS2 for MIT-BIH): its test
  part is held out of training and is what ``postprocessing.py`` scores; the
  folds are made in the rest.
* ``"predefined"``: the source's own train / validation / test split (PTB-XL's
  ``strat_fold``), one fold (``training.n_folds`` 1).
* ``"intra_patient"``: folds ignore patients, so one patient's beats fall on both
  sides; it leaks, and is only for comparison with results reported that way.

A new strategy is a subclass registered with :func:`register_split`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ecgml.data.readers import Reader
from ecgml.data.splits import standard_parts
from ecgml.registries import Registry
from ecgml.training.folds import HELD_OUT, TRAIN_ONLY, UNUSED, make_folds

__all__ = ["SPLITS", "Split", "get_split", "register_split"]


class Split:
    """One way of dividing a cache.

    Attributes:
        name: the strategy's name (``task.split``).
        grouped: whether folds keep a patient's samples together.
    """

    name = ""
    grouped = True

    def check_folds(self, n_folds: int) -> None:
        """Raises ValueError for a ``training.n_folds`` this strategy cannot make."""
        if n_folds < 2:
            raise ValueError(f"training.n_folds must be at least 2, got {n_folds}")

    def held_out(self, index: pd.DataFrame, reader: Reader) -> np.ndarray | None:
        """Which samples of ``index`` are the held-out test part (bool per row);
        ``None`` when the strategy holds nothing out of the cache it splits."""
        return None

    def assign(
        self,
        index: pd.DataFrame,
        y_true: np.ndarray,
        reader: Reader,
        *,
        n_folds: int,
        seed: int,
        where: str,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Every sample's fold (``0 .. n_folds - 1``, or
        :data:`~ecgml.training.folds.HELD_OUT`, ``UNUSED``, ``TRAIN_ONLY``) and what
        ``folds.json`` says about it.

        Raises:
            ValueError: a part the strategy needs has no sample.
        """
        # a copy: pandas 3 hands out read-only views of its columns
        groups = np.array(index["patient_id"], dtype=object)
        if not self.grouped:
            groups[:] = ""
        folds = np.full(len(y_true), UNUSED, dtype=np.int64)
        test = self.held_out(index, reader)
        train = (
            np.ones(len(y_true), dtype=bool)
            if test is None
            else self._train_part(index, reader, where)
        )
        if test is not None:
            folds[test] = HELD_OUT
        folds[train] = make_folds(
            y_true[train], n_folds=n_folds, seed=seed, groups=list(groups[train])
        )
        return folds, {"seed": seed, "grouped_by_patient": bool(any(groups[train]))}

    def _train_part(self, index: pd.DataFrame, reader: Reader, where: str) -> np.ndarray:
        raise NotImplementedError


class Folds(Split):
    name = "folds"


class IntraPatient(Split):
    name = "intra_patient"
    grouped = False


class Standard(Split):
    name = "standard"

    def held_out(self, index, reader):
        return standard_parts(index, reader) == "test"

    def _train_part(self, index, reader, where):
        train = standard_parts(index, reader) == "train"
        if not train.any():
            raise ValueError(f"no record of {where} is in the standard training part")
        return train


class Predefined(Split):
    """One fold: the source's own train / validation / test parts."""

    name = "predefined"
    grouped = False

    def check_folds(self, n_folds):
        if n_folds != 1:
            raise ValueError("task.split 'predefined' trains one model: set training.n_folds to 1")

    def held_out(self, index, reader):
        return standard_parts(index, reader, predefined=True) == "test"

    def assign(self, index, y_true, reader, *, n_folds, seed, where):
        parts = standard_parts(index, reader, predefined=True)
        folds = np.full(len(y_true), UNUSED, dtype=np.int64)
        folds[parts == "test"], folds[parts == "train"] = HELD_OUT, TRAIN_ONLY
        folds[parts == "validation"] = 0
        for part in ("train", "validation"):
            if not (parts == part).any():
                raise ValueError(
                    f"no record of {where} is in the {part} part of the predefined split"
                )
        return folds, {"grouped_by_patient": False}


SPLITS: Registry[Split] = Registry(
    "split", {s.name: s for s in (Folds(), Standard(), Predefined(), IntraPatient())}
)


def register_split(split: Split) -> Split:
    """Add a split strategy under its ``name``, so that ``task.split`` can name it."""
    return SPLITS.register(split.name, split)


def get_split(name: str) -> Split:
    """The registered strategy ``name``; ValueError for an unknown one."""
    return SPLITS.named(name)
