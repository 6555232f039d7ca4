"""The real-data benchmark's splits: no record is tested by a model that trained or tuned on it."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

from tests.conftest import REPO

spec = importlib.util.spec_from_file_location("bench_cinc12", REPO / "bench" / "cinc12.py")
bench = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = bench  # dataclasses look their module up there
spec.loader.exec_module(bench)


def data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 5)) < 0.3).astype(np.uint8)
    sources = np.array(["CPSC", "Georgia", "PTB-XL", "PTB"])[rng.integers(0, 4, n)]
    groups = [f"p{i // 2}" for i in range(n)]  # two records per patient
    return y, sources, groups


def test_out_of_fold_splits_test_every_record_once_on_unseen_folds(tmp_path):
    y, sources, groups = data()
    ids = [f"R{i}" for i in range(len(y))]
    folds = bench.outer_folds(tmp_path, ids, y, groups)
    assert (tmp_path / "outer_folds.json").is_file()
    np.testing.assert_array_equal(bench.outer_folds(tmp_path, ids, y, groups), folds)  # reused
    splits = bench.make_splits("oof", folds, sources, y, groups)
    tested = np.concatenate([s.test for s in splits])
    assert sorted(tested) == list(range(len(y)))
    for s in splits:
        parts = [set(s.train), set(s.val), set(s.test)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert len(parts[0]) + len(parts[1]) + len(parts[2]) == len(y)
        assert len(set(folds[s.test])) == len(set(folds[s.val])) == 1
        assert set(folds[s.train]).isdisjoint(set(folds[s.test]) | set(folds[s.val]))


def test_a_new_work_folder_takes_the_results_files_outer_folds(tmp_path):
    y, _, groups = data()
    ids = [f"R{i}" for i in range(len(y))]
    saved = [ids[k::5] for k in range(5)]  # not what make_folds would give
    folds = bench.outer_folds(tmp_path, ids, y, groups, {"outer_folds": saved})
    assert [[ids[i] for i in np.nonzero(folds == k)[0]] for k in range(5)] == saved
    np.testing.assert_array_equal(bench.outer_folds(tmp_path, ids, y, groups), folds)


def test_leave_one_source_out_trains_and_tunes_on_other_sources_only():
    y, sources, groups = data()
    splits = bench.make_splits("loso", np.zeros(len(y), int), sources, y, groups)
    assert [s.name for s in splits] == ["loso_CPSC", "loso_Georgia", "loso_PTB", "loso_PTB-XL"]
    for s in splits:
        held_out = s.name.removeprefix("loso_")
        assert set(sources[s.test]) == {held_out}
        assert held_out not in set(sources[s.train]) | set(sources[s.val])
        assert len(s.train) + len(s.val) + len(s.test) == len(y)
        patients_train = {groups[i] for i in s.train}
        assert patients_train.isdisjoint({groups[i] for i in s.val})
