"""A tiny trained run with thresholds, shared by the tests of ``ecgml.serve``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgml.data.demo import write_demo_dataset
from ecgml.evaluation.ensemble import Ensemble
from ecgml.evaluation.run_thresholds import fit_run_thresholds
from tests.tiny_run import train_tiny_run


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> dict[str, Path]:
    """A trained three-fold run with thresholds, and four held-out demo records."""
    root = tmp_path_factory.mktemp("served")
    run = train_tiny_run(root)
    fit_run_thresholds(run)
    write_demo_dataset(root / "records", n_records=4, seed=1, first_id=101, progress=False)
    return {"run": run, "records": root / "records"}


@pytest.fixture(scope="session")
def ensemble(served) -> Ensemble:
    return Ensemble.load(served["run"])


@pytest.fixture(scope="session")
def beat_served(tmp_path_factory) -> dict[str, Path]:
    """A trained three-fold beat run (MIT-BIH layout) and its records."""
    from tests.beat_run import train_beat_run

    return train_beat_run(tmp_path_factory.mktemp("beat_served"))
