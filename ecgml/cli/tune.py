"""``ecgml tune``: hyperparameter search with Optuna."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from ecgml.cli.keras_commands import uses_keras


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tune",
        help="hyperparameter search with Optuna (resumable, shareable by many workers)",
        description="Search the config fields SPACE.json names, one ordinary run folder "
        "per trial under TUNE/trials/, until the study holds --trials finished (complete "
        "or pruned) trials. Trials train and validate on the training part of the "
        "split only; its held-out records are never read. Workers given the same "
        "--storage and --study share one search, on this machine (--jobs) or on many. "
        "At the end: TUNE/trials.csv, TUNE/best.json (a complete config), history.png, "
        "importance.png.",
    )
    parser.add_argument("--config", type=Path, help="JSON config searched around")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="CACHE_DIR",
        help="a cache made by 'ecgml prepare' with this config",
    )
    parser.add_argument(
        "--space",
        type=Path,
        required=True,
        metavar="SPACE.json",
        help="the search space (docs/commands.md#ecgml-tune)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="TUNE",
        help="the tuning folder; rerunning resumes the study",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=20,
        help="finished trials the study stops at, over all workers (20)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage: a database URL (default sqlite:///TUNE/study.db; "
        "postgresql://... or mysql://... for many machines)",
    )
    parser.add_argument("--study", default="ecgml", help="study name (ecgml)")
    parser.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds")
    parser.add_argument(
        "-j", "--jobs", type=int, default=1, help="worker processes on this machine (1)"
    )
    parser.add_argument(
        "--folds-from",
        type=Path,
        metavar="FOLDS.json",
        help="keep the folds and the held-out records of this folds.json",
    )
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.set_defaults(func=run_tune)


@uses_keras
def run_tune(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("optuna") is None:
        raise ValueError("ecgml tune needs Optuna: pip install 'ecgml[tune]'")
    from ecgml.config import load_config
    from ecgml.tune import load_space
    from ecgml.tune.search import tune

    config = load_config(args.config)
    space = load_space(args.space, config)
    tune(
        config,
        args.data,
        space,
        args.out,
        trials=args.trials,
        storage=args.storage,
        study_name=args.study,
        timeout=args.timeout,
        jobs=args.jobs,
        folds_from=args.folds_from,
        space_data=json.loads(args.space.read_text()),
        worker=args.worker,
    )
    return 0
