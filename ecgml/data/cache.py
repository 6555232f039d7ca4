"""Building the training cache: ``ecgml prepare``.

The folder layout is described in :mod:`ecgml.data.cache_reader`, which opens
a cache for reading. ``index.csv`` is the single source of truth and is
replaced atomically at checkpoints; rows of ``signals.f32`` it does not
reference (a changed record's old rows, an interrupted run's tail) are garbage
that a later run compacts.

With beat samples every labelled beat is a row of the index (``record_id``
``RECORD:SAMPLE``, ``sample`` its R peak, ``dx`` its label, ``patient_id`` its
record's patient, and its RR features as columns), so that folds, training and
scoring treat beats as samples and keep a patient's beats together.
"""

from __future__ import annotations

import dataclasses
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
from ecgml.data.cache_files import Writer, compact
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
from ecgml.data.cache_report import prepare_report
from ecgml.data.cache_reuse import (
    TABULAR_COLUMNS,
    QualityGate,
    config_hash,
    load_previous,
    reused_rows,
    unique_ids,
)
from ecgml.data.cache_shards import part_folder, shard_records
from ecgml.data.labels import LabelConfig, LabelEncoder
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.quality import assess, meets
from ecgml.data.readers import Reader, get_reader
from ecgml.data.records import RecordError
from ecgml.data.samples import SampleKind, sample_kind_of
from ecgml.data.sources import FoundRecord
from ecgml.data.tabular import record_columns
from ecgml.files import atomic_write, locked, write_json

__all__ = ["META", "REPORT", "Cache", "prepare_cache", "read_index", "write_labels", "write_meta"]

_CHECKPOINT_SECONDS = 30.0
_COMPACT_GARBAGE_FRACTION = 0.25


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
    return {
        "ok": True,
        "windows": prepared.windows,
        "meta": meta,
        "samples": kind.sample_columns(prepared),
    }


def _imap(tasks: list[tuple], jobs: int) -> Iterable[dict[str, Any]]:
    if jobs <= 1:
        yield from map(_process, tasks)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_process, tasks, chunksize=4)


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
        "preprocess_hash": config_hash(preprocess),
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
    shard: tuple[int, int] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Build or update a cache from folders of records.

    Walks ``data_dirs`` recursively; reuses records already cached whose files
    are unchanged; reads the rest with ``jobs`` worker processes. A cache made with
    other preprocessing, another reader or reader options, or the other
    ``baseline`` setting is rebuilt. Records that cannot be used are skipped and
    listed with the reason in ``prepare_report.json``; unknown Dx codes are kept,
    with a warning. An interrupted run resumes from its last checkpoint.

    Args:
        data_dirs, out: folders to walk for records; the cache folder (created).
        preprocess, labels: how records become windows, and labels the label matrix.
        jobs: worker processes reading records.
        patient_map: optional CSV with columns ``record_id, patient_id``.
        reader, reader_options: the data reader (:mod:`ecgml.data.readers`) and
            its options (``task.reader_options``).
        baseline: also cache each record's hand-crafted features (:mod:`ecgml.baseline`).
        samples: the sample kind (``task.samples``); ``None``: the one
            ``preprocess`` implies.
        min_quality: leave out records whose signal-quality verdict
            (:mod:`ecgml.data.quality`) is below ``"acceptable"`` or ``"good"``;
            ``None`` keeps every record. The index carries each record's
            ``quality`` and ``quality_verdict``.
        shard: ``(I, N)``: prepare only part ``I`` of ``N`` into ``out/parts/I-of-N``
            (:mod:`ecgml.data.cache_shards`, whose ``merge_parts`` joins them).
        progress: show a progress bar.

    Returns:
        The report that was written to ``prepare_report.json``.
    """
    preprocess, labels = preprocess or PreprocessConfig(), labels or LabelConfig()
    kind = _checked_kind(preprocess, samples, baseline, min_quality)
    out = Path(out) if shard is None else part_folder(Path(out), shard)
    out.mkdir(parents=True, exist_ok=True)
    wait = f"another process is preparing {out}: waiting for it to finish"
    with locked(out / "prepare", waiting=wait):  # one prepare of a cache at a time
        started = time.time()
        source = get_reader(reader, reader_options)
        found = source.find(data_dirs)
        previous = load_previous(out, preprocess, source, baseline, kind)
        kept, skipped = shard_records(*unique_ids(found), shard)
        gate = QualityGate(min_quality, skipped)
        rows, todo = reused_rows(previous, kept, gate)
        writer = Writer(out, shape := kind.row_shape(preprocess))
        settings = {"reader_options": source.options, "baseline": baseline, "samples": kind.name}
        meta = partial(write_meta, out, preprocess, labels, reader, **settings)
        meta(complete=False)  # written first, so that an interrupted run resumes
        try:
            n_new = _cache_new(
                todo, writer, rows, gate, source, kind, preprocess, baseline, jobs, progress
            )
            rows.sort(key=lambda r: (r["path"], r["sample"]))
            index = writer.checkpoint(rows)
        finally:
            writer.close()
        index = _finish_index(out, index, writer.n_rows, shape, patient_map)
        y = write_labels(out, index, labels)
        meta(complete=True)
        counts = {"found": len(found), "new": n_new, "unchanged": len(kept) - len(todo)}
        facts = {**counts, "jobs": jobs, "reader": reader, "min_quality": min_quality}
        facts |= {"started": started}
        report = prepare_report(out, data_dirs, index, previous, kind, y, labels, skipped, facts)
        write_json(out / REPORT, report)
        return report


def _checked_kind(
    preprocess: PreprocessConfig, samples: str | None, baseline: bool, min_quality: str | None
) -> SampleKind:
    """The sample kind, once the options are known to fit it (before any work)."""
    if min_quality is not None:
        meets(min_quality, min_quality)
    kind = sample_kind_of(preprocess, samples)
    if baseline and not kind.hand_crafted:
        raise ValueError(
            "baseline features are for record signals, not beat or image "
            f"caches (these samples are {kind.name})"
        )
    return kind


def _cache_new(
    todo: list[FoundRecord],
    writer: Writer,
    rows: list[dict[str, Any]],
    gate: QualityGate,
    source: Reader,
    kind: SampleKind,
    preprocess: PreprocessConfig,
    baseline: bool,
    jobs: int,
    progress: bool,
) -> int:
    """Read ``todo`` with ``jobs`` workers, append their windows and index rows, and
    checkpoint the index now and then; the number cached."""
    tasks = [(str(r.path), preprocess, source, baseline, kind) for r in todo]
    last_checkpoint, n_new = time.time(), 0
    bar = tqdm(total=len(todo), desc="prepare", unit="rec", disable=not progress)
    for rec, result in zip(todo, _imap(tasks, jobs), strict=True):
        bar.update()
        if not result["ok"]:
            gate.skipped.append(
                {"record_id": rec.record_id, "path": str(rec.path), "reason": result["reason"]}
            )
            continue
        if gate.poor(rec, result["meta"]["quality"], result["meta"]["quality_verdict"]):
            continue
        windows = result["windows"]
        n_new += 1
        row = {
            "record_id": rec.record_id,
            "folder": rec.folder,
            "source": source.source(rec.record_id, rec.folder),
            "path": str(rec.path),
            "patient_id": source.patient(rec.record_id, rec.folder),
            **result["meta"],
            "row": writer.append(windows),
            "n_windows": windows.shape[0],
            "fingerprint": rec.fingerprint,
            "sample": -1,
        }
        rows.extend(kind.index_rows(row, result["samples"]))
        if time.time() - last_checkpoint > _CHECKPOINT_SECONDS:
            writer.checkpoint(rows)
            last_checkpoint = time.time()
    bar.close()
    return n_new


def _finish_index(
    out: Path, index: pd.DataFrame, n_rows: int, shape: tuple, patient_map: str | Path | None
) -> pd.DataFrame:
    """Compact the signals when too many rows are garbage, and apply a patient map."""
    garbage = n_rows - int(index["n_windows"].sum())  # rows no index line references
    if garbage > _COMPACT_GARBAGE_FRACTION * max(n_rows, 1):
        index = compact(out, index, shape)
    if patient_map:  # otherwise the last checkpoint (or the compaction) wrote this index
        index = _apply_patient_map(index, Path(patient_map))
        atomic_write(out / INDEX, lambda p: index.to_csv(p, index=False))
    return index
