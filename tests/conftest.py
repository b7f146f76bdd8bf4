"""Shared fixtures: the real MNIST files, a small model trained on them once per session, and a
tiny synthetic dataset (with a model trained on it) for plumbing tests that must not wait for MNIST."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from digitnet.data import Dataset, TrainingData, load_mnist_split, resolve_data_dir
from digitnet.persistence import save_model
from digitnet.training import TrainConfig, Trainer
from digitnet.trust import fit_trust

# Hypothesis profiles: CI uses the defaults (100 examples per property); developers fuzz longer with
# HYPOTHESIS_PROFILE=fuzz make test ARGS=tests/test_fuzz.py (about six minutes).
settings.register_profile("fuzz", max_examples=5000, deadline=None)
# CI runs a fixed set of examples (derandomized): a red CI then means the same failure on every
# run, never a random draw. The checkpoint fuzz test has been seen to end in Hypothesis's
# FlakyStrategyDefinition about once in 10-20 random runs; the fuzz profile keeps exploring.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default"))

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
SHARED_FASHION_MNIST = REPO.parent / "shared" / "data" / "fashion-mnist"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """$DIGITNET_DATA (CI sets it), else the shared copy beside the repo, else digitnet's own
    lookup (user cache, then download)."""
    if os.environ.get("DIGITNET_DATA"):
        return Path(os.environ["DIGITNET_DATA"])
    if SHARED_MNIST.is_dir():
        return SHARED_MNIST
    return resolve_data_dir()


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """$DIGITNET_FASHION_MNIST_DATA, else the shared copy beside the repo (CI has it)."""
    if os.environ.get("DIGITNET_FASHION_MNIST_DATA"):
        return Path(os.environ["DIGITNET_FASHION_MNIST_DATA"])
    if not SHARED_FASHION_MNIST.is_dir():
        pytest.skip(f"no Fashion-MNIST files: set DIGITNET_FASHION_MNIST_DATA or put them in {SHARED_FASHION_MNIST}")
    return SHARED_FASHION_MNIST


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(mnist_dir, tmp_path_factory):
    """Every test sees the MNIST folder through DIGITNET_DATA (as the CLI would), writes its
    cache and state into a temporary home, and can never reach the internet: the download
    mirrors point at a closed port on 127.0.0.1 unless a test sets its own."""
    home = tmp_path_factory.mktemp("home")
    patch = pytest.MonkeyPatch()
    patch.setenv("DIGITNET_DATA", str(mnist_dir))
    patch.setenv("DIGITNET_MIRRORS", "http://127.0.0.1:9/")
    patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    patch.setenv("XDG_STATE_HOME", str(home / "state"))
    patch.setenv("XDG_DATA_HOME", str(home / "data"))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the reference some tests compare against; those tests skip where it is not
    installed (the rest of their module still runs)."""
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def mnist_train(mnist_dir) -> Dataset:
    return load_mnist_split(mnist_dir, "train")


@pytest.fixture(scope="session")
def mnist_test(mnist_dir) -> Dataset:
    return load_mnist_split(mnist_dir, "test")


@pytest.fixture(scope="session")
def fashion_test(fashion_mnist_dir) -> Dataset:
    """The 10,000 Fashion-MNIST test images: clothing, never a digit."""
    return load_mnist_split(fashion_mnist_dir, "test", dataset="fashion-mnist")


@pytest.fixture(scope="session")
def small_trained(mnist_train, tmp_path_factory):
    """784-128-10 trained for 4 epochs on 20,000 real training images (95.8% test accuracy),
    saved as a model file with its temperature and novelty statistics: what CLI and demo tests
    predict with."""
    config = TrainConfig(hidden=(128,), epochs=4, val_size=2000, patience=0, seed=0)
    train = mnist_train.subset(np.arange(20_000))
    val = mnist_train.subset(np.arange(20_000, 22_000))
    trainer = Trainer(config, train, val, log=lambda line: None)
    trainer.fit()
    path = tmp_path_factory.mktemp("model") / "small.safetensors"
    trust = fit_trust(trainer.network, val, train)  # temperature and "not a digit", as training stores them
    save_model(path, trainer.network, trust["arrays"], config=config.to_dict(), metrics={}, **trust["metadata"])
    return trainer.network, path


# ----------------------------------------------------------------------------- synthetic data

SHAPES = ("horizontal bar", "vertical bar", "diagonal", "hollow square")


def draw_shape(label: int, rng: np.random.Generator) -> np.ndarray:
    """One 28x28 uint8 image of ``SHAPES[label]``: random place and ink on faint noise."""
    image = rng.integers(0, 40, size=(28, 28))
    row, col = rng.integers(6, 16, size=2)
    ink = rng.integers(160, 256)
    if label == 0:
        image[row : row + 3, 4:24] = ink
    elif label == 1:
        image[4:24, col : col + 3] = ink
    elif label == 2:
        for offset in range(12):
            image[row - 4 + offset, col - 4 + offset : col - 1 + offset] = ink
    else:
        image[row - 4 : row + 8, col - 4 : col + 8] = ink
        image[row - 2 : row + 6, col - 2 : col + 6] = rng.integers(0, 40)
    return image.astype(np.uint8).reshape(784)


def synthetic_dataset(n: int, seed: int, source: str) -> Dataset:
    """``n`` images of the four ``SHAPES`` (labels 0-3, balanced, in shuffled order)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(SHAPES)).astype(np.uint8)
    images = np.stack([draw_shape(int(label), rng) for label in labels])
    return Dataset(images, labels, source)


@pytest.fixture(scope="session")
def synthetic_data() -> TrainingData:
    """200 training and 100 test images in MNIST's layout (``(n, 784)`` uint8, labels within
    0..9) that a 784-16-10 network learns in a few epochs of milliseconds: what plumbing
    tests (trainer bookkeeping, checkpoints, the CLI) train on instead of MNIST."""
    train = synthetic_dataset(200, seed=1, source="synthetic shapes, train")
    test = synthetic_dataset(100, seed=2, source="synthetic shapes, test")
    checksum = hashlib.sha256(train.images.tobytes() + train.require_labels().tobytes()).hexdigest()
    return TrainingData(train, test, {"synthetic-train": checksum})


@pytest.fixture(scope="session")
def synthetic_csv(synthetic_data, tmp_path_factory) -> Path:
    """``synthetic_data.train`` as a Kaggle ``train.csv``: ``--data`` for CLI plumbing tests."""
    train = synthetic_data.train
    rows = [",".join(["label", *(f"pixel{i}" for i in range(784))])]
    rows += [",".join(map(str, [label, *image])) for label, image in zip(train.require_labels(), train.images)]
    path = tmp_path_factory.mktemp("synthetic") / "train.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="session")
def synthetic_trained(synthetic_data, tmp_path_factory):
    """784-16-10 trained for 10 epochs on ``synthetic_data`` (milliseconds; it tells the four
    shapes apart), saved as a model file without history or metrics: what plumbing tests of
    the model-file commands use where a test does not check that the model reads digits."""
    config = TrainConfig(hidden=(16,), epochs=10, batch_size=20, patience=0)
    trainer = Trainer(config, synthetic_data.train, synthetic_data.test, log=lambda line: None)
    trainer.fit()
    path = tmp_path_factory.mktemp("model") / "synthetic.safetensors"
    save_model(path, trainer.network, config=config.to_dict(), metrics={})
    return trainer.network, path


@pytest.fixture(scope="session")
def non_digit_canvases() -> dict[str, np.ndarray]:
    """280x280 uint8 drawings (ink 255 on 0, as the page sends them) that are not digits: an
    empty canvas, one filled with ink, and a zigzag scribble across the whole pad. (Random noise
    is given as a 28x28 image instead: on a canvas, the preprocessing's resampling averages it
    into a gray square, which scores close to the threshold; see docs/trust.md.)"""
    zigzag = np.zeros((280, 280), dtype=np.uint8)
    for row in range(20, 260, 30):  # eight strokes back and forth, each a 60-pixel-wide sawtooth
        for col in range(20, 260):
            top = row + (col % 60 if (row // 30) % 2 else 60 - col % 60) // 2
            zigzag[top : top + 12, col : col + 2] = 255
    return {
        "blank": np.zeros((280, 280), dtype=np.uint8),
        "all ink": np.full((280, 280), 255, dtype=np.uint8),
        "scribble": zigzag,
    }
