"""Late fusion with a tabular input: shapes, missing values, ``.keras`` round trip."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ecgml.models.fusion import FillMissing, training_statistics, with_tabular
from ecgml.models.registry import build_model
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.optimizers import RAdam

TINY = SEResNetConfig(
    stem_filters=4, stem_kernel=5, filters=(4, 8), kernel_size=3, se_ratio=2, dense_units=8
)


def fused(n_features: int = 3, architecture=TINY) -> keras.Model:
    signal = build_model(
        architecture, n_classes=5, input_length=250, n_leads=12, activation="sigmoid"
    )
    mean, variance = np.arange(n_features, dtype=float), np.ones(n_features) * 4.0
    return with_tabular(signal, mean=mean, variance=variance, units=6, dropout=0.1)


def inputs(n: int = 4, n_features: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    features = rng.normal(size=(n, n_features)).astype(np.float32)
    features[0, 1] = np.nan
    return {"ecg": rng.normal(size=(n, 250, 12)).astype(np.float32), "features": features}


def test_training_statistics_leave_missing_values_out() -> None:
    rows = np.array([[1.0, np.nan, 5.0], [3.0, np.nan, 5.0], [np.nan, np.nan, 5.0]])
    mean, variance = training_statistics(rows)
    np.testing.assert_allclose(mean, [2.0, 0.0, 5.0])
    np.testing.assert_allclose(variance, [1.0, 1.0, 0.0])


def test_fill_missing_replaces_only_nan() -> None:
    x = np.array([[np.nan, 2.0], [3.0, np.nan]], dtype=np.float32)
    out = keras.ops.convert_to_numpy(FillMissing([10.0, 20.0])(x))
    np.testing.assert_array_equal(out, [[10.0, 2.0], [3.0, 20.0]])


def test_a_missing_value_counts_as_the_training_mean() -> None:
    model = fused()
    x = inputs()
    filled = {"ecg": x["ecg"], "features": x["features"].copy()}
    filled["features"][0, 1] = 1.0  # the mean of column 1
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model.predict(filled, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_fused_model_shapes_and_one_finite_step() -> None:
    model = fused()
    assert [t.shape for t in model.inputs] == [(None, 250, 12), (None, 3)]
    assert model.output.shape == (None, 5)
    assert model.get_layer("fusion").output.shape[-1] == 8 + 6  # signal head + tabular branch
    model.compile(optimizer=RAdam(learning_rate=1e-3), loss="binary_crossentropy")
    y = np.zeros((4, 5), np.float32)
    y[:, 0] = 1
    loss = model.train_on_batch(inputs(), y)
    assert np.isfinite(float(np.ravel(loss)[0]))


def test_keras_round_trip(tmp_path) -> None:
    model = fused()
    path = tmp_path / "fused.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    expected = model.predict(inputs(), verbose=0)
    np.testing.assert_allclose(loaded.predict(inputs(), verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert loaded.get_layer("features_fill").values == [0.0, 1.0, 2.0]


@pytest.mark.parametrize("name", ["resecg", "beat_cnn"])
def test_any_architecture_can_be_wrapped(name) -> None:
    from ecgml.models.config import model_config_class

    config = model_config_class(name)()
    signal = build_model(config, n_classes=4, input_length=256, n_leads=1, activation="softmax")
    model = with_tabular(signal, mean=np.zeros(2), variance=np.ones(2))
    out = model.predict(
        {"ecg": np.zeros((2, 256, 1), np.float32), "features": np.zeros((2, 2), np.float32)},
        verbose=0,
    )
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
