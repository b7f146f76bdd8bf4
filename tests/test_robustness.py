"""Robustness perturbations: shapes and labels kept, exact on small cases, and accuracy that falls
as the damage grows on real test digits."""

import numpy as np
import pytest

from digitnet.data import scale_images
from digitnet.errors import ConfigError
from digitnet.robustness import PERTURBATIONS, dilate, erode, get_perturbation, robustness_curves, stroke_width


def dot(row: int, col: int) -> np.ndarray:
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, row, col] = 1
    return image


def test_dilation_grows_a_dot_into_a_cross_and_erosion_removes_it():
    grown = dilate(dot(10, 10))[0]
    assert set(zip(*np.nonzero(grown))) == {(10, 10), (9, 10), (11, 10), (10, 9), (10, 11)}
    np.testing.assert_array_equal(erode(grown[None])[0], dot(10, 10)[0])  # the cross shrinks back to its centre
    assert erode(dot(10, 10)).max() == 0


def test_half_a_pixel_of_stroke_is_half_way_to_the_next_whole_step():
    image = dot(5, 5).reshape(1, -1)
    half = stroke_width(image, 0.5, np.random.default_rng(0)).reshape(28, 28)
    assert half[5, 5] == 1 and half[4, 5] == 0.5 and half[3, 5] == 0


@pytest.mark.parametrize("name", PERTURBATIONS)
def test_every_perturbation_keeps_shape_dtype_range_and_its_identity(name, mnist_test):
    perturbation = PERTURBATIONS[name]
    X = scale_images(mnist_test.images[:50])
    labels_before = mnist_test.labels[:50].copy()
    for strength in perturbation.strengths:
        damaged = perturbation.apply(X, strength, np.random.default_rng(0))
        assert damaged.shape == X.shape and damaged.dtype == np.float32
        assert damaged.min() >= 0 and damaged.max() <= 1
    identity = perturbation.apply(X, perturbation.identity, np.random.default_rng(0))
    np.testing.assert_allclose(identity, X, atol=1e-6)
    np.testing.assert_array_equal(mnist_test.labels[:50], labels_before)  # the curves score these labels


def test_a_shift_moves_the_ink_by_its_length_and_keeps_it():
    image = dot(10, 10).reshape(1, -1)
    shifted = PERTURBATIONS["translation"].apply(image, 1.5, np.random.default_rng(3)).reshape(28, 28)
    rows, cols = np.indices((28, 28))
    centre = np.array([(rows * shifted).sum(), (cols * shifted).sum()]) / shifted.sum()
    # bilinear reading spreads the dot over its neighbours but moves its centre exactly
    assert np.linalg.norm(centre - [10, 10]) == pytest.approx(1.5, abs=1e-4)
    assert shifted.sum() == pytest.approx(1.0, abs=1e-5)  # ink moved, none added or lost


def test_unknown_perturbation_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown perturbation 'blur'; choose from: noise, rotation, translation"):
        get_perturbation("blur")


def test_accuracy_falls_monotonically_as_damage_grows_on_real_digits(small_trained, mnist_test):
    network = small_trained[0]
    X, labels = scale_images(mnist_test.images[:1000]), mnist_test.labels[:1000]
    curves = robustness_curves(network, X, labels)
    assert set(curves) == set(PERTURBATIONS)
    for name, curve in curves.items():
        strengths, accuracy = np.array(curve["strengths"]), np.array(curve["accuracy"])
        identity = PERTURBATIONS[name].identity
        # away from the identity in either direction, every step hurts (or at least does not help)
        for side in (strengths >= identity, strengths <= identity):
            ordered = accuracy[side][np.argsort(np.abs(strengths[side] - identity))]
            assert np.all(np.diff(ordered) <= 0.005), f"{name}: {dict(zip(strengths, accuracy))}"
        assert accuracy[strengths == identity][0] - accuracy.min() > 0.3, f"{name} never hurts"
    assert curves["noise"]["accuracy"][0] == pytest.approx(np.mean(network.predict(X) == labels))
