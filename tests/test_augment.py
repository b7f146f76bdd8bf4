"""Augmentation: what it must preserve, what it must move, and that training still works."""

import numpy as np
import pytest

from digitnet.augment import (
    AugmentSettings,
    affine_grid,
    augment_batch,
    bilinear_sample,
    elastic_displacements,
    identity_grid,
)
from digitnet.errors import ConfigError

NO_AFFINE = dict(rotation=0, scale=0, shear=0, translate=0)


@pytest.mark.parametrize("kind", ["none", "affine", "elastic"])
def test_shape_dtype_and_range(mnist_test, kind):
    out = augment_batch(mnist_test.images[:64], np.random.default_rng(0), AugmentSettings(kind=kind))
    assert out.shape == (64, 784) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert out.sum() > 0


@pytest.mark.parametrize("settings", [AugmentSettings("affine", **NO_AFFINE), AugmentSettings("elastic", alpha=0)])
def test_zero_strength_is_the_identity(mnist_test, settings):
    images = mnist_test.images[:32]
    out = augment_batch(images, np.random.default_rng(0), settings)
    np.testing.assert_allclose(out, images.astype(np.float32) / 255, atol=1e-6)


@pytest.mark.parametrize("kind", ["affine", "elastic"])
def test_same_seed_same_result_other_seed_other_result(mnist_test, kind):
    images, settings = mnist_test.images[:16], AugmentSettings(kind=kind)
    first = augment_batch(images, np.random.default_rng(5), settings)
    again = augment_batch(images, np.random.default_rng(5), settings)
    other = augment_batch(images, np.random.default_rng(6), settings)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def single_pixel(row, col):
    image = np.zeros((1, 28, 28), dtype=np.float32)
    image[0, row, col] = 1
    return image


def test_translation_moves_a_pixel_by_whole_pixels():
    grid = affine_grid(np.eye(2)[None], np.array([[3.0, -2.0]]))  # 3 rows down, 2 columns left
    out = bilinear_sample(single_pixel(10, 10), grid)
    assert out[0, 13, 8] == 1 and out.sum() == 1


def test_a_known_rotation_matrix_moves_a_known_pixel():
    # Sampling matrix A = [[0, 1], [-1, 0]] about the centre c = 13.5: output (r, q) reads input
    # (c + (q - c), c - (r - c)) = (q, 27 - r). Input pixel (5, 20) therefore lands at q = 5,
    # 27 - r = 20 -> r = 7: a quarter turn.
    grid = affine_grid(np.array([[[0.0, 1.0], [-1.0, 0.0]]]), np.zeros((1, 2)))
    out = bilinear_sample(single_pixel(5, 20), grid)
    assert out[0, 7, 5] == 1 and out.sum() == 1


def test_half_pixel_shift_splits_a_pixel_between_two_neighbours():
    grid = identity_grid()[None] - np.array([0.0, 0.5], dtype=np.float32)[None, :, None, None]
    out = bilinear_sample(single_pixel(10, 10), grid)
    assert out[0, 10, 10] == pytest.approx(0.5) and out[0, 10, 11] == pytest.approx(0.5)


def test_pixels_from_outside_the_image_are_background():
    grid = identity_grid()[None] + 40  # every output pixel reads far outside
    assert bilinear_sample(np.ones((1, 28, 28), dtype=np.float32), grid).max() == 0


def test_displacement_field_is_smooth_and_shrinks_as_sigma_grows():
    def mean_magnitude(sigma):
        return np.abs(elastic_displacements(200, np.random.default_rng(0), alpha=34, sigma=sigma)).mean()

    magnitudes = [mean_magnitude(sigma) for sigma in (1, 2, 4, 8)]
    assert magnitudes == sorted(magnitudes, reverse=True)
    field = elastic_displacements(50, np.random.default_rng(1), alpha=34, sigma=4)
    neighbour_change = np.abs(np.diff(field, axis=-1)).mean()
    assert neighbour_change < 0.25 * np.abs(field).mean()  # neighbours move together


@pytest.mark.parametrize("kind", ["affine", "elastic"])
def test_each_output_row_is_a_distortion_of_the_same_input_row(kind):
    # Training pairs augmented row i with label i, so no image may change rows. Each input is a
    # 10x10 square of its own grey level: moved, turned or bent, the inside of the square keeps
    # that exact level (bilinear reads of equal neighbours), so each output's brightest pixel
    # names the row it came from.
    levels = 60 + 3 * np.arange(64)
    images = np.zeros((64, 28, 28), dtype=np.uint8)
    images[:, 9:19, 9:19] = levels[:, None, None]
    out = augment_batch(images.reshape(64, 784), np.random.default_rng(0), AugmentSettings(kind))
    np.testing.assert_allclose(out.max(axis=1), levels / 255, rtol=1e-5)


def test_bad_settings():
    with pytest.raises(ConfigError, match="unknown augmentation 'mixup'; choose one of: none, affine, elastic"):
        AugmentSettings("mixup")
    with pytest.raises(ConfigError, match="augmentation strengths must be >= 0"):
        AugmentSettings("affine", rotation=-1)


@pytest.mark.parametrize("kind", ["affine", "elastic"])
def test_training_with_augmentation_still_learns_real_mnist(mnist_train, mnist_test, kind):
    from digitnet.metrics import evaluate
    from digitnet.training import TrainConfig, Trainer

    config = TrainConfig(hidden=(128,), epochs=3, augment=kind, patience=0)
    trainer = Trainer(
        config,
        mnist_train.subset(np.arange(10_000)),
        mnist_train.subset(np.arange(10_000, 11_000)),
        log=lambda line: None,
    )
    trainer.fit()
    assert evaluate(trainer.network, mnist_test).accuracy >= 0.93


def test_augmented_training_is_deterministic(synthetic_data):
    from digitnet.training import TrainConfig, Trainer

    def weights():
        config = TrainConfig(hidden=(16,), epochs=1, batch_size=20, augment="elastic", patience=0, seed=2)
        trainer = Trainer(config, synthetic_data.train, synthetic_data.test, log=lambda line: None)
        trainer.fit()
        return trainer.network.parameters()["dense0.W"]

    np.testing.assert_array_equal(weights(), weights())
