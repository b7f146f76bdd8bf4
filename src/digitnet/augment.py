"""Data augmentation for MNIST, on the fly, per batch, vectorised over the batch.

Two families, as in Simard, Steinkraus and Platt (2003), "Best practices for convolutional
neural networks applied to visual document analysis":

- affine: a small random rotation, scaling, shear and translation of each digit;
- elastic: a random displacement field, smoothed by a Gaussian of width ``sigma`` and scaled by
  ``alpha``, so nearby pixels move together like ink on a stretched sheet.

Both are expressed as a *sampling grid*: for every output pixel, the (row, column) of the input
to read, which is then read with bilinear interpolation (pixels outside the image are 0). The
whole batch is transformed at once with array operations; there is no per-image Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

SIDE = 28
CENTRE = (SIDE - 1) / 2  # 13.5: rotations and scalings keep the middle of the image in place
AUGMENTATIONS = ("none", "affine", "elastic")


@dataclass(frozen=True)
class AugmentSettings:
    """``kind`` is one of ``AUGMENTATIONS``. Affine strengths are the largest values drawn
    (uniformly in ``[-x, x]``): ``rotation`` and ``shear`` in degrees, ``scale`` as a fraction
    (0.1: 90%-110%), ``translate`` in pixels. Elastic: ``alpha`` (pixels) and ``sigma``
    (pixels), Simard et al. used alpha = 34, sigma = 4 for MNIST."""

    kind: str = "none"
    rotation: float = 12.0
    scale: float = 0.12
    shear: float = 12.0
    translate: float = 2.5
    alpha: float = 34.0
    sigma: float = 4.0

    def __post_init__(self):
        if self.kind not in AUGMENTATIONS:
            raise ConfigError(f"unknown augmentation {self.kind!r}; choose one of: {', '.join(AUGMENTATIONS)}")
        strengths = {
            "rotation": self.rotation,
            "scale": self.scale,
            "shear": self.shear,
            "translate": self.translate,
            "alpha": self.alpha,
        }
        negative = [name for name, value in strengths.items() if not value >= 0]
        if negative or not self.sigma > 0 or self.scale >= 1:
            raise ConfigError(f"augmentation strengths must be >= 0 (sigma > 0, scale < 1): {self}")


def identity_grid() -> np.ndarray:
    """``(2, 28, 28)``: the row and column coordinate of every pixel."""
    return np.stack(np.meshgrid(np.arange(SIDE), np.arange(SIDE), indexing="ij")).astype(np.float32)


def random_affine(n: int, rng: np.random.Generator, settings: AugmentSettings) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random affine maps from output to input coordinates: matrices ``(n, 2, 2)`` and
    offsets ``(n, 2)``, for ``input = A (output - c) + c + t``.

    ``A`` is the inverse of the forward transform rotation x shear x scale: to move the digit
    one way, each output pixel must read from the other way.
    """

    def draw(limit):
        return rng.uniform(-limit, limit, size=n)

    angle, shear = np.radians(draw(settings.rotation)), np.radians(draw(settings.shear))
    scale = 1 + draw(settings.scale)
    offsets = np.stack([draw(settings.translate), draw(settings.translate)], axis=-1)
    return inverse_affine_matrices(angle, shear, scale), offsets


def inverse_affine_matrices(angle: np.ndarray, shear: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(n, 2, 2)``: the inverses of rotation(``angle``) x shear(``shear``) x ``scale``, angles in
    radians, one of each per image: what ``affine_grid`` takes to move the digit that way."""
    cos, sin = np.cos(angle), np.sin(angle)
    rotation = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    shearing = np.zeros((len(angle), 2, 2))
    shearing[:, 0, 0] = shearing[:, 1, 1] = 1
    shearing[:, 1, 0] = np.tan(shear)  # column shifts in proportion to the row
    return np.linalg.inv(rotation @ shearing * scale[:, None, None])


def affine_grid(matrices: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Sampling grid ``(n, 2, 28, 28)`` of ``input = A (output - c) + c - t`` for each image.

    With ``A`` the identity and ``t = (dr, dc)`` the digit moves ``dr`` rows down and ``dc``
    columns right.
    """
    centred = identity_grid().reshape(2, -1) - CENTRE
    grid = matrices @ centred + CENTRE - offsets[:, :, None]
    return grid.reshape(-1, 2, SIDE, SIDE).astype(np.float32)


def gaussian_smoothing_matrix(sigma: float) -> np.ndarray:
    """``G`` ``(28, 28)`` such that ``G @ f @ G.T`` is ``f`` convolved with a 2-D Gaussian of
    width ``sigma`` (zero outside the image), so smoothing a batch is two matrix products."""
    offsets = np.arange(SIDE)[:, None] - np.arange(SIDE)[None, :]
    kernel = np.exp(-(offsets**2) / (2 * sigma**2))
    full_kernel_sum = np.exp(-(np.arange(-3 * SIDE, 3 * SIDE) ** 2) / (2 * sigma**2)).sum()
    return (kernel / full_kernel_sum).astype(np.float32)


def elastic_displacements(n: int, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """``(n, 2, 28, 28)`` displacement fields: uniform noise in [-1, 1] per pixel and direction,
    Gaussian-smoothed (width ``sigma``) and scaled by ``alpha`` (Simard et al. 2003, section 2)."""
    noise = rng.uniform(-1, 1, size=(n, 2, SIDE, SIDE)).astype(np.float32)
    G = gaussian_smoothing_matrix(sigma)
    return np.float32(alpha) * (G @ noise @ G.T)


def bilinear_sample(images: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Read ``images`` ``(n, 28, 28)`` at the fractional coordinates ``grid`` ``(n, 2, 28, 28)``.

    Each output pixel mixes its four input neighbours, weighted by closeness; neighbours outside
    the image count as 0 (background). A one-pixel zero border makes that a plain gather.
    """
    n = images.shape[0]
    padded = np.zeros((n, SIDE + 2, SIDE + 2), dtype=np.float32)
    padded[:, 1:-1, 1:-1] = images
    flat = padded.reshape(-1)
    rows, cols = grid[:, 0], grid[:, 1]
    top, left = np.floor(rows), np.floor(cols)
    row_weight, col_weight = rows - top, cols - left
    image_start = (np.arange(n) * (SIDE + 2) ** 2)[:, None, None]

    def gather(r, c):  # coordinates outside the image land on the zero border
        r = np.clip(r, -1, SIDE).astype(np.int64) + 1
        c = np.clip(c, -1, SIDE).astype(np.int64) + 1
        return flat[image_start + r * (SIDE + 2) + c]

    upper = gather(top, left) * (1 - col_weight) + gather(top, left + 1) * col_weight
    lower = gather(top + 1, left) * (1 - col_weight) + gather(top + 1, left + 1) * col_weight
    return upper * (1 - row_weight) + lower * row_weight


def augment_batch(images: np.ndarray, rng: np.random.Generator, settings: AugmentSettings) -> np.ndarray:
    """uint8 ``(n, 784)`` -> float32 ``(n, 784)`` in [0, 1], each image randomly transformed."""
    pixels = images.reshape(-1, SIDE, SIDE).astype(np.float32) * np.float32(1 / 255)
    n = pixels.shape[0]
    if settings.kind == "affine":
        grid = affine_grid(*random_affine(n, rng, settings))
    elif settings.kind == "elastic":
        grid = identity_grid() + elastic_displacements(n, rng, settings.alpha, settings.sigma)
    else:
        return pixels.reshape(n, -1)
    return warp(pixels, grid)


def warp(pixels: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """float32 ``(n, 28, 28)`` in [0, 1] read at ``grid`` ``(n, 2, 28, 28)`` -> ``(n, 784)`` in [0, 1]."""
    return np.clip(bilinear_sample(pixels, grid), 0, 1).reshape(len(pixels), -1)
