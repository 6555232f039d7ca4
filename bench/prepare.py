"""How fast ``ecgml prepare`` is, stage by stage, and in shards.

    python bench/prepare.py                     # every set, then the shard check
    python bench/prepare.py --sets cinc12 --label after
    python bench/prepare.py --table

Stages, timed per record in one process by CPU time (``time.process_time``, so
that other work on the machine does not count), over a fixed draw of records
(seed 0): ``read`` (the task's reader), ``filter`` (resampling, band-pass,
windows), ``quality`` (:mod:`ecgml.data.quality`), ``features`` (the forest's
hand-crafted features, :mod:`ecgml.baseline`) and ``write`` (appending the
windows to a signal file). Records a second on one core is records over CPU
seconds. The shard rows prepare the whole set in one process and in two shard
processes started together, then merge them; they give wall times (other work
on the machine counts there) and check that the merged cache equals the single
one byte for byte. ``--label`` names the code state the rows measure
("before" and "after" an optimisation).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ecgml import __version__
from ecgml.config import load_config, save_config
from ecgml.data.cache_files import Writer
from ecgml.data.quality import assess
from ecgml.data.readers import get_reader
from ecgml.data.records import RecordError
from ecgml.data.samples import sample_kind_of
from ecgml.data.samples.windows import preprocess_record
from ecgml.data.tabular import record_columns
from ecgml.files import locked, write_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/data"
OUT = ROOT / "bench/results/prepare.json"
SETS = {  # name: (config whose reader reads it, folder); the forest's features are on
    "ptbxl": ("configs/ptbxl-arrays.json", "ptbxl"),
    "cinc12": ("configs/se-resnet.json", "cinc12"),
    "cinc2017": ("configs/cinc2017.json", "cinc2017"),
}
STAGES = ("read", "filter", "quality", "features", "write")


def _config(name: str):
    config = load_config(ROOT / SETS[name][0])
    return dataclasses.replace(config, stack=dataclasses.replace(config.stack, forest=True))


def stage_times(name: str, n_records: int) -> dict:
    """CPU seconds of each stage over ``n_records`` records drawn with seed 0."""
    config = _config(name)
    reader = get_reader(config.task.reader, config.task.reader_options)
    found = reader.find([SHARED / SETS[name][1]])
    draw = np.random.default_rng(0).permutation(len(found))[:n_records]
    seconds = dict.fromkeys(STAGES, 0.0)
    done = 0
    _warm_up(reader, found[draw[0]].path, config)
    with tempfile.TemporaryDirectory() as tmp:
        shape = sample_kind_of(config.preprocess, config.task.samples).row_shape(config.preprocess)
        writer = Writer(Path(tmp), shape)
        for k in sorted(draw):
            clock = time.process_time()
            try:
                record = reader.read(found[k].path)
                seconds["read"] += time.process_time() - clock
                clock = time.process_time()
                windows = preprocess_record(record, config.preprocess)
            except (RecordError, ValueError):
                continue
            seconds["filter"] += time.process_time() - clock
            header, clock = record.header, time.process_time()
            assess(record.signal, header.fs, header.lead_names, header.units)
            seconds["quality"] += time.process_time() - clock
            clock = time.process_time()
            p = config.preprocess
            record_columns(header, windows[0], p.fs, p.leads, baseline=True)
            seconds["features"] += time.process_time() - clock
            clock = time.process_time()
            writer.append(windows)
            seconds["write"] += time.process_time() - clock
            done += 1
        writer.close()
    per_second = {s: round(done / t, 1) if t > 0 else None for s, t in seconds.items()}
    total = sum(seconds.values())
    return {
        "records": done,
        "cpu_seconds": {s: round(t, 3) for s, t in seconds.items()},
        "records_per_cpu_second": per_second,
        "all_stages_per_cpu_second": round(done / total, 1),
    }


def _warm_up(reader, path: Path, config) -> None:
    """One record through every stage untimed: the imports (NeuroKit2 takes seconds)
    are not a record's cost."""
    record = reader.read(path)
    windows = preprocess_record(record, config.preprocess)
    header, p = record.header, config.preprocess
    assess(record.signal, header.fs, header.lead_names, header.units)
    record_columns(header, windows[0], p.fs, p.leads, baseline=True)


def _prepare(name: str, out: Path, shard: str | None) -> subprocess.Popen:
    config = _config(name)
    config_path = out.with_name(out.name + ".config.json")
    save_config(config, config_path)
    command = [sys.executable, "-m", "ecgml", "prepare", str(SHARED / SETS[name][1])]
    command += ["--out", str(out), "--config", str(config_path), "--no-progress"]
    if shard:
        command += ["--shard", shard]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL)


def shard_rows(name: str, work: Path) -> dict:
    """Wall seconds of one prepare process and of two shard processes plus the merge;
    whether the merged cache is the single one, byte for byte."""
    one, two = work / f"{name}-one", work / f"{name}-two"
    work.mkdir(parents=True, exist_ok=True)
    for folder in (one, two):
        shutil.rmtree(folder, ignore_errors=True)
    started = time.time()
    if _prepare(name, one, None).wait():
        raise RuntimeError(f"prepare of {name} failed")
    single = time.time() - started
    started = time.time()
    processes = [_prepare(name, two, f"{i}/2") for i in (1, 2)]
    if any(p.wait() for p in processes):
        raise RuntimeError(f"a shard of {name} failed")
    parts = time.time() - started
    merge = [sys.executable, "-m", "ecgml", "prepare", "--merge", "--out", str(two)]
    subprocess.run([*merge, "--no-progress"], stdout=subprocess.DEVNULL, check=True)
    merged = time.time() - started
    files = ("signals.f32", "index.csv", "labels.npy")
    same = all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    records = json.loads((one / "prepare_report.json").read_text())["records"]
    return {
        "records": records,
        "one_process_seconds": round(single, 1),
        "two_shards_seconds": round(parts, 1),
        "two_shards_and_merge_seconds": round(merged, 1),
        "one_process_per_second": round(records / single, 1),
        "two_shards_per_second": round(records / merged, 1),
        "merged_equals_single": same,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--records", type=int, default=200, help="records drawn per set")
    parser.add_argument("--label", default="before", help="the code state measured")
    parser.add_argument("--no-shards", action="store_true", help="the stage rows only")
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/prepare")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(json.loads(OUT.read_text()))))
        return
    for name in args.sets.split(","):
        row = {"set": name, "label": args.label, "ecgml": __version__}
        row["stages"] = stage_times(name, args.records)
        print(name, json.dumps(row["stages"]["records_per_cpu_second"]), flush=True)
        if not args.no_shards:
            row["shards"] = shard_rows(name, args.work)
            print(name, json.dumps(row["shards"]), flush=True)
        _save(row)


def _save(row: dict) -> None:
    with locked(OUT):
        rows = json.loads(OUT.read_text())["rows"] if OUT.exists() else []
        rows = [r for r in rows if (r["set"], r["label"]) != (row["set"], row["label"])]
        write_json(OUT, {"machine": "2 CPU cores, no GPU", "rows": [*rows, row]})


def table(results: dict) -> list[str]:
    header = ["set", "code", *STAGES, "quality + features", "all stages"]
    header += ["1 process", "2 shards + merge", "equal"]
    rows = []
    for r in results["rows"]:
        per, cpu = r["stages"]["records_per_cpu_second"], r["stages"]["cpu_seconds"]
        checks = round(r["stages"]["records"] / (cpu["quality"] + cpu["features"]), 1)
        shards = r.get("shards", {})
        rows.append(
            [
                f"{r['set']} ({r['stages']['records']} rec.)",
                r["label"],
                *(per[s] for s in STAGES),
                checks,
                r["stages"]["all_stages_per_cpu_second"],
                shards.get("one_process_per_second", "-"),
                shards.get("two_shards_per_second", "-"),
                {True: "yes", False: "NO"}.get(shards.get("merged_equals_single"), "-"),
            ]
        )
    return markdown(header, rows)


if __name__ == "__main__":
    main()
