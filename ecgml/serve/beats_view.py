"""The web app's view of a beat run: every beat of an uploaded record, and a
rhythm strip to page through.

A 30-minute record at 360 Hz is 650,000 samples a lead; the page never gets them
at once. It gets the beats (time, class, probabilities), the beat counts, an
overview (the lowest and highest sample in each of :data:`OVERVIEW_BINS` equal
parts of the record) and a token for ``GET /api/strip/TOKEN?start=S``, which
answers :data:`STRIP_SECONDS` of the model's lead at most :data:`STRIP_POINTS`
points, with the beats inside. The app keeps the lead of the last
:data:`KEEP_RECORDS` records it analysed in memory for that.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ecgml.inference.beat_tables import beat_counts
from ecgml.inference.ensemble import Ensemble

OVERVIEW_BINS, STRIP_SECONDS, STRIP_POINTS, KEEP_RECORDS = 1200, 10.0, 2500, 8
ANNOTATION = "atr"


@dataclass(frozen=True)
class StoredRecord:
    """What a strip request needs: the model's lead, its rate, the beats."""

    signal: np.ndarray
    fs: float
    beat_samples: np.ndarray
    beat_classes: tuple[str, ...]


class StripStore:
    """The last few analysed records, by an unguessable token (least recently used go)."""

    def __init__(self, capacity: int = KEEP_RECORDS) -> None:
        self.capacity = capacity
        self._records: OrderedDict[str, StoredRecord] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, record: StoredRecord) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._records[token] = record
            while len(self._records) > self.capacity:
                self._records.popitem(last=False)
        return token

    def get(self, token: str) -> StoredRecord | None:
        with self._lock:
            record = self._records.get(token)
            if record is not None:
                self._records.move_to_end(token)
            return record


def overview(signal: np.ndarray, bins: int = OVERVIEW_BINS) -> dict[str, list[float]]:
    """The lowest and highest sample of each of ``bins`` equal parts of ``signal``."""
    bins = max(1, min(bins, len(signal)))
    edges = np.linspace(0, len(signal), bins + 1).astype(np.int64)
    lows = np.minimum.reduceat(signal, edges[:-1])
    highs = np.maximum.reduceat(signal, edges[:-1])
    return {"min": np.round(lows, 3).tolist(), "max": np.round(highs, 3).tolist()}


def strip(record: StoredRecord, start: float, seconds: float = STRIP_SECONDS) -> dict[str, Any]:
    """``seconds`` of the lead from ``start`` (clamped to the record), at most
    :data:`STRIP_POINTS` points, and the beats inside."""
    duration = len(record.signal) / record.fs
    start = float(min(max(start, 0.0), max(duration - seconds, 0.0)))
    first = int(start * record.fs)
    last = min(len(record.signal), first + round(seconds * record.fs))
    step = max(1, -(-(last - first) // STRIP_POINTS))
    inside = (record.beat_samples >= first) & (record.beat_samples < last)
    return {
        "start": round(start, 3),
        "seconds": seconds,
        "duration": round(duration, 3),
        "fs": record.fs / step,
        "values": np.round(record.signal[first:last:step], 3).tolist(),
        "beats": [
            {"time": round(float(s) / record.fs, 3), "class": c}
            for s, c, keep in zip(record.beat_samples, record.beat_classes, inside, strict=True)
            if keep
        ],
    }


def beat_result(result, ensemble: Ensemble, store: StripStore | None) -> dict[str, Any]:
    """The app's answer for one record of a beat run, its beats classified
    (:class:`~ecgml.inference.records.RecordResult` of the one record path).

    A record uploaded with its ``.atr`` annotation file has had its annotated
    beats classified; otherwise wfdb's XQRS detector found them. With a
    ``store``, the answer also carries the overview and its strip token.
    """
    classes = list(ensemble.abbreviations)
    prepared, table, path = result.prepared, result.answer, result.path
    annotated = path.with_suffix(f".{ANNOTATION}").is_file()
    h = prepared.header
    out = {
        "record": h.record_id,
        "fs": h.fs,
        "seconds": round(h.n_samples / h.fs, 3),
        "leads": list(h.lead_names),
        "beat_source": f"annotations ({path.stem}.{ANNOTATION})"
        if annotated
        else "found by wfdb's XQRS detector",
        "counts": beat_counts(table, classes),
        "beats": [
            {
                "sample": int(s),
                "time": float(t),
                "class": c,
                "probabilities": dict(zip(classes, map(float, p), strict=True)),
            }
            for s, t, c, p in zip(
                table["sample"],
                table["time_s"],
                table["class"],
                table[[f"p_{c}" for c in classes]].to_numpy(),
                strict=True,
            )
        ],
    }
    if store is not None:
        lead = np.asarray(prepared.beat_lead, dtype=np.float32)
        out["overview"] = overview(lead)
        out["strip_token"] = store.put(
            StoredRecord(
                signal=lead,
                fs=h.fs,
                beat_samples=np.asarray(prepared.beat_samples),
                beat_classes=tuple(table["class"]),
            )
        )
    return out
