import numpy as np
import pytest

from ecgml.training.stack import Stack, StackConfig


def _records(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.normal(size=(n, 6))
    y = np.column_stack([x[:, 0] > 0, x[:, 1] + 0.5 * x[:, 2] > 0.3]).astype(np.float32)
    return x, y


def test_a_fixed_weight_mixes_every_class_by_it_whatever_the_validation_records():
    rng = np.random.default_rng(0)
    (x_train, y_train), (x_val, y_val) = _records(rng, 80), _records(rng, 40)
    deep_val = rng.uniform(size=y_val.shape)
    config = StackConfig(forest=True, n_estimators=10, weight=0.25)
    stack = Stack.fit(x_train, y_train, x_val, y_val, deep_val, config, seed=0)
    np.testing.assert_array_equal(stack.weights_, [0.25, 0.25])
    # learned weights would differ: a random deep model earns weight 0 on these records
    learned = Stack.fit(
        x_train, y_train, x_val, y_val, deep_val, StackConfig(forest=True, n_estimators=10), seed=0
    )
    assert not np.array_equal(learned.weights_, stack.weights_)
    deep = rng.uniform(size=(5, 2))
    forest = stack.forest_.predict_proba(x_val[:5])
    mixed = stack.combine(deep, x_val[:5])
    np.testing.assert_allclose(mixed, 0.25 * deep + 0.75 * forest, atol=1e-6)


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_a_weight_outside_0_to_1_is_refused(weight):
    with pytest.raises(ValueError, match=r"weight must be in \[0, 1\]"):
        StackConfig(forest=True, weight=weight)


@pytest.mark.parametrize("weight", ["half", True])
def test_a_weight_that_is_not_a_number_is_refused(weight):
    with pytest.raises(ValueError, match=r"weight must be a number in \[0, 1\] or null"):
        StackConfig(forest=True, weight=weight)
