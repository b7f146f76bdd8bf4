"""Optimizers: SGD with (Nesterov) momentum, and Adam.

Each optimizer owns the parameter arrays it updates (in place) and its own state (velocities,
moments, step count). ``step(gradients, lr)`` applies one update; the learning rate comes from
the schedule each step. Subclasses implement one method, ``_update``.

L2 weight decay (notes eq. (16)) is added to the gradient of the weight matrices ``W`` only,
not of the biases: ``g <- g + lambda W``.
"""

from __future__ import annotations

import numpy as np

from .errors import ConfigError


class Optimizer:
    """Base class: holds the named parameters, applies weight decay, counts steps.

    Updates allocate nothing: every intermediate goes into a scratch array of the parameter's
    shape made once (on 784-128-10 the temporaries cost as much as the arithmetic).
    """

    def __init__(self, parameters: dict[str, np.ndarray], weight_decay: float = 0.0):
        if weight_decay < 0:
            raise ConfigError(f"weight decay must be >= 0, got {weight_decay}")
        self.parameters = parameters
        self.weight_decay = weight_decay
        self.step_count = 0
        self._decayed = {name: np.empty_like(p) for name, p in parameters.items() if name.endswith(".W")}

    def step(self, gradients: dict[str, np.ndarray], lr: float) -> None:
        self.step_count += 1
        for name, param in self.parameters.items():
            grad = gradients[name]
            if self.weight_decay and name.endswith(".W"):
                decayed = np.multiply(param, param.dtype.type(self.weight_decay), out=self._decayed[name])
                grad = np.add(grad, decayed, out=decayed)  # g + lambda W, notes eq. (16)
            self._update(name, param, grad, param.dtype.type(lr))

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr) -> None:
        raise NotImplementedError

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

    def _update(self, name, param, grad, lr):
        velocity, step = self.velocity[name], self._step[name]
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

    def _update(self, name, param, grad, lr):
        m, v = self.m[name], self.v[name]
        scratch, step = self._scratch[name]
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


OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_optimizer(name: str, parameters, *, momentum=0.9, nesterov=False, weight_decay=0.0) -> Optimizer:
    """An optimizer by name (``--optimizer``) over ``parameters``."""
    if name == "sgd":
        return SGD(parameters, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    if name == "adam":
        return Adam(parameters, weight_decay=weight_decay)
    raise ConfigError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
