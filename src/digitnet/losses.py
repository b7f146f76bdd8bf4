"""Losses on the network's logits, each fused with the softmax it needs.

``forward(logits, labels)`` returns the mean loss over the batch and caches the softmax;
``backward()`` returns ``dL/dlogits`` of shape ``(n, k)``. Labels are integer class indices.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError
from .functional import log_softmax, one_hot
from .layers import cached
from .workspace import Workspace


class SoftmaxCrossEntropy:
    """``L = -(1/n) sum_i log p_{i, y_i}`` with ``p = softmax(z)``, notes eq. (5).

    Fusing the two gives the short gradient of notes eq. (6), ``dL/dz = (p - y) / n``: the
    softmax Jacobian and the ``1/p`` of the log cancel. Computing ``log p`` by log-softmax keeps
    the loss finite even when a probability underflows to 0.
    """

    name = "cross-entropy"

    def __init__(self):
        self._probabilities: np.ndarray | None = None
        self._labels: np.ndarray | None = None
        self._buffers = Workspace()  # log p, and dL/dz until the next backward

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        log_p = log_softmax(logits, out=self._buffers.array("log_p", logits.shape, logits.dtype))
        self._probabilities = np.exp(log_p)
        self._labels = labels
        n = labels.shape[0]
        return float(-log_p[np.arange(n), labels].sum() / n)  # the mean, without np.mean's overhead

    def backward(self) -> np.ndarray:
        """notes eq. (6): ``dL/dz = (p - y) / n``, in an array overwritten by the next backward."""
        labels = cached(self._labels, "SoftmaxCrossEntropy")
        n = labels.shape[0]
        probabilities = cached(self._probabilities, "SoftmaxCrossEntropy")
        dlogits = self._buffers.array("dlogits", probabilities.shape, probabilities.dtype)
        np.copyto(dlogits, probabilities)
        dlogits[np.arange(n), labels] -= 1
        dlogits /= n
        return dlogits


class SoftmaxMeanSquaredError:
    """``L = (1 / 2n) sum_i ||p_i - y_i||^2`` with ``p = softmax(z)``, notes eq. (11).

    The loss introductory texts start from. Its gradient must go through the softmax Jacobian
    (notes eq. (12)), and it learns more slowly than cross-entropy when a prediction is
    confidently wrong, because ``p (1 - p)`` is then tiny.
    """

    name = "mse"

    def __init__(self):
        self._probabilities: np.ndarray | None = None
        self._targets: np.ndarray | None = None

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        self._probabilities = np.exp(log_softmax(logits))
        self._targets = one_hot(labels, logits.shape[1], dtype=logits.dtype)
        n = labels.shape[0]
        return float(0.5 * np.sum((self._probabilities - self._targets) ** 2) / n)

    def backward(self) -> np.ndarray:
        """notes eq. (12): with ``g = dL/dp = (p - y) / n``, ``dL/dz = p * (g - sum_k g_k p_k)``.

        That is the softmax Jacobian ``diag(p) - p p^T`` applied to ``g`` row by row, without
        building the ``k x k`` matrix.
        """
        p = cached(self._probabilities, "SoftmaxMeanSquaredError")
        g = (p - cached(self._targets, "SoftmaxMeanSquaredError")) / p.shape[0]
        return p * (g - np.sum(g * p, axis=1, keepdims=True))


LOSSES = {loss.name: loss for loss in (SoftmaxCrossEntropy, SoftmaxMeanSquaredError)}


def get_loss(name: str):
    """A new loss object by name (``--loss``)."""
    if name not in LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}")
    return LOSSES[name]()
