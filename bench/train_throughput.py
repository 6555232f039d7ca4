"""Training throughput of a config's model, and the input pipeline's own throughput.

    python bench/train_throughput.py --cache result/demo/cache --config configs/se-resnet.json

Prints samples/s of training steps (a fixed in-memory batch: the model alone),
samples/s of the cache input pipeline with the config's augmentation (no
model), their ratio, and the peak resident memory of the process. Run it on
an otherwise idle machine; it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import keras
import numpy as np

from ecgml.config import load_config
from ecgml.data.cache import Cache
from ecgml.metrics import MacroAUROC
from ecgml.models.registry import build_model
from ecgml.optimizers import RAdam
from ecgml.targets import get_target
from ecgml.training.dataset import CacheDataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--config", type=Path, default=Path("configs/se-resnet.json"))
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (compilation)")
    parser.add_argument("--precision", default="float32", help="overrides the config's")
    parser.add_argument("--jit", action="store_true", help="XLA-compile the train step")
    parser.add_argument("--pipeline-batches", type=int, default=200)
    args = parser.parse_args(argv)

    config = load_config(args.config)
    training = dataclasses.replace(config.training, batch_size=args.batch)
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(0)
    cache = Cache(args.cache)
    n_classes, length, n_leads = cache.labels.shape[1], *cache.signals.shape[1:]

    ds = CacheDataset(
        cache,
        np.arange(len(cache)),
        batch_size=args.batch,
        training=True,
        noise_std=training.noise_std,
        lead_mask_prob=training.lead_mask_prob,
    )
    started = time.perf_counter()
    served = 0
    for i in range(args.pipeline_batches):
        x, _ = ds[i % len(ds)]
        served += len(x)
        if (i + 1) % len(ds) == 0:
            ds.on_epoch_end()
    pipeline = served / (time.perf_counter() - started)

    target = get_target(config.task.target)
    model = build_model(
        config.model,
        n_classes=n_classes,
        input_length=length,
        n_leads=n_leads,
        activation=target.activation,
    )
    model.compile(
        optimizer=RAdam(learning_rate=1e-3, total_steps=1000),
        loss=target.make_loss(training, cache.labels),
        metrics=[MacroAUROC(np.ones(n_classes))],
        jit_compile=args.jit,
    )
    records = np.sort(np.random.default_rng(0).choice(len(cache), args.batch))
    x = np.asarray(cache.signals[cache.index["row"].to_numpy()[records]])
    y = cache.labels[records].astype("float32")
    for _ in range(args.warmup):
        model.train_on_batch(x, y)
    started = time.perf_counter()
    for _ in range(args.steps):
        model.train_on_batch(x, y)
    training_rate = args.steps * args.batch / (time.perf_counter() - started)

    result = {
        "config": str(args.config),
        "backend": keras.backend.backend(),
        "precision": args.precision,
        "jit_compile": args.jit,
        "batch": args.batch,
        "input": [length, n_leads],
        "parameters": model.count_params(),
        "training_samples_per_s": round(training_rate, 2),
        "pipeline_samples_per_s": round(pipeline, 1),
        "pipeline_to_training_ratio": round(pipeline / training_rate, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
