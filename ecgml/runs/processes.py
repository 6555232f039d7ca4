"""One run's training over processes: data parallelism on JAX's multi-process runtime.

::

    ecgml train ... --processes N     # N processes on this machine, started and watched here
    ecgml train ... --distributed     # one of the processes a cluster started (srun, mpirun)

Every process holds the same fold model and feeds its share of each batch of
``training.batch_size`` records; ``keras.distribution.DataParallel`` spreads the
batch over every device of every process, and JAX's collectives (Gloo between
CPU processes, NCCL between GPUs) sum the gradients, so ``N`` processes train
the model one process would, to rounding (``bench/data_parallel.py``).

Process 0 opens the run folder and is the only one that writes to it: the
checkpoints, the history, the validation scores and ``done.json``. The others
wait for it at a barrier after each fold. ``--processes`` writes their output to
``RUN/process_R.log``; when one process fails it stops the others and names the
failure. Under a cluster's launcher that is the launcher's job (``srun
--kill-on-bad-exit=1``); JAX's runtime also stops the survivors once the failed
process's heartbeat is missed (100 s).

Validation over processes fills the last batch up with repeats that weigh 0:
``val_auroc`` is the one process's, ``val_loss`` is averaged over the filled-up
count (a constant factor, validation records over filled-up rows).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

LOG = "process_{rank}.log"
_BARRIER_HOURS = 24  # how long the others wait for process 0 to score and write a fold


def initialize(
    coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None
) -> tuple[int, int]:
    """Join the run's processes (before anything else touches JAX); returns ``(rank, n)``.

    What is not given, JAX finds in the cluster's environment (Slurm, Open MPI) or,
    for the coordinator, in ``JAX_COORDINATOR_ADDRESS``."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator, num_processes, process_id)
    return jax.process_index(), jax.process_count()


def barrier(name: str) -> None:
    """Wait until every process of the run has reached ``name``."""
    # The runtime's own barrier, as JAX's checkpointing uses it: it waits on the
    # coordination service, not inside a device collective, so the others can wait
    # while process 0 spends minutes scoring a fold.
    from jax._src import distributed

    distributed.global_state.client.wait_at_barrier(
        f"ecgml:{name}", timeout_in_ms=_BARRIER_HOURS * 3600 * 1000
    )


def check_backend() -> None:
    """Refuse ``--processes`` where JAX is not installed."""
    if importlib.util.find_spec("jax") is None:
        raise ValueError(
            "training over processes runs on JAX, which is not installed: pip install 'ecgml[jax]'"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _describe(code: int) -> str:
    if code < 0:
        return f"was killed by signal {signal.Signals(-code).name}"
    return f"ended with exit status {code}"


def _tail(path: Path, lines: int = 15) -> str:
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop(jobs: Sequence[subprocess.Popen]) -> None:
    for job in jobs:
        if job.poll() is None:
            job.terminate()
    for job in jobs:
        try:
            job.wait(timeout=30)
        except subprocess.TimeoutExpired:
            job.kill()
            job.wait()


def launch(train_args: Sequence[str], n: int, run: Path, *, poll_seconds: float = 0.5) -> int:
    """Start ``ecgml train TRAIN_ARGS --distributed`` as ``n`` processes on this machine
    (JAX backend, CPU collectives over Gloo) and watch them: when one fails, stop the
    others; returns the first failure's exit status (1 for a signal), or 0.

    Process 0 prints to this console; process ``R``'s output goes to
    ``run/process_R.log``."""
    check_backend()
    if n < 2:
        raise ValueError(f"--processes must be at least 2, got {n}")
    run.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    coordinator = f"127.0.0.1:{_free_port()}"
    jobs, logs = [], []
    for rank in range(n):
        command = [sys.executable, "-m", "ecgml", "train", *train_args, "--distributed"]
        command += ["--coordinator", coordinator, "--num-processes", str(n)]
        command += ["--process-id", str(rank)]
        log = None if rank == 0 else open(run / LOG.format(rank=rank), "w")  # noqa: SIM115
        jobs.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env))
        logs.append(log)
        where = "" if log is None else f", log {run / LOG.format(rank=rank)}"
        print(f"process {rank} of {n}: started (pid {jobs[-1].pid}{where})", flush=True)
    try:
        return _watch(jobs, run, poll_seconds)
    finally:
        _stop(jobs)
        for log in logs:
            if log is not None:
                log.close()


def _watch(jobs: Sequence[subprocess.Popen], run: Path, poll_seconds: float) -> int:
    """Wait for every process to end; at the first failure, stop the rest and report it."""
    while True:
        codes = [job.poll() for job in jobs]
        failed = [rank for rank, code in enumerate(codes) if code not in (None, 0)]
        if failed:
            rank = failed[0]
            others = [job for r, job in enumerate(jobs) if r != rank]
            _stop(others)
            print(
                f"process {rank} {_describe(codes[rank])}; the other processes were stopped",
                file=sys.stderr,
                flush=True,
            )
            tail = _tail(run / LOG.format(rank=rank)) if rank else ""
            if tail:
                print(f"its last lines ({run / LOG.format(rank=rank)}):\n{tail}", file=sys.stderr)
            return codes[rank] if codes[rank] > 0 else 1
        if all(code == 0 for code in codes):
            return 0
        time.sleep(poll_seconds)
