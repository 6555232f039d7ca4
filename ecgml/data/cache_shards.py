"""One cache prepared in parts: ``ecgml prepare --shard I/N`` and ``--merge``.

Part ``I`` of ``N`` holds the records whose id hashes to ``I`` (a SHA-256 of the
id, so the split is the same on every machine and in every Python), as a complete
cache of its own in ``CACHE/parts/I-of-N``; each part is prepared, resumed and
reused exactly as a whole cache is (:mod:`ecgml.data.cache`). ``--merge`` joins
the parts into ``CACHE`` itself: the index sorted as one ``prepare`` sorts it,
the signals copied in that order, the labels, ``meta.json`` and a report whose
counts add the parts'. The merged cache is what training, tuning and scoring read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ecgml.data.cache_reader import INDEX, LABELS, META, REPORT, SIGNALS, read_index
from ecgml.data.cache_report import quality_summary
from ecgml.data.sources import FoundRecord
from ecgml.files import atomic_write, locked, write_json

__all__ = ["merge_parts", "parse_shard", "part_folder", "shard_of", "shard_records"]

PARTS = "parts"
# settings every part must share for the parts to be one cache
_SHARED_META = (
    "format_version",
    "reader",
    "reader_options",
    "tabular_columns",
    "baseline",
    "samples",
    "preprocess",
    "labels",
    "preprocess_hash",
    "class_names",
)


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)``, with ``1 <= I <= N``.

    Raises:
        ValueError: not of that form.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard takes I/N with 1 <= I <= N (e.g. 2/8), got {text!r}")
    return int(match[1]), int(match[2])


def shard_of(record_id: str, n: int) -> int:
    """The part (1 to ``n``) that holds ``record_id``."""
    digest = hashlib.sha256(record_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def part_folder(out: Path, shard: tuple[int, int]) -> Path:
    return Path(out) / PARTS / f"{shard[0]}-of-{shard[1]}"


def shard_records(
    kept: list[FoundRecord], skipped: list[dict[str, str]], shard: tuple[int, int] | None
) -> tuple[list[FoundRecord], list[dict[str, str]]]:
    """The records of ``kept`` and the skipped duplicates that belong to ``shard``
    (a duplicate goes with the id it repeats); all of them for no shard."""
    if shard is None:
        return kept, skipped
    i, n = shard
    mine = [r for r in kept if shard_of(r.record_id, n) == i]
    return mine, [s for s in skipped if shard_of(s["record_id"], n) == i]


def _parts(out: Path) -> list[tuple[tuple[int, int], Path]]:
    """The part folders under ``out``, checked to be parts 1 to N of one N."""
    found = []
    for path in sorted((out / PARTS).glob("*-of-*")):
        match = re.fullmatch(r"(\d+)-of-(\d+)", path.name)
        if match and path.is_dir():
            found.append(((int(match[1]), int(match[2])), path))
    if not found:
        raise FileNotFoundError(
            f"no parts in {out / PARTS}; write them with 'ecgml prepare DATA --out {out} "
            "--shard I/N'"
        )
    counts = {n for (_, n), _ in found}
    if len(counts) > 1:
        raise ValueError(
            f"{out / PARTS} holds parts of {sorted(counts)} shards; keep the parts of one "
            "--shard count and delete the others"
        )
    n = counts.pop()
    missing = sorted(set(range(1, n + 1)) - {i for (i, _), _ in found})
    if missing:
        raise ValueError(
            f"{out / PARTS} lacks part(s) {', '.join(f'{i}/{n}' for i in missing)} of {n}; "
            "run 'ecgml prepare' with those --shard values first"
        )
    return sorted(found)


def _part_meta(part: Path, first: dict[str, Any] | None) -> dict[str, Any]:
    meta_path = part / META
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if not meta.get("complete"):
        raise ValueError(
            f"part {part} is incomplete (its 'ecgml prepare --shard' did not finish); "
            "rerun it to finish it"
        )
    if first is not None:
        differs = [k for k in _SHARED_META if meta.get(k) != first.get(k)]
        if differs:
            raise ValueError(
                f"part {part} was prepared with other settings than part 1 "
                f"({', '.join(differs)}); prepare every part with the same config"
            )
    return meta


def merge_parts(out: str | Path, *, progress: bool = True) -> dict[str, Any]:
    """Join the parts under ``out/parts`` into the cache ``out``.

    The result equals the cache one ``prepare`` of all the records writes:
    ``signals.f32``, ``index.csv`` and ``labels.npy`` byte for byte, ``meta.json``
    but for its time, the report but for its times, worker count and ``parts``.

    Returns:
        The merged report, also written to ``prepare_report.json``.

    Raises:
        FileNotFoundError, ValueError: no parts, a part missing or unfinished, or
            parts prepared with other settings.
    """
    out = Path(out)
    started = time.time()
    _parts(out)  # no lock file is made where there is nothing to merge
    with locked(out / "prepare", waiting=f"another process is writing {out}: waiting"):
        parts = _parts(out)
        metas: list[dict[str, Any]] = []
        for _, path in parts:
            metas.append(_part_meta(path, metas[0] if metas else None))
        index, sources = _merged_index(parts)
        shape = tuple(metas[0]["shape"][1:])
        meta = {**metas[0], "complete": False}
        write_json(out / META, meta)  # a reader sees an unfinished cache until the end
        labels = _copy_rows(out, parts, sources, index, shape, progress)
        atomic_write(out / INDEX, lambda p: index.to_csv(p, index=False))
        atomic_write(out / LABELS, lambda p: _save_npy(p, labels))
        n_rows = int(index["n_windows"].sum())
        meta.update(complete=True, shape=[n_rows, *shape])
        meta["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        write_json(out / META, meta)
        report = _merged_report(out, parts, index, labels, started)
        write_json(out / REPORT, report)
        return report


def _merged_index(
    parts: list[tuple[tuple[int, int], Path]],
) -> tuple[pd.DataFrame, list[tuple[int, int, int]]]:
    """The parts' indexes as one, sorted as ``prepare`` sorts, with new ``row`` values;
    for each line, its part, its row in that part and its line in that part's index."""
    frames = []
    for k, (_, path) in enumerate(parts):
        part = read_index(path / INDEX)
        frames.append(part.assign(_part=k, _line=np.arange(len(part))))
    index = pd.concat(frames, ignore_index=True)
    index = index.sort_values(["path", "sample"], kind="stable").reset_index(drop=True)
    sources = list(zip(index["_part"], index["row"], index["_line"], strict=True))
    counts = index["n_windows"].to_numpy()
    rows = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return index.drop(columns=["_part", "_line"]).assign(row=rows), sources


def _copy_rows(
    out: Path,
    parts: list[tuple[tuple[int, int], Path]],
    sources: list[tuple[int, int, int]],
    index: pd.DataFrame,
    shape: tuple[int, ...],
    progress: bool,
) -> np.ndarray:
    """Write the merged ``signals.f32`` in index order (atomically); the labels in
    that order."""
    signals = [
        np.memmap(path / SIGNALS, dtype=np.float32, mode="r").reshape(-1, *shape)
        for _, path in parts
    ]
    part_labels = [np.load(path / LABELS) for _, path in parts]
    n_classes = part_labels[0].shape[1]
    counts = index["n_windows"].to_numpy()
    tmp = out / (SIGNALS + f".{os.getpid()}.merge")
    try:
        with open(tmp, "wb") as f:
            for (k, row, _), count in tqdm(
                list(zip(sources, counts, strict=True)),
                desc="merge",
                unit="rec",
                disable=not progress,
            ):
                f.write(np.ascontiguousarray(signals[k][row : row + count]).tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out / SIGNALS)
    finally:
        tmp.unlink(missing_ok=True)
    labels = [part_labels[k][line] for k, _, line in sources]
    return np.array(labels, dtype=np.uint8).reshape(len(sources), n_classes)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:  # a file object: np.save would append ".npy" to a path
        np.save(f, array)


def _merged_report(
    out: Path,
    parts: list[tuple[tuple[int, int], Path]],
    index: pd.DataFrame,
    labels: np.ndarray,
    started: float,
) -> dict[str, Any]:
    reports = [json.loads((path / REPORT).read_text()) for _, path in parts]
    first = reports[0]
    total = {key: sum(r[key] for r in reports) for key in ("new", "unchanged", "removed")}
    skipped = sorted(
        (s for r in reports for s in r["skipped"]), key=lambda s: (s["path"], s["reason"])
    )
    warned = index[index["warnings"] != ""]
    one_class = first["not_one_class"] is not None
    return {
        "cache": str(out.resolve()),
        "data_dirs": first["data_dirs"],
        "found": first["found"],
        "cached": len(index),
        "records": int(index["path"].nunique()),
        "samples": first["samples"],
        "beats": None if first["beats"] is None else len(index),
        **total,
        "skipped": skipped,
        "not_one_class": int((labels.sum(axis=1) != 1).sum()) if one_class else None,
        "warnings": warned[["record_id", "path", "warnings"]].to_dict("records"),
        "quality": quality_summary(index, first["quality"]["min_quality"]),
        "seconds": round(sum(r["seconds"] for r in reports) + time.time() - started, 3),
        "jobs": first["jobs"],
        "reader": first["reader"],
        "parts": len(parts),
    }
