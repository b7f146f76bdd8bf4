"""Optimizers: SGD with (Nesterov) momentum, and Adam.

Each optimizer owns the parameter arrays it updates (in place) and its own state (velocities,
moments, step count). ``step(gradients, lr)`` applies one update; the learning rate comes from
the schedule each step. Subclasses implement ``_update`` (the formula, on one block of one
parameter) and name the state that decays (``_decaying_state``).

L2 weight decay (notes eq. (16)) is added to the gradient of the weight matrices ``W`` only,
not of the biases: ``g <- g + lambda W``.

Speed, with the weights' arithmetic that of the formulas, bit for bit:

- Updates allocate nothing: every intermediate goes into a scratch array of the parameter's
  shape made once (on 784-128-10 the temporaries cost as much as the arithmetic).
- Each parameter is updated in blocks of rows of about ``BLOCK_BYTES``, every pass of the update
  over one block before the next block: a block stays in the core's own cache between passes,
  where a whole 784x800 matrix (2.5 MB) would be fetched again from the shared cache by each of
  its four to thirteen passes. Element-wise arithmetic does not depend on the blocking.
- Every ``FLUSH_INTERVAL`` steps, momentum entries about to turn subnormal are set to 0
  (``_flush_subnormals``): a change of state below 1e-37 that moves no weight.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError

BLOCK_BYTES = 256 * 1024  # per array: the three to five arrays of an update share a 1-2 MiB L2 cache
FLUSH_INTERVAL = 32  # steps between sweeps of the decaying state for would-be subnormal numbers


class Optimizer:
    """Base class: holds the named parameters, applies weight decay, counts steps, keeps the
    decaying state free of subnormal numbers.

    Subclasses implement ``_update`` (one block of one parameter) and ``_decaying_state``.
    """

    def __init__(self, parameters: dict[str, np.ndarray], weight_decay: float = 0.0):
        if weight_decay < 0:
            raise ConfigError(f"weight decay must be >= 0, got {weight_decay}")
        self.parameters = parameters
        self.weight_decay = weight_decay
        self.step_count = 0
        self._decayed = {name: np.empty_like(p) for name, p in parameters.items() if name.endswith(".W")}
        self._blocks = {name: row_blocks(p) for name, p in parameters.items()}

    def step(self, gradients: dict[str, np.ndarray], lr: float) -> None:
        self.step_count += 1
        for name, param in self.parameters.items():
            grad, decay, step_size = gradients[name], param.dtype.type(self.weight_decay), param.dtype.type(lr)
            for rows in self._blocks[name]:
                block_grad = grad[rows]
                if decay and name.endswith(".W"):
                    decayed = np.multiply(param[rows], decay, out=self._decayed[name][rows])
                    block_grad = np.add(block_grad, decayed, out=decayed)  # g + lambda W, notes eq. (16)
                self._update(name, rows, param[rows], block_grad, step_size)
        if self.step_count % FLUSH_INTERVAL == 0:
            self._flush_subnormals()

    def _update(self, name: str, rows: slice, param: np.ndarray, grad: np.ndarray, lr) -> None:
        """Update ``param`` (the block ``rows`` of parameter ``name``) given its gradient block."""
        raise NotImplementedError

    def _decaying_state(self) -> list[tuple[dict[str, np.ndarray], float]]:
        """The state arrays that shrink by a constant factor in steps without gradient, with it."""
        raise NotImplementedError

    def _flush_subnormals(self) -> None:
        """Set to 0 the state entries that would turn subnormal before the next sweep.

        A weight whose input pixel is almost never inked, or a unit that never fires, gets a
        zero gradient step after step, so its momentum decays geometrically (``v <- mu v``,
        notes eq. (13); Adam's ``m`` and ``v``, eq. (15), alike) into the subnormal floats
        below ``tiny`` (1.2e-38 in float32), where it stays for about 150 steps. x86 CPUs
        handle subnormal operands in microcode: on an Intel Xeon an SGD update of 784 x 128
        weights took 2.1 times as long with 5% of them subnormal, 24 times with all. Hardware
        flush-to-zero would set such numbers to 0, but NumPy cannot switch it on; so every
        ``FLUSH_INTERVAL`` steps the entries below ``tiny / decay**FLUSH_INTERVAL`` (the decay
        taken as at least 0.5) are set to 0, and none can decay below ``tiny`` before the next
        sweep. No weight changes: ``lr v`` for such a ``v`` is far below half a unit in the
        last place of any weight, so ``w - lr v == w`` either way (tests/test_optimizers.py).
        """
        for arrays, decay in self._decaying_state():
            if decay <= 0:  # no memory of past steps: nothing decays
                continue
            for array in arrays.values():
                threshold = np.finfo(array.dtype).tiny / max(decay, 0.5) ** FLUSH_INTERVAL
                np.copyto(array, 0, where=np.abs(array) < threshold)

    def state(self) -> dict[str, np.ndarray]:
        """Everything needed to continue exactly where this optimizer stopped."""
        return {"step_count": np.array(self.step_count, dtype=np.int64)}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.step_count = int(state["step_count"])


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, notes eq. (13)-(14).

    ``v <- mu v + g``; plain momentum steps ``w <- w - lr v``, Nesterov looks ahead with
    ``w <- w - lr (g + mu v)``. ``mu = 0`` is plain SGD. (The same form as PyTorch's ``SGD``.)
    """

    def __init__(self, parameters, momentum: float = 0.9, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(parameters, weight_decay)
        self.nesterov = nesterov
        self.set_momentum(momentum)
        self.velocity = {name: np.zeros_like(p) for name, p in parameters.items()}
        self._step = {name: np.empty_like(p) for name, p in parameters.items()}  # scratch

    def set_momentum(self, momentum: float) -> None:
        """``mu`` of notes eq. (13) from the next step on; the velocities carry over."""
        if not 0 <= momentum < 1:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum}")
        if self.nesterov and momentum == 0:
            raise ConfigError("Nesterov momentum needs a momentum above 0")
        self.momentum = momentum

    def _update(self, name, rows, param, grad, lr):
        velocity, step = self.velocity[name][rows], self._step[name][rows]
        mu = param.dtype.type(self.momentum)
        velocity *= mu
        velocity += grad
        if self.nesterov:
            np.multiply(velocity, mu, out=step)
            step += grad  # g + mu v
            step *= lr
        else:
            np.multiply(velocity, lr, out=step)
        param -= step  # lr v, or lr (g + mu v), computed in the scratch: no temporary

    def _decaying_state(self):
        return [(self.velocity, self.momentum)]

    def state(self):
        return {**super().state(), **{f"velocity.{n}": v for n, v in self.velocity.items()}}

    def load_state(self, state):
        super().load_state(state)
        for name, velocity in self.velocity.items():
            velocity[...] = state[f"velocity.{name}"]


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), notes eq. (15), written as in the paper:

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``, ``w <- w - lr m_hat / (sqrt(v_hat) + eps)``.
    """

    def __init__(
        self, parameters, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0
    ):
        super().__init__(parameters, weight_decay)
        for label, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0 <= beta < 1:
                raise ConfigError(f"Adam {label} must be in [0, 1), got {beta}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = {name: np.zeros_like(p) for name, p in parameters.items()}
        self.v = {name: np.zeros_like(p) for name, p in parameters.items()}
        self._scratch = {name: (np.empty_like(p), np.empty_like(p)) for name, p in parameters.items()}

    def _update(self, name, rows, param, grad, lr):
        m, v = self.m[name][rows], self.v[name][rows]
        scratch, step = (array[rows] for array in self._scratch[name])
        dtype = param.dtype.type
        m *= dtype(self.beta1)
        m += np.multiply(grad, dtype(1 - self.beta1), out=scratch)
        v *= dtype(self.beta2)
        squared = np.multiply(grad, dtype(1 - self.beta2), out=scratch)
        squared *= grad
        v += squared  # (1 - b2) g^2
        denominator = np.divide(v, dtype(1 - self.beta2**self.step_count), out=scratch)  # v_hat
        np.sqrt(denominator, out=denominator)
        denominator += dtype(self.eps)
        np.divide(m, dtype(1 - self.beta1**self.step_count), out=step)  # m_hat
        step *= lr
        step /= denominator
        param -= step  # lr m_hat / (sqrt(v_hat) + eps), computed in the scratch: no temporary

    def _decaying_state(self):
        return [(self.m, self.beta1), (self.v, self.beta2)]

    def state(self):
        return {
            **super().state(),
            **{f"m.{n}": a for n, a in self.m.items()},
            **{f"v.{n}": a for n, a in self.v.items()},
        }

    def load_state(self, state):
        super().load_state(state)
        for name in self.m:
            self.m[name][...] = state[f"m.{name}"]
            self.v[name][...] = state[f"v.{name}"]


def row_blocks(param: np.ndarray) -> list[slice]:
    """Slices of ``param``'s rows into equal blocks of at most about ``BLOCK_BYTES`` (a vector
    is one block)."""
    if param.ndim < 2:
        return [slice(None)]
    n_blocks = -(-param.nbytes // BLOCK_BYTES)
    rows = -(-len(param) // n_blocks)
    return [slice(start, start + rows) for start in range(0, len(param), rows)]


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_optimizer(name: str, parameters, *, momentum=0.9, nesterov=False, weight_decay=0.0) -> Optimizer:
    """An optimizer by name (``--optimizer``) over ``parameters``."""
    if name == "sgd":
        return SGD(parameters, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    if name == "adam":
        return Adam(parameters, weight_decay=weight_decay)
    raise ConfigError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
