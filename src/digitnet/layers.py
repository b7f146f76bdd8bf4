"""Layers: a dense (fully connected) layer and an element-wise activation layer.

Shapes are batch-first: ``X`` is ``(n, n_in)``, ``W`` is ``(n_in, n_out)``, ``b`` is ``(n_out,)``.
``forward(X, cache=True)`` caches what ``backward`` needs (``cache=False`` stores nothing, so
several threads may run it at once); ``backward`` takes ``dL/d(output)`` and returns
``dL/d(input)``, storing parameter gradients as ``dW`` and ``db``.

A training step allocates nothing (``workspace.py``): ``forward(X, training=True)`` writes its
output into an array the layer keeps and overwrites at its next training forward, and
``backward`` writes ``dL/d(input)`` into one it overwrites at its next backward. Other
forward passes return new arrays.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .functional import ACTIVATIONS
from .workspace import Workspace


class Dense:
    """``Z = X W + b`` (notes eq. (1)).

    Attributes: ``W`` ``(n_in, n_out)``, ``b`` ``(n_out,)``, and after ``backward`` their
    gradients ``dW``, ``db`` of the same shapes.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray):
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ConfigError(f"Dense: W {W.shape} and b {b.shape} do not fit together")
        self.W = W
        self.b = b
        self.dW = np.zeros_like(W)
        self.db = np.zeros_like(b)
        self._X: np.ndarray | None = None
        self._buffers = Workspace()

    @property
    def n_in(self) -> int:
        return self.W.shape[0]

    @property
    def n_out(self) -> int:
        return self.W.shape[1]

    def parameters(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    def gradients(self) -> dict[str, np.ndarray]:
        return {"W": self.dW, "b": self.db}

    def forward(self, X: np.ndarray, cache: bool = True, training: bool = False) -> np.ndarray:
        """``X`` ``(n, n_in)`` -> ``Z = X W + b`` ``(n, n_out)``, notes eq. (1)."""
        if cache:
            self._X = X
        out = self._buffers.array("Z", (X.shape[0], self.n_out), np.result_type(X, self.W)) if training else None
        Z = np.matmul(X, self.W, out=out)
        Z += self.b  # in place: no second (n, n_out) array
        return Z

    def backward(self, dZ: np.ndarray, need_dX: bool = True) -> np.ndarray | None:
        """Given ``dZ = dL/dZ`` ``(n, n_out)``, store ``dW``, ``db``; return ``dX`` ``(n, n_in)``.

        notes eq. (7)-(9): ``dW = X^T dZ``, ``db = sum over the batch of dZ``, ``dX = dZ W^T``.
        The bias gradient sums over axis 0 only (one number per neuron); summing over every
        axis, as the seed notebook did, gives all neurons the same scalar. The first layer has
        no use for ``dX``, so ``need_dX=False`` skips that product.
        """
        X = cached(self._X, "Dense")
        np.matmul(X.T, dZ, out=self.dW)
        np.sum(dZ, axis=0, out=self.db)
        if not need_dX:
            return None
        dX = self._buffers.array("dX", (dZ.shape[0], self.n_in), np.result_type(dZ, self.W))
        return np.matmul(dZ, self.W.T, out=dX)


class Activation:
    """An element-wise non-linearity ``A = f(Z)`` (notes eq. (2)), chosen by name."""

    def __init__(self, name: str):
        if name not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
        self.name = name
        self._functions = ACTIVATIONS[name]
        self._Z: np.ndarray | None = None
        self._A: np.ndarray | None = None
        self._buffers = Workspace()

    def parameters(self) -> dict[str, np.ndarray]:
        return {}

    def gradients(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, Z: np.ndarray, cache: bool = True, training: bool = False) -> np.ndarray:
        A = self._functions.forward(Z, out=self._buffers.array("A", Z.shape, Z.dtype) if training else None)
        if cache:
            self._Z, self._A = Z, A
        return A

    def backward(self, dA: np.ndarray, need_dX: bool = True) -> np.ndarray:
        """notes eq. (10): ``dZ = dA * f'(Z)`` (element-wise), ``f'(Z)`` computed in ``dZ``'s array."""
        Z, A = cached(self._Z, "Activation"), cached(self._A, "Activation")
        dZ = self._functions.derivative(Z, A, out=self._buffers.array("dZ", Z.shape, np.result_type(dA, Z)))
        dZ *= dA
        return dZ


class Dropout:
    """Inverted dropout (Srivastava et al., 2014), notes eq. (21), active only while training.

    Each activation is kept with probability ``1 - rate`` and scaled by ``1 / (1 - rate)``:
    ``A_out = A * M``, ``M = Bernoulli(1 - rate) / (1 - rate)``, so its expected value is
    unchanged and inference uses the network as it is. Backward: ``dA = dA_out * M``.
    The mask comes from an explicit generator, so a seeded run is reproducible.
    """

    def __init__(self, rate: float, rng: np.random.Generator):
        if not 0 <= rate < 1:
            raise ConfigError(f"dropout rate must be in [0, 1), got {rate}")
        self.rate = rate
        self.rng = rng
        self._mask: np.ndarray | None = None

    def parameters(self) -> dict[str, np.ndarray]:
        return {}

    def gradients(self) -> dict[str, np.ndarray]:
        return {}

    def forward(self, A: np.ndarray, cache: bool = True, training: bool = True) -> np.ndarray:
        keep = self.rng.random(A.shape, dtype=A.dtype) >= self.rate
        mask = keep * A.dtype.type(1 / (1 - self.rate))
        if cache:
            self._mask = mask
        return A * mask

    def backward(self, dA: np.ndarray, need_dX: bool = True) -> np.ndarray:
        return dA * cached(self._mask, "Dropout")


def cached(value: np.ndarray | None, owner: str) -> np.ndarray:
    """What ``forward`` stored for ``backward``; a clear error when there was no such forward."""
    if value is None:
        raise RuntimeError(f"{owner}.backward needs a forward pass (with cache=True) first")
    return value
