"""Data-parallel training over processes with JAX's runtime: the mechanism, measured.

    python bench/data_parallel.py          # 1 process, then 2 on this machine's CPU
    python bench/data_parallel.py --table

Not ``ecgml train --processes`` (which does not exist yet), but what it would
stand on: ``jax.distributed`` (CPU collectives over Gloo) and
``keras.distribution.DataParallel``, with ecgml's SE-ResNet (a small one), its
RAdam and binary cross-entropy. Each process feeds its own slice of every
global batch (the same 64 synthetic 10 s, 12-lead, 500 Hz windows a step in
every run); the model starts from the same seed. After the steps, the weights
of 2 processes are compared with those of 1 (largest absolute difference), and
steps a second are timed after two warm-up steps (compilation). Both processes
of a pair share the machine's 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
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
    for row in rows:
        row["steps_per_second"] = round(row["steps_per_second"], 3)
        print(json.dumps(row), flush=True)
    OUT.write_text(
        json.dumps({"machine": "2 CPU cores, no GPU; JAX on the CPU", "rows": rows}, indent=2)
        + "\n"
    )


def table(results: dict) -> list[str]:
    header = ["processes", "global batch", "steps/s", "largest weight difference to 1 process"]
    rows = [
        [
            r["processes"],
            GLOBAL_BATCH,
            r["steps_per_second"],
            f"{r['largest_weight_difference']:.1e}" if "largest_weight_difference" in r else "-",
        ]
        for r in results["rows"]
    ]
    return markdown(header, rows)


if __name__ == "__main__":
    main()
