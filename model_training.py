"""Five-fold training of the SE-ResNet on a prepared cache.

    python model_training.py --config configs/default.json --data CACHE_DIR --out result/RUN
        [--fold K] [--epochs N] [--parallel-folds N [--gpus LIST]] [--quiet]

Rerunning with the same --out skips finished folds and resumes an interrupted one.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ecgml.cli.main import run_command
from ecgml.cli.train import add_arguments, run_train


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="model_training.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_command(run_train, parser.parse_args(argv), "train")


if __name__ == "__main__":
    sys.exit(main())
