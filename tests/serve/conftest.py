"""A tiny trained run with thresholds, shared by the tests of ``ecgml.serve``."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgml.config import Config
from ecgml.data.cache import prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.evaluation.ensemble import Ensemble
from ecgml.evaluation.run_thresholds import fit_run_thresholds
from ecgml.models.config import ModelConfig
from ecgml.training import fit
from ecgml.training.config import TrainingConfig

# 1 s windows keep training and prediction fast; a 10 s demo record gives 10 windows.
CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=ModelConfig(
        stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
    ),
    training=TrainingConfig(n_folds=3, batch_size=8, epochs=1),
)


@pytest.fixture(scope="session")
def served(tmp_path_factory) -> dict[str, Path]:
    """A trained three-fold run with thresholds, and held-out demo records."""
    root = tmp_path_factory.mktemp("served")
    write_demo_dataset(root / "train", n_records=24, progress=False)
    prepare_cache([root / "train"], root / "cache", CONFIG.preprocess, progress=False)
    fit.train_run(root / "cache", root / "run", CONFIG, verbose=0)
    fit_run_thresholds(root / "run")
    write_demo_dataset(root / "records", n_records=4, seed=1, first_id=101, progress=False)
    return {"run": root / "run", "records": root / "records"}


@pytest.fixture(scope="session")
def ensemble(served) -> Ensemble:
    return Ensemble.load(served["run"])
