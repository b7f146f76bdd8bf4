"""How accuracy falls as test images are damaged: noise, rotation, translation, scaling, stroke width.

Each ``Perturbation`` turns images ``(n, 784)`` in [0, 1] into damaged copies of the same shape
at a given strength; strength 0 (1 for scaling) is the identity. The geometric ones use the
sampling grids and bilinear reading of ``augment.py``, the same code that distorts training
batches. Where a direction is needed (which way to rotate or shift), each image draws its own
from a seeded generator, so a curve does not favour one direction and repeats exactly.
``robustness_curves`` measures a network's accuracy at every strength of each perturbation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .augment import SIDE, affine_grid, inverse_affine_matrices, warp
from .errors import ConfigError
from .network import Network


def gaussian_noise(X: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``clip(x + N(0, std^2), 0, 1)`` independently per pixel."""
    noise = rng.normal(0.0, std, size=X.shape).astype(np.float32)
    return np.clip(X + noise, 0, 1)


def affine(X: np.ndarray, angle: np.ndarray, scale: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Rotate by ``angle`` (radians) and scale about the centre, then shift by ``offsets``
    ``(n, 2)`` (rows, columns), one of each per image."""
    matrices = inverse_affine_matrices(angle, np.zeros(len(X)), scale)
    return warp(X.reshape(-1, SIDE, SIDE).astype(np.float32), affine_grid(matrices, offsets))


def rotation(X: np.ndarray, degrees: float, rng: np.random.Generator) -> np.ndarray:
    """Each image turned by ``degrees``, clockwise or anticlockwise at random."""
    n = len(X)
    angle = np.radians(degrees) * rng.choice([-1.0, 1.0], size=n)
    return affine(X, angle, np.ones(n), np.zeros((n, 2)))


def translation(X: np.ndarray, pixels: float, rng: np.random.Generator) -> np.ndarray:
    """Each image shifted ``pixels`` in a random direction (ink pushed past the edge is lost)."""
    n = len(X)
    direction = rng.uniform(0, 2 * np.pi, size=n)
    offsets = pixels * np.stack([np.sin(direction), np.cos(direction)], axis=-1)
    return affine(X, np.zeros(n), np.ones(n), offsets)


def scaling(X: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """Each image scaled by ``factor`` about the centre (MNIST digits fill about 20 of 28 pixels)."""
    n = len(X)
    return affine(X, np.zeros(n), np.full(n, factor), np.zeros((n, 2)))


CROSS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))  # the pixel and its four neighbours


def dilate(images: np.ndarray) -> np.ndarray:
    """Grayscale dilation of ``(n, 28, 28)`` by a 3x3 cross: each pixel becomes the largest of
    itself and its four neighbours, so strokes grow one pixel on every side."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    shifted = [padded[:, 1 + dr : 1 + dr + SIDE, 1 + dc : 1 + dc + SIDE] for dr, dc in CROSS]
    return np.max(shifted, axis=0)


def erode(images: np.ndarray) -> np.ndarray:
    """Grayscale erosion by the same cross (the smallest of the five): strokes lose a pixel a side."""
    return 1 - dilate(1 - images)


def stroke_width(X: np.ndarray, pixels: float, rng: np.random.Generator) -> np.ndarray:
    """Strokes thickened (``pixels > 0``, dilation) or thinned (``< 0``, erosion) by ``|pixels|``
    on each side; a fractional part blends with the next whole step (ink is anti-aliased, so a
    half-covered edge pixel is what half a pixel more looks like)."""
    images = X.reshape(-1, SIDE, SIDE).astype(np.float32)
    step = dilate if pixels > 0 else erode
    whole, fraction = divmod(abs(pixels), 1.0)
    for _ in range(int(whole)):
        images = step(images)
    if fraction:
        images = images + np.float32(fraction) * (step(images) - images)
    return images.reshape(len(X), -1)


@dataclass(frozen=True)
class Perturbation:
    """A damage with its strengths to measure (``identity`` is the undamaged strength)."""

    name: str
    apply: Callable[[np.ndarray, float, np.random.Generator], np.ndarray]
    strengths: tuple[float, ...]
    unit: str
    identity: float = 0.0


PERTURBATIONS = {
    p.name: p
    for p in (
        Perturbation("noise", gaussian_noise, (0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6), "noise std (pixels in [0, 1])"),
        Perturbation("rotation", rotation, (0, 10, 20, 30, 40, 50, 60), "degrees"),
        Perturbation("translation", translation, (0, 1, 2, 3, 4, 5, 6), "pixels"),
        Perturbation("scaling", scaling, (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4), "scale factor", 1.0),
        Perturbation("stroke", stroke_width, (-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5), "pixels added per side"),
    )
}


def get_perturbation(name: str) -> Perturbation:
    if name not in PERTURBATIONS:
        raise ConfigError(f"unknown perturbation {name!r}; choose from: {', '.join(PERTURBATIONS)}")
    return PERTURBATIONS[name]


def robustness_curves(
    network: Network, X: np.ndarray, labels: np.ndarray, names=tuple(PERTURBATIONS), seed: int = 0
) -> dict[str, dict]:
    """For each perturbation: ``{"unit", "strengths", "accuracy"}``, the accuracy of ``network`` on
    ``X`` ``(n, 784)`` damaged at each strength. Every (perturbation, strength) draws its random
    directions from its own generator seeded by ``seed``, so any one point can be recomputed alone."""
    curves = {}
    for name in names:
        perturbation = get_perturbation(name)
        accuracies = []
        for strength in perturbation.strengths:
            damaged = perturbation.apply(X, strength, np.random.default_rng(seed))
            accuracies.append(float(np.mean(network.predict(damaged.astype(network.dtype)) == labels)))
        curves[name] = {"unit": perturbation.unit, "strengths": list(perturbation.strengths), "accuracy": accuracies}
    return curves
