"""``ecgml render``: folders of records to PNG printouts, in worker processes.

The output folder holds one ``RECORD.png`` per record and ``render.json``: the
settings, and per record the fingerprint of its files. A record whose files and
settings are unchanged is not drawn again; a record that cannot be read is
reported with the reason and skipped.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from ecgml.data.readers import Reader, get_reader
from ecgml.data.records import RecordError
from ecgml.files import atomic_write
from ecgml.printout.render import PrintoutConfig, render_printout

MANIFEST = "render.json"


def write_png(image, path: Path) -> None:
    """Save quickly (zlib level 1) and atomically."""
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG", compress_level=1))


def _render_one(task: tuple[str, str, PrintoutConfig, Reader, bool]) -> tuple[bool, str]:
    path, out, config, reader, unlabelled = task
    try:
        record = reader.read_signal(path) if unlabelled else reader.read(path)
        header = record.header
        image = render_printout(
            record.signal, header.fs, header.lead_names, config, record_id=header.record_id
        )
        write_png(image, Path(out))
    except RecordError as exc:
        return False, exc.problem
    except (ValueError, OSError) as exc:
        return False, str(exc)
    return True, ""


def _to_draw(found, out: Path, manifest_path: Path, settings: dict) -> tuple[dict, list, list]:
    """The records already drawn with these settings (their fingerprints), those to
    draw, and the duplicate ids skipped."""
    previous: dict[str, Any] = {}
    if manifest_path.is_file():
        old = json.loads(manifest_path.read_text())
        if old.get("settings") == settings:
            previous = old.get("records", {})
    records: dict[str, str] = {}
    skipped, todo, seen = [], [], {}
    for rec in found:
        if rec.record_id in seen:
            reason = f"duplicate record id; kept {seen[rec.record_id]}"
            skipped.append({"record_id": rec.record_id, "path": str(rec.path), "reason": reason})
            continue
        seen[rec.record_id] = rec.path
        png = out / f"{rec.record_id}.png"
        if previous.get(rec.record_id) == rec.fingerprint and png.is_file():
            records[rec.record_id] = rec.fingerprint
        else:
            todo.append(rec)
    return records, todo, skipped


def render_records(
    data_dirs: Sequence[str | Path],
    out: str | Path,
    config: PrintoutConfig | None = None,
    *,
    reader: Reader | None = None,
    jobs: int = 1,
    progress: bool = True,
) -> dict[str, Any]:
    """Draw every record under ``data_dirs`` into ``out``.

    Args:
        data_dirs: folders walked for records.
        out: the output folder (created).
        config: how the pages are drawn.
        reader: the data reader that finds and reads records (default: CinC 2020's,
            which reads any WFDB record).
        jobs: worker processes.
        progress: show a progress bar.

    Returns:
        The report: counts of drawn, unchanged and skipped records, the skipped
        records with their reasons, the seconds taken and the printouts per second.
    """
    config = config or PrintoutConfig()
    reader = reader or get_reader("cinc2020")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    settings = dataclasses.asdict(config)
    manifest_path = out / MANIFEST
    found = reader.find(data_dirs)
    records, todo, skipped = _to_draw(found, out, manifest_path, settings)
    unchanged = len(records)
    tasks = [(str(r.path), str(out / f"{r.record_id}.png"), config, reader, False) for r in todo]
    if jobs > 1 and len(tasks) > 1:
        pool = ProcessPoolExecutor(max_workers=jobs)
        results = pool.map(_render_one, tasks, chunksize=4)
    else:
        pool, results = None, map(_render_one, tasks)
    try:
        for rec, (ok, reason) in tqdm(
            zip(todo, results, strict=True),
            total=len(todo),
            desc="render",
            unit="rec",
            disable=not progress,
        ):
            if ok:
                records[rec.record_id] = rec.fingerprint
            else:
                skipped.append(
                    {"record_id": rec.record_id, "path": str(rec.path), "reason": reason}
                )
    finally:
        if pool is not None:
            pool.shutdown()
    manifest_path.write_text(json.dumps({"settings": settings, "records": records}, indent=1))
    seconds = time.time() - started
    drawn = len(records) - unchanged
    report = {
        "out": str(out.resolve()),
        "found": len(found),
        "drawn": drawn,
        "unchanged": unchanged,
        "skipped": skipped,
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "printouts_per_second": round(drawn / seconds, 2) if drawn else None,
    }
    return report


def render_paths(
    paths: Sequence[str | Path],
    out: str | Path,
    config: PrintoutConfig | None = None,
    *,
    reader: Reader | None = None,
) -> list[dict[str, str]]:
    """Draw the records at ``paths``, read for prediction by ``reader`` (default:
    CinC 2020's, which reads any WFDB record), into ``out/RECORD.png``, in this
    process; returns the records that could not be drawn, with the reason."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reader = reader or get_reader("cinc2020")
    failed = []
    for path in paths:
        png = out / f"{reader.record_id_at(path)}.png"
        ok, reason = _render_one((str(path), str(png), config or PrintoutConfig(), reader, True))
        if not ok:
            failed.append({"path": str(path), "problem": reason})
    return failed
