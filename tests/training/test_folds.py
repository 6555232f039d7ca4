import json

import numpy as np
import pytest

from ecgml.training.folds import HELD_OUT, load_folds, make_folds, save_folds


def labels(n=200, c=6, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((n, c)) < np.linspace(0.05, 0.5, c)).astype(np.uint8)


def test_folds_are_stratified_for_every_class():
    y = labels()
    folds = make_folds(y, n_folds=5, seed=1)
    per_fold = np.stack([y[folds == k].sum(axis=0) for k in range(5)])
    expected = y.sum(axis=0) / 5
    assert np.all(np.abs(per_fold - expected) <= np.maximum(2, 0.25 * expected))
    assert np.bincount(folds).min() >= 35


def test_same_seed_same_folds_other_seed_other_folds():
    y = labels()
    np.testing.assert_array_equal(make_folds(y, seed=3), make_folds(y, seed=3))
    assert not np.array_equal(make_folds(y, seed=3), make_folds(y, seed=4))


def test_records_of_one_patient_share_a_fold():
    y = labels(120)
    groups = [f"P{i // 3}" for i in range(120)]  # three records per patient
    folds = make_folds(y, n_folds=4, groups=groups)
    for p in set(groups):
        assert len({folds[i] for i, g in enumerate(groups) if g == p}) == 1


def test_empty_patient_ids_are_their_own_group():
    y = labels(50)
    folds = make_folds(y, n_folds=5, groups=[""] * 50)
    assert len(set(folds)) == 5


def test_too_few_records():
    with pytest.raises(ValueError, match="cannot make 5 folds"):
        make_folds(labels(3), n_folds=5)


def test_saved_folds_load_back_and_must_match_the_records(tmp_path):
    y = labels(30)
    ids = [f"R{i}" for i in range(30)]
    folds = make_folds(y, n_folds=3)
    save_folds(tmp_path / "folds.json", ids, folds, seed=42)
    np.testing.assert_array_equal(load_folds(tmp_path / "folds.json", ids), folds)
    with pytest.raises(ValueError, match="does not match the cache"):
        load_folds(tmp_path / "folds.json", [*ids, "R99"])


def test_held_out_records_are_saved_as_test_and_load_back(tmp_path):
    ids = [f"R{i}" for i in range(12)]
    folds = np.array([0, 1, 2] * 3 + [HELD_OUT] * 3)
    save_folds(tmp_path / "folds.json", ids, folds)
    saved = json.loads((tmp_path / "folds.json").read_text())
    assert saved["n_folds"] == 3
    assert saved["test"] == ["R9", "R10", "R11"]
    np.testing.assert_array_equal(load_folds(tmp_path / "folds.json", ids), folds)


def test_one_class_is_stratified_on_its_yes_and_no():
    y = (np.arange(50) % 5 == 0).astype(np.uint8)[:, None]  # 10 positives of 50
    folds = make_folds(y, n_folds=5, seed=0)
    assert [int(y[folds == k].sum()) for k in range(5)] == [2] * 5
    np.testing.assert_array_equal(folds, make_folds(y, n_folds=5, seed=0))
