"""Explanations of an ensemble's decisions: which leads, and which part of the trace.

For a record and a class, every fold model's integrated gradients
(:mod:`ecgml.inference.attribution`) of that class's probability are computed on
each piece the model saw (each window of the record, and each crop of a window
where the model takes crops), put back at the piece's place in the record, and
combined as the predictions are (``task.window_aggregate``): averaged where
pieces overlap under ``"mean"``, the most probable piece's under ``"max"``. The
fold models' maps are then averaged. A run with a stacked forest is explained
through its deep members (the forest's hand-crafted features are not traced).

A lead's importance is its share of the map's total absolute attribution, so the
importances of a record's leads sum to 1. ``bench/explain.py`` measures whether
they are faithful: zeroing the lead ranked first should lower the class's
probability more than zeroing the last, or a random one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ecgml.data.loading import PreparedRecord
from ecgml.inference.attribution import STEPS, integrated_gradients
from ecgml.training.crops import crop_starts

if TYPE_CHECKING:
    from ecgml.inference.ensemble import Ensemble

METHOD = "integrated gradients (zero baseline), mean over the fold models"
SHOWN = "the probability shown"
DEEP_PART = (
    "the deep members' part only: the probability shown is, per class, the stack's "
    "weight times the deep models' probability plus the rest times the feature "
    "forest's, and the forest's part (features of the whole record) is not traced"
)


def explained_part(ensemble: Ensemble) -> str:
    """What an explanation of the ensemble explains: the probability shown, or
    only its deep part for a run with a stacked forest."""
    return DEEP_PART if ensemble.stacks else SHOWN


@dataclass(frozen=True)
class Explanation:
    """One class's explanation of one record.

    Attributes:
        abbreviation, code: the class.
        probability: the ensemble's probability of the class.
        decided: whether the ensemble decided it.
        lead_names: the model's leads, in its order.
        attribution: signed, ``(n_samples, n_leads)`` at ``fs`` (the model's rate,
            from the record's start); for an image, ``(height, width, channels)``.
        fs: samples per second of ``attribution``; ``None`` for an image.
        explains: what the attribution is of (:func:`explained_part`).
    """

    abbreviation: str
    code: str
    probability: float
    decided: bool
    lead_names: tuple[str, ...]
    attribution: np.ndarray
    fs: float | None
    explains: str = SHOWN

    @property
    def lead_importance(self) -> np.ndarray:
        """Each lead's share of the total absolute attribution; sums to 1."""
        if self.fs is None:
            return np.zeros(0)
        total = np.abs(self.attribution).sum(axis=0)
        if total.sum() <= 0:
            return np.full(len(total), 1.0 / len(total))
        return total / total.sum()

    @property
    def ranking(self) -> tuple[str, ...]:
        """The leads, most important first."""
        order = np.argsort(-self.lead_importance, kind="stable")
        return tuple(self.lead_names[k] for k in order)


def _pieces(ensemble: Ensemble, prepared: PreparedRecord) -> tuple[np.ndarray, np.ndarray | None]:
    """The model inputs of a record and each one's start in the record's timeline
    at the model's rate (the sample kind's
    :meth:`~ecgml.data.samples.SampleKind.explained_pieces`); ``None`` for inputs
    off any timeline (images)."""
    crops = crop_starts(
        prepared.windows.shape[1], ensemble.input_length, stride=ensemble.config.task.window_stride
    )
    return ensemble.task.samples.explained_pieces(
        prepared, ensemble.config.preprocess, ensemble.input_length, crops
    )


def explain_prepared(
    ensemble: Ensemble,
    prepared: PreparedRecord,
    *,
    classes: Sequence[str] | None = None,
    steps: int = STEPS,
) -> list[Explanation]:
    """Explanations of one prepared record (its sample kind's ``read_for_prediction``).

    Args:
        ensemble: the run's ensemble.
        prepared: the record.
        classes: abbreviations or codes to explain; ``None``: every class the
            ensemble decides, or the most probable one where it decides none.
        steps: integrated-gradients path points.

    Raises:
        ValueError: an unknown class, or a beat run (explain its beat windows with
            :func:`explain_windows`).
    """
    if not ensemble.task.samples.per_record:
        raise ValueError(
            "a beat run is explained beat by beat: use explain_windows on its beat windows"
        )
    (prediction,) = ensemble.predict_prepared([prepared])
    names, abbreviations = list(ensemble.class_names), list(ensemble.abbreviations)
    if classes is None:
        wanted = [k for k in range(len(names)) if prediction.y_pred[k]]
        wanted = wanted or [int(np.argmax(prediction.y_score))]
    else:
        wanted = []
        for c in classes:
            if c not in abbreviations and c not in names:
                raise ValueError(f"unknown class {c!r}; the run's classes: {abbreviations}")
            wanted.append(abbreviations.index(c) if c in abbreviations else names.index(c))
    features = None
    if ensemble.feature_names:
        features = ensemble.record_tabular(prepared.windows, ensemble.record_metadata(prepared))
    x, where = _pieces(ensemble, prepared)
    images = where is None  # a map of the image itself
    feats = None if features is None else np.repeat(np.asarray(features, np.float32), len(x), 0)
    how = ensemble.config.task.window_aggregate
    out = []
    for k in wanted:
        maps = []
        for model in ensemble.models:
            attr = integrated_gradients(model, x, k, features=feats, steps=steps)
            if images:
                maps.append(attr.mean(axis=0))
                continue
            scores = None
            if how == "max":
                inputs = x if feats is None else {"ecg": x, "features": feats}
                scores = np.asarray(model.predict_on_batch(inputs))[:, k]
            maps.append(_place(attr, where, how, scores))
        out.append(
            Explanation(
                abbreviation=abbreviations[k],
                code=names[k],
                probability=float(prediction.y_score[k]),
                decided=bool(prediction.y_pred[k]),
                lead_names=tuple(ensemble.config.preprocess.leads),
                attribution=np.mean(maps, axis=0).astype(np.float32),
                fs=None if images else float(ensemble.config.preprocess.fs),
                explains=explained_part(ensemble),
            )
        )
    return out


def _place(attr: np.ndarray, where: np.ndarray, how: str, scores: np.ndarray | None) -> np.ndarray:
    """Pieces' attributions back on the record's timeline."""
    length = attr.shape[1]
    timeline = np.zeros((int(where.max()) + length, attr.shape[2]), dtype=np.float64)
    if how == "max":
        best = int(np.argmax(scores))
        timeline[where[best] : where[best] + length] = attr[best]
        return timeline
    cover = np.zeros(len(timeline))
    for piece, start in zip(attr, where, strict=True):
        timeline[start : start + length] += piece
        cover[start : start + length] += 1
    return timeline / np.maximum(cover, 1)[:, None]


def explain_windows(
    ensemble: Ensemble,
    x: np.ndarray,
    class_index: int,
    *,
    features: np.ndarray | None = None,
    steps: int = STEPS,
) -> np.ndarray:
    """The fold models' mean integrated gradients for model inputs ``x`` as they are
    (beat windows, crops, images): the same shape as ``x``."""
    return np.mean(
        [
            integrated_gradients(m, x, class_index, features=features, steps=steps)
            for m in ensemble.models
        ],
        axis=0,
    )


def explain_beats(
    ensemble: Ensemble,
    prepared: PreparedRecord,
    decided: Sequence[str],
    *,
    classes: Sequence[str] | None = None,
    steps: int = STEPS,
) -> tuple[np.ndarray, list[str]]:
    """A beat run's explanation of one record: every beat's integrated gradients
    over its beat window, for its decided class (``decided``, one per beat) or for
    the first of ``classes``; averaged over the fold models.

    Returns:
        The maps ``(n_beats, window, n_leads)`` and the class each explains.
    """
    abbreviations, codes = list(ensemble.abbreviations), list(ensemble.class_names)
    named = [abbreviations[codes.index(c)] if c in codes else c for c in classes or ()]
    explained = list(decided) if not named else [named[0]] * len(decided)
    for name in set(explained):
        if name not in abbreviations:
            raise ValueError(f"unknown class {name!r}; the run's classes: {abbreviations}")
    maps = np.zeros(prepared.windows.shape, dtype=np.float32)
    names = np.asarray(explained)
    for name in dict.fromkeys(explained):
        rows = np.nonzero(names == name)[0]
        features = None if prepared.beat_features is None else prepared.beat_features[rows]
        maps[rows] = explain_windows(
            ensemble,
            prepared.windows[rows],
            abbreviations.index(name),
            features=features,
            steps=steps,
        )
    return maps, explained
