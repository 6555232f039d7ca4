"""Entry point of the ``ecgml`` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecgml import __version__
from ecgml.cli import data


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecgml", description="Train and validate multi-label ECG classifiers."
    )
    parser.add_argument("--version", action="version", version=f"ecgml {__version__}")
    subparsers = parser.add_subparsers(
        title="commands", metavar="COMMAND", dest="command", required=True
    )
    data.add_parsers(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``ecgml`` command; returns the process exit code.

    Errors in what the user gave (a missing folder, a bad config) print one
    line and return 2 instead of a traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ecgml {args.command}: error: {exc}", file=sys.stderr)
        return 2
