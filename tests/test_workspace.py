"""A training step allocates nothing: layers, loss and trainer write into arrays they keep
(``workspace.py``), and the results are those of passes that allocate, to the last bit."""

import numpy as np
import pytest

from digitnet.config import TrainConfig
from digitnet.data import Dataset, scale_images
from digitnet.functional import ACTIVATIONS, row_max
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network
from digitnet.optimizers import SGD
from digitnet.training import Trainer, seeded_generators


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_activations_and_derivatives_fill_out_with_the_same_bits(activation):
    z = np.random.default_rng(0).normal(0, 3, size=(64, 10)).astype(np.float32)
    z[0, :3] = [0.0, -0.0, np.nan]
    functions = ACTIVATIONS[activation]
    a, out = functions.forward(z), np.empty_like(z)
    assert functions.forward(z, out=out) is out
    assert np.array_equal(out.view(np.uint32), a.view(np.uint32))  # bits, also of -0.0 and NaN
    derivative = functions.derivative(z, a)
    assert functions.derivative(z, a, out=out) is out
    assert np.array_equal(out.view(np.uint32), derivative.view(np.uint32))


def test_row_max_is_the_maximum_of_each_row():
    z = np.random.default_rng(1).normal(0, 5, size=(130, 10)).astype(np.float32)
    z[3, 4], z[7, 0], z[9] = np.inf, np.nan, -np.inf
    np.testing.assert_array_equal(row_max(z), z.max(axis=1, keepdims=True))


def test_a_training_pass_reuses_its_arrays_and_computes_what_an_allocating_pass_does():
    rng = np.random.default_rng(2)
    network = Network.create([784, 32, 16, 10], rng)
    twin, loss, twin_loss = network.copy(), SoftmaxCrossEntropy(), SoftmaxCrossEntropy()
    outputs = []
    for n in (8, 8, 5):  # the last batch is short: it uses the leading rows of the same arrays
        X = rng.uniform(0, 1, size=(n, 784)).astype(np.float32)
        labels = rng.integers(0, 10, size=n)
        logits = network.forward(X, training=True)
        outputs.append(logits)
        expected = twin.forward(X)
        assert np.array_equal(logits, expected)
        assert loss.forward(logits, labels) == twin_loss.forward(expected, labels)
        network.backward(loss.backward())
        twin.backward(twin_loss.backward())
        for name, grad in network.gradients().items():
            assert np.array_equal(grad, twin.gradients()[name]), name
    assert outputs[1] is outputs[0] and np.shares_memory(outputs[2], outputs[0])
    kept = outputs[2].copy()
    network.infer(rng.uniform(0, 1, size=(7, 784)).astype(np.float32))  # allocates: the web server's pass
    assert np.array_equal(outputs[2], kept)


def test_the_trainers_steps_are_the_plain_forward_backward_and_update():
    """One epoch of 300 examples in batches of 128, 128 and 44, against the same steps written
    with the allocating passes and the batch gathered by fancy indexing."""
    rng = np.random.default_rng(3)
    train = Dataset(rng.integers(0, 256, (300, 784)).astype(np.uint8), rng.integers(0, 10, 300).astype(np.uint8), "")
    config = TrainConfig(hidden=(16,), epochs=1, batch_size=128, schedule="constant", lr=0.1, weight_decay=1e-4)
    trainer = Trainer(config, train, train.subset(np.arange(10)), log=lambda line: None)
    network, loss = trainer.network.copy(), SoftmaxCrossEntropy()
    optimizer = SGD(network.parameters(), momentum=0.9, nesterov=True, weight_decay=1e-4)
    order = seeded_generators(config.seed)["shuffle"].permutation(300)
    trainer.run_epoch()
    for start in range(0, 300, 128):
        batch = order[start : start + 128]
        loss.forward(network.forward(scale_images(train.images[batch])), train.labels[batch])
        network.backward(loss.backward())
        optimizer.step(network.gradients(), 0.1)
    for name, param in trainer.network.parameters().items():
        assert np.array_equal(param, network.parameters()[name]), name
