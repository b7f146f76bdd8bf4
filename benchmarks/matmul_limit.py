"""The matmul limit: the matrix products of one training epoch, timed on their own.

For a network ``784-H-10`` a training step does five products: ``X W1`` and ``A1 W2`` forward,
``A1^T dZ2`` (dW2), ``dZ2 W2^T`` (dA1) and ``X^T dZ1`` (dW1) backward; the first layer's ``dX``
is never needed. A step can be no faster than these five with everything else free, so
``limit / measured`` says how much of an epoch is elementwise work and Python overhead.
"""

from __future__ import annotations

import time

import numpy as np


def batch_sizes(n_train: int, batch_size: int) -> list[int]:
    """The sizes of an epoch's mini-batches (the last one may be short)."""
    full, rest = divmod(n_train, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def step_products(layer_sizes: list[int], n: int, rng: np.random.Generator):
    """``(a, b, out)`` triples, one per matrix product of a step on a batch of ``n``."""

    def array(*shape):
        return rng.random(shape, dtype=np.float32)

    products = []
    for index, (n_in, n_out) in enumerate(zip(layer_sizes, layer_sizes[1:])):
        inputs, weights, grad_out = array(n, n_in), array(n_in, n_out), array(n, n_out)
        products.append((inputs, weights, array(n, n_out)))  # Z = X W, notes eq. (1)
        products.append((inputs.T, grad_out, array(n_in, n_out)))  # dW = X^T dZ, eq. (7)
        if index > 0:
            products.append((grad_out, weights.T, array(n, n_in)))  # dX = dZ W^T, eq. (9)
    return products


def matmul_flops_per_epoch(layer_sizes: list[int], batch_size: int, n_train: int) -> float:
    """Floating-point operations (2 per multiply-add) of one epoch's matrix products."""
    total = 0.0
    for n in batch_sizes(n_train, batch_size):
        for index, (n_in, n_out) in enumerate(zip(layer_sizes, layer_sizes[1:])):
            total += 2 * n * n_in * n_out * (3 if index > 0 else 2)
    return total


def matmul_seconds_per_epoch(
    layer_sizes: list[int], batch_size: int, n_train: int, seed: int = 0, clock=time.perf_counter
) -> float:
    """Seconds for one epoch's matrix products, each written into a preallocated array."""
    rng = np.random.default_rng(seed)
    sizes = batch_sizes(n_train, batch_size)
    by_size = {n: step_products(layer_sizes, n, rng) for n in set(sizes)}
    for a, b, out in by_size[sizes[0]]:  # warm-up: BLAS threads and caches
        np.matmul(a, b, out=out)
    started = clock()
    for n in sizes:
        for a, b, out in by_size[n]:
            np.matmul(a, b, out=out)
    return clock() - started
