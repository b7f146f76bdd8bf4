"""Gradient checking: backpropagation against central finite differences, in float64.

For each parameter entry ``theta``, notes eq. (19):
``dL/dtheta ~ (L(theta + h) - L(theta - h)) / (2h)``, with an error of order ``h^2``.
The comparison per parameter array is the relative error
``||g_backprop - g_numeric|| / (||g_backprop|| + ||g_numeric||)``; with ``h = 1e-6`` in float64 a
correct backward pass gives about 1e-9 or less, a wrong one about 1e-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .losses import get_loss
from .network import Network


@dataclass
class ParameterCheck:
    name: str
    shape: tuple[int, ...]
    entries_checked: int
    relative_error: float


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return float(np.linalg.norm(analytic - numeric) / denominator) if denominator > 0 else 0.0


def gradcheck(
    network: Network,
    X: np.ndarray,
    labels: np.ndarray,
    loss_name: str = "cross-entropy",
    h: float = 1e-6,
    max_entries: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[ParameterCheck]:
    """Compare backprop's gradient of every parameter with central differences.

    Works on a float64 copy of ``network`` (the original is untouched). ``max_entries`` checks a
    random sample of that many entries per parameter array (all when ``None``).
    """
    network = network.copy(dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    analytic = backprop_gradients(network, X, labels, loss_name)
    rng = rng or np.random.default_rng(0)
    results = []
    for name, param in network.parameters().items():
        indices = np.arange(param.size)
        if max_entries is not None and param.size > max_entries:
            indices = rng.choice(param.size, size=max_entries, replace=False)
        numeric = central_differences(network, X, labels, name, indices, loss_name, h)
        error = relative_error(analytic[name].reshape(-1)[indices], numeric)
        results.append(ParameterCheck(name, param.shape, len(indices), error))
    return results


def backprop_gradients(network: Network, X: np.ndarray, labels: np.ndarray, loss_name: str) -> dict[str, np.ndarray]:
    """Copies of the gradients one forward and backward pass give, by parameter name."""
    loss = get_loss(loss_name)
    loss.forward(network.forward(X), labels)
    network.backward(loss.backward())
    return {name: grad.copy() for name, grad in network.gradients().items()}


def central_differences(
    network: Network,
    X: np.ndarray,
    labels: np.ndarray,
    name: str,
    indices: np.ndarray,
    loss_name: str = "cross-entropy",
    h: float = 1e-6,
) -> np.ndarray:
    """Notes eq. (19) for the entries ``indices`` of the flattened parameter ``name``:
    ``(L(theta + h) - L(theta - h)) / (2h)``, each entry nudged in place and put back.
    ``network`` should be float64 (``network.copy(dtype=np.float64)``): in float32 the
    rounding of ``L`` swamps a difference this small."""
    loss = get_loss(loss_name)
    flat = network.parameters()[name].reshape(-1)  # a view: writing flat[i] nudges the live parameter
    numeric = np.empty(len(indices))
    for position, index in enumerate(indices):
        original = flat[index]
        flat[index] = original + h
        loss_plus = loss.forward(network.infer(X)[1], labels)
        flat[index] = original - h
        loss_minus = loss.forward(network.infer(X)[1], labels)
        flat[index] = original
        numeric[position] = (loss_plus - loss_minus) / (2 * h)
    return numeric
