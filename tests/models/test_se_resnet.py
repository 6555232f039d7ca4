import keras
import numpy as np
import pytest

from ecgml.losses import WeightedBinaryCrossentropy
from ecgml.models.registry import build_model, count_flops
from ecgml.models.se_resnet import SEResNetConfig
from ecgml.optimizers import RAdam

TINY = SEResNetConfig(
    stem_filters=8, stem_kernel=7, filters=(8, 16), kernel_size=5, se_ratio=4, dense_units=16
)


def tiny(**changes) -> keras.Model:
    config = SEResNetConfig(**{**TINY.__dict__, **changes})
    return build_model(config, n_classes=27, input_length=changes.pop("length", 500), n_leads=12)


def test_default_model_has_8_se_blocks_and_27_sigmoid_outputs():
    model = build_model(SEResNetConfig(), n_classes=27, input_length=5000, n_leads=12)
    names = [layer.name for layer in model.layers]
    assert sum(n.endswith("_add") for n in names) == 8
    assert sum(n.endswith("_se_scale") for n in names) == 8
    assert model.input_shape == (None, 5000, 12)
    assert model.output_shape == (None, 27)
    assert model.get_layer("output").activation.__name__ == "sigmoid"


def test_output_is_probabilities_of_the_right_shape():
    x = np.random.default_rng(0).normal(size=(3, 500, 12)).astype("float32")
    y = keras.ops.convert_to_numpy(tiny()(x, training=False))
    assert y.shape == (3, 27)
    assert np.all((y > 0) & (y < 1))


def test_pooled_head_accepts_any_length():
    model = build_model(TINY, n_classes=5, input_length=None, n_leads=12)
    for length in (400, 731):
        assert model(np.zeros((1, length, 12), "float32")).shape == (1, 5)


def test_flatten_head_needs_a_fixed_length():
    with pytest.raises(ValueError, match="fixed input_length"):
        build_model(SEResNetConfig(head="flatten"), n_classes=5, input_length=None, n_leads=12)


def test_config_round_trip_gives_the_same_model():
    model = tiny()
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(1).normal(size=(2, 500, 12)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_keras_file_round_trip_with_safe_mode(tmp_path):
    model = tiny(head="flatten", dense_l2=0.01)
    model.compile(optimizer=RAdam(total_steps=10), loss=WeightedBinaryCrossentropy([2.0] * 27))
    model.train_on_batch(np.zeros((2, 500, 12), "float32"), np.zeros((2, 27), "float32"))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.optimizer, RAdam)
    assert loaded.optimizer.total_steps == 10
    assert int(loaded.optimizer.iterations) == 1  # optimizer state saved too
    assert isinstance(loaded.loss, WeightedBinaryCrossentropy)
    x = np.random.default_rng(2).normal(size=(2, 500, 12)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5)


def test_training_steps_give_finite_decreasing_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 500, 12)).astype("float32")
    x[:16, :, 0] += 1.0  # class 0: lead I raised
    y = np.zeros((32, 27), "float32")
    y[:16, 0] = 1.0
    keras.utils.set_random_seed(0)
    model = tiny(dropout=0.0, head_dropout=0.0)
    # RAdam's first steps are small by design (rho_t <= 5, then a rectifier well below 1).
    # After 40 steps the loss had fallen to 0.30-0.58 of its start over six weight
    # seeds, too close to the bound below; after 80 it is under 0.003 for all six.
    model.compile(optimizer=RAdam(learning_rate=3e-2), loss=WeightedBinaryCrossentropy([1.0] * 27))
    losses = [float(model.train_on_batch(x, y)) for _ in range(80)]
    assert np.all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3])


def test_count_flops_of_one_convolution_and_one_dense_layer():
    inputs = keras.Input((100, 3))
    x = keras.layers.Conv1D(4, 5, padding="same")(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(2)(x)
    model = keras.Model(inputs, outputs)
    assert count_flops(model) == 2 * 100 * 5 * 3 * 4 + 2 * 4 * 2


def test_config_rejects_an_unknown_head():
    with pytest.raises(ValueError, match="head must be one of"):
        SEResNetConfig(head="attention")
