"""The speed work changes where numbers are written, never which numbers: the fast training
step and the scratch-buffer optimizers must give bit-identical results to the math written out
plainly (here, in the test) and to the plain path (``Network.forward`` / ``backward``)."""

import numpy as np
import pytest

from digitnet.data import scale_images
from digitnet.fast_step import FastTrainingStep
from digitnet.network import Network
from digitnet.optimizers import make_optimizer
from digitnet.training import TrainConfig, Trainer


def reference_gradients(params, X, labels):
    """784-H-10 ReLU + softmax cross-entropy, notes eq. (1)-(10), one line per equation."""
    Z1 = X @ params["dense0.W"] + params["dense0.b"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ params["dense1.W"] + params["dense1.b"]
    shifted = Z2 - Z2.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = float(-log_p[np.arange(n), labels].mean())
    Y = np.zeros_like(log_p)
    Y[np.arange(n), labels] = 1
    dZ2 = (np.exp(log_p) - Y) / n  # eq. (6)
    dZ1 = (dZ2 @ params["dense1.W"].T) * (Z1 > 0)  # eq. (9), (10)
    return loss, {
        "dense0.W": X.T @ dZ1,
        "dense0.b": dZ1.sum(axis=0),
        "dense1.W": A1.T @ dZ2,
        "dense1.b": dZ2.sum(axis=0),
    }


def reference_sgd(params, velocity, grads, lr, mu, nesterov, weight_decay):
    """notes eq. (13), (14), (16)."""
    for name in params:
        g = (
            grads[name] + np.float32(weight_decay) * params[name]
            if name.endswith(".W") and weight_decay
            else grads[name]
        )
        velocity[name] = np.float32(mu) * velocity[name] + g
        params[name] -= np.float32(lr) * (g + np.float32(mu) * velocity[name] if nesterov else velocity[name])


def reference_adam(params, m, v, grads, lr, t, b1=0.9, b2=0.999, eps=1e-8):
    """notes eq. (15), as in the paper."""
    f = np.float32
    for name in params:
        g = grads[name]
        m[name] = f(b1) * m[name] + f(1 - b1) * g
        v[name] = f(b2) * v[name] + f(1 - b2) * g * g
        m_hat, v_hat = m[name] / f(1 - b1**t), v[name] / f(1 - b2**t)
        params[name] -= f(lr) * m_hat / (np.sqrt(v_hat) + f(eps))


def small_trainer(mnist_train, **overrides):
    config = TrainConfig(
        **{
            "hidden": (48,),
            "epochs": 1,
            "batch_size": 100,
            "val_size": 1,
            "schedule": "constant",
            "nesterov": False,
            "weight_decay": 0.0,
            **overrides,
        }
    )
    # 1,050 examples: ten full batches of 100 and a short one of 50
    return Trainer(
        config, mnist_train.subset(np.arange(1050)), mnist_train.subset(np.arange(1050, 1051)), log=lambda line: None
    )


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_fast_training_steps_equal_the_plain_math_bit_for_bit(mnist_train, optimizer):
    lr = 0.1 if optimizer == "sgd" else 1e-3
    trainer = small_trainer(mnist_train, optimizer=optimizer, lr=lr)
    assert trainer.fast_step is not None
    params = {name: p.copy() for name, p in trainer.network.parameters().items()}
    state = {name: np.zeros_like(p) for name, p in params.items()}
    second = {name: np.zeros_like(p) for name, p in params.items()}
    order = np.random.default_rng(1).permutation(1050)
    for t, start in enumerate(range(0, 1050, 100), start=1):
        indices = order[start : start + 100]
        loss = trainer.train_step(indices)
        expected_loss, grads = reference_gradients(
            params, scale_images(mnist_train.images[indices]), mnist_train.labels[indices]
        )
        if optimizer == "sgd":
            reference_sgd(params, state, grads, lr, 0.9, False, 0.0)
        else:
            reference_adam(params, state, second, grads, lr, t)
        assert loss == expected_loss
        for name, grad in trainer.network.gradients().items():
            np.testing.assert_array_equal(grad, grads[name], err_msg=f"step {t} {name}")
        for name, param in trainer.network.parameters().items():
            np.testing.assert_array_equal(param, params[name], err_msg=f"step {t} {name}")


@pytest.mark.parametrize(
    "overrides",
    [
        {"optimizer": "sgd", "nesterov": True, "weight_decay": 1e-4, "schedule": "cosine", "hidden": (40, 24)},
        {"optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-3},
    ],
)
def test_fast_and_plain_path_train_the_same_weights(mnist_train, overrides):
    fast, plain = small_trainer(mnist_train, **overrides), small_trainer(mnist_train, **overrides)
    plain.fast_step = None
    fast.fit()
    plain.fit()
    for name, param in fast.network.parameters().items():
        np.testing.assert_array_equal(param, plain.network.parameters()[name], err_msg=name)
    assert [r.train_loss for r in fast.history] == [r.train_loss for r in plain.history]


@pytest.mark.parametrize(
    "overrides", [{"activation": "tanh"}, {"loss": "mse"}, {"dropout": 0.2}, {"augment": "affine"}]
)
def test_other_activations_losses_dropout_and_augmentation_take_the_plain_path(mnist_train, overrides):
    assert small_trainer(mnist_train, **overrides).fast_step is None


def test_reused_buffers_give_each_batch_its_own_result(mnist_train):
    """A short batch after full ones, and a batch larger than the buffers, match a fresh
    plain computation: nothing of an earlier batch leaks through the reused buffers."""
    network = Network.create([784, 32, 10], np.random.default_rng(0))
    step = FastTrainingStep(network, mnist_train.images, mnist_train.labels, batch_size=64)
    for indices in (np.arange(64), np.arange(100, 130), np.arange(200, 400)):
        loss = step.forward_loss(indices)
        step.backward()
        params = {name: p.copy() for name, p in network.parameters().items()}
        expected_loss, grads = reference_gradients(
            params, scale_images(mnist_train.images[indices]), mnist_train.labels[indices]
        )
        assert loss == expected_loss
        for name, grad in network.gradients().items():
            np.testing.assert_array_equal(grad, grads[name], err_msg=f"{len(indices)} examples, {name}")
    assert step.capacity == 200


@pytest.mark.parametrize("nesterov, weight_decay", [(False, 0.0), (True, 1e-2)])
def test_sgd_without_temporaries_equals_the_formula(nesterov, weight_decay):
    rng = np.random.default_rng(0)
    params = {
        "dense0.W": rng.standard_normal((6, 4), dtype=np.float32),
        "dense0.b": rng.standard_normal(4, dtype=np.float32),
    }
    expected = {name: p.copy() for name, p in params.items()}
    velocity = {name: np.zeros_like(p) for name, p in params.items()}
    optimizer = make_optimizer("sgd", params, momentum=0.9, nesterov=nesterov, weight_decay=weight_decay)
    for step in range(5):
        grads = {name: rng.standard_normal(p.shape, dtype=np.float32) for name, p in params.items()}
        optimizer.step(grads, 0.1 / (step + 1))
        reference_sgd(expected, velocity, grads, 0.1 / (step + 1), 0.9, nesterov, weight_decay)
    for name in params:
        np.testing.assert_array_equal(params[name], expected[name])


def test_adam_without_temporaries_equals_the_paper_and_resumes_exactly():
    rng = np.random.default_rng(0)
    params = {
        "dense0.W": rng.standard_normal((6, 4), dtype=np.float32),
        "dense0.b": rng.standard_normal(4, dtype=np.float32),
    }
    expected = {name: p.copy() for name, p in params.items()}
    m = {name: np.zeros_like(p) for name, p in params.items()}
    v = {name: np.zeros_like(p) for name, p in params.items()}
    optimizer = make_optimizer("adam", params)
    grads = [{name: rng.standard_normal(p.shape, dtype=np.float32) for name, p in params.items()} for _ in range(6)]
    for t, g in enumerate(grads[:3], start=1):
        optimizer.step(g, 1e-2)
        reference_adam(expected, m, v, g, 1e-2, t)
    resumed_params = {name: p.copy() for name, p in params.items()}
    resumed = make_optimizer("adam", resumed_params)
    resumed.load_state({name: a.copy() for name, a in optimizer.state().items()})
    for t, g in enumerate(grads[3:], start=4):
        optimizer.step(g, 1e-2)
        resumed.step(g, 1e-2)
        reference_adam(expected, m, v, g, 1e-2, t)
    for name in params:
        np.testing.assert_array_equal(params[name], expected[name])
        np.testing.assert_array_equal(resumed_params[name], expected[name])
