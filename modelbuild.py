"""Build the untrained model a config describes, print its summary, optionally save it.

python modelbuild.py --config configs/default.json [--out model.keras]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecgml.cli.main import run_command
from ecgml.cli.model import add_arguments, run_modelbuild


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="modelbuild.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_command(run_modelbuild, parser.parse_args(argv), "modelbuild")


if __name__ == "__main__":
    sys.exit(main())
