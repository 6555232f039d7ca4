"""The GPU check: training throughput of the CinC 2020 and CinC 2017 configs.

    python bench/gpu.py                  # on a GPU machine (JAX backend by default)
    python bench/gpu.py --tiny           # smoke mode: small models and data, any CPU

For each config (``configs/default.json``, ``configs/cinc2017.json``), a
synthetic cache of ``--records`` records of the config's window and leads is
written once; then each variant (float32 and mixed bfloat16, each with and
without XLA) trains in a process of its own, through ecgml's own input pipeline
(``CacheDataset``) and compile step: one untimed epoch (tracing and
compilation), then ``--epochs`` timed epochs, then one timed pass of
prediction. It prints and writes samples/s, seconds per epoch, peak GPU memory
(the backend's allocator figure; none on a CPU) and the five-fold wall time the
figures imply at CinC 2020 scale (43,000 records: 80 % trained and 20 %
validated per fold, the config's epochs). The signals are random: the timings
depend on shapes, not values.

``--tiny`` replaces the models with small ones, the data with a few records and
the epochs with one, so that CI can run the whole script on a CPU; its figures
say nothing about a GPU.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIGS = {"cinc2020": ROOT / "configs/default.json", "cinc2017": ROOT / "configs/cinc2017.json"}
VARIANTS = [("float32", False), ("float32", True), ("mixed_bfloat16", False),
            ("mixed_bfloat16", True)]  # fmt: skip
CINC2020_RECORDS = 43_000


def tiny_config(name: str):
    """A small model of the same architecture, for ``--tiny``."""
    from ecgml.config import load_config

    config = load_config(CONFIGS[name])
    model = config.model
    if model.architecture == "resecg":
        model = dataclasses.replace(model, n_blocks=4, filters=8, filters_step=8, filters_every=2)
    else:
        model = dataclasses.replace(model, stem_filters=8, filters=(8, 16), dense_units=8)
    pre = dataclasses.replace(config.preprocess, window=config.preprocess.window // 10)
    training = dataclasses.replace(config.training, batch_size=8, input_length=None)
    return dataclasses.replace(config, model=model, preprocess=pre, training=training)


def load(name: str, tiny: bool):
    from ecgml.config import load_config

    return tiny_config(name) if tiny else load_config(CONFIGS[name])


def synthetic_cache(folder: Path, name: str, tiny: bool, n_records: int) -> Path:
    """Random windows and labels of the config's shape (written once, then reused)."""
    from ecgml.data.cache import write_cache_arrays
    from ecgml.data.labels import LabelEncoder

    if (folder / "meta.json").is_file():
        return folder
    config = load(name, tiny)
    pre = config.preprocess
    encoder = LabelEncoder.from_config(config.labels)
    rng = np.random.default_rng(0)

    def chunks():
        for start in range(0, n_records, 256):
            n = min(256, n_records - start)
            x = rng.normal(0, 0.3, size=(n, pre.window, len(pre.leads))).astype(np.float32)
            if config.task.target == "multiclass":
                dx = [encoder.class_names[k] for k in rng.integers(0, encoder.n_classes, n)]
            else:
                y = rng.random((n, encoder.n_classes)) < 0.1
                dx = [",".join(c for c, on in zip(encoder.class_names, row, strict=True) if on)
                      for row in y]  # fmt: skip
            yield x, dx

    write_cache_arrays(folder, chunks(), pre, config.labels, reader=config.task.reader)
    return folder


def peak_memory_bytes() -> int | None:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats()
        return None if not stats else int(stats.get("peak_bytes_in_use", 0))
    if backend == "torch":
        import torch

        return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return int(tf.config.experimental.get_memory_info("GPU:0")["peak"]) if gpus else None


def one_variant(args: argparse.Namespace) -> dict[str, Any]:
    """Runs in its own process: train one config under one precision and XLA setting."""
    import keras

    from ecgml.data.cache import Cache
    from ecgml.models.registry import build_model, count_flops
    from ecgml.targets import get_target
    from ecgml.training.compiling import compile_model
    from ecgml.training.dataset import CacheDataset

    config = load(args.name, args.tiny)
    training = dataclasses.replace(config.training, precision=args.precision,
                                   jit_compile=bool(args.jit))  # fmt: skip
    config = dataclasses.replace(config, training=training)
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(args.precision)
    cache = Cache(args.cache)
    y = cache.labels
    idx = np.arange(len(cache))
    train_ds = CacheDataset(cache, idx, batch_size=training.batch_size, training=True,
                            input_length=training.input_length, noise_std=training.noise_std,
                            lead_mask_prob=training.lead_mask_prob)  # fmt: skip
    val_ds = CacheDataset(cache, idx, batch_size=training.batch_size,
                          input_length=training.input_length)  # fmt: skip
    model = build_model(config.model, n_classes=y.shape[1], input_length=train_ds.input_length,
                        n_leads=cache.signals.shape[2],
                        activation=get_target(config.task.target).activation)  # fmt: skip
    compile_model(model, config, y, y, len(train_ds) * (args.epochs + 1))
    started = time.perf_counter()
    model.fit(train_ds, epochs=1, verbose=0)
    first = time.perf_counter() - started
    started = time.perf_counter()
    model.fit(train_ds, epochs=args.epochs, verbose=0)
    per_epoch = (time.perf_counter() - started) / args.epochs
    started = time.perf_counter()
    model.predict(val_ds, verbose=0)
    predict_seconds = time.perf_counter() - started
    train_rate, predict_rate = len(idx) / per_epoch, len(idx) / predict_seconds
    n_train, n_val = 0.8 * CINC2020_RECORDS, 0.2 * CINC2020_RECORDS
    five_fold = 5 * training.epochs * (n_train / train_rate + n_val / predict_rate)
    peak = peak_memory_bytes()
    return {
        "config": args.name, "precision": args.precision, "xla": bool(args.jit),
        "backend": keras.backend.backend(), "device": _device(),
        "records": len(idx), "batch_size": training.batch_size,
        "input": [train_ds.input_length, cache.signals.shape[2]],
        "parameters": model.count_params(), "gflops_per_sample": count_flops(model) / 1e9,
        "first_epoch_seconds": round(first, 2), "seconds_per_epoch": round(per_epoch, 3),
        "train_samples_per_s": round(train_rate, 1),
        "predict_samples_per_s": round(predict_rate, 1),
        "peak_gpu_memory_gib": None if peak is None else round(peak / 2**30, 2),
        "config_epochs": training.epochs,
        "five_fold_hours_at_43000_records": round(five_fold / 3600, 2),
    }  # fmt: skip


def _device() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return str(jax.devices()[0].device_kind)
    return platform.processor() or platform.machine()


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| config | precision | XLA | samples/s | s/epoch | predict samples/s | peak GPU GiB "
             "| first epoch s | five folds at 43,000 records |",
             "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['config']} | {r['precision']} | {r['xla']} | failed: "
                         f"{r['error'][:80]} | | | | | |")  # fmt: skip
            continue
        peak = "n/a" if r["peak_gpu_memory_gib"] is None else f"{r['peak_gpu_memory_gib']:.2f}"
        lines.append(
            f"| {r['config']} | {r['precision']} | {'on' if r['xla'] else 'off'} "
            f"| {r['train_samples_per_s']:.1f} | {r['seconds_per_epoch']:.2f} "
            f"| {r['predict_samples_per_s']:.1f} | {peak} | {r['first_epoch_seconds']:.1f} "
            f"| {r['five_fold_hours_at_43000_records']:.2f} h |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="smoke mode (small, any CPU)")
    parser.add_argument("--configs", default="cinc2020,cinc2017", help=f"some of {list(CONFIGS)}")
    parser.add_argument("--records", type=int, help="synthetic records (default 4096; tiny 16)")
    parser.add_argument("--epochs", type=int, help="timed epochs (default 2; tiny 1)")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--work", type=Path, help="where the synthetic caches go")
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/gpu.json; "
                        "with --tiny, none unless given)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=900, help="seconds per variant")
    # internal: one variant in this process
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    parser.add_argument("--precision", help=argparse.SUPPRESS)
    parser.add_argument("--jit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.records is None:
        args.records = 16 if args.tiny else 4096
    if args.epochs is None:
        args.epochs = 1 if args.tiny else 2
    if args.records < 1 or args.epochs < 1:
        parser.error("--records and --epochs must be positive")
    if args.one:
        print(json.dumps(one_variant(args)))
        return 0
    names = args.configs.split(",")
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown config(s) {unknown}; expected some of {list(CONFIGS)}")
    out = args.out or (None if args.tiny else ROOT / "bench/results/gpu.json")
    env = os.environ | {"KERAS_BACKEND": args.backend, "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
                        "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="ecgml-gpu-") as tmp:
        work = args.work or Path(tmp)
        for name in names:
            cache = synthetic_cache(work / f"{name}-{'tiny' if args.tiny else args.records}",
                                    name, args.tiny, args.records)  # fmt: skip
            for precision, jit in VARIANTS:
                command = [sys.executable, __file__, "--one", "--name", name, "--cache",
                           str(cache), "--precision", precision, "--jit", str(int(jit)),
                           "--epochs", str(args.epochs)]  # fmt: skip
                command += ["--records", str(args.records)] + (["--tiny"] if args.tiny else [])
                try:
                    done = subprocess.run(command, capture_output=True, text=True, env=env,
                                          timeout=args.timeout)  # fmt: skip
                except subprocess.TimeoutExpired:
                    done = None
                if done is not None and done.returncode == 0:
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                else:
                    why = "timed out" if done is None else (done.stderr.strip().splitlines()
                                                            or ["no output"])[-1]  # fmt: skip
                    row = {"config": name, "precision": precision, "xla": jit, "error": why}
                print(json.dumps(row), flush=True)
                rows.append(row)
    print(table(rows))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "command": "python bench/gpu.py " + " ".join(argv or sys.argv[1:]),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "tiny": args.tiny,
            "machine": f"{platform.platform()}, {os.cpu_count()} CPUs", "results": rows,
        }, indent=1) + "\n")  # fmt: skip
        print(f"-> {out}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
