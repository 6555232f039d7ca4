"""``prepare_report.json``: what ``ecgml prepare`` found, cached, skipped and why, the
records with warnings, and their signal quality (:mod:`ecgml.data.cache`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ecgml.data.labels import LabelConfig
from ecgml.data.quality import CHECKS
from ecgml.data.samples import SampleKind


def quality_summary(index: pd.DataFrame, min_quality: str | None) -> dict[str, Any]:
    """The report's ``quality`` block: records per verdict and flagged by each check."""
    records = index.drop_duplicates("path")
    labels = records.get("quality", pd.Series(dtype=str)).fillna("").astype(str)
    verdicts = records.get("quality_verdict", pd.Series(dtype=str)).fillna("").astype(str)
    checks = [{p.split(":")[0] for p in label.split(";")} for label in labels if label != "good"]
    return {
        "min_quality": min_quality,
        "verdicts": {v or "not assessed": int(n) for v, n in verdicts.value_counts().items()},
        "records_flagged": {c: sum(c in found for found in checks) for c in CHECKS},
        "flagged": [
            {"record_id": r, "quality": q, "verdict": v}
            for r, q, v in zip(records["record_id"], labels, verdicts, strict=True)
            if q not in ("good", "")
        ],
    }


def prepare_report(
    out: Path,
    data_dirs: Sequence[str | Path],
    index: pd.DataFrame,
    previous: pd.DataFrame | None,
    kind: SampleKind,
    y: np.ndarray,
    labels: LabelConfig,
    skipped: list[dict[str, str]],
    facts: dict[str, Any],
) -> dict[str, Any]:
    """The report of one ``prepare``; ``facts`` holds the records ``found``, ``new``
    and ``unchanged``, the worker ``jobs``, the ``reader``, ``min_quality`` and when
    it ``started``."""
    counts, min_quality, started = facts, facts["min_quality"], facts["started"]
    warned = index[index["warnings"] != ""]
    return {
        "cache": str(out.resolve()),
        "data_dirs": [str(Path(d).resolve()) for d in data_dirs],
        "found": counts["found"],
        "cached": len(index),
        "records": int(index["path"].nunique()),
        "samples": kind.name,
        "beats": None if kind.per_record else len(index),
        "new": counts["new"],
        "unchanged": counts["unchanged"],
        "removed": 0 if previous is None else len(set(previous["path"]) - set(index["path"])),
        "skipped": sorted(skipped, key=lambda s: (s["path"], s["reason"])),
        "not_one_class": int((y.sum(axis=1) != 1).sum()) if labels.one_class else None,
        "warnings": warned[["record_id", "path", "warnings"]].to_dict("records"),
        "quality": quality_summary(index, min_quality),
        "seconds": round(time.time() - started, 3),
        "jobs": counts["jobs"],
        "reader": facts["reader"],
    }
