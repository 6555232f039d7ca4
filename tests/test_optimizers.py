import keras
import numpy as np
import pytest

from ecgml.optimizers import RAdam


def radam_reference(
    grad_fn,
    theta,
    steps,
    *,
    lr,
    beta_1,
    beta_2,
    eps,
    total_steps=0,
    warmup_proportion=0.1,
    min_lr=0.0,
):
    """Liu et al. (2020), Algorithm 2, in numpy; warm-up as tensorflow-addons had it."""
    theta = np.array(theta, dtype=np.float64)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    rho_inf = 2.0 / (1.0 - beta_2) - 1.0
    trajectory = []
    for t in range(1, steps + 1):
        g = grad_fn(theta)
        lr_t = lr
        if total_steps:
            warmup = total_steps * warmup_proportion
            if t <= warmup:
                lr_t = lr * t / warmup
            else:
                decay = max(total_steps - warmup, 1)
                lr_t = lr + (min_lr - lr) / decay * min(t - warmup, decay)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_hat = m / (1 - beta_1**t)
        rho_t = rho_inf - 2 * t * beta_2**t / (1 - beta_2**t)
        if rho_t > 5:
            l_t = 1.0 / (np.sqrt(v / (1 - beta_2**t)) + eps)
            r_t = np.sqrt(
                (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
            )
            theta = theta - lr_t * r_t * m_hat * l_t
        else:
            theta = theta - lr_t * m_hat
        trajectory.append(theta.copy())
    return np.array(trajectory)


def run_keras(optimizer, grad_fn, theta, steps):
    var = keras.Variable(np.array(theta, dtype=np.float32))
    trajectory = []
    for _ in range(steps):
        g = grad_fn(keras.ops.convert_to_numpy(var).astype(np.float64)).astype(np.float32)
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
        trajectory.append(keras.ops.convert_to_numpy(var).copy())
    return np.array(trajectory)


def quadratic_grad(theta):
    return np.array([2.0, 0.5, -1.0]) * (theta - np.array([1.0, -2.0, 0.5]))


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.05, "beta_1": 0.9, "beta_2": 0.9, "eps": 1e-7},  # rectified from step 6
        {"lr": 0.01, "beta_1": 0.8, "beta_2": 0.999, "eps": 1e-6},  # rectified from step 6
        {
            "lr": 0.05,
            "beta_1": 0.9,
            "beta_2": 0.9,
            "eps": 1e-7,
            "total_steps": 25,
            "warmup_proportion": 0.2,
            "min_lr": 1e-3,
        },
    ],
)
def test_update_matches_the_numpy_reference(settings):
    theta0 = [3.0, 1.0, -1.0]
    expected = radam_reference(quadratic_grad, theta0, 40, **settings)
    optimizer = RAdam(
        learning_rate=settings["lr"],
        beta_1=settings["beta_1"],
        beta_2=settings["beta_2"],
        epsilon=settings["eps"],
        total_steps=settings.get("total_steps", 0),
        warmup_proportion=settings.get("warmup_proportion", 0.1),
        min_lr=settings.get("min_lr", 0.0),
    )
    got = run_keras(optimizer, quadratic_grad, theta0, 40)
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=2e-5)


def test_first_steps_are_the_unadapted_momentum_step():
    # step 1: rho_1 = 1 < 5, so theta moves by lr * m_hat = lr * g (not lr * sign(g) as in Adam)
    got = run_keras(RAdam(learning_rate=0.1, beta_2=0.9), quadratic_grad, [3.0, 1.0, -1.0], 1)
    np.testing.assert_allclose(
        got[0],
        np.array([3.0, 1.0, -1.0]) - 0.1 * quadratic_grad(np.array([3.0, 1.0, -1.0])),
        rtol=1e-6,
    )


def test_learning_rate_stays_assignable_for_reduce_lr_on_plateau():
    optimizer = RAdam(learning_rate=1e-3, total_steps=100)
    optimizer.learning_rate = 1e-4
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(1e-4)


def test_config_round_trip():
    optimizer = RAdam(
        learning_rate=2e-3, total_steps=50, warmup_proportion=0.2, min_lr=1e-5, weight_decay=1e-4
    )
    clone = RAdam.from_config(optimizer.get_config())
    assert clone.get_config() == optimizer.get_config()


def test_invalid_warmup_proportion():
    with pytest.raises(ValueError, match="warmup_proportion"):
        RAdam(warmup_proportion=1.5)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a tf.Variable needs TF")
@pytest.mark.parametrize("layer_lr_scale", [None, {"dense": 0.5}])
def test_a_plain_tf_variable_steps_as_a_keras_variable(layer_lr_scale):
    import tensorflow as tf

    settings = {
        "learning_rate": 0.05,
        "beta_2": 0.9,
        "total_steps": 20,
        "layer_lr_scale": layer_lr_scale,
    }
    theta0 = np.array([3.0, 1.0, -1.0], np.float32)
    plain = tf.Variable(theta0)
    optimizer = RAdam(**settings)
    for _ in range(12):
        g = quadratic_grad(plain.numpy().astype(np.float64)).astype(np.float32)
        optimizer.apply_gradients([(tf.constant(g), plain)])
    expected = run_keras(RAdam(**settings), quadratic_grad, theta0, 12)[-1]
    np.testing.assert_allclose(plain.numpy(), expected, rtol=1e-6)
