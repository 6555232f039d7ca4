import numpy as np
import pytest

from ecgml.data.cache import Cache, prepare_cache
from ecgml.data.demo import write_demo_dataset
from ecgml.data.preprocess import PreprocessConfig
from ecgml.training.dataset import CacheDataset, oversample


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds")
    write_demo_dataset(root / "data", n_records=10, progress=False)
    prepare_cache([root / "data"], root / "cache", PreprocessConfig(window=1000), progress=False)
    return Cache(root / "cache")


def test_evaluation_batches_are_the_cached_windows_in_order(cache):
    ds = CacheDataset(cache, np.arange(10), batch_size=4)
    assert len(ds) == 3
    x, y = ds[0]
    np.testing.assert_array_equal(x, cache.signals[:4])
    np.testing.assert_array_equal(y, cache.labels[:4])
    assert ds[2][0].shape == (2, 1000, 12)


def test_evaluation_crops_the_centre(cache):
    x, _ = CacheDataset(cache, np.arange(2), batch_size=2, input_length=600)[0]
    np.testing.assert_array_equal(x, cache.signals[:2, 200:800])


def test_training_shuffles_crops_at_random_and_covers_every_record(cache):
    ds = CacheDataset(cache, np.arange(10), batch_size=5, training=True, input_length=600, seed=1)
    ys = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(map(tuple, ys)) == sorted(map(tuple, cache.labels.astype(np.float32)))
    x, _ = ds[0]
    windows = [
        np.lib.stride_tricks.sliding_window_view(cache.signals[r], 600, axis=0) for r in range(10)
    ]
    for sample in x:  # every sample is some 600-sample crop of some record
        assert any(np.any(np.all(w == sample.T[None], axis=(1, 2))) for w in windows)


def test_lead_masking_and_noise(cache):
    ds = CacheDataset(
        cache, np.arange(10), batch_size=10, training=True, lead_mask_prob=0.5, seed=0
    )
    x, _ = ds[0]
    zero_leads = np.all(x == 0, axis=1)
    assert 0.3 < zero_leads.mean() < 0.7
    clean = CacheDataset(cache, np.arange(10), batch_size=10, training=True, seed=0)
    noisy = CacheDataset(cache, np.arange(10), batch_size=10, training=True, noise_std=0.1, seed=0)
    assert (noisy[0][0] - clean[0][0]).std() == pytest.approx(0.1, rel=0.05)


def test_input_longer_than_the_cache_window_is_an_error(cache):
    with pytest.raises(ValueError, match="longer than the cache's windows"):
        CacheDataset(cache, np.arange(2), batch_size=2, input_length=2000)


def test_oversampling_repeats_rare_class_records():
    y = np.array([[1, 0]] * 9 + [[0, 1]])
    idx, is_copy = oversample(np.arange(10), y, min_count=4)
    assert np.sum(idx == 9) == 4
    assert is_copy.sum() == 3
    assert np.all(idx[is_copy] == 9)


def test_time_mask_zeros_one_span_in_every_lead():
    from ecgml.training.dataset import time_mask

    rng = np.random.default_rng(0)
    x = np.ones((50, 400, 3), np.float32)
    time_mask(x, 1.0, 100, rng)
    for sample in x:
        zero = np.nonzero(sample[:, 0] == 0)[0]
        assert 1 <= len(zero) <= 100
        assert zero[-1] - zero[0] + 1 == len(zero)  # one contiguous span
        np.testing.assert_array_equal(sample[zero], 0.0)  # in every lead
        assert (np.delete(sample, zero, axis=0) == 1.0).all()  # and nothing else
    untouched = np.ones((20, 400, 3), np.float32)
    time_mask(untouched, 0.0, 100, rng)
    assert (untouched == 1.0).all()


def test_training_batches_are_time_masked_and_evaluation_batches_are_not(cache):
    masked = CacheDataset(
        cache,
        np.arange(10),
        batch_size=10,
        training=True,
        time_mask_prob=1.0,
        time_mask_seconds=0.2,
        fs=500.0,
    )
    x, _ = masked[0]
    runs = (np.abs(x).sum(axis=2) == 0).sum(axis=1)
    assert (runs >= 1).all() and (runs <= 100).all()  # 0.2 s at 500 Hz
    plain = CacheDataset(cache, np.arange(10), batch_size=10, time_mask_prob=1.0, fs=500.0)
    np.testing.assert_array_equal(plain[0][0], cache.signals[:10])
