"""Grader of exercise 6: every gradient of the dense layer against central differences, with its
parameter's shape, and the bias gradient summed over the batch only."""

import numpy as np

from digitnet.layers import Dense


def setup(seed=0, n=5, n_in=4, n_out=3):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=n_out)
    G = rng.normal(size=(n, n_out))  # L = sum(G * Z), so dL/dZ = G
    return X, W, b, G


def numeric_gradient(loss, array, h=1e-6):
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + h
        plus = loss()
        array[index] = original - h
        gradient[index] = (plus - loss()) / (2 * h)
        array[index] = original
    return gradient


def test_every_gradient_has_its_parameters_shape(answer):
    X, W, b, G = setup()
    dW, db, dX = answer.dense_backward(X, W, G)
    assert (dW.shape, db.shape, dX.shape) == (W.shape, b.shape, X.shape)


def test_every_gradient_matches_central_differences(answer):
    X, W, b, G = setup(1)

    def loss():
        return np.sum(G * (X @ W + b))

    dW, db, dX = answer.dense_backward(X, W, G)
    for name, analytic, array in (("dW", dW, W), ("db", db, b), ("dX", dX, X)):
        np.testing.assert_allclose(analytic, numeric_gradient(loss, array), rtol=1e-6, atol=1e-9, err_msg=name)


def test_the_bias_gradient_is_one_number_per_neuron_as_in_digitnet(answer):
    X, W, b, G = setup(2)
    db = answer.dense_backward(X, W, G)[1]
    assert len(set(np.round(db, 12))) == len(db), "every neuron gets its own bias gradient (sum over axis 0 only)"
    layer = Dense(W, b)
    layer.forward(X)
    np.testing.assert_allclose(layer.backward(G), answer.dense_backward(X, W, G)[2], rtol=1e-12)
    np.testing.assert_allclose(layer.db, db, rtol=1e-12)
