"""The GPU check: where a training step's time goes, side by side in one run.

    python bench/gpu.py                  # on a GPU machine (JAX backend by default)
    python bench/gpu.py --tiny           # smoke mode: small models and data, any CPU

For ``configs/default.json`` (CinC 2020) and ``configs/cinc2017.json``, in
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
side (``ecgml.training.parallel``), samples/s summed over the jobs, wall time
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
import dataclasses
import json
import os
import platform
import statistics
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
PRECISIONS = ("float32", "mixed_bfloat16")
CINC2020_RECORDS = 43_000
N_TRAIN, N_VAL = 0.8 * CINC2020_RECORDS, 0.2 * CINC2020_RECORDS
# dense peak TFLOP/s by device kind and compute dtype (vendor data sheets, SXM parts)
PEAK_TFLOPS = {"H100": {"float32": 67.0, "mixed_bfloat16": 989.0},
               "H200": {"float32": 67.0, "mixed_bfloat16": 989.0}}  # fmt: skip


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


def _device() -> str:
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return str(jax.devices()[0].device_kind)
    return platform.processor() or platform.machine()


def timed(fn, repeats: int) -> tuple[float, float]:
    """``(first call's seconds, median of the next repeats')``; the first warms up."""
    times = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:])


def host_rows(cache, config, batch: int, repeats: int) -> list[dict[str, Any]]:
    """The input pipeline alone: old (numpy augmentation, one thread) and new (gather only)."""
    from concurrent.futures import ThreadPoolExecutor

    from ecgml.training.dataset import CacheDataset

    t = config.training
    idx = np.arange(len(cache))
    old = CacheDataset(cache, idx, batch_size=batch, training=True, input_length=t.input_length,
                       noise_std=t.noise_std, lead_mask_prob=t.lead_mask_prob,
                       time_mask_prob=t.time_mask_prob, time_mask_seconds=t.time_mask_seconds,
                       fs=cache.preprocess.fs)  # fmt: skip
    new = CacheDataset(cache, idx, batch_size=batch, training=True, inputs="step",
                       drop_remainder=True)  # fmt: skip
    workers = t.data_workers or min(4, os.cpu_count() or 1)
    pool = ThreadPoolExecutor(workers)
    rows = []
    for name, ds, run in (
        ("old", old, lambda: [ds_item(old, k) for k in range(len(old))]),
        ("new", new, lambda: list(pool.map(lambda k: ds_item(new, k), range(len(new))))),
    ):
        _, steady = timed(run, repeats)
        served = len(ds) * batch if ds.drop_remainder else len(idx)
        rows.append({"row": "host", "path": name, "samples_per_s": served / steady,
                     "threads": 1 if name == "old" else workers})  # fmt: skip
    pool.shutdown()
    return rows


def ds_item(ds, k: int):
    return ds[k]


def jax_steps(fitted, batch: int, window: int, n_leads: int, n_classes: int, n_steps: int):
    """The trainer's step through ``stateless_call``: per-batch calls, and ``lax.scan``."""
    import jax

    fitted.optimizer.build(fitted.trainable_variables)
    loss = fitted.loss
    state = ([v.value for v in fitted.trainable_variables],
             [v.value for v in fitted.non_trainable_variables],
             [v.value for v in fitted.optimizer.variables])  # fmt: skip

    def compute(trainable, non_trainable, x, y):
        y_pred, non_trainable = fitted.stateless_call(trainable, non_trainable, x, training=True)
        return loss(y, y_pred), non_trainable

    def step(state, x, y):
        trainable, non_trainable, optimizer = state
        (value, non_trainable), grads = jax.value_and_grad(compute, has_aux=True)(
            trainable, non_trainable, x, y
        )
        trainable, optimizer = fitted.optimizer.stateless_apply(optimizer, grads, trainable)
        return (trainable, non_trainable, optimizer), value

    def scan(state, xs, ys):
        return jax.lax.scan(lambda s, xy: step(s, *xy), state, (xs, ys))

    key = jax.random.PRNGKey(0)
    xs = {"ecg": jax.random.normal(key, (n_steps, batch, window, n_leads)) * 0.3,
          "copy": jax.numpy.zeros((n_steps, batch))}  # fmt: skip
    ys = (jax.random.uniform(key, (n_steps, batch, n_classes)) < 0.1).astype("float32")
    return jax.jit(step, donate_argnums=0), jax.jit(scan, donate_argnums=0), state, xs, ys


def device_rows(cache, config, batch: int, repeats: int, n_steps: int) -> list[dict[str, Any]]:
    """Rows 2 and 4: the step alone, per batch and over ``lax.scan``."""
    import jax
    import keras

    from ecgml.models.registry import build_model
    from ecgml.targets import get_target
    from ecgml.training.compiling import compile_model
    from ecgml.training.dataset import CacheDataset
    from ecgml.training.pipeline import FoldData, trainer

    if keras.backend.backend() != "jax":
        return [{"row": r, "path": "reference", "error": "needs the JAX backend"}
                for r in ("step", "ceiling")]  # fmt: skip
    t = config.training
    window, n_leads = cache.signals.shape[1:]
    ds = CacheDataset(cache, np.arange(len(cache)), batch_size=batch, training=True,
                      input_length=t.input_length, inputs="step")  # fmt: skip
    model = build_model(config.model, n_classes=cache.labels.shape[1],
                        input_length=ds.input_length, n_leads=n_leads,
                        activation=get_target(config.task.target).activation)  # fmt: skip
    fitted = trainer(model, FoldData(ds, ds, ""), t, fs=cache.preprocess.fs, seed=0)
    compile_model(fitted, config, cache.labels, cache.labels, 1000)
    step, scan, state, xs, ys = jax_steps(fitted, batch, window, n_leads, cache.labels.shape[1],
                                          n_steps)  # fmt: skip
    holder = {"state": state}

    def per_batch():
        s = holder["state"]
        for k in range(n_steps):
            s, value = step(s, {"ecg": xs["ecg"][k], "copy": xs["copy"][k]}, ys[k])
        jax.block_until_ready(value)
        holder["state"] = s

    def scanned():
        holder["state"], values = scan(holder["state"], xs, ys)
        jax.block_until_ready(values)

    rows = []
    for name, fn in (("step", per_batch), ("ceiling", scanned)):
        first, steady = timed(fn, repeats)
        rows.append({"row": name, "path": "reference", "samples_per_s": n_steps * batch / steady,
                     "compile_seconds": round(first - steady, 2)})  # fmt: skip
    return rows


class EpochTimer:
    """Seconds per epoch of a ``fit``, and of its training steps before validation
    (a Keras callback, made lazily)."""

    def __new__(cls):
        import keras

        class Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.seconds = []

                self.training_seconds = []

            def on_epoch_begin(self, epoch, logs=None):
                self._start = time.perf_counter()

            def on_test_begin(self, logs=None):  # the epoch's training steps are done
                self.training_seconds.append(time.perf_counter() - self._start)

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._start)

        return Timer()


def fit_row(cache, config, batch: int, path: str, epochs: int, work: Path) -> dict[str, Any]:
    """Row 3: ``train_fold`` as a run does it; ``old`` is the pipeline before issue 11."""
    import keras

    from ecgml.training import fit

    t = config.training
    changes = {"batch_size": batch, "epochs": epochs + 1, "early_stopping_patience": 0,
               "reduce_lr_patience": 0, "keep_epoch": "last", "n_folds": 5,
               "compilation_cache": ""}  # fmt: skip
    if path == "old":
        changes |= {"augment_in": "host", "device_data": "off", "amplitude_scale": 0.0}
        fit.TensorBoardLog = lambda folder, every: keras.callbacks.TensorBoard(
            str(folder), write_graph=False
        )
    config = dataclasses.replace(config, training=dataclasses.replace(t, **changes))
    folds = np.arange(len(cache)) % 5
    timer = EpochTimer()
    run = work / f"run-{path}-{batch}"
    fit.train_fold(run, 0, cache, cache.labels, folds, config, verbose=0, extra_callbacks=[timer])
    first, steady = timer.seconds[0], statistics.median(timer.seconds[1:])
    n_train, n_val = int((folds != 0).sum()), int((folds == 0).sum())
    best = keras.saving.load_model(run / "fold_0/model.keras")
    x_val = np.asarray(cache.signals[folds == 0])
    excess = x_val.shape[1] - best.input_shape[1]
    x_val = x_val[:, excess // 2 : excess // 2 + best.input_shape[1]]
    _, predict = timed(lambda: best.predict(x_val, batch_size=batch, verbose=0), 1)
    scale = N_TRAIN / n_train
    steps_only = statistics.median(timer.training_seconds[1:])
    # the new path serves full batches only
    trained = n_train // batch * batch if path == "new" and n_train >= batch else n_train
    return {"row": "fit", "path": path, "samples_per_s": n_train / steady,
            "training_steps_samples_per_s": round(trained / steps_only, 1),
            "compile_seconds": round(first - steady, 2), "epoch_seconds": round(steady, 3),
            "predict_samples_per_s": round(n_val / predict, 1),
            "five_fold_hours": 5 * (t.epochs * steady * scale + first - steady) / 3600}  # fmt: skip


def one_combination(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Runs in its own process: one config, precision and batch size, rows 1-4."""
    import keras

    from ecgml.data.cache import Cache
    from ecgml.models.registry import build_model, count_flops

    config = load(args.name, args.tiny)
    config = dataclasses.replace(config, training=dataclasses.replace(
        config.training, precision=args.precision, batch_size=args.batch))  # fmt: skip
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy(args.precision)
    cache = Cache(args.cache)
    wanted = args.rows.split(",")
    rows: list[dict[str, Any]] = []
    if "host" in wanted:
        rows += host_rows(cache, config, args.batch, args.repeats)
    if {"step", "ceiling"} & set(wanted):
        rows += device_rows(cache, config, args.batch, args.repeats, args.scan)
    with tempfile.TemporaryDirectory(prefix="ecgml-gpu-fit-") as work:
        for path in ("old", "new") if "fit" in wanted else ():
            try:
                rows.append(fit_row(cache, config, args.batch, path, args.epochs, Path(work)))
            except Exception as e:  # a row that fails is reported, the others still run
                rows.append({"row": "fit", "path": path, "error": f"{type(e).__name__}: {e}"})
    model = build_model(config.model, n_classes=cache.labels.shape[1],
                        input_length=config.training.input_length or cache.signals.shape[1],
                        n_leads=cache.signals.shape[2], activation="sigmoid")  # fmt: skip
    flops = count_flops(model)
    peak = peak_memory_bytes()
    for row in rows:
        row.update({"config": args.name, "precision": args.precision, "batch": args.batch})
        describe(row, flops, config.training.epochs)
        row["peak_device_memory_gib"] = None if peak is None else round(peak / 2**30, 2)
    return rows


def describe(row: dict[str, Any], flops: int, epochs: int) -> None:
    """TFLOP/s, share of peak and (where the row has none) the five-fold projection."""
    if "samples_per_s" not in row:
        return
    rate = row["samples_per_s"]
    row["samples_per_s"] = round(rate, 1)
    row["gflops_per_sample"] = round(flops / 1e9, 3)
    if row["row"] == "host":
        return
    tflops = 3 * flops * rate / 1e12
    row["tflops"] = round(tflops, 3)
    device = _device()
    peak = next((v for k, v in PEAK_TFLOPS.items() if k in device), {}).get(row["precision"])
    row["share_of_peak"] = None if peak is None else round(tflops / peak, 4)
    if "five_fold_hours" not in row:  # the step's rate for training, the same for validation
        row["five_fold_hours"] = 5 * epochs * (N_TRAIN + N_VAL / 3) / rate / 3600
    row["five_fold_hours"] = round(row["five_fold_hours"], 3)


def parallel_row(name: str, cache: Path, n_jobs: int, epochs: int, tiny: bool,
                 work: Path) -> dict[str, Any]:  # fmt: skip
    """Row 5: ``n_jobs`` fold jobs side by side, one process each, the config's defaults."""
    from ecgml.data.cache import Cache
    from ecgml.training.parallel import train_parallel

    config = load(name, tiny)
    t = dataclasses.replace(config.training, n_folds=max(2, n_jobs), epochs=epochs,
                            early_stopping_patience=0, reduce_lr_patience=0, keep_epoch="last",
                            compilation_cache="")  # fmt: skip
    config = dataclasses.replace(config, training=t)
    started = time.perf_counter()
    trained, failed = train_parallel(cache, work / f"parallel-{name}", config, n_jobs=n_jobs,
                                     folds=list(range(n_jobs)))  # fmt: skip
    wall = time.perf_counter() - started
    if failed:
        return {"row": "parallel", "config": name, "error": f"fold jobs failed: {failed}"}
    n_train = len(Cache(cache)) * (t.n_folds - 1) / t.n_folds
    rate = len(trained) * n_train * epochs / wall
    return {"row": "parallel", "path": f"{n_jobs} jobs", "config": name,
            "precision": t.precision, "batch": t.batch_size, "samples_per_s": round(rate, 1),
            "wall_seconds": round(wall, 1),
            "five_fold_hours": round(5 * load(name, tiny).training.epochs * N_TRAIN / rate / 3600,
                                     3)}  # fmt: skip


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| config | precision | batch | row | path | samples/s | TFLOP/s | share of peak "
             "| compile s | predict samples/s | peak GiB | five folds at 43,000 |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip

    def cell(row, key, fmt="{:.1f}"):
        value = row.get(key)
        return "" if value is None else fmt.format(value)

    for r in rows:
        head = (f"| {r.get('config', '')} | {r.get('precision', '')} | {r.get('batch', '')} "
                f"| {r['row']} | {r.get('path', '')} ")  # fmt: skip
        if "error" in r:
            lines.append(head + f"| failed: {r['error'][:70]} | | | | | | |")
            continue
        hours = r.get("five_fold_hours")
        lines.append(head + f"| {r['samples_per_s']:,.1f} | {cell(r, 'tflops', '{:.3f}')} "
                     f"| {cell(r, 'share_of_peak', '{:.2%}')} | {cell(r, 'compile_seconds')} "
                     f"| {cell(r, 'predict_samples_per_s')} "
                     f"| {cell(r, 'peak_device_memory_gib', '{:.2f}')} "
                     f"| {'' if hours is None else f'{hours:.2f} h'} |")  # fmt: skip
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
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results/gpu.json; "
                        "with --tiny, none unless given)")  # fmt: skip
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
    os.environ.update({"KERAS_BACKEND": args.backend, "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
                       "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
    print(f"host: {cpu_model()}, {os.cpu_count()} cores; backend {args.backend}", flush=True)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ecgml-gpu-") as tmp:
        work = args.work or Path(tmp)
        for name in names:
            cache = synthetic_cache(work / f"{name}-{'tiny' if tiny else args.records}", name,
                                    tiny, args.records)  # fmt: skip
            per_process = [r for r in args.rows.split(",") if r != "parallel"]
            for precision in args.precisions.split(","):
                for batch in batches if per_process else ():
                    command = [sys.executable, __file__, "--one", "--name", name, "--cache",
                               str(cache), "--precision", precision, "--batch", str(batch),
                               "--rows", ",".join(per_process), "--epochs", str(args.epochs),
                               "--repeats", str(args.repeats), "--scan", str(args.scan),
                               "--records", str(args.records)]  # fmt: skip
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
        out.write_text(json.dumps({
            "command": "python bench/gpu.py " + " ".join(argv or sys.argv[1:]),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "tiny": tiny,
            "machine": f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} CPUs",
            "results": rows,
        }, indent=1) + "\n")  # fmt: skip
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
