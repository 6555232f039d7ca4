"""A tiny trained beat run (MIT-BIH layout, standard DS1/DS2 split), for the tests of
beat tasks through postprocessing, predict and the web app."""

from __future__ import annotations

from pathlib import Path

from ecgml import runs
from ecgml.config import Config, TaskConfig
from ecgml.data.cache import prepare_cache
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.models.beat_cnn import BeatCNNConfig
from ecgml.training.config import TrainingConfig
from tests.mitbih_records import write_mitbih

TINY_BEATS = Config(
    task=TaskConfig(
        name="mitbih", reader="mitbih", target="multiclass", scorer="aami", split="standard"
    ),
    preprocess=PreprocessConfig(
        leads=("MLII",), fs=125, window=63, window_policy="beats", beat_offset=20
    ),
    labels=LabelConfig(classes=("N", "S", "V", "F", "Q")),
    model=BeatCNNConfig(filters=(4, 8), dense_units=8),
    training=TrainingConfig(
        n_folds=3,
        batch_size=16,
        epochs=2,
        loss="weighted_cce",
        learning_rate=2e-3,
        early_stopping_patience=0,
        keep_epoch="last",
    ),
)
TRAIN, TEST = ("101", "106", "108", "109"), ("100", "103")
SYMBOLS = ["N", "N", "V", "N", "+", "A", "N", "V"] * 3


def train_beat_run(root: Path) -> dict[str, Path]:
    """Write DS1 and DS2-named synthetic records, prepare them and train three folds."""
    for k, rid in enumerate(TRAIN + TEST):
        write_mitbih(root / "data", rid, SYMBOLS, seed=k)
    prepare_cache(
        [root / "data"],
        root / "cache",
        TINY_BEATS.preprocess,
        TINY_BEATS.labels,
        reader="mitbih",
        progress=False,
    )
    runs.train_run(root / "cache", root / "run", TINY_BEATS, verbose=0)
    return {"root": root, "run": root / "run", "cache": root / "cache", "data": root / "data"}
