"""The interface of a scorer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class Scorer:
    """Scores one model's predictions (see :mod:`ecgml.evaluation.scorers`).

    Attributes:
        name: the name a config gives in ``task.scorer``.
        headline: the ``overall`` figure a summary line leads with.
        uses_weights: whether it scores with a reward matrix (the CinC 2020
            challenge metric).
    """

    name = ""
    headline = "macro_auroc"
    uses_weights = False

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
