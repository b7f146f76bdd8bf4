"""One step of backpropagation for one drawn digit, every number from the library itself.

The step-through runs ``Network.propagate`` / ``SoftmaxCrossEntropy`` / ``Network.backward``
and the ``SGD`` optimizer on a float64 copy of the served network (so the numbers shown are
the exact ones, not float32's roundings), and reports each intermediate with the equation of
``docs/my_note.md`` that defines it. The gradient check nudges one parameter with
``gradcheck.central_differences``; "apply" takes the same step on the served network's own
dtype and reports the loss on the digit before and after. Nothing here computes a gradient.
"""

from __future__ import annotations

import numpy as np

from ..functional import ACTIVATIONS, softmax
from ..gradcheck import backprop_gradients, central_differences, relative_error
from ..losses import SoftmaxCrossEntropy
from ..network import Network
from ..optimizers import SGD
from ..preprocess import has_ink
from .api import BLANK_MESSAGE, BadRequest, input_from_request
from .api import FIELDS as INPUT_FIELDS

TOP_UNITS = 8  # hidden units shown: the most active ones, plus the one the user picked
MAX_LR = 10.0
GRADCHECK_H = 1e-6  # notes eq. (19): O(h^2) truncation, far above float64 rounding at this h
ACTIVATION_EQUATIONS = {"relu": "2", "leaky_relu": "2b", "sigmoid": "2c", "tanh": "2d"}
# quantity -> its equation in docs/my_note.md (the page links each to /notes#eq-N)
EQUATIONS = {
    "z1": "1",
    "logits": "1",
    "p": "3",
    "loss": "5",
    "p_minus_y": "6",
    "dW2": "7",
    "db2": "8",
    "dA1": "9",
    "dZ1": "10",
    "dW1": "7",
    "db1": "8",
    "update": "13",
    "gradcheck": "19",
}


def step_request(request: dict, network: Network, extra: tuple[str, ...] = ()) -> tuple[np.ndarray, int, float]:
    """The digit, its true label and the learning rate of a step-through request; ``extra``
    fields are the caller's to check."""
    require_one_hidden_layer(network)
    allowed = {"pixels", "scale", "width", "height", "label", "lr", *extra}
    unknown = sorted(set(request) - allowed)
    if unknown:
        listed = ", ".join(sorted(allowed))
        raise BadRequest(400, f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {listed}")
    label = request.get("label")
    if type(label) is not int or not 0 <= label < network.layer_sizes[-1]:
        raise BadRequest(400, f"'label' must be the true digit, 0 to {network.layer_sizes[-1] - 1}, got {label!r}")
    lr = request.get("lr", 0.1)
    if type(lr) not in (int, float) or not 0 < lr <= MAX_LR:
        raise BadRequest(400, f"'lr' must be a number in (0, {MAX_LR:g}], got {lr!r}")
    return drawn_input(request), label, float(lr)


def drawn_input(request: dict) -> np.ndarray:
    """The input of a request that also has other fields; a blank one is refused (400)."""
    x = input_from_request({key: value for key, value in request.items() if key in INPUT_FIELDS})
    if not has_ink(x):
        raise BadRequest(400, BLANK_MESSAGE)
    return x


def require_one_hidden_layer(network: Network) -> None:
    if len(network.dense_layers) != 2:
        sizes = "-".join(map(str, network.layer_sizes))
        raise BadRequest(409, f"the step-through shows networks with one hidden layer (784-H-10); this one is {sizes}")


def backprop(network: Network, X: np.ndarray, labels: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """One forward and backward pass (notes eq. (1)-(10)): the loss, every layer's output
    (``Z1, A1, logits``) and every layer's output gradient (``dZ1, dA1, dlogits``)."""
    loss = SoftmaxCrossEntropy()
    outputs = [out for _, out in network.propagate(X, training=False, cache=True)]
    value = loss.forward(outputs[-1], labels)
    return value, outputs, network.backward(loss.backward())


def sgd_step(network: Network, lr: float) -> None:
    """Plain SGD on the gradients of the last ``backward``: ``w <- w - lr g`` (notes eq. (13), mu = 0)."""
    SGD(network.parameters(), momentum=0.0).step(network.gradients(), lr)


def step_through(network: Network, x: np.ndarray, label: int, lr: float, unit: int | None = None) -> dict:
    """Every quantity of one backpropagation step for input ``x`` ``(784,)`` with true ``label``."""
    copy = network.copy(dtype=np.float64)
    X, labels = x.reshape(1, -1).astype(np.float64), np.array([label])
    loss, (z1, a1, logits), (dZ1, dA1, dlogits) = backprop(copy, X, labels)
    mask = ACTIVATIONS[copy.activation].derivative(z1, a1)
    gradients = {name: grad.copy() for name, grad in copy.gradients().items()}
    before = {name: param.copy() for name, param in copy.parameters().items()}
    sgd_step(copy, lr)
    update = {name: copy.parameters()[name] - before[name] for name in before}

    strongest = [int(j) for j in np.argsort(-a1[0], kind="stable")[:TOP_UNITS]]
    unit = strongest[0] if unit is None else unit
    units = strongest if unit in strongest else [*strongest, unit]
    return {
        "label": label,
        "lr": lr,
        "activation": copy.activation,
        "hidden_units": int(z1.shape[1]),
        "active_units": int(np.count_nonzero(mask[0])),
        "units": units,
        "unit": unit,
        "input28": x.astype(np.float64).tolist(),
        "z1": z1[0, units].tolist(),
        "a1": a1[0, units].tolist(),
        "logits": logits[0].tolist(),
        "p": softmax(logits)[0].tolist(),
        "loss": loss,
        "p_minus_y": dlogits[0].tolist(),
        "dW2": gradients["dense1.W"][units].tolist(),
        "db2": gradients["dense1.b"].tolist(),
        "dA1": dA1[0, units].tolist(),
        "mask": mask[0, units].tolist(),
        "dZ1": dZ1[0, units].tolist(),
        "db1": gradients["dense0.b"][units].tolist(),
        "dW1": gradients["dense0.W"][:, unit].tolist(),
        "update": {
            "dense1.W": update["dense1.W"][units].tolist(),
            "dense1.b": update["dense1.b"].tolist(),
            "dense0.W": update["dense0.W"][:, unit].tolist(),
            "dense0.b": update["dense0.b"][units].tolist(),
        },
        "equations": {**EQUATIONS, "mask": ACTIVATION_EQUATIONS[copy.activation]},
    }


def parse_unit(request: dict, network: Network) -> int | None:
    unit = request.get("unit")
    hidden = network.layer_sizes[1]
    if unit is not None and (type(unit) is not int or not 0 <= unit < hidden):
        raise BadRequest(400, f"'unit' must be a hidden unit, 0 to {hidden - 1}, got {unit!r}")
    return unit


def apply_step(network: Network, x: np.ndarray, label: int, lr: float) -> tuple[Network, dict]:
    """The step taken on a copy of ``network`` in its own dtype: (the updated copy, the loss and
    probabilities on this digit before and after)."""
    updated = network.copy()
    X, labels = x.reshape(1, -1).astype(updated.dtype), np.array([label])
    loss_before, outputs, _ = backprop(updated, X, labels)
    sgd_step(updated, lr)
    logits_after = updated.infer(X)[1]
    return updated, {
        "label": label,
        "lr": lr,
        "loss_before": loss_before,
        "loss_after": SoftmaxCrossEntropy().forward(logits_after, labels),
        "p_before": softmax(outputs[-1])[0].astype(float).tolist(),
        "p_after": softmax(logits_after)[0].astype(float).tolist(),
    }


def parse_entry(request: dict, network: Network) -> tuple[str, tuple[int, ...]]:
    """The ``parameter`` name and ``index`` (one number per axis) of a gradient-check request."""
    parameters = network.parameters()
    name = request.get("parameter")
    if name not in parameters:
        raise BadRequest(400, f"'parameter' must be one of {', '.join(parameters)}, got {name!r}")
    shape = parameters[name].shape
    index = request.get("index")
    if (
        not isinstance(index, list)
        or len(index) != len(shape)
        or any(type(i) is not int or not 0 <= i < n for i, n in zip(index, shape))
    ):
        raise BadRequest(400, f"'index' must be {len(shape)} whole number(s) within {name}'s shape {shape}: {index!r}")
    return name, tuple(index)


def check_gradient(network: Network, x: np.ndarray, label: int, name: str, index: tuple[int, ...]) -> dict:
    """Backprop's dL/dtheta for one parameter entry against the central difference of notes
    eq. (19), both in float64."""
    copy = network.copy(dtype=np.float64)
    X, labels = x.reshape(1, -1).astype(np.float64), np.array([label])
    flat_index = int(np.ravel_multi_index(index, copy.parameters()[name].shape))
    analytic = float(backprop_gradients(copy, X, labels, "cross-entropy")[name].reshape(-1)[flat_index])
    numeric = float(central_differences(copy, X, labels, name, np.array([flat_index]), h=GRADCHECK_H)[0])
    return {
        "parameter": name,
        "index": list(index),
        "analytic": analytic,
        "numeric": numeric,
        "relative_error": relative_error(np.array([analytic]), np.array([numeric])),
        "h": GRADCHECK_H,
    }
