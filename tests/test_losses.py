import keras
import numpy as np
import pytest

from ecgml.losses import (
    WeightedBinaryCrossentropy,
    WeightedCategoricalCrossentropy,
    class_weights,
    make_loss,
    positive_weights,
)


def test_positive_weights_are_negatives_over_positives():
    y = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(positive_weights(y), [1.0, 3.0, 1.0])  # class 2 has no positive
    np.testing.assert_allclose(positive_weights(y, max_weight=2.0), [1.0, 2.0, 1.0])


def test_weighted_bce_against_a_hand_computed_value():
    y_true = np.array([[1.0, 0.0]])
    y_pred = np.array([[0.8, 0.4]])
    loss = WeightedBinaryCrossentropy([3.0, 1.0])(y_true, y_pred)
    expected = -(3.0 * np.log(0.8) + np.log(0.6)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_unit_weights_equal_plain_binary_cross_entropy():
    rng = np.random.default_rng(0)
    y_true = (rng.random((8, 5)) < 0.3).astype("float32")
    y_pred = rng.uniform(0.05, 0.95, (8, 5)).astype("float32")
    ours = float(WeightedBinaryCrossentropy([1.0] * 5)(y_true, y_pred))
    theirs = float(keras.losses.BinaryCrossentropy()(y_true, y_pred))
    assert ours == pytest.approx(theirs, rel=1e-4)


def test_make_loss_builds_weights_from_the_training_labels():
    y = np.array([[1, 0], [0, 0], [0, 0], [0, 1]])
    loss = make_loss("weighted_bce", y)
    assert loss.pos_weight == [3.0, 3.0]
    assert isinstance(make_loss("focal", y, focal_gamma=2.0), keras.losses.BinaryFocalCrossentropy)
    with pytest.raises(ValueError, match="loss must be one of"):
        make_loss("hinge", y)


def test_serialization_round_trip():
    loss = WeightedBinaryCrossentropy([2.0, 0.5])
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, WeightedBinaryCrossentropy)
    assert clone.pos_weight == [2.0, 0.5]


def test_class_weights_balance_the_classes():
    y = np.eye(3, dtype=np.uint8)[[0, 0, 0, 1]]  # 3 of class 0, 1 of class 1, none of 2
    np.testing.assert_allclose(class_weights(y), [4 / 9, 4 / 3, 1.0], rtol=1e-6)


def test_class_weights_are_capped():
    y = np.eye(2, dtype=np.uint8)[[0] * 999 + [1]]  # 999 to 1: the rare class would weigh 500
    np.testing.assert_allclose(class_weights(y, max_weight=50.0), [1000 / 1998, 50.0], rtol=1e-6)


def test_weighted_categorical_crossentropy_by_hand():
    y_true = np.array([[1, 0], [0, 1]], dtype="float32")
    y_pred = np.array([[0.8, 0.2], [0.4, 0.6]], dtype="float32")
    loss = WeightedCategoricalCrossentropy([1.0, 3.0])
    expected = (-np.log(0.8) - 3.0 * np.log(0.6)) / 2
    assert float(loss(y_true, y_pred)) == pytest.approx(expected, rel=1e-5)
    again = WeightedCategoricalCrossentropy.from_config(loss.get_config())
    assert again.class_weight == [1.0, 3.0]


def test_make_loss_builds_the_multiclass_losses():
    y = np.eye(3, dtype=np.uint8)[[0, 1, 2, 2]]
    assert isinstance(make_loss("cce", y), keras.losses.CategoricalCrossentropy)
    weighted = make_loss("weighted_cce", y)
    np.testing.assert_allclose(weighted.class_weight, class_weights(y))
    focal = make_loss("categorical_focal", y, focal_gamma=2.0, focal_alpha=None)
    assert isinstance(focal, keras.losses.CategoricalFocalCrossentropy)


# the seed table's three CinC 2017 rows, on the same hand-made arrays
Y_TRUE = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype="float32")
Y_PRED = np.array(
    [[0.7, 0.1, 0.1, 0.1], [0.2, 0.5, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25]], dtype="float32"
)
P_TRUE = np.array([0.7, 0.5, 0.25])  # each record's probability of its own class


def test_the_three_multiclass_losses_by_hand():
    # the training labels: 2 N, 1 A, no O, 1 ~ -> weights 4 / (4 * count), 1 for O
    y_train = np.eye(4, dtype=np.uint8)[[0, 0, 1, 3]]
    cce = make_loss("cce", y_train)
    assert float(cce(Y_TRUE, Y_PRED)) == pytest.approx(-np.log(P_TRUE).mean(), rel=1e-5)
    weighted = make_loss("weighted_cce", y_train)
    weight_of_true = np.array([0.5, 1.0, 1.0])  # N, A, ~
    assert float(weighted(Y_TRUE, Y_PRED)) == pytest.approx(
        (-weight_of_true * np.log(P_TRUE)).mean(), rel=1e-5
    )
    focal = make_loss("categorical_focal", y_train, focal_gamma=2.0, focal_alpha=0.25)
    by_hand = -0.25 * (1 - P_TRUE) ** 2 * np.log(P_TRUE)
    assert float(focal(Y_TRUE, Y_PRED)) == pytest.approx(by_hand.mean(), rel=1e-5)
    # focal loss shrinks the well-classified record's share the most
    assert by_hand[0] / -np.log(P_TRUE[0]) < by_hand[2] / -np.log(P_TRUE[2])
