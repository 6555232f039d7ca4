"""Data-parallel training over processes with JAX's runtime, measured.

    python bench/data_parallel.py          # 1 process, then 2 on this machine's CPU
    python bench/data_parallel.py --table

Two measurements:

- The mechanism: ``jax.distributed`` (CPU collectives over Gloo) and
  ``keras.distribution.DataParallel``, with ecgml's SE-ResNet (a small one), its
  RAdam and binary cross-entropy, by ``train_on_batch``. Each process feeds its
  own slice of every global batch (the same 64 synthetic 10 s, 12-lead, 500 Hz
  windows a step in every run); the model starts from the same seed. Steps a
  second are timed after two warm-up steps (compilation).
- The command: ``ecgml train --fold 0`` under JAX in one process, and ``ecgml
  train --fold 0 --processes 2``, on a cache of demo records. Steps a second are
  Keras's own per-step time of the epochs after the first (validation included).

After each pair, the weights of 2 processes are compared with those of 1
(largest absolute difference). Both processes of a pair share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench/results/data_parallel.json"
GLOBAL_BATCH, STEPS, WARM_UP, WINDOW, LEADS, CLASSES = 64, 12, 2, 5000, 12, 27
RECORDS, RUN_BATCH, EPOCHS = 400, 32, 4  # the command's cache and settings


def child(n: int, rank: int, port: int, out: Path) -> None:
    """One process of ``n``: train the steps on its slice; rank 0 saves the weights."""
    os.environ["KERAS_BACKEND"] = "jax"
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if n > 1:
        jax.distributed.initialize(f"127.0.0.1:{port}", num_processes=n, process_id=rank)
    import keras

    from ecgml.models.family import build_model
    from ecgml.models.se_resnet import SEResNetConfig
    from ecgml.optimizers import RAdam

    keras.distribution.set_distribution(keras.distribution.DataParallel())
    keras.utils.set_random_seed(0)
    config = SEResNetConfig(
        stem_filters=8, stem_kernel=7, filters=(8, 16), kernel_size=5, dense_units=16
    )
    model = build_model(config, n_classes=CLASSES, input_length=WINDOW, n_leads=LEADS)
    model.compile(optimizer=RAdam(learning_rate=1e-3), loss="binary_crossentropy")
    rng = np.random.default_rng(1)
    per = GLOBAL_BATCH // n
    times = []
    for _ in range(STEPS):
        x = rng.normal(size=(GLOBAL_BATCH, WINDOW, LEADS)).astype("float32")
        y = (rng.random((GLOBAL_BATCH, CLASSES)) < 0.2).astype("float32")
        started = time.perf_counter()
        model.train_on_batch(x[rank * per : (rank + 1) * per], y[rank * per : (rank + 1) * per])
        times.append(time.perf_counter() - started)
    if rank == 0:
        weights = np.concatenate([np.asarray(w, np.float64).ravel() for w in model.get_weights()])
        np.save(out / f"weights_{n}.npy", weights)
        timed = times[WARM_UP:]
        row = {"processes": n, "steps": STEPS, "steps_per_second": len(timed) / sum(timed)}
        (out / f"row_{n}.json").write_text(json.dumps(row))


def _config():
    from ecgml.config import Config
    from ecgml.models.se_resnet import SEResNetConfig
    from ecgml.training.config import TrainingConfig

    model = SEResNetConfig(
        stem_filters=8, stem_kernel=7, filters=(8, 16), kernel_size=5, dense_units=16
    )
    training = TrainingConfig(
        n_folds=2,
        batch_size=RUN_BATCH,
        epochs=EPOCHS,
        early_stopping_patience=0,
        reduce_lr_patience=0,
        compilation_cache="",
    )
    return Config(model=model, training=training)


def _fold_weights(run: Path) -> np.ndarray:
    code = (
        "import sys, numpy as np, keras\n"
        "m = keras.saving.load_model(sys.argv[1])\n"
        "np.save(sys.argv[2], np.concatenate([np.ravel(w) for w in m.get_weights()]))\n"
    )
    out = run / "weights.npy"
    subprocess.run(
        [sys.executable, "-c", code, str(run / "fold_0/model.keras"), str(out)],
        check=True,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    return np.load(out).astype(np.float64)


def command_rows(tmp: Path) -> list[dict]:
    """``ecgml train`` in 1 process and over 2, on the same cache and config."""
    from ecgml.config import save_config
    from ecgml.data.cache import prepare_cache
    from ecgml.data.demo import write_demo_dataset

    config = _config()
    write_demo_dataset(tmp / "data", n_records=RECORDS, progress=False)
    prepare_cache([tmp / "data"], tmp / "cache", config.preprocess, progress=False)
    save_config(config, tmp / "config.json")
    rows, weights = [], {}
    for n in (1, 2):
        run = tmp / f"run_{n}"
        command = [sys.executable, "-m", "ecgml", "train", "--config", str(tmp / "config.json")]
        command += ["--data", str(tmp / "cache"), "--out", str(run), "--fold", "0", "--quiet"]
        command += ["--processes", str(n)] if n > 1 else []
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "KERAS_BACKEND": "jax"},
        ).stdout
        timed = re.findall(r"^(\d+)/\d+ - .* - (\d+)(ms|s)/step", out, re.M)
        seconds = [float(t) / (1000 if unit == "ms" else 1) for _, t, unit in timed]
        weights[n] = _fold_weights(run)
        rows.append(
            {
                "through": "ecgml train",
                "processes": n,
                "global_batch": RUN_BATCH,
                "steps": int(timed[-1][0]) * EPOCHS,
                "steps_per_second": round(1 / float(np.mean(seconds[1:])), 3),
            }
        )
    rows[1]["largest_weight_difference"] = float(np.abs(weights[1] - weights[2]).max())
    rows[1]["largest_weight"] = float(np.abs(weights[1]).max())
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(n: int, out: Path) -> dict:
    """``n`` processes started together; the first failure stops the others."""
    port = _free_port()
    command = [sys.executable, __file__, "--child", str(n), "--port", str(port), "--dir", str(out)]
    processes = [subprocess.Popen([*command, "--rank", str(r)]) for r in range(n)]
    while any(p.poll() is None for p in processes):
        if any(p.returncode for p in processes):
            for p in processes:
                p.kill()
            break
        time.sleep(0.5)
    codes = [p.wait() for p in processes]
    if any(codes):
        raise RuntimeError(f"{n} processes: exit codes {codes}")
    return json.loads((out / f"row_{n}.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rank", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rank, args.port, args.dir)
        return
    if args.table:
        print("\n".join(table(json.loads(OUT.read_text()))))
        return
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(n, Path(tmp)) for n in (1, 2)]
        one, two = (np.load(Path(tmp) / f"weights_{n}.npy") for n in (1, 2))
        rows[1]["largest_weight_difference"] = float(np.abs(one - two).max())
        rows[1]["largest_weight"] = float(np.abs(one).max())
        rows += command_rows(Path(tmp))
    for row in rows:
        row["steps_per_second"] = round(row["steps_per_second"], 3)
        print(json.dumps(row), flush=True)
    OUT.write_text(
        json.dumps({"machine": "2 CPU cores, no GPU; JAX on the CPU", "rows": rows}, indent=2)
        + "\n"
    )


def table(results: dict) -> list[str]:
    header = [
        "through",
        "processes",
        "global batch",
        "steps",
        "steps/s",
        "largest weight difference to 1 process",
    ]
    rows = [
        [
            r.get("through", "train_on_batch"),
            r["processes"],
            r.get("global_batch", GLOBAL_BATCH),
            r["steps"],
            r["steps_per_second"],
            f"{r['largest_weight_difference']:.1e}" if "largest_weight_difference" in r else "-",
        ]
        for r in results["rows"]
    ]
    return markdown(header, rows)


if __name__ == "__main__":
    main()
