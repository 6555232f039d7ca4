"""Per-class thresholds for each fold of a trained run, from its validation part only.

    python threshold.py --run result/RUN [--objective f1|fbeta|challenge] [--beta 2]
        [--grid G] [--fallback 0.5] [--weights weights.csv] [--fold K] [--pooled]

Writes RUN/fold_K/thresholds.json (thresholds, objective, validation score).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecgml.cli.evaluate import add_threshold_arguments, run_threshold
from ecgml.cli.main import run_command


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="threshold.py", description=__doc__.splitlines()[0])
    add_threshold_arguments(parser)
    return run_command(run_threshold, parser.parse_args(argv), "threshold")


if __name__ == "__main__":
    sys.exit(main())
