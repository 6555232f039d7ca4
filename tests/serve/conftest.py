"""A tiny trained run with thresholds, shared by the tests of ``ecgml.serve``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgml.data.demo import write_demo_dataset
from ecgml.inference.ensemble import Ensemble
from ecgml.runs.thresholds import fit_run_thresholds
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


@pytest.fixture(scope="session")
def tabular_served(tmp_path_factory) -> dict[str, Path]:
    """A trained three-fold run with a tabular input (metadata, baseline features, notes)
    and thresholds, and four held-out demo records."""
    import dataclasses

    from ecgml import runs
    from ecgml.data.cache import prepare_cache
    from ecgml.data.preprocess import PreprocessConfig
    from ecgml.data.tabular import TabularConfig
    from tests.tiny_run import TINY_CONFIG

    root = tmp_path_factory.mktemp("tabular_served")
    config = dataclasses.replace(
        TINY_CONFIG,
        preprocess=PreprocessConfig(window=2500),
        tabular=TabularConfig(
            metadata=("age", "sex", "height", "weight"), baseline=True, notes=4, units=4
        ),
    )
    write_demo_dataset(root / "train", n_records=24, progress=False)
    prepare_cache(
        [root / "train"], root / "cache", config.preprocess, baseline=True, progress=False
    )
    runs.train_run(root / "cache", root / "run", config, verbose=0)
    fit_run_thresholds(root / "run")
    write_demo_dataset(root / "records", n_records=4, seed=1, first_id=101, progress=False)
    return {"run": root / "run", "records": root / "records"}
