"""The files of ``ecgml predict --explain``: per record, ``explain/RECORD.csv`` (per
class: one importance per lead, summing to 1, and the lead ranking),
``explain/RECORD.npz`` (the full lead x time maps) and the printout with the map
drawn over each lead's trace (:mod:`ecgml.printout.overlay`); an image run's
map is a heat map on the image. The explanations come from
:mod:`ecgml.inference.explain`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgml.data.loading import PreparedRecord
from ecgml.inference.explain import METHOD, Explanation
from ecgml.printout.overlay import draw_attribution_on_image, draw_attribution_printout


def explanation_table(record_id: str, explanations: Sequence[Explanation]) -> pd.DataFrame:
    """``RECORD.csv``: per class, its probability, whether it was decided, one
    importance per lead (summing to 1) and the leads ranked (none for an image)."""
    rows = []
    for e in explanations:
        leads = {}
        if e.fs is not None:
            leads = {
                lead: round(float(v), 6)
                for lead, v in zip(e.lead_names, e.lead_importance, strict=True)
            }
            leads["ranking"] = " ".join(e.ranking)
        rows.append(
            {
                "record": record_id,
                "class": e.abbreviation,
                "code": e.code,
                "probability": round(e.probability, 6),
                "decided": int(e.decided),
                **leads,
                "method": METHOD,
                "explains": e.explains,
            }
        )
    return pd.DataFrame(rows)


def write_explanations(
    out: str | Path, record_id: str, explanations: Sequence[Explanation], prepared: PreparedRecord
) -> list[str]:
    """``RECORD.csv``, ``RECORD.npz`` and the pictures into ``out``: ``RECORD.png``
    for the most probable class explained, ``RECORD_CLASS.png`` for each other.

    Returns:
        The names of the files written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [f"{record_id}.csv", f"{record_id}.npz"]
    explanation_table(record_id, explanations).to_csv(out / written[0], index=False)
    first = explanations[0] if explanations else None
    arrays: dict[str, Any] = {f"map_{e.abbreviation}": e.attribution for e in explanations}
    np.savez_compressed(
        out / written[1],
        lead_names=np.array(first.lead_names if first else (), dtype=str),
        fs=np.nan if first is None or first.fs is None else first.fs,
        classes=np.array([e.abbreviation for e in explanations], dtype=str),
        **arrays,
    )
    for i, e in enumerate(sorted(explanations, key=lambda e: -e.probability)):
        name = f"{record_id}.png" if i == 0 else f"{record_id}_{_safe(e.abbreviation)}.png"
        title = (
            f"{record_id}: {e.abbreviation} ({e.code}), probability {e.probability:.2f}, "
            f"{'decided' if e.decided else 'not decided'}"
        )
        if e.fs is None:
            picture = draw_attribution_on_image(prepared.windows[0], e.attribution, title)
        else:
            header = prepared.header
            picture = draw_attribution_printout(
                prepared.signal,
                header.fs,
                header.lead_names,
                e.attribution,
                e.fs,
                e.lead_names,
                title=title,
                ranking=e.ranking[:3],
            )
        picture.save(out / name)
        written.append(name)
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def write_beat_explanations(
    out: str | Path,
    record_id: str,
    prepared: PreparedRecord,
    table: pd.DataFrame,
    maps: np.ndarray,
    explained: Sequence[str],
    *,
    fs: float,
    offset: int,
) -> list[str]:
    """A beat run's ``RECORD.npz`` (every beat's map over its window, its R peak
    and the class explained), ``RECORD.csv`` (per beat: the class explained, its
    probability and where in the window the attribution peaks, in ms from the R
    peak) and ``RECORD.png`` (per class, the mean beat with the mean importance
    shaded under it, :func:`ecgml.evaluation.plots.plot_beat_explanations`)."""
    from ecgml.evaluation.plots import plot_beat_explanations

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    strength = np.abs(maps).sum(axis=2)
    peak_ms = (strength.argmax(axis=1) - offset) / fs * 1000.0
    probability = [table.at[i, f"p_{c}"] for i, c in enumerate(explained)]
    pd.DataFrame(
        {
            "sample": table["sample"],
            "time_s": table["time_s"],
            "class": list(explained),
            "probability": np.round(probability, 5),
            "peak_ms": np.round(peak_ms, 1),
        }
    ).to_csv(out / f"{record_id}.csv", index=False)
    np.savez_compressed(
        out / f"{record_id}.npz",
        maps=maps,
        sample=table["sample"].to_numpy(),
        classes=np.array(explained, dtype=str),
        fs=fs,
        offset=offset,
    )
    if len(explained):
        plot_beat_explanations(
            prepared.windows,
            maps,
            explained,
            fs,
            offset,
            out / f"{record_id}.png",
            title=f"{record_id}: beats explained",
        )
    return [f"{record_id}.csv", f"{record_id}.npz", f"{record_id}.png"]
