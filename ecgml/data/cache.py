"""Building the training cache: ``ecgml prepare``.

The folder layout is described in :mod:`ecgml.data.cache_reader`, which opens
a cache for reading. ``index.csv`` is the single source of truth and is
replaced atomically at checkpoints; rows of ``signals.f32`` it does not
reference (a changed record's old rows, an interrupted run's tail) are garbage
that a later run compacts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ecgml import __version__
from ecgml.data.cache_files import Writer, compact, recover_compaction
from ecgml.data.cache_reader import (
    FORMAT_VERSION,
    INDEX,
    LABELS,
    META,
    REPORT,
    SIGNALS,
    Cache,
    read_index,
)
from ecgml.data.labels import LabelConfig, LabelEncoder
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.quality import CHECKS, assess, meets
from ecgml.data.readers import Reader, get_reader
from ecgml.data.records import RecordError
from ecgml.data.samples import SampleKind, sample_kind_of
from ecgml.data.sources import FoundRecord
from ecgml.data.tabular import record_columns
from ecgml.files import atomic_write

__all__ = ["REPORT", "Cache", "prepare_cache", "write_labels"]

_CHECKPOINT_SECONDS = 30.0
# Bumped when prepare caches other per-record columns for the tabular input
# (metadata, notes): an older cache is rebuilt rather than reused without them.
TABULAR_COLUMNS = 1
_COMPACT_GARBAGE_FRACTION = 0.25


def _config_hash(config: PreprocessConfig) -> str:
    fields = dataclasses.asdict(config)
    if fields["image"] is None:  # signal caches keep the hash they had before images
        del fields["image"]
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _process(task: tuple[str, PreprocessConfig, Reader, bool, SampleKind]) -> dict[str, Any]:
    """Worker: one record to windows, or to the reason it was skipped."""
    path, config, reader, baseline, kind = task
    try:
        prepared = kind.load(path, config, reader)
    except RecordError as exc:
        return {"ok": False, "reason": exc.problem}
    header = prepared.header
    first = prepared.windows[0] if baseline else None
    quality = (
        assess(prepared.signal, header.fs, header.lead_names, header.units)
        if prepared.signal is not None
        else None
    )  # an image has no trace to check
    meta = {
        "age": header.age,
        "sex": header.sex or "",
        "fs": header.fs,
        "n_samples": header.n_samples,
        "dx": ",".join(header.dx),
        "warnings": "; ".join(prepared.warnings),
        "quality": quality.label if quality else "",
        "quality_verdict": quality.verdict if quality else "",
        **record_columns(header, first, config.fs, config.leads, baseline=baseline),
    }
    return {"ok": True, "windows": prepared.windows, "meta": meta,
            "samples": kind.sample_columns(prepared)}  # fmt: skip


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
        "flagged": [{"record_id": r, "quality": q, "verdict": v}
                    for r, q, v in zip(records["record_id"], labels, verdicts, strict=True)
                    if q not in ("good", "")],
    }  # fmt: skip


def _imap(tasks: list[tuple], jobs: int) -> Iterable[dict[str, Any]]:
    if jobs <= 1:
        yield from map(_process, tasks)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_process, tasks, chunksize=4)


def _load_previous(
    out: Path, preprocess: PreprocessConfig, reader: Reader, baseline: bool, kind: SampleKind
) -> pd.DataFrame | None:
    recover_compaction(out)
    meta_path, index_path = out / META, out / INDEX
    if not (meta_path.is_file() and index_path.is_file() and (out / SIGNALS).is_file()):
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("preprocess_hash") != _config_hash(preprocess):
        print(f"preprocessing config differs from the cache in {out}: rebuilding it")
        (out / SIGNALS).unlink()
        return None
    ours = (meta.get("reader", "cinc2020"), meta.get("reader_options", {}))
    if ours != (reader.name, reader.options):
        print(f"the cache in {out} was read by reader {ours[0]!r} with options {ours[1]}: "
              "rebuilding it")  # fmt: skip
        (out / SIGNALS).unlink()
        return None
    if meta.get("tabular_columns") != TABULAR_COLUMNS or meta.get("baseline", False) != baseline:
        print(f"the cache in {out} has other tabular columns (metadata, baseline features) "
              "than asked for: rebuilding it")  # fmt: skip
        (out / SIGNALS).unlink()
        return None
    index = read_index(index_path)
    stale = kind.stale_index(index)
    if stale:
        print(f"{stale} in {out}: rebuilding it")
        (out / SIGNALS).unlink()
        return None
    return index


def _apply_patient_map(index: pd.DataFrame, patient_map: Path | None) -> pd.DataFrame:
    if patient_map is None:
        return index
    table = pd.read_csv(patient_map, dtype=str, keep_default_na=False)
    missing = {"record_id", "patient_id"} - set(table.columns)
    if missing:
        raise ValueError(
            f"patient map {patient_map} lacks column(s) {sorted(missing)}; "
            f"it has {list(table.columns)}"
        )
    mapping = dict(zip(table["record_id"], table["patient_id"], strict=True))
    mapped = index["record_id"].map(mapping)
    return index.assign(patient_id=mapped.fillna(index["patient_id"]))


def write_meta(
    out: Path,
    preprocess: PreprocessConfig,
    labels: LabelConfig,
    reader: str,
    *,
    complete: bool,
    reader_options: dict[str, Any] | None = None,
    baseline: bool = False,
    samples: str | None = None,
) -> None:
    encoder = LabelEncoder.from_config(labels)
    kind = sample_kind_of(preprocess, samples)
    shape = kind.row_shape(preprocess)
    row_bytes = int(np.prod(shape)) * 4
    signals = out / SIGNALS
    meta = {
        "format_version": FORMAT_VERSION,
        "ecgml_version": __version__,
        "complete": complete,
        "reader": reader,
        "reader_options": reader_options or {},
        "tabular_columns": TABULAR_COLUMNS,
        "baseline": baseline,
        "samples": kind.name,
        "preprocess": dataclasses.asdict(preprocess),
        "labels": dataclasses.asdict(labels),
        "preprocess_hash": _config_hash(preprocess),
        "shape": [
            signals.stat().st_size // row_bytes if signals.exists() else 0,
            *shape,
        ],
        "class_names": list(encoder.class_names),
        "abbreviations": list(encoder.abbreviations),
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write(out / META, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))


def write_labels(out: Path, index: pd.DataFrame, labels: LabelConfig) -> np.ndarray:
    """Encode ``index.dx`` with ``labels`` and write ``labels.npy``."""
    encoder = LabelEncoder.from_config(labels)
    y = encoder.encode_many([dx.split(",") if dx else [] for dx in index["dx"]])

    def save(path: Path) -> None:
        with open(path, "wb") as f:  # a file object: np.save would append ".npy" to a path
            np.save(f, y)

    atomic_write(out / LABELS, save)
    return y


def prepare_cache(
    data_dirs: Sequence[str | Path],
    out: str | Path,
    preprocess: PreprocessConfig | None = None,
    labels: LabelConfig | None = None,
    *,
    jobs: int = 1,
    patient_map: str | Path | None = None,
    reader: str = "cinc2020",
    reader_options: dict[str, Any] | None = None,
    baseline: bool = False,
    samples: str | None = None,
    min_quality: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Build or update a cache from folders of records.

    Walks ``data_dirs`` recursively; reuses records already cached whose files
    are unchanged; reads the rest with ``jobs`` worker processes. Records that
    cannot be used are skipped and listed with the reason in
    ``prepare_report.json``; unknown Dx codes are kept, with a warning. An
    interrupted run resumes from its last checkpoint.

    Args:
        data_dirs: folders to walk for ``.hea`` files.
        out: the cache folder (created if needed).
        preprocess: how records become windows; a cache built with other
            settings is rebuilt from scratch.
        labels: how Dx codes become the label matrix.
        jobs: worker processes reading records.
        patient_map: optional CSV with columns ``record_id, patient_id``.
        reader: the data reader (:mod:`ecgml.data.readers`) that finds and
            reads the records; a cache made by another reader is rebuilt.
        reader_options: the reader's options (``task.reader_options``); a cache
            read with other options is rebuilt.
        samples: the sample kind (:mod:`ecgml.data.samples`, ``task.samples``);
            ``None``: the one ``preprocess`` implies.
        baseline: also cache each record's hand-crafted features
            (:mod:`ecgml.baseline`) for a run's tabular input (``tabular.baseline``);
            a cache made with the other setting is rebuilt.
        min_quality: leave out records whose signal-quality verdict
            (:mod:`ecgml.data.quality`) is below this, ``"acceptable"`` or
            ``"good"``, listed in the report with the problems found; ``None``
            keeps every record. The index carries each record's ``quality``
            (``good`` or the problems, ``flat:V3;noise:II``) and ``quality_verdict``.

    With beat samples every labelled beat is a row of
    the index (``record_id`` ``RECORD:SAMPLE``, ``sample`` its R peak, ``dx`` its
    label, ``patient_id`` its record's patient, and its RR features as columns),
    so that folds, training and scoring treat beats as samples and keep a
    patient's beats together.
        progress: show a progress bar.

    Returns:
        The report that was written to ``prepare_report.json``.
    """
    preprocess = preprocess or PreprocessConfig()
    labels = labels or LabelConfig()
    if min_quality is not None:
        meets(min_quality, min_quality)  # a bad value is refused before any work
    kind = sample_kind_of(preprocess, samples)
    if baseline and not kind.hand_crafted:
        raise ValueError(
            "baseline features are for record signals, not beat or image "
            f"caches (these samples are {kind.name})"
        )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    source = get_reader(reader, reader_options)
    found = source.find(data_dirs)
    previous = _load_previous(out, preprocess, source, baseline, kind)
    reusable: dict[tuple[str, str], list[dict[str, Any]]] = {}
    if previous is not None:
        for row in previous.to_dict("records"):
            reusable.setdefault((row["path"], row["fingerprint"]), []).append(row)

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

    def poor(record: FoundRecord, quality: str, verdict: str) -> bool:
        """Whether a record falls below ``min_quality`` (then listed as skipped)."""
        if min_quality is None or not verdict or meets(verdict, min_quality):
            return False
        reason = f"signal quality {verdict}, below --min-quality {min_quality}: {quality}"
        skipped.append({"record_id": record.record_id, "path": str(record.path),
                        "reason": reason})  # fmt: skip
        return True

    rows = []
    for r in kept:
        old = reusable.get((str(r.path), r.fingerprint), [])
        if old and not poor(
            r, str(old[0].get("quality", "")), str(old[0].get("quality_verdict", ""))
        ):
            rows.extend(old)
    todo = [r for r in kept if (str(r.path), r.fingerprint) not in reusable]
    shape = kind.row_shape(preprocess)
    writer = Writer(out, shape)
    meta = partial(write_meta, out, preprocess, labels, reader, reader_options=source.options,
                   baseline=baseline, samples=kind.name)  # fmt: skip
    meta(complete=False)  # written first, so that an interrupted run resumes
    last_checkpoint = time.time()
    tasks = [(str(r.path), preprocess, source, baseline, kind) for r in todo]
    results = _imap(tasks, jobs)
    bar = tqdm(total=len(todo), desc="prepare", unit="rec", disable=not progress)
    n_new = 0
    try:
        for rec, result in zip(todo, results, strict=True):
            bar.update()
            if not result["ok"]:
                skipped.append({"record_id": rec.record_id, "path": str(rec.path),
                                "reason": result["reason"]})  # fmt: skip
                continue
            if poor(rec, result["meta"]["quality"], result["meta"]["quality_verdict"]):
                continue
            windows = result["windows"]
            n_new += 1
            row = {
                "record_id": rec.record_id, "folder": rec.folder,
                "source": source.source(rec.record_id, rec.folder), "path": str(rec.path),
                "patient_id": source.patient(rec.record_id, rec.folder), **result["meta"],
                "row": writer.append(windows), "n_windows": windows.shape[0],
                "fingerprint": rec.fingerprint, "sample": -1,
            }  # fmt: skip
            rows.extend(kind.index_rows(row, result["samples"]))
            if time.time() - last_checkpoint > _CHECKPOINT_SECONDS:
                writer.checkpoint(rows)
                last_checkpoint = time.time()
        bar.close()
        rows.sort(key=lambda r: (r["path"], r["sample"]))
        index = writer.checkpoint(rows)
    finally:
        writer.close()

    garbage = writer.n_rows - int(index["n_windows"].sum())  # rows no index line references
    if garbage > _COMPACT_GARBAGE_FRACTION * max(writer.n_rows, 1):
        index = compact(out, index, shape)
    if patient_map:  # otherwise the last checkpoint (or the compaction) wrote this index
        index = _apply_patient_map(index, Path(patient_map))
        atomic_write(out / INDEX, lambda p: index.to_csv(p, index=False))
    y = write_labels(out, index, labels)
    meta(complete=True)

    warned = index[index["warnings"] != ""]
    report = {
        "cache": str(out.resolve()),
        "data_dirs": [str(Path(d).resolve()) for d in data_dirs],
        "found": len(found),
        "cached": len(index),
        "records": int(index["path"].nunique()),
        "samples": kind.name,
        "beats": None if kind.per_record else len(index),
        "new": n_new,
        "unchanged": len(kept) - len(todo),
        "removed": 0 if previous is None else len(set(previous["path"]) - set(index["path"])),
        "skipped": skipped,
        "not_one_class": int((y.sum(axis=1) != 1).sum()) if labels.one_class else None,
        "warnings": warned[["record_id", "path", "warnings"]].to_dict("records"),
        "quality": quality_summary(index, min_quality),
        "seconds": round(time.time() - started, 3),
        "jobs": jobs,
        "reader": reader,
    }
    atomic_write(out / REPORT, lambda p: p.write_text(json.dumps(report, indent=2) + "\n"))
    return report
