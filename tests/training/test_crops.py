"""Test-time crops and their aggregation, and the one-cycle schedule, by hand."""

import numpy as np
import pytest

from ecgml.training.crops import aggregate, cache_crops, crop_starts, predict_cached
from ecgml.training.schedules import OneCycle


def test_sliding_crops_cover_the_window_and_end_with_it():
    np.testing.assert_array_equal(
        crop_starts(1000, 250, stride=125), [0, 125, 250, 375, 500, 625, 750]
    )
    np.testing.assert_array_equal(crop_starts(10, 4, stride=4), [0, 4, 6])  # the last ends at 10
    np.testing.assert_array_equal(crop_starts(10, 10, stride=3), [0])


def test_without_a_stride_the_centre_or_evenly_spaced_crops():
    np.testing.assert_array_equal(crop_starts(1000, 250), [375])
    np.testing.assert_array_equal(crop_starts(10, 4, crops=3), [0, 3, 6])


def test_bad_crops_are_refused():
    with pytest.raises(ValueError, match="the models take 20 samples"):
        crop_starts(10, 20)
    with pytest.raises(ValueError, match="stride"):
        crop_starts(10, 4, stride=0)


def test_mean_and_max_per_record():
    scores = np.array([[0.1, 0.9], [0.3, 0.1], [0.8, 0.2]])  # crops of records 0, 0, 1
    owner = np.array([0, 0, 1])
    np.testing.assert_allclose(aggregate(scores, owner, 2, "mean"), [[0.2, 0.5], [0.8, 0.2]])
    np.testing.assert_allclose(aggregate(scores, owner, 2, "max"), [[0.3, 0.9], [0.8, 0.2]])
    # a leading models axis is kept
    assert aggregate(np.stack([scores, scores]), owner, 2, "max").shape == (2, 2, 2)
    with pytest.raises(ValueError, match="at least one crop"):
        aggregate(scores, owner, 3)


def test_cache_crops_of_first_or_every_window():
    owner, offset, start = cache_crops(np.array([2, 1]), 10, 4, stride=4)
    np.testing.assert_array_equal(owner, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(offset, [0, 0, 0, 0, 0, 0])
    np.testing.assert_array_equal(start, [0, 4, 6, 0, 4, 6])
    owner, offset, _ = cache_crops(np.array([2, 1]), 10, 10, all_windows=True)
    np.testing.assert_array_equal(owner, [0, 0, 1])
    np.testing.assert_array_equal(offset, [0, 1, 0])


def test_predict_cached_reads_each_crop_and_aggregates():
    # each sample's value is its time index plus 100 x its row: a "model" returning the
    # crop's first sample shows which crop it was given
    signals = (np.arange(10)[None, :, None] + 100 * np.arange(3)[:, None, None]).astype(np.float32)

    def predict(x, features):
        assert features is None and x.shape[1:] == (4, 1)
        return x[None, :, 0, :]  # (1 model, n, 1 class)

    out = predict_cached(
        predict,
        signals,
        rows=np.array([0, 2]),
        n_windows=np.array([2, 1]),
        length=4,
        stride=4,
        how="max",
        chunk=2,
    )
    np.testing.assert_allclose(out[0, :, 0], [6, 206])  # starts 0, 4, 6 of rows 0 and 2
    out = predict_cached(
        predict,
        signals,
        rows=np.array([0, 2]),
        n_windows=np.array([2, 1]),
        length=4,
        all_windows=True,
        how="mean",
    )
    np.testing.assert_allclose(out[0, :, 0], [(3 + 103) / 2, 203])  # centre crops start at 3


def test_one_cycle_rises_then_falls_along_cosines():
    schedule = OneCycle(1.0, total_steps=100, pct_start=0.3, div=25.0, final_div=1e4)
    rate = [float(schedule(s)) for s in (0, 15, 30, 65, 100)]
    assert rate[0] == pytest.approx(1 / 25)
    assert rate[1] == pytest.approx(1 / 25 + (1 - 1 / 25) / 2)  # half-way up: the mean
    assert rate[2] == pytest.approx(1.0)
    assert rate[3] == pytest.approx(1e-4 + (1 - 1e-4) / 2)  # half-way down
    assert rate[4] == pytest.approx(1e-4)
    assert OneCycle.from_config(schedule.get_config()).get_config() == schedule.get_config()
