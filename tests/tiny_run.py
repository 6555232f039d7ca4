"""A tiny config and a run trained with it on demo records, for the tests that need
trained fold models (evaluation, prediction, export, the web app)."""

from __future__ import annotations

from pathlib import Path

from ecgml import runs
from ecgml.config import Config
from ecgml.data.cache import prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.training.config import TrainingConfig

# 1 s windows keep training and prediction fast; a 10 s demo record gives 10 windows.
TINY_CONFIG = Config(
    preprocess=PreprocessConfig(window=500),
    model=SEResNetConfig(
        stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
    ),
    training=TrainingConfig(n_folds=3, batch_size=8, epochs=1),
)


def train_tiny_run(root: Path, n_records: int = 24) -> Path:
    """Write demo records to ``root/train``, cache them and train ``root/run``
    (three folds, one epoch); returns the run folder."""
    write_demo_dataset(root / "train", n_records=n_records, progress=False)
    prepare_cache([root / "train"], root / "cache", TINY_CONFIG.preprocess, progress=False)
    runs.train_run(root / "cache", root / "run", TINY_CONFIG, verbose=0)
    return root / "run"
