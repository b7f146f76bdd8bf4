"""Optimizers: the blocked, allocation-free updates are the formulas of notes eq. (13)-(16) to the
last bit, and the sweep for subnormal momentum changes no weight."""

import numpy as np
import pytest

from digitnet.optimizers import SGD, Adam, row_blocks

TINY = np.finfo(np.float32).tiny


def parameters(rng, n_in=784, n_out=200) -> dict[str, np.ndarray]:
    """A weight matrix (784 x 200 float32 is 627 kB: three blocks) and a bias vector."""
    return {
        "dense0.W": rng.normal(0, 0.05, size=(n_in, n_out)).astype(np.float32),
        "dense0.b": rng.normal(0, 0.05, size=n_out).astype(np.float32),
    }


def plain_sgd(params, velocity, grads, lr, mu, nesterov, weight_decay):
    """notes eq. (13)-(14), (16), whole arrays at once, in float32."""
    f = np.float32
    for name, param in params.items():
        g = grads[name] + param * f(weight_decay) if name.endswith(".W") else grads[name]
        velocity[name] = velocity[name] * f(mu) + g
        param -= (g + velocity[name] * f(mu)) * f(lr) if nesterov else velocity[name] * f(lr)


def plain_adam(params, m, v, grads, lr, t, b1=0.9, b2=0.999, eps=1e-8):
    """notes eq. (15) as in the paper, whole arrays at once, in float32."""
    f = np.float32
    for name, param in params.items():
        g = grads[name]
        m[name] = m[name] * f(b1) + g * f(1 - b1)
        v[name] = v[name] * f(b2) + g * f(1 - b2) * g
        v_hat = v[name] / f(1 - b2**t)
        param -= m[name] / f(1 - b1**t) * f(lr) / (np.sqrt(v_hat) + f(eps))


def test_a_weight_matrix_is_updated_in_blocks_of_rows():
    assert row_blocks(np.zeros((784, 200), np.float32)) == [slice(0, 262), slice(262, 524), slice(524, 786)]
    assert row_blocks(np.zeros(200, np.float32)) == [slice(None)]


@pytest.mark.parametrize(("nesterov", "weight_decay"), [(False, 0.0), (True, 1e-4)])
def test_sgd_in_blocks_is_the_formula_bit_for_bit(nesterov, weight_decay):
    rng = np.random.default_rng(0)
    ours, theirs = parameters(rng), parameters(np.random.default_rng(0))
    optimizer = SGD(ours, momentum=0.9, nesterov=nesterov, weight_decay=weight_decay)
    velocity = {name: np.zeros_like(p) for name, p in theirs.items()}
    for _ in range(5):
        grads = {name: rng.normal(0, 1e-2, size=p.shape).astype(np.float32) for name, p in ours.items()}
        optimizer.step(grads, lr=0.1)
        plain_sgd(theirs, velocity, grads, 0.1, 0.9, nesterov, weight_decay)
    for name in ours:
        assert np.array_equal(ours[name], theirs[name]), name
        assert np.array_equal(optimizer.velocity[name], velocity[name]), name


def test_adam_in_blocks_is_the_formula_bit_for_bit():
    rng = np.random.default_rng(1)
    ours, theirs = parameters(rng), parameters(np.random.default_rng(1))
    optimizer = Adam(ours)
    m = {name: np.zeros_like(p) for name, p in theirs.items()}
    v = {name: np.zeros_like(p) for name, p in theirs.items()}
    for t in range(1, 6):
        grads = {name: rng.normal(0, 1e-2, size=p.shape).astype(np.float32) for name, p in ours.items()}
        optimizer.step(grads, lr=1e-3)
        plain_adam(theirs, m, v, grads, 1e-3, t)
    for name in ours:
        assert np.array_equal(ours[name], theirs[name]), name


def subnormal_count(arrays) -> int:
    return sum(int(np.count_nonzero((a != 0) & (np.abs(a) < TINY))) for a in arrays)


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
def test_momentum_of_an_unused_weight_never_turns_subnormal_and_no_weight_notices(optimizer_name):
    """A pixel that is inked once and never again: its weights get one gradient, then zeros, so
    the momentum decays by 0.9 a step, through the subnormal floats (from about step 770 on)
    down to 0. The sweep sets it to 0 before it gets there; the weights come out the same."""
    rng = np.random.default_rng(2)
    ours, theirs = parameters(rng, 30, 20), parameters(np.random.default_rng(2), 30, 20)
    first = {name: rng.normal(0, 1e-2, size=p.shape).astype(np.float32) for name, p in ours.items()}
    zeros = {name: np.zeros_like(p) for name, p in ours.items()}
    if optimizer_name == "sgd":
        optimizer = SGD(ours, momentum=0.9)
        velocity = {name: np.zeros_like(p) for name, p in theirs.items()}
        state, reference_state = optimizer.velocity, velocity
    else:
        optimizer = Adam(ours)
        m, v = ({name: np.zeros_like(p) for name, p in theirs.items()} for _ in range(2))
        state, reference_state = optimizer.m, m
    reference_subnormals = 0
    for step in range(1, 1001):
        grads = first if step == 1 else zeros
        optimizer.step(grads, lr=0.1 if optimizer_name == "sgd" else 1e-3)
        if optimizer_name == "sgd":
            plain_sgd(theirs, velocity, grads, 0.1, 0.9, False, 0.0)
        else:
            plain_adam(theirs, m, v, grads, 1e-3, step)
        assert subnormal_count(state.values()) == 0, step
        reference_subnormals = max(reference_subnormals, subnormal_count(reference_state.values()))
    assert reference_subnormals > 300  # without the sweep, most of the 620 entries went subnormal
    for name in ours:
        assert np.array_equal(ours[name], theirs[name]), name
