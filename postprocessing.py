"""Score a run's five-fold ensemble on a held-out test set.

    python postprocessing.py --run result/RUN --data TEST_CACHE_OR_DIR --out result/NAME
        [--rule majority|mean] [--min-votes N] [--weights weights.csv] [--all-windows]

Writes score.json, roc.png, pr.png, confusion.png and outputs/RECORD.csv into --out.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecgml.cli.evaluate import add_postprocess_arguments, run_postprocess
from ecgml.cli.main import run_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="postprocessing.py", description=__doc__.splitlines()[0])
    add_postprocess_arguments(parser)
    return run_command(run_postprocess, parser.parse_args(argv), "postprocess")


if __name__ == "__main__":
    sys.exit(main())
