"""The GPU check: where a training step's time goes, side by side in one run.

    python bench/gpu.py                  # on a GPU machine (JAX backend by default)
    python bench/gpu.py --tiny           # smoke mode: small models and data, any CPU

For ``configs/se-resnet.json`` (CinC 2020) and ``configs/cinc2017.json``, in
float32 and mixed bfloat16, at batch 32 and 256, on a synthetic cache of
``--records`` records of the config's window and leads (random signals: the
timings depend on shapes, not values), each combination runs in a process of
its own and measures, after warm-up, the median of ``--repeats`` timings of:

1. ``host``: the input pipeline alone, no model: the old one (crops and
   augmentation in numpy, one thread) and the new one (rows gathered only,
   prefetching threads), samples/s;
2. ``step``: the training step alone, on a batch already on the device: the
   same trainer model (augmentation included) through ``stateless_call`` in
   one ``jax.jit``-compiled step, called once per batch from Python;
3. ``fit``: ecgml's own ``train_fold`` as a real run does it (validation,
   checkpoints, TensorBoard where installed), ``old`` (``augment_in: host``,
   the data read by one thread, Keras's TensorBoard callback) and ``new``
   (this version's defaults);
4. ``ceiling``: the step of 2 over ``lax.scan`` (``--scan`` steps per call),
   data on the device, no Keras trainer: the reference a trainer can reach;

and then, once per config, 5. ``parallel``: ``--parallel`` fold jobs side by
side (``ecgml.runs.parallel``), samples/s summed over the jobs, wall time
including their start-up and compilation.

Every row has samples/s, TFLOP/s (forward FLOPs per sample x 3), its share of
the device's peak where the device is known, compile seconds (first timing
minus a steady one), the steady prediction rate, the process's peak device
memory and the five-fold projection at CinC 2020 scale (43,000 records, 80 %
trained and 20 % validated per fold, the config's epochs, plus compilation; a
``fit`` row's epochs already include validation and checkpoints). The
backends' steps 2 and 4 need JAX; under another backend those rows say so.

``--tiny`` replaces the models with small ones, the data with a few records
and the epochs with one, so that CI can run the whole script on a CPU; its
figures say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gpu_rows import CONFIGS, PRECISIONS, ROOT, one_combination, parallel_row, synthetic_cache


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| config | precision | batch | row | path | samples/s | TFLOP/s | share of peak "
        "| compile s | predict samples/s | peak GiB | five folds at 43,000 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def cell(row, key, fmt="{:.1f}"):
        value = row.get(key)
        return "" if value is None else fmt.format(value)

    for r in rows:
        head = (
            f"| {r.get('config', '')} | {r.get('precision', '')} | {r.get('batch', '')} "
            f"| {r['row']} | {r.get('path', '')} "
        )
        if "error" in r:
            lines.append(head + f"| failed: {r['error'][:70]} | | | | | | |")
            continue
        hours = r.get("five_fold_hours")
        lines.append(
            head + f"| {r['samples_per_s']:,.1f} | {cell(r, 'tflops', '{:.3f}')} "
            f"| {cell(r, 'share_of_peak', '{:.2%}')} | {cell(r, 'compile_seconds')} "
            f"| {cell(r, 'predict_samples_per_s')} "
            f"| {cell(r, 'peak_device_memory_gib', '{:.2f}')} "
            f"| {'' if hours is None else f'{hours:.2f} h'} |"
        )
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="smoke mode (small, any CPU)")
    parser.add_argument("--configs", default="cinc2020,cinc2017", help=f"some of {list(CONFIGS)}")
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--batches", help="batch sizes (default 32,256; tiny 8)")
    parser.add_argument("--rows", default="host,step,fit,ceiling,parallel")
    parser.add_argument("--records", type=int, help="synthetic records (default 4096; tiny 24)")
    parser.add_argument("--epochs", type=int, help="timed fit epochs (default 2; tiny 1)")
    parser.add_argument("--repeats", type=int, help="timings per median (default 3; tiny 1)")
    parser.add_argument("--scan", type=int, help="steps per scanned call (default 10; tiny 2)")
    parser.add_argument("--parallel", type=int, default=2, help="fold jobs side by side")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--work", type=Path, help="where the synthetic caches go")
    parser.add_argument(
        "--out",
        type=Path,
        help="results JSON (default bench/results/gpu.json; with --tiny, none unless given)",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds per process")
    # internal: one combination in this process
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    tiny = args.tiny
    args.records = args.records or (24 if tiny else 4096)
    args.epochs = args.epochs or (1 if tiny else 2)
    args.repeats = args.repeats or (1 if tiny else 3)
    args.scan = args.scan or (2 if tiny else 10)
    if min(args.records, args.epochs, args.repeats, args.scan, args.parallel) < 1:
        parser.error("--records, --epochs, --repeats, --scan and --parallel must be positive")
    if args.one:
        print(json.dumps(one_combination(args)))
        return 0
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {unknown}; expected some of {list(CONFIGS)}")
    batches = [int(b) for b in (args.batches or ("8" if tiny else "32,256")).split(",")]
    out = args.out or (None if tiny else ROOT / "bench/results/gpu.json")
    os.environ.update(
        {
            "KERAS_BACKEND": args.backend,
            "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
    )
    print(f"host: {cpu_model()}, {os.cpu_count()} cores; backend {args.backend}", flush=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ecgml-gpu-") as tmp:
        work = args.work or Path(tmp)
        for name in names:
            cache = synthetic_cache(
                work / f"{name}-{'tiny' if tiny else args.records}", name, tiny, args.records
            )
            per_process = [r for r in args.rows.split(",") if r != "parallel"]
            for precision in args.precisions.split(","):
                for batch in batches if per_process else ():
                    command = [
                        sys.executable,
                        __file__,
                        "--one",
                        "--name",
                        name,
                        "--cache",
                        str(cache),
                        "--precision",
                        precision,
                        "--batch",
                        str(batch),
                        "--rows",
                        ",".join(per_process),
                        "--epochs",
                        str(args.epochs),
                        "--repeats",
                        str(args.repeats),
                        "--scan",
                        str(args.scan),
                        "--records",
                        str(args.records),
                    ]
                    what = {"config": name, "precision": precision, "batch": batch}
                    command += ["--tiny"] if tiny else []
                    rows += run_process(command, args.timeout, what)
            if "parallel" in args.rows.split(","):
                try:
                    rows.append(parallel_row(name, cache, args.parallel, args.epochs, tiny, work))
                except Exception as e:
                    rows.append({"row": "parallel", "config": name, "error": str(e)})
                print(json.dumps(rows[-1]), flush=True)
    print(table(rows))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "command": "python bench/gpu.py " + " ".join(argv or sys.argv[1:]),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "tiny": tiny,
                    "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
                    "results": rows,
                },
                indent=1,
            )
            + "\n"
        )
        print(f"-> {out}")
    return 1 if any("error" in r for r in rows) else 0


def run_process(command: list[str], timeout: float, what: dict[str, Any]) -> list[dict[str, Any]]:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        done = None
    if done is not None and done.returncode == 0:
        rows = json.loads(done.stdout.strip().splitlines()[-1])
    else:
        why = "timed out" if done is None else (done.stderr.strip().splitlines() or ["?"])[-1]
        rows = [{"row": "all", **what, "error": why}]
    for row in rows:
        print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
