"""The interface of a scorer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ecgml.evaluation.bootstrap import N_RESAMPLES, SEED, bootstrap_figures
from ecgml.registries import Registry


class Scorer:
    """Scores one model's predictions (see :mod:`ecgml.evaluation.scorers`).

    Attributes:
        name: the name a config gives in ``task.scorer``.
        headline: the ``overall`` figure a summary line leads with.
        uses_weights: whether it scores with a reward matrix (the CinC 2020
            challenge metric).
        intervals: the headline figures that ``score.json`` gives a bootstrap
            confidence interval (:meth:`confidence_intervals`).
        example_classes: the classes of :meth:`example`'s predictions.
    """

    name = ""
    headline = "macro_auroc"
    uses_weights = False
    intervals: tuple[str, ...] = ("macro_auroc",)
    example_classes: tuple[str, ...] = ("A", "B", "C", "D")

    def example(self, n: int = 60, seed: int = 0) -> dict[str, Any]:
        """Keyword arguments of :meth:`score` for ``n`` made-up records of
        :attr:`example_classes`, one class each (one class: about a third positive),
        scores that favour the true class, decisions the highest score's; for the
        conformance battery (``tests/test_conformance.py``)."""
        rng = np.random.default_rng(seed)
        names, k = self.example_classes, len(self.example_classes)
        if k == 1:
            y_true = (rng.random((n, 1)) < 1 / 3).astype(np.uint8)
        else:
            y_true = np.zeros((n, k), dtype=np.uint8)
            y_true[np.arange(n), rng.integers(0, k, n)] = 1
        y_score = np.clip(y_true * 0.6 + rng.random((n, k)) * 0.5, 0, 1).astype(np.float32)
        if k == 1:
            y_pred = (y_score >= 0.5).astype(np.uint8)
        else:
            y_pred = np.zeros_like(y_true)
            y_pred[np.arange(n), y_score.argmax(axis=1)] = 1
        codes = [[names[c] for c in np.nonzero(row)[0]] for row in y_true]
        return {
            "y_true": y_true,
            "y_score": y_score,
            "y_pred": y_pred,
            "class_names": names,
            "abbreviations": names,
            "label_codes": codes,
        }

    def score(
        self,
        y_true: np.ndarray,
        y_score: np.ndarray,
        y_pred: np.ndarray,
        class_names: Sequence[str],
        abbreviations: Sequence[str],
        *,
        label_codes: Sequence[Sequence[str]] | None = None,
        weights: Any = None,
    ) -> dict[str, Any]:
        """Per-class and overall figures.

        Args:
            y_true, y_score, y_pred: shape ``(n, n_classes)``.
            class_names, abbreviations: per column.
            label_codes: every record's label tokens, for scorers that score
                them as a challenge did (CinC 2020).
            weights: reward matrix, for scorers with ``uses_weights``.
        """
        raise NotImplementedError

    def figures(
        self,
        y_true: np.ndarray,
        y_score: np.ndarray,
        y_pred: np.ndarray,
        class_names: Sequence[str],
        abbreviations: Sequence[str],
        *,
        label_codes: Sequence[Sequence[str]] | None = None,
        weights: Any = None,
    ) -> dict[str, float]:
        """The :attr:`intervals` figures of some predictions (a bootstrap draw): by
        default looked up in what :meth:`score` returns (``overall``, then
        ``challenge``); scorers with a faster way override it."""
        result = self.score(
            y_true,
            y_score,
            y_pred,
            class_names,
            abbreviations,
            label_codes=label_codes,
            weights=weights,
        )
        found = {**result.get("challenge", {}), **result["overall"]}
        return {name: found.get(name, np.nan) for name in self.intervals}

    def confidence_intervals(
        self,
        y_true: np.ndarray,
        y_score: np.ndarray,
        y_pred: np.ndarray,
        class_names: Sequence[str],
        abbreviations: Sequence[str],
        *,
        label_codes: Sequence[Sequence[str]] | None = None,
        weights: Any = None,
        groups: Sequence[str] | None = None,
        n_resamples: int = N_RESAMPLES,
        seed: int = SEED,
    ) -> dict[str, dict]:
        """95 % percentile bootstrap intervals of the :attr:`intervals` figures over
        records, or over ``groups`` (the records or patients of beats): see
        :func:`ecgml.evaluation.bootstrap.bootstrap_figures`."""
        codes = None if label_codes is None else list(label_codes)
        # no challenge metric without its reward matrix
        names = [n for n in self.intervals if n != "challenge_metric" or weights is not None]

        def figures(index: np.ndarray) -> dict[str, float]:
            found = self.figures(
                y_true[index],
                y_score[index],
                y_pred[index],
                class_names,
                abbreviations,
                weights=weights,
                label_codes=None if codes is None else [codes[i] for i in index],
            )
            return {n: found.get(n, np.nan) for n in names}

        return bootstrap_figures(
            figures, len(y_true), groups=groups, n_resamples=n_resamples, seed=seed
        )


SCORERS: Registry[type[Scorer]] = Registry("scorer")
