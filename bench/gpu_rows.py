"""The measurements of ``bench/gpu.py``, one function per row of its protocol.

See ``bench/gpu.py`` for what each row measures and how to run them.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIGS = {"cinc2020": ROOT / "configs/se-resnet.json", "cinc2017": ROOT / "configs/cinc2017.json"}
PRECISIONS = ("float32", "mixed_bfloat16")
CINC2020_RECORDS = 43_000
N_TRAIN, N_VAL = 0.8 * CINC2020_RECORDS, 0.2 * CINC2020_RECORDS
# dense peak TFLOP/s by device kind and compute dtype (vendor data sheets, SXM parts)
PEAK_TFLOPS = {
    "H100": {"float32": 67.0, "mixed_bfloat16": 989.0},
    "H200": {"float32": 67.0, "mixed_bfloat16": 989.0},
}

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_util import EpochTimer, _device, peak_memory_bytes, timed  # noqa: E402


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
    from ecgml.data.cache_arrays import write_cache_arrays
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
                dx = [
                    ",".join(c for c, on in zip(encoder.class_names, row, strict=True) if on)
                    for row in y
                ]
            yield x, dx

    write_cache_arrays(folder, chunks(), pre, config.labels, reader=config.task.reader)
    return folder


def host_rows(cache, config, batch: int, repeats: int) -> list[dict[str, Any]]:
    """The input pipeline alone: old (numpy augmentation, one thread) and new (gather only)."""
    from concurrent.futures import ThreadPoolExecutor

    from ecgml.training.dataset import CacheDataset

    t = config.training
    idx = np.arange(len(cache))
    old = CacheDataset(
        cache,
        idx,
        batch_size=batch,
        training=True,
        input_length=t.input_length,
        noise_std=t.noise_std,
        lead_mask_prob=t.lead_mask_prob,
        time_mask_prob=t.time_mask_prob,
        time_mask_seconds=t.time_mask_seconds,
        fs=cache.preprocess.fs,
    )
    new = CacheDataset(
        cache, idx, batch_size=batch, training=True, inputs="step", full_batches=True
    )
    workers = t.data_workers or min(4, os.cpu_count() or 1)
    pool = ThreadPoolExecutor(workers)
    rows = []
    for name, ds, run in (
        ("old", old, lambda: [ds_item(old, k) for k in range(len(old))]),
        ("new", new, lambda: list(pool.map(lambda k: ds_item(new, k), range(len(new))))),
    ):
        _, steady = timed(run, repeats)
        served = len(ds) * batch if ds.full_batches else len(idx)
        rows.append(
            {
                "row": "host",
                "path": name,
                "samples_per_s": served / steady,
                "threads": 1 if name == "old" else workers,
            }
        )
    pool.shutdown()
    return rows


def ds_item(ds, k: int):
    return ds[k]


def jax_steps(fitted, batch: int, window: int, n_leads: int, n_classes: int, n_steps: int):
    """The trainer's step through ``stateless_call``: per-batch calls, and ``lax.scan``."""
    import jax

    fitted.optimizer.build(fitted.trainable_variables)
    loss = fitted.loss
    state = (
        [v.value for v in fitted.trainable_variables],
        [v.value for v in fitted.non_trainable_variables],
        [v.value for v in fitted.optimizer.variables],
    )

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
    xs = {
        "ecg": jax.random.normal(key, (n_steps, batch, window, n_leads)) * 0.3,
        "copy": jax.numpy.zeros((n_steps, batch)),
    }
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
        return [
            {"row": r, "path": "reference", "error": "needs the JAX backend"}
            for r in ("step", "ceiling")
        ]
    t = config.training
    window, n_leads = cache.signals.shape[1:]
    ds = CacheDataset(
        cache,
        np.arange(len(cache)),
        batch_size=batch,
        training=True,
        input_length=t.input_length,
        inputs="step",
    )
    model = build_model(
        config.model,
        n_classes=cache.labels.shape[1],
        input_length=ds.input_length,
        n_leads=n_leads,
        activation=get_target(config.task.target).activation,
    )
    fitted = trainer(model, FoldData(ds, ds, ""), t, fs=cache.preprocess.fs, seed=0)
    target = get_target(config.task.target)
    compile_model(fitted, t, target, cache.labels, cache.labels, 1000)
    step, scan, state, xs, ys = jax_steps(
        fitted, batch, window, n_leads, cache.labels.shape[1], n_steps
    )
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
        rows.append(
            {
                "row": name,
                "path": "reference",
                "samples_per_s": n_steps * batch / steady,
                "compile_seconds": round(first - steady, 2),
            }
        )
    return rows


def fit_row(cache, config, batch: int, path: str, epochs: int, work: Path) -> dict[str, Any]:
    """Row 3: ``train_fold`` as a run does it; ``old`` is the pipeline before issue 11."""
    import keras

    from ecgml.targets import get_target
    from ecgml.training import fit

    t = config.training
    changes = {
        "batch_size": batch,
        "epochs": epochs + 1,
        "early_stopping_patience": 0,
        "reduce_lr_patience": 0,
        "keep_epoch": "last",
        "n_folds": 5,
        "compilation_cache": "",
    }
    ours = fit.TensorBoardLog
    if path == "old":
        changes |= {"augment_in": "host", "device_data": "off", "amplitude_scale": 0.0}
        fit.TensorBoardLog = lambda folder, every: keras.callbacks.TensorBoard(
            str(folder), write_graph=False
        )
    config = dataclasses.replace(config, training=dataclasses.replace(t, **changes))
    folds = np.arange(len(cache)) % 5
    timer = EpochTimer()
    run = work / f"run-{path}-{batch}"
    try:
        target = get_target(config.task.target)
        fit.train_fold(
            run, 0, cache, cache.labels, folds, config, target, verbose=0, extra_callbacks=[timer]
        )
    finally:  # the "new" row after it gets ecgml's own callback back
        fit.TensorBoardLog = ours
    first, steady = timer.seconds[0], statistics.median(timer.seconds[1:])
    n_train, n_val = int((folds != 0).sum()), int((folds == 0).sum())
    best = keras.saving.load_model(run / "fold_0/model.keras")
    x_val = np.asarray(cache.signals[folds == 0])
    excess = x_val.shape[1] - best.input_shape[1]
    x_val = x_val[:, excess // 2 : excess // 2 + best.input_shape[1]]
    _, predict = timed(lambda: best.predict(x_val, batch_size=batch, verbose=0), 1)
    scale = N_TRAIN / n_train
    steps_only = statistics.median(timer.training_seconds[1:])
    # the new path fills the last batch up with records from the epoch's start
    trained = -(-n_train // batch) * batch if path == "new" and n_train >= batch else n_train
    return {
        "row": "fit",
        "path": path,
        "samples_per_s": n_train / steady,
        "training_steps_samples_per_s": round(trained / steps_only, 1),
        "compile_seconds": round(first - steady, 2),
        "epoch_seconds": round(steady, 3),
        "predict_samples_per_s": round(n_val / predict, 1),
        "five_fold_hours": 5 * (t.epochs * steady * scale + first - steady) / 3600,
    }


def one_combination(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Runs in its own process: one config, precision and batch size, rows 1-4."""
    import keras

    from ecgml.data.cache import Cache
    from ecgml.models.registry import build_model, count_flops

    config = load(args.name, args.tiny)
    config = dataclasses.replace(
        config,
        training=dataclasses.replace(
            config.training, precision=args.precision, batch_size=args.batch
        ),
    )
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
    model = build_model(
        config.model,
        n_classes=cache.labels.shape[1],
        input_length=config.training.input_length or cache.signals.shape[1],
        n_leads=cache.signals.shape[2],
        activation="sigmoid",
    )
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


def parallel_row(
    name: str, cache: Path, n_jobs: int, epochs: int, tiny: bool, work: Path
) -> dict[str, Any]:
    """Row 5: ``n_jobs`` fold jobs side by side, one process each, the config's defaults."""
    from ecgml.data.cache import Cache
    from ecgml.runs.parallel import train_parallel

    config = load(name, tiny)
    t = dataclasses.replace(
        config.training,
        n_folds=max(2, n_jobs),
        epochs=epochs,
        early_stopping_patience=0,
        reduce_lr_patience=0,
        keep_epoch="last",
        compilation_cache="",
    )
    config = dataclasses.replace(config, training=t)
    started = time.perf_counter()
    trained, failed = train_parallel(
        cache, work / f"parallel-{name}", config, n_jobs=n_jobs, folds=list(range(n_jobs))
    )
    wall = time.perf_counter() - started
    if failed:
        return {"row": "parallel", "config": name, "error": f"fold jobs failed: {failed}"}
    n_train = len(Cache(cache)) * (t.n_folds - 1) / t.n_folds
    rate = len(trained) * n_train * epochs / wall
    return {
        "row": "parallel",
        "path": f"{n_jobs} jobs",
        "config": name,
        "precision": t.precision,
        "batch": t.batch_size,
        "samples_per_s": round(rate, 1),
        "wall_seconds": round(wall, 1),
        "five_fold_hours": round(5 * load(name, tiny).training.epochs * N_TRAIN / rate / 3600, 3),
    }
