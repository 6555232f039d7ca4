"""Attributions: how much each input sample moved one class's probability.

**Integrated gradients** (Sundararajan et al., 2017) is the method: the gradient of
the class's probability with respect to the input, averaged along the straight
path from a baseline (a flat zero signal, the 0 mV line) to the input, times the
input's difference from that baseline. Its attributions add up to the change in
probability from baseline to input (completeness), and, unlike Grad-CAM on the
last convolutional block, they have the input's own resolution (every lead, every
sample) whatever the architecture: the SE-ResNet, xresnet1d, Inception, the beat
CNNs and MobileNetV3 alike, with no layer to name. The gradients are the
backend's own: ``tf.GradientTape`` under TensorFlow, ``jax.grad`` of the model's
``stateless_call`` under JAX, ``torch.autograd`` under PyTorch.

**Occlusion** needs no gradient: the fall in probability when one lead (or one
stretch of time) is set to zero. It is what the faithfulness benchmark measures
explanations against, and is here for models whose gradients are not available.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

STEPS = 32  # points on the path; the Riemann sum's error falls as 1 / steps


def _inputs(x: Any, features: np.ndarray | None) -> Any:
    return x if features is None else {"ecg": x, "features": features}


def input_gradients(
    model: keras.Model, x: np.ndarray, class_index: int, *, features: np.ndarray | None = None
) -> np.ndarray:
    """The gradient of ``model``'s output ``class_index`` with respect to ``x``
    ``(n, ...)``, one per input, through the backend's own autodiff; float32."""
    x = np.asarray(x, dtype=np.float32)
    feats = None if features is None else np.asarray(features, dtype=np.float32)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        ft = None if feats is None else tf.convert_to_tensor(feats)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = model(_inputs(xt, ft), training=False)[:, class_index]
        return np.asarray(tape.gradient(y, xt), dtype=np.float32)
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in model.trainable_variables]
        fixed = [v.value for v in model.non_trainable_variables]
        fj = None if feats is None else jnp.asarray(feats)

        def total(xj):
            y, _ = model.stateless_call(trainable, fixed, _inputs(xj, fj), training=False)
            return jnp.sum(y[:, class_index])

        return np.asarray(jax.grad(total)(jnp.asarray(x)), dtype=np.float32)
    if backend == "torch":
        xt = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        ft = None if feats is None else keras.ops.convert_to_tensor(feats)
        y = model(_inputs(xt, ft), training=False)[:, class_index]
        y.sum().backward()
        return xt.grad.detach().cpu().numpy().astype(np.float32)
    raise ValueError(f"no gradient path for the Keras backend {backend!r}")


def integrated_gradients(
    model: keras.Model,
    x: np.ndarray,
    class_index: int,
    *,
    features: np.ndarray | None = None,
    steps: int = STEPS,
    batch_size: int = 64,
) -> np.ndarray:
    """Integrated gradients of output ``class_index`` for inputs ``x`` ``(n, ...)``
    from the zero baseline, the same shape as ``x``; float32.

    The path's ``steps`` points are the midpoints of equal intervals (the
    midpoint rule); the points of all inputs go through the model together, in
    batches of ``batch_size``.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    x = np.asarray(x, dtype=np.float32)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(np.float32)
    total = np.zeros(x.shape, dtype=np.float64)
    for start in range(0, len(x) * steps, batch_size):
        point = np.arange(start, min(start + batch_size, len(x) * steps))
        owner, alpha = point // steps, alphas[point % steps]
        path = alpha.reshape(-1, *([1] * (x.ndim - 1))) * x[owner]
        feats = None if features is None else np.asarray(features, np.float32)[owner]
        np.add.at(total, owner, input_gradients(model, path, class_index, features=feats))
    return (x * total / steps).astype(np.float32)


def lead_occlusion(
    models: list[keras.Model],
    x: np.ndarray,
    class_index: int,
    leads: list[int] | np.ndarray,
    *,
    features: np.ndarray | None = None,
) -> np.ndarray:
    """The members' mean probability of ``class_index`` for inputs ``x``
    ``(n, time, n_leads)`` with each lead of ``leads`` zeroed in turn:
    ``(len(leads), n)``."""
    from ecgml.inference.prediction import predict_members

    rows = []
    for lead in leads:
        masked = np.array(x, dtype=np.float32, copy=True)
        masked[..., lead] = 0.0
        scores = predict_members(models, masked, features=features)
        rows.append(scores[:, :, class_index].mean(axis=0))
    return np.stack(rows)
