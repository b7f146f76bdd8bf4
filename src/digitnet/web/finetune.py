"""Fine-tuning the served network on the user's drawings, mixed with MNIST so it does not forget.

The run is an ordinary ``TrainingSession`` that starts from the served weights: a seeded sample
of ``MNIST_SAMPLE`` MNIST training images plus the user's drawings (all but the held-out ones,
``DrawingStore.split``), each repeated so that the drawings make up about a quarter of the mix,
trained for ``EPOCHS`` epochs with a small constant learning rate. Before and after, the same two
measurements: accuracy on the held-out drawings and on the MNIST test set.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from ..config import TrainConfig
from ..data import Dataset, TrainingData
from ..metrics import evaluate
from ..network import Network
from ..session import TrainingSession

MNIST_SAMPLE = 3000
DRAWINGS_SHARE = 0.25  # of the mix, after repeating each drawing
EPOCHS = 2
LEARNING_RATE = 0.01  # a tenth of the lab's default: small steps away from the served weights


def fine_tune_mix(mnist: Dataset, drawings: Dataset, seed: int = 0) -> Dataset:
    """``MNIST_SAMPLE`` MNIST images (a seeded sample) and ``drawings``, repeated to about
    ``DRAWINGS_SHARE`` of the whole."""
    sample = np.sort(np.random.default_rng(seed).choice(len(mnist), size=min(MNIST_SAMPLE, len(mnist)), replace=False))
    mnist_part = mnist.subset(sample)
    repeats = max(1, math.ceil(len(mnist_part) * DRAWINGS_SHARE / (1 - DRAWINGS_SHARE) / len(drawings)))
    images = np.concatenate([mnist_part.images, np.tile(drawings.images, (repeats, 1))])
    labels = np.concatenate([mnist_part.require_labels(), np.tile(drawings.require_labels(), repeats)])
    return Dataset(images, labels, f"{len(mnist_part)} MNIST images and {len(drawings)} drawings x {repeats}")


def fine_tune_session(network: Network, mnist: TrainingData, drawings: Dataset, log) -> TrainingSession:
    """A session that starts from a copy of ``network`` and trains on the mix; its test set is
    MNIST's, so ``finish()`` measures the MNIST test accuracy after."""
    mix = fine_tune_mix(mnist.train, drawings)
    config = TrainConfig(
        hidden=tuple(network.layer_sizes[1:-1]),
        activation=network.activation,
        optimizer="sgd",
        lr=LEARNING_RATE,
        momentum=0.9,
        nesterov=False,
        weight_decay=0.0,
        schedule="constant",
        epochs=EPOCHS,
        batch_size=32,
        val_size=max(1, len(mix) // 10),
        patience=0,
        seed=0,
    )
    checksum = hashlib.sha256(mix.images.tobytes() + mix.require_labels().tobytes()).hexdigest()
    data = TrainingData(mix, mnist.test, {"fine-tune mix": checksum})
    return TrainingSession(config, data, network=network.copy(), log=log)


def measure(network: Network, held_out: Dataset | None, mnist_test: Dataset | None) -> dict:
    """Accuracy on the held-out drawings and on the MNIST test set (``None`` where there is none)."""
    return {
        "held_out_accuracy": evaluate(network, held_out).accuracy if held_out is not None else None,
        "held_out_count": len(held_out) if held_out is not None else 0,
        "mnist_test_accuracy": evaluate(network, mnist_test).accuracy if mnist_test is not None else None,
    }
