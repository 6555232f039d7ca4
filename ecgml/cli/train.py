"""``ecgml train`` (also ``python model_training.py``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ecgml.cli.keras_commands import uses_keras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="JSON config (default: built-in defaults)")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="CACHE_DIR",
        help="a cache made by 'ecgml prepare'",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="RUN_DIR",
        help="run folder; rerunning with the same folder resumes",
    )
    parser.add_argument(
        "--fold",
        type=int,
        action="append",
        metavar="K",
        help="train only fold K (repeatable); default all folds",
    )
    parser.add_argument(
        "--parallel-folds",
        type=int,
        default=1,
        metavar="N",
        help="train N folds at once, one process each (output in fold_K/train.log)",
    )
    parser.add_argument(
        "--gpus",
        metavar="LIST",
        help="with --parallel-folds: comma-separated GPU ids the jobs take in turn",
    )
    parser.add_argument("--epochs", type=int, help="override training.epochs")
    parser.add_argument("--quiet", action="store_true", help="one line per epoch, no progress bar")
    over = parser.add_argument_group(
        "training over processes (JAX backend; docs/commands.md#training-over-processes)"
    )
    over.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="train each fold data-parallel over N processes on this machine "
        "(process R's output in RUN_DIR/process_R.log)",
    )
    over.add_argument(
        "--distributed",
        action="store_true",
        help="this is one process of many a cluster started (srun, mpirun): join them "
        "with jax.distributed; what the next three options leave out, JAX finds in the "
        "cluster's environment",
    )
    over.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address")
    over.add_argument("--num-processes", type=int, metavar="N")
    over.add_argument("--process-id", type=int, metavar="I")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="five-fold training on a prepared cache (resumable)",
        description="Train one model per cross-validation fold. Folds are fixed and saved "
        "in RUN_DIR/folds.json; finished folds are skipped and an interrupted fold resumes "
        "from its last epoch when the same command runs again.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_train)


def _child_arguments(args: argparse.Namespace) -> list[str]:
    """The arguments of each process ``--processes`` starts: this command's own."""
    argv = ["--data", str(args.data), "--out", str(args.out)]
    if args.config is not None:
        argv += ["--config", str(args.config)]
    for fold in args.fold or []:
        argv += ["--fold", str(fold)]
    if args.epochs is not None:
        argv += ["--epochs", str(args.epochs)]
    return argv + (["--quiet"] if args.quiet else [])


def _check_processes(args: argparse.Namespace, config, n: int) -> None:
    """What training over ``n`` processes needs, checked before any process starts."""
    from ecgml.runs.processes import check_backend

    if args.processes < 1:
        raise ValueError(f"--processes must be at least 1, got {args.processes}")
    if args.parallel_folds > 1 or args.gpus:
        raise ValueError(
            "--processes and --distributed train one fold at a time: "
            "leave out --parallel-folds and --gpus"
        )
    t = config.training
    if t.augment_in != "step":
        raise ValueError("training over processes needs training.augment_in 'step'")
    if t.batch_size % n:
        raise ValueError(
            f"training.batch_size {t.batch_size} does not split evenly over {n} processes"
        )
    check_backend()


@uses_keras
def run_train(args: argparse.Namespace) -> int:
    processes = (0, 1)
    if args.processes > 1 and args.distributed:
        raise ValueError("--processes starts its own processes: leave out --distributed")
    if args.distributed:  # before anything touches JAX
        import keras

        from ecgml.runs.processes import initialize

        if keras.backend.backend() != "jax":
            raise ValueError("--distributed needs the JAX backend: KERAS_BACKEND=jax")
        processes = initialize(args.coordinator, args.num_processes, args.process_id)
    return _train(args, processes)


def _train(args: argparse.Namespace, processes: tuple[int, int]) -> int:
    import dataclasses

    from ecgml.config import load_config
    from ecgml.evaluation.plots import plot_history, plot_losses
    from ecgml.runs import train_run
    from ecgml.task import Task
    from ecgml.training.layout import HISTORY, LOSSES, fold_dir

    config = load_config(args.config)
    if args.epochs is not None:
        config = dataclasses.replace(
            config, training=dataclasses.replace(config.training, epochs=args.epochs)
        )
    task = Task.of(config)  # resolved once: a bad plug-in name fails before any work
    if args.processes != 1 or args.distributed:
        _check_processes(args, config, max(args.processes, processes[1]))
    if args.processes > 1:
        from ecgml.runs.processes import launch

        return launch(_child_arguments(args), args.processes, args.out)
    failed = {}
    if args.parallel_folds < 1:
        raise ValueError(f"--parallel-folds must be at least 1, got {args.parallel_folds}")
    if args.parallel_folds > 1 or args.gpus:
        from ecgml.runs.parallel import train_parallel

        gpus = [g.strip() for g in args.gpus.split(",")] if args.gpus else None
        if gpus is not None and not all(gpus):
            raise ValueError(f"--gpus takes comma-separated GPU ids, got {args.gpus!r}")
        trained, failed = train_parallel(
            args.data,
            args.out,
            config,
            n_jobs=args.parallel_folds,
            gpus=gpus,
            folds=args.fold,
            task=task,
        )
    else:
        trained = train_run(
            args.data,
            args.out,
            config,
            folds=args.fold,
            verbose=2 if args.quiet or processes[0] else 1,
            task=task,
            processes=processes,
        )
    if processes[0]:  # process 0 writes the run folder
        return 0
    for fold in trained:
        folder = fold_dir(args.out, fold)
        plot_history(folder / HISTORY, folder / "curves.png", title=f"fold {fold}")
    if trained:  # every fold with a log so far, finished or not
        n_folds = config.training.n_folds
        plot_losses(
            {k: fold_dir(args.out, k) / HISTORY for k in range(n_folds)}, Path(args.out) / LOSSES
        )
    print(f"trained fold(s) {trained or 'none (all requested folds were done)'} -> {args.out}")
    if failed:
        print(f"fold(s) {sorted(failed)} failed; rerun the same command to resume them")
        return 1
    return 0
