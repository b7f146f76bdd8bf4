"""Weight initialisation schemes, chosen by name (``--init``).

Every scheme draws from an explicit ``np.random.Generator``: nothing global, so the same seed
gives the same weights. Biases always start at zero.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .errors import ConfigError

Initializer = Callable[[np.random.Generator, int, int], np.ndarray]


def he_normal(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """He et al. (2015), notes eq. (17): ``W ~ N(0, 2 / n_in)``.

    ReLU zeroes half of its inputs on average, so the variance 2/n_in keeps the variance of the
    pre-activations the same from layer to layer.
    """
    return rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))


def xavier_uniform(rng: np.random.Generator, n_in: int, n_out: int) -> np.ndarray:
    """Glorot and Bengio (2010), notes eq. (18): ``W ~ U(-r, r)``, ``r = sqrt(6 / (n_in + n_out))``.

    Balances the variance of the forward signal and of the backward gradient for activations
    that are linear around 0 (tanh, sigmoid).
    """
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out))


def uniform(scale: float) -> Initializer:
    """``W ~ U(-scale, scale)``: the fixed range introductory texts use (0.1, or 0.5 in the seed)."""
    return lambda rng, n_in, n_out: rng.uniform(-scale, scale, size=(n_in, n_out))


def normal(std: float) -> Initializer:
    """``W ~ N(0, std^2)``: the fixed small normal introductory texts use (often 0.01)."""
    return lambda rng, n_in, n_out: rng.normal(0.0, std, size=(n_in, n_out))


FIXED_SCHEMES: dict[str, Initializer] = {"he": he_normal, "xavier": xavier_uniform}
SCALED_SCHEMES: dict[str, tuple[Callable[[float], Initializer], float]] = {
    "uniform": (uniform, 0.1),
    "normal": (normal, 0.01),
}
INIT_NAMES = ("auto", *FIXED_SCHEMES, "uniform[:SCALE]", "normal[:STD]")
DEFAULT_FOR_ACTIVATION = {"relu": "he", "leaky_relu": "he", "sigmoid": "xavier", "tanh": "xavier"}


def get_initializer(spec: str, activation: str = "relu") -> Initializer:
    """Turn ``--init`` text into an initializer.

    ``spec`` is ``auto`` (He for ReLU-like activations, Xavier for sigmoid/tanh), ``he``,
    ``xavier``, ``uniform`` / ``uniform:0.5`` or ``normal`` / ``normal:0.01``.
    """
    if spec == "auto":
        spec = DEFAULT_FOR_ACTIVATION[activation]
    if spec in FIXED_SCHEMES:
        return FIXED_SCHEMES[spec]
    name, _, scale_text = spec.partition(":")
    if name not in SCALED_SCHEMES:
        raise ConfigError(f"unknown init {spec!r}; choose one of: {', '.join(INIT_NAMES)}")
    make, default_scale = SCALED_SCHEMES[name]
    try:
        scale = float(scale_text) if scale_text else default_scale
    except ValueError:
        raise ConfigError(f"init {spec!r}: {scale_text!r} is not a number") from None
    if not np.isfinite(scale) or scale <= 0:
        raise ConfigError(f"init {spec!r}: the scale must be a positive number")
    return make(scale)
