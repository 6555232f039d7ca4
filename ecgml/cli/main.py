"""Entry point of the ``ecgml`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ecgml import __version__
from ecgml.cli import data, evaluate, model, presets, serve, train, tune
from ecgml.cli.keras_commands import quiet_tensorflow


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecgml", description="Train and validate multi-label ECG classifiers."
    )
    parser.add_argument("--version", action="version", version=f"ecgml {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", metavar="COMMAND", dest="command", required=True
    )
    data.add_parsers(subparsers)
    model.add_parsers(subparsers)
    train.add_parsers(subparsers)
    evaluate.add_parsers(subparsers)
    serve.add_parsers(subparsers)
    presets.add_parsers(subparsers)
    tune.add_parsers(subparsers)
    return parser


def run_command(
    run: Callable[[argparse.Namespace], int], args: argparse.Namespace, name: str
) -> int:
    """Run one command; errors in what the user gave print one line and return 2."""
    if getattr(run, "uses_keras", False):
        quiet_tensorflow()
    try:
        return run(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ecgml {name}: error: {exc}", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``ecgml`` command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return run_command(args.func, args, args.command)
