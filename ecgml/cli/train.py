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


@uses_keras
def run_train(args: argparse.Namespace) -> int:
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
            args.data, args.out, config, folds=args.fold, verbose=2 if args.quiet else 1, task=task
        )
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
