"""The same network in PyTorch (float64, autograd), loaded with the same weights: forward
values, every gradient, and optimizer steps must agree."""

import numpy as np
import pytest

from digitnet.functional import ACTIVATIONS
from digitnet.losses import get_loss
from digitnet.network import Network
from digitnet.optimizers import make_optimizer

torch = pytest.importorskip("torch")

TORCH_ACTIVATIONS = {
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}


def torch_loss(name, logits, labels):
    if name == "cross-entropy":
        return torch.nn.functional.cross_entropy(logits, labels)
    p = torch.softmax(logits, dim=1)
    y = torch.nn.functional.one_hot(labels, logits.shape[1]).to(p.dtype)
    return 0.5 * ((p - y) ** 2).sum() / logits.shape[0]


def torch_forward(params, X, activation):
    out = X
    n_layers = len(params) // 2
    for i in range(n_layers):
        out = out @ params[f"dense{i}.W"] + params[f"dense{i}.b"]
        if i < n_layers - 1:
            out = TORCH_ACTIVATIONS[activation](out)
    return out


def setup(activation, sizes=(784, 32, 16, 10), n=16, seed=0):
    rng = np.random.default_rng(seed)
    network = Network.create(list(sizes), rng, activation, dtype=np.float64)
    X = rng.uniform(0, 1, size=(n, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=n)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in network.parameters().items()}
    return network, X, labels, params


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss_name", ["cross-entropy", "mse"])
def test_forward_loss_and_every_gradient_match_torch_autograd(activation, loss_name):
    network, X, labels, params = setup(activation)
    loss = get_loss(loss_name)
    value = loss.forward(network.forward(X), labels)
    network.backward(loss.backward())

    logits_t = torch_forward(params, torch.tensor(X), activation)
    loss_t = torch_loss(loss_name, logits_t, torch.tensor(labels))
    loss_t.backward()

    np.testing.assert_allclose(network.forward(X), logits_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    assert value == pytest.approx(loss_t.item(), rel=1e-12)
    for name, grad in network.gradients().items():
        np.testing.assert_allclose(grad, params[name].grad.numpy(), rtol=1e-9, atol=1e-13, err_msg=name)


@pytest.mark.parametrize(
    "optimizer, torch_factory",
    [
        ("sgd", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        ("sgd-nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        ("adam", lambda p: torch.optim.Adam(p, lr=0.01)),
    ],
)
def test_five_optimizer_steps_match_torch(optimizer, torch_factory):
    network, X, labels, params = setup("relu", sizes=(20, 8, 5), n=12)
    name = optimizer.split("-")[0]
    ours = make_optimizer(name, network.parameters(), momentum=0.9, nesterov=optimizer.endswith("nesterov"))
    theirs = torch_factory(list(params.values()))
    lr = 0.01 if name == "adam" else 0.1
    loss = get_loss("cross-entropy")
    for _ in range(5):
        loss.forward(network.forward(X), labels)
        network.backward(loss.backward())
        ours.step(network.gradients(), lr)
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(
            torch_forward(params, torch.tensor(X), "relu"), torch.tensor(labels)
        ).backward()
        theirs.step()
    for key, value in network.parameters().items():
        np.testing.assert_allclose(value, params[key].detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=key)


def test_weight_decay_matches_torch_on_weights_only():
    network, X, labels, params = setup("relu", sizes=(20, 8, 5), n=12)
    ours = make_optimizer("sgd", network.parameters(), momentum=0.9, weight_decay=0.01)
    weights = [p for k, p in params.items() if k.endswith(".W")]
    biases = [p for k, p in params.items() if k.endswith(".b")]
    theirs = torch.optim.SGD([{"params": weights, "weight_decay": 0.01}, {"params": biases}], lr=0.1, momentum=0.9)
    loss = get_loss("cross-entropy")
    for _ in range(3):
        loss.forward(network.forward(X), labels)
        network.backward(loss.backward())
        ours.step(network.gradients(), 0.1)
        theirs.zero_grad()
        torch.nn.functional.cross_entropy(
            torch_forward(params, torch.tensor(X), "relu"), torch.tensor(labels)
        ).backward()
        theirs.step()
    for key, value in network.parameters().items():
        np.testing.assert_allclose(value, params[key].detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=key)
