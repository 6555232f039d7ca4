"""Integrated gradients through the backend's own autodiff, and explanations: a
model whose output reads one lead ranks that lead first; completeness; shapes."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ecgml.inference.attribution import input_gradients, integrated_gradients, lead_occlusion


def one_lead_model(n_leads: int, lead: int, n_classes: int = 2, length: int | None = None):
    """Class 0's probability depends on lead ``lead`` alone (a 1x1 convolution that
    reads only it), class 1's on nothing but a bias."""
    inputs = keras.Input((length, n_leads))
    conv = keras.layers.Conv1D(n_classes, 1)
    hidden = keras.layers.GlobalAveragePooling1D()(conv(inputs))
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(hidden))
    kernel = np.zeros((1, n_leads, n_classes), dtype=np.float32)
    kernel[0, lead, 0] = 3.0
    bias = np.full(n_classes, 0.5, dtype=np.float32)
    bias[0] = -1.0
    conv.set_weights([kernel, bias])
    return model


def test_gradients_match_the_analytic_derivative() -> None:
    model = one_lead_model(3, lead=1, length=8)
    x = np.random.default_rng(0).normal(size=(2, 8, 3)).astype(np.float32)
    grads = input_gradients(model, x, 0)
    p = np.asarray(model.predict_on_batch(x))[:, 0]
    # d sigmoid(3 mean(x[:, :, 1]) - 1) / dx[t, 1] = p (1 - p) 3 / 8
    np.testing.assert_allclose(
        grads[:, :, 1], np.repeat((p * (1 - p) * 3 / 8)[:, None], 8, 1), rtol=1e-4
    )
    assert np.all(grads[:, :, [0, 2]] == 0)


def test_integrated_gradients_are_complete_and_only_on_the_lead_that_matters() -> None:
    model = one_lead_model(4, lead=2, length=50)
    x = np.random.default_rng(1).normal(0.5, 1.0, size=(3, 50, 4)).astype(np.float32)
    attr = integrated_gradients(model, x, 0, steps=64)
    assert attr.shape == x.shape
    full = np.asarray(model.predict_on_batch(x))[:, 0]
    zero = np.asarray(model.predict_on_batch(np.zeros_like(x)))[:, 0]
    np.testing.assert_allclose(attr.sum(axis=(1, 2)), full - zero, atol=2e-3)  # completeness
    assert np.all(attr[:, :, [0, 1, 3]] == 0)
    # a class that reads no lead gets no attribution
    assert np.abs(integrated_gradients(model, x, 1, steps=8)).max() < 1e-6


def test_zeroing_the_lead_that_matters_moves_the_probability() -> None:
    model = one_lead_model(3, lead=0, length=20)
    x = np.full((1, 20, 3), 0.8, dtype=np.float32)
    dropped = lead_occlusion([model], x, 0, [0, 1, 2])
    assert dropped.shape == (3, 1)
    base = float(np.asarray(model.predict_on_batch(x))[0, 0])
    assert dropped[0, 0] < base - 0.2 and dropped[1, 0] == pytest.approx(base)


def test_bad_steps_are_refused() -> None:
    with pytest.raises(ValueError, match="steps"):
        integrated_gradients(one_lead_model(2, 0, length=4), np.zeros((1, 4, 2)), 0, steps=0)
