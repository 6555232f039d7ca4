"""The in-step augmentation against the numpy pipeline it replaced, on either backend."""

import keras
import numpy as np
import pytest

from ecgml.data.cache_arrays import write_cache_arrays
from ecgml.data.labels import LabelConfig
from ecgml.data.preprocess import PreprocessConfig
from ecgml.training.augment import Augment, fold_model_of, training_model
from ecgml.training.dataset import CacheDataset, DeviceRows

N, WINDOW, LEADS = 512, 300, 4


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Windows that say where they came from: record r's sample t is 1 + r + t / 1000."""
    pre = PreprocessConfig(leads=("I", "II", "V1", "V2"), fs=100, window=WINDOW)
    r = np.arange(N)[:, None, None]
    t = np.arange(WINDOW)[None, :, None]
    x = np.broadcast_to(1.0 + r + t / 1000, (N, WINDOW, LEADS)).astype(np.float32)
    dx = ["426783006" if k % 3 else "164889003" for k in range(N)]
    folder = tmp_path_factory.mktemp("augment") / "cache"
    return write_cache_arrays(folder, [(x, dx)], pre, LabelConfig())


def step(layer, x, copy=None, training=True):
    inputs = x if copy is None else [x, copy]
    return keras.ops.convert_to_numpy(layer(inputs, training=training))


def host_batch(cache, **augment):
    """One training batch of the numpy pipeline: every record, cropped and augmented."""
    ds = CacheDataset(cache, np.arange(N), batch_size=N, training=True, fs=100, seed=0, **augment)
    return ds[0][0]


def ones(n=N, length=WINDOW):
    return np.ones((n, length, LEADS), np.float32)


def test_inference_is_the_centre_crop_and_nothing_else():
    layer = Augment(
        200,
        noise_std=0.5,
        lead_mask_prob=0.5,
        time_mask_prob=1.0,
        time_mask_samples=50,
        amplitude_scale=0.5,
    )
    x = np.random.default_rng(0).normal(size=(8, WINDOW, LEADS)).astype(np.float32)
    np.testing.assert_array_equal(step(layer, x, training=False), x[:, 50:250])
    np.testing.assert_array_equal(step(Augment(WINDOW), x, training=False), x)


def test_random_crops_are_contiguous_spans_with_uniform_starts(cache):
    x = np.asarray(cache.signals)
    got = step(Augment(200, seed=1), x)
    starts = np.rint((got[:, 0, 0] - 1 - np.arange(N)) * 1000).astype(int)
    expected = x[np.arange(N)[:, None], starts[:, None] + np.arange(200)]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    host = np.rint((host_batch(cache, input_length=200)[:, 0, 0] % 1) * 1000).astype(int)
    for s in (starts, host):  # uniform over 0..100, both ways
        assert s.min() >= 0 and s.max() <= 100
        assert s.mean() == pytest.approx(50, abs=4)
        assert s.std() == pytest.approx(np.sqrt((101**2 - 1) / 12), rel=0.1)


def test_noise_has_the_configured_spread_like_the_host_pipeline(cache):
    clean = host_batch(cache)
    host = host_batch(cache, noise_std=0.05) - clean
    got = step(Augment(WINDOW, noise_std=0.05), ones()) - 1.0
    for noise in (host, got):
        assert noise.mean() == pytest.approx(0.0, abs=1e-3)
        assert noise.std() == pytest.approx(0.05, rel=0.02)


def test_copy_noise_only_on_copies():
    copy = (np.arange(N) % 4 == 0).astype(np.float32)
    got = step(Augment(WINDOW, copy_noise_std=0.1), ones(), copy) - 1.0
    assert np.all(got[copy == 0] == 0)
    assert got[copy == 1].std() == pytest.approx(0.1, rel=0.03)


def test_lead_masking_rate_matches_the_host_pipeline(cache):
    host = np.all(host_batch(cache, lead_mask_prob=0.3) == 0, axis=1)
    got = step(Augment(WINDOW, lead_mask_prob=0.3), ones())
    zero = np.all(got == 0, axis=1)
    assert np.all((got == 0) | (got == 1))  # whole leads, nothing else
    for rate in (host.mean(), zero.mean()):
        assert rate == pytest.approx(0.3, abs=0.03)


def test_time_masks_are_one_span_in_every_lead_with_the_host_statistics(cache):
    def spans(x):
        masked = np.all(x == 0, axis=2)  # (n, time), a time zeroed in every lead
        lengths = masked.sum(axis=1)
        for row, n in zip(masked, lengths, strict=True):
            if n:
                where = np.nonzero(row)[0]
                assert where[-1] - where[0] + 1 == n  # contiguous
        return lengths

    host = spans(host_batch(cache, time_mask_prob=0.6, time_mask_seconds=0.8))
    got = step(Augment(WINDOW, time_mask_prob=0.6, time_mask_samples=80), ones())
    assert np.all((got == 0) | (got == 1))
    got = spans(got)
    for lengths in (host, got):
        assert (lengths > 0).mean() == pytest.approx(0.6, abs=0.05)
        on = lengths[lengths > 0]
        assert on.min() >= 1 and on.max() <= 80
        assert on.mean() == pytest.approx(40.5, abs=3)  # uniform over 1..80


def test_amplitude_scaling_is_one_uniform_factor_per_input():
    got = step(Augment(WINDOW, amplitude_scale=0.2), ones())
    factor = got[:, 0, 0]
    np.testing.assert_allclose(got, np.broadcast_to(factor[:, None, None], got.shape), rtol=1e-6)
    assert factor.min() >= 0.8 and factor.max() <= 1.2
    assert factor.std() == pytest.approx(0.4 / np.sqrt(12), rel=0.1)


def test_draws_follow_the_seed_and_differ_between_steps():
    def make(seed):
        return Augment(
            200,
            noise_std=0.1,
            lead_mask_prob=0.2,
            time_mask_prob=0.5,
            time_mask_samples=30,
            seed=seed,
        )

    x = ones(16)
    a, b = make(3), make(3)
    first = step(a, x)
    np.testing.assert_array_equal(first, step(b, x))
    assert not np.array_equal(first, step(make(4), x))
    assert not np.array_equal(first, step(a, x))  # the next step draws again


def test_the_saved_fold_model_holds_no_augmentation(tmp_path):
    inputs = keras.Input((200, LEADS))
    model = keras.Model(
        inputs, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(inputs))
    )
    fitted = training_model(model, Augment(200, noise_std=0.1), window=WINDOW)
    fitted.compile(optimizer="adam", loss="mse")
    fitted.fit({"ecg": ones(8), "copy": np.zeros(8)}, np.zeros((8, 2)), epochs=1, verbose=0)
    fold_model_of(fitted).save(tmp_path / "m.keras")
    saved = keras.saving.load_model(tmp_path / "m.keras")
    assert not any(isinstance(layer, Augment) for layer in saved._flatten_layers())
    assert saved.input_shape == (None, 200, LEADS)


def test_device_rows_and_the_host_serve_the_same_batches(cache):
    idx = np.random.default_rng(0).permutation(N)[:100]
    kwargs = {
        "batch_size": 32,
        "training": True,
        "seed": 5,
        "inputs": "step",
        "full_batches": True,
        "is_copy": np.arange(100) % 7 == 0,
    }
    host = CacheDataset(cache, idx, **kwargs)
    device = CacheDataset(cache, idx, device_rows=DeviceRows(cache, idx, chunk_rows=40), **kwargs)
    assert len(host) == len(device) == 4
    for _ in range(2):
        for k in range(len(host)):
            (a, ya), (b, yb) = host[k], device[k]
            np.testing.assert_array_equal(a["ecg"], keras.ops.convert_to_numpy(b["ecg"]))
            np.testing.assert_array_equal(a["copy"], b["copy"])
            np.testing.assert_array_equal(ya, yb)
        host.on_epoch_end(), device.on_epoch_end()
    batches = [host[k][0]["ecg"][:, 0, 0] for k in range(len(host))]
    assert all(len(b) == 32 for b in batches)  # one shape: the last batch is filled up
    first_of = np.concatenate(batches) - 1  # window values name their record: 1 + r + t/1000
    np.testing.assert_array_equal(np.sort(np.unique(np.rint(first_of))), np.sort(idx))
    np.testing.assert_array_equal(first_of[100:], first_of[:28])  # wrapped round


def test_rows_not_on_the_device_are_refused(cache):
    rows = DeviceRows(cache, np.arange(10))
    with pytest.raises(KeyError, match="not on the device"):
        rows.take(np.array([3, 20]))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"augment_in": "gpu"}, "augment_in must be one of"),
        ({"device_data": "yes"}, "device_data must be one of"),
        ({"augment_in": "host", "device_data": "on"}, "numpy pipeline"),
        ({"augment_in": "host", "amplitude_scale": 0.1}, "numpy pipeline"),
        ({"amplitude_scale": 1.0}, "amplitude_scale"),
        ({"steps_per_execution": 0}, "steps_per_execution"),
        ({"device_data_gib": 0}, "device_data_gib"),
    ],
)
def test_impossible_feed_settings_are_refused(fields, message):
    from ecgml.training.config import TrainingConfig

    with pytest.raises(ValueError, match=message):
        TrainingConfig(**fields)
