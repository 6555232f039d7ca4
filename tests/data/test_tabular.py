"""The tabular input: its columns, missing values, notes, and what prepare caches."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgml.data.cache import prepare_cache
from ecgml.data.cache_reader import Cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.tabular import (
    TabularConfig,
    baseline_names,
    column_names,
    hash_notes,
    metadata_row,
    tabular_matrix,
)

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
ROWS = pd.DataFrame(
    {
        "record_id": ["a", "b", "c"],
        "age": [50.0, math.nan, 0.0],
        "sex": ["Male", "Female", ""],
        "height": [170.0, math.nan, 180.0],
        "weight": [70.0, 80.0, math.nan],
        "notes": ["sinus rhythm", "", "sinus sinus"],
    }
)


def test_metadata_values_and_missing_indicators_by_hand() -> None:
    config = TabularConfig(metadata=("age", "sex", "weight"))
    assert column_names(config, LEADS) == [
        "age",
        "age_missing",
        "sex_male",
        "sex_missing",
        "weight",
        "weight_missing",
    ]
    x = tabular_matrix(ROWS, config, LEADS)
    expected = np.array(
        [
            [50.0, 0, 1.0, 0, 70.0, 0],
            [np.nan, 1, 0.0, 0, 80.0, 0],
            [np.nan, 1, np.nan, 1, np.nan, 1],  # an age of 0 counts as unknown
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(x, expected)


def test_notes_are_hashed_word_counts() -> None:
    config = TabularConfig(notes=32)
    x = tabular_matrix(ROWS, config, LEADS)
    assert x.shape == (3, 32)
    assert x.sum(axis=1).tolist() == [2.0, 0.0, 2.0]  # words per note
    sinus = hash_notes(["sinus"], 32)[0]
    np.testing.assert_array_equal(x[2], 2 * sinus)  # "sinus sinus": one bucket, twice
    np.testing.assert_array_equal(hash_notes(["sinus rhythm"], 32), x[:1])  # stateless


def test_blocks_come_in_a_fixed_order() -> None:
    config = TabularConfig(features=("rr",), metadata=("age",), baseline=True, notes=2)
    names = column_names(config, LEADS)
    assert names[:3] == ["rr", "age", "age_missing"]
    assert names[3:-2] == baseline_names(LEADS) and names[-2:] == ["note_0", "note_1"]
    assert "f_age" not in names and "f_sex_male" not in names  # metadata holds them


def test_bad_configs_and_metadata_are_refused() -> None:
    with pytest.raises(ValueError, match="metadata"):
        TabularConfig(metadata=("age", "bmi"))
    with pytest.raises(ValueError, match="notes"):
        TabularConfig(notes=-1)
    with pytest.raises(ValueError, match="bmi"):
        metadata_row({"bmi": 22})
    with pytest.raises(ValueError, match="age must be a number"):
        metadata_row({"age": "old"})
    row = metadata_row({"age": "61", "sex": "F"})
    assert row["age"] == 61.0 and math.isnan(row["height"]) and row["notes"] == ""


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tabular") / "data"
    write_demo_dataset(folder, n_records=6, progress=False)
    return folder


def test_prepare_caches_baseline_features_only_when_asked(records: Path, tmp_path: Path) -> None:
    pre = PreprocessConfig(window=2500)
    prepare_cache([records], tmp_path / "plain", pre, progress=False)
    plain = Cache(tmp_path / "plain")
    assert {"height", "weight", "notes"} <= set(plain.index.columns)
    with pytest.raises(ValueError, match=r"tabular\.baseline"):
        plain.tabular(TabularConfig(baseline=True))
    report = prepare_cache([records], tmp_path / "plain", pre, baseline=True, progress=False)
    assert report["new"] == 6  # another setting rebuilds the cache
    cache = Cache(tmp_path / "plain")
    x = cache.tabular(TabularConfig(metadata=("age", "sex"), baseline=True))
    assert x.shape == (6, 4 + len(baseline_names(pre.leads)))
    heart_rate = cache.index["f_heart_rate"].to_numpy()
    assert np.isfinite(heart_rate).all() and ((heart_rate > 30) & (heart_rate < 200)).all()
    again = prepare_cache([records], tmp_path / "plain", pre, baseline=True, progress=False)
    assert again["new"] == 0 and again["unchanged"] == 6


def test_baseline_features_are_not_for_beat_caches(records: Path, tmp_path: Path) -> None:
    beats = PreprocessConfig(leads=("II",), fs=125, window=187, window_policy="beats")
    with pytest.raises(ValueError, match="beat or image"):
        prepare_cache([records], tmp_path / "beats", beats, baseline=True, progress=False)
