"""What a ``prepare`` can keep of an earlier cache: the earlier index, when the cache
was made with the same settings, and the rows of records whose files are unchanged;
which records it reads (one per id) and which it leaves out for their signal quality
(:mod:`ecgml.data.cache`)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml.data.cache_files import recover_compaction
from ecgml.data.cache_reader import INDEX, META, SIGNALS, read_index
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.quality import meets
from ecgml.data.readers import Reader
from ecgml.data.samples import SampleKind
from ecgml.data.sources import FoundRecord

# Bumped when prepare caches other per-record columns for the tabular input
# (metadata, notes): an older cache is rebuilt rather than reused without them.
TABULAR_COLUMNS = 1


def config_hash(config: PreprocessConfig) -> str:
    fields = dataclasses.asdict(config)
    if fields["image"] is None:  # signal caches keep the hash they had before images
        del fields["image"]
    if fields.get("filter_at") == "target":  # nor before filter_at
        del fields["filter_at"]
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_previous(
    out: Path, preprocess: PreprocessConfig, reader: Reader, baseline: bool, kind: SampleKind
) -> pd.DataFrame | None:
    recover_compaction(out)
    meta_path, index_path = out / META, out / INDEX
    if not (meta_path.is_file() and index_path.is_file() and (out / SIGNALS).is_file()):
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("preprocess_hash") != config_hash(preprocess):
        print(f"preprocessing config differs from the cache in {out}: rebuilding it")
        (out / SIGNALS).unlink()
        return None
    ours = (meta.get("reader", "cinc2020"), meta.get("reader_options", {}))
    if ours != (reader.name, reader.options):
        print(
            f"the cache in {out} was read by reader {ours[0]!r} with options {ours[1]}: "
            "rebuilding it"
        )
        (out / SIGNALS).unlink()
        return None
    if meta.get("tabular_columns") != TABULAR_COLUMNS or meta.get("baseline", False) != baseline:
        print(
            f"the cache in {out} has other tabular columns (metadata, baseline features) "
            "than asked for: rebuilding it"
        )
        (out / SIGNALS).unlink()
        return None
    index = read_index(index_path)
    stale = kind.stale_index(index)
    if stale:
        print(f"{stale} in {out}: rebuilding it")
        (out / SIGNALS).unlink()
        return None
    return index


def unique_ids(found: list[FoundRecord]) -> tuple[list[FoundRecord], list[dict[str, str]]]:
    """The records to cache, the first of each id; the others skipped, naming it."""
    skipped: list[dict[str, str]] = []
    kept: list[FoundRecord] = []
    first_path: dict[str, Path] = {}
    for rec in found:
        if rec.record_id in first_path:
            reason = f"duplicate record id; kept {first_path[rec.record_id]}"
            skipped.append({"record_id": rec.record_id, "path": str(rec.path), "reason": reason})
            continue
        first_path[rec.record_id] = rec.path
        kept.append(rec)
    return kept, skipped


class QualityGate:
    """Whether a record falls below ``--min-quality``; one that does is listed as
    skipped, with its problems."""

    def __init__(self, min_quality: str | None, skipped: list[dict[str, str]]) -> None:
        self.min_quality, self.skipped = min_quality, skipped

    def poor(self, record: FoundRecord, quality: str, verdict: str) -> bool:
        if self.min_quality is None or not verdict or meets(verdict, self.min_quality):
            return False
        reason = f"signal quality {verdict}, below --min-quality {self.min_quality}: {quality}"
        self.skipped.append(
            {"record_id": record.record_id, "path": str(record.path), "reason": reason}
        )
        return True


def reused_rows(
    previous: pd.DataFrame | None, kept: list[FoundRecord], gate: QualityGate
) -> tuple[list[dict[str, Any]], list[FoundRecord]]:
    """The index rows of records cached before with the same files (unless now below
    the quality bar), and the records to read."""
    reusable: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if previous is not None:
        for row in previous.to_dict("records"):
            reusable.setdefault((row["path"], row["fingerprint"]), []).append(row)
    rows = []
    for r in kept:
        old = reusable.get((str(r.path), r.fingerprint), [])
        quality = str(old[0].get("quality", "")) if old else ""
        if old and not gate.poor(r, quality, str(old[0].get("quality_verdict", ""))):
            rows.extend(old)
    return rows, [r for r in kept if (str(r.path), r.fingerprint) not in reusable]
