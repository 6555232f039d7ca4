"""Resident memory of training and prediction against the size of the cache.

    python bench/memory.py              # caches of 2,000, 8,000 and 32,000 records
    python bench/memory.py --table

A cache of 50 synthetic demo records (10 s, 12 leads, 500 Hz: 240 KB a record)
is tiled into caches of 1x, 4x and 16x 2,000 records (0.48, 1.9 and 7.7 GB of
windows; each copy is a record of its own). For each, a fresh process trains one
fold of a small SE-ResNet for one epoch and learns its thresholds (TensorFlow on
the CPU, the windows read from the memory-mapped cache in batches); another
predicts every record of the cache with it. Each starts with the cache's pages
dropped from the page cache. A thread samples the process's ``/proc/self/status`` every 20 ms:
the peak of ``RssAnon`` (memory the process owns) and of ``RssFile`` (pages of
the cache file mapped at that moment: the kernel's page cache, which it takes
back under pressure). The largest cache is then run again inside a memory
cgroup whose limit is a third of the cache (where this machine lets a cgroup be
made): it must finish.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench/results/memory.json"
BASE_RECORDS, SIZES = 2000, (1, 4, 16)
CGROUP = Path("/sys/fs/cgroup/memory")


def _config():
    from ecgml.config import Config
    from ecgml.models.se_resnet import SEResNetConfig
    from ecgml.training.config import TrainingConfig

    return Config(
        model=SEResNetConfig(
            stem_filters=8, stem_kernel=7, filters=(8, 16), kernel_size=5, dense_units=16
        ),
        training=TrainingConfig(n_folds=5, batch_size=64, epochs=1),
    )


def build_caches(work: Path, base_records: int) -> dict[int, Path]:
    """The tiled caches, built once (reused when present)."""
    from ecgml.data.cache import prepare_cache
    from ecgml.data.demo import write_demo_dataset

    base = work / "base"
    if not (base / "meta.json").exists():
        write_demo_dataset(work / "demo", n_records=50, progress=False)
        prepare_cache([work / "demo"], base, _config().preprocess, progress=False)
    return {k: _tiled(base, work / f"x{k}", base_records * k) for k in SIZES}


def _tiled(base: Path, out: Path, n_records: int) -> Path:
    from ecgml.data.cache_reader import read_index
    from ecgml.files import write_json

    meta = json.loads((base / "meta.json").read_text())
    if (out / "meta.json").exists() and json.loads((out / "meta.json").read_text())["shape"][
        0
    ] == n_records:
        return out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    index, labels = read_index(base / "index.csv"), np.load(base / "labels.npy")
    signals = (base / "signals.f32").read_bytes()
    copies = -(-n_records // len(index))
    with open(out / "signals.f32", "wb") as f:
        for _ in range(copies):
            f.write(signals)
    tiled = [
        index.assign(
            record_id=index["record_id"] + f"-{c}",
            patient_id=index["record_id"] + f"-{c}",
            path=index["path"] + f"#{c}",
            row=index["row"] + c * len(index),
        )
        for c in range(copies)
    ]
    import pandas as pd

    whole = pd.concat(tiled, ignore_index=True).iloc[:n_records]
    whole.to_csv(out / "index.csv", index=False)
    np.save(out / "labels.npy", np.tile(labels, (copies, 1))[:n_records])
    write_json(out / "meta.json", {**meta, "shape": [copies * len(index), *meta["shape"][1:]]})
    return out


class Peaks:
    """Samples ``/proc/self/status`` in a thread; the peak of each field in MiB."""

    FIELDS = ("VmRSS", "RssAnon", "RssFile")

    def __init__(self) -> None:
        self.peak = dict.fromkeys(self.FIELDS, 0.0)
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            for line in Path("/proc/self/status").read_text().splitlines():
                name, _, value = line.partition(":")
                if name in self.peak:
                    self.peak[name] = max(self.peak[name], int(value.split()[0]) / 1024)
            time.sleep(0.02)

    def stop(self) -> dict[str, float]:
        self.running = False
        self.thread.join()
        return {k: round(v, 1) for k, v in self.peak.items()}


def child(part: str, cache: Path, run: Path) -> dict:
    """``train``: one fold for an epoch, and its thresholds; ``predict``: every record
    of the cache with that fold. The seconds and memory peaks of the part."""
    from ecgml.data.cache import Cache
    from ecgml.inference.ensemble import Ensemble
    from ecgml.runs import train_run
    from ecgml.runs.thresholds import fit_run_thresholds

    peaks, started = Peaks(), time.time()
    if part == "train":
        shutil.rmtree(run, ignore_errors=True)
        train_run(cache, run, _config(), folds=[0], verbose=0)
        fit_run_thresholds(run, objective="f1")  # predicts the fold's validation records
    else:
        scores = Ensemble.load(run, folds=[0]).predict_cache(Cache(cache), progress=False)
        if scores.shape[1] != len(Cache(cache)):
            raise RuntimeError(f"{scores.shape[1]} records predicted of {len(Cache(cache))}")
    return {"seconds": round(time.time() - started, 1), **peaks.stop()}


def _evict(path: Path) -> None:
    """Drop the file's pages from the page cache, so that every row starts cold and
    the pages a run reads are charged to its own cgroup."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _run_child(cache: Path, run: Path, limit: int | None) -> dict:
    """Training, then prediction, each in a fresh process started cold (and inside
    the cgroup, with a ``limit`` in bytes)."""
    group = CGROUP / "ecgml-bench-memory"
    pre = None
    if limit:
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(limit))

        def pre() -> None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    row: dict = {}
    for part in ("train", "predict"):
        _evict(cache / "signals.f32")
        if limit:
            (group / "memory.max_usage_in_bytes").write_text("0")
        command = [sys.executable, __file__, "--child", part, str(cache), "--run", str(run)]
        done = subprocess.run(command, capture_output=True, text=True, preexec_fn=pre)
        if done.returncode:
            return {**row, part: {"returncode": done.returncode, "error": done.stderr[-2000:]}}
        row[part] = json.loads(done.stdout.strip().splitlines()[-1])
        if limit:
            usage = int((group / "memory.max_usage_in_bytes").read_text())
            row[part] |= {"cgroup_limit_mib": round(limit / 2**20)}
            row[part] |= {"cgroup_peak_mib": round(usage / 2**20)}
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "result/bench/memory")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base", type=int, default=BASE_RECORDS, help="records of the 1x cache")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.run)))
        return
    if args.table:
        print("\n".join(table(json.loads(OUT.read_text()))))
        return
    caches = build_caches(args.work, args.base)
    rows = []
    for k, cache in caches.items():
        size = (cache / "signals.f32").stat().st_size
        row = {"size": f"{k}x", "records": args.base * k, "cache_gib": round(size / 2**30, 2)}
        row |= _run_child(cache, args.work / "run", None)
        print(json.dumps(row), flush=True)
        rows.append(row)
    largest = caches[SIZES[-1]]
    size = (largest / "signals.f32").stat().st_size
    if os.access(CGROUP, os.W_OK):
        row = {"size": f"{SIZES[-1]}x, cgroup", "records": args.base * SIZES[-1]}
        row |= {"cache_gib": round(size / 2**30, 2)}
        row |= _run_child(largest, args.work / "run", size // 3)
        print(json.dumps(row), flush=True)
        rows.append(row)
    machine = "2 CPU cores, 24 GiB, no GPU; TensorFlow on the CPU"
    if args.base != BASE_RECORDS:  # a quick check, not the benchmark
        return
    OUT.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n")


def table(results: dict) -> list[str]:
    header = ["cache", "records", "GiB", "train: anon / file peak (MiB)", "predict: anon / file"]
    header += ["train s", "predict s", "cgroup limit / peak: train, predict (MiB)"]
    rows = []
    for r in results["rows"]:
        t, p = r.get("train", {}), r.get("predict", {})
        limit = "-"
        if "cgroup_limit_mib" in t:
            limit = f"{t['cgroup_limit_mib']} / {t['cgroup_peak_mib']}, {p['cgroup_peak_mib']}"
        rows.append(
            [
                r["size"],
                f"{r['records']:,}",
                r["cache_gib"],
                f"{t.get('RssAnon', '-')} / {t.get('RssFile', '-')}",
                f"{p.get('RssAnon', '-')} / {p.get('RssFile', '-')}",
                t.get("seconds", "-"),
                p.get("seconds", "-"),
                limit,
            ]
        )
    return markdown(header, rows)


if __name__ == "__main__":
    main()
