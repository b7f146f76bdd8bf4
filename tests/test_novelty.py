"""The "not a digit" score: its math by hand, its file format, and constructed non-digits."""

import json
import math
import struct

import numpy as np
import pytest

from digitnet import novelty
from digitnet.data import scale_images
from digitnet.errors import ModelFileError
from digitnet.network import Network
from digitnet.novelty import (
    NoveltyDetector,
    auroc,
    class_statistics,
    energy,
    false_positive_rate,
    nearest_class_distance,
    whitening_matrix,
)
from digitnet.persistence import load_model, model_to_bytes, pack, save_model
from digitnet.preprocess import mnist_preprocess
from digitnet.trust import Reader


def test_energy_is_the_log_sum_exp_of_the_logits():
    logits = np.array([[0.0, math.log(3)], [1000.0, 1000.0]])
    np.testing.assert_allclose(energy(logits), [math.log(4), 1000 + math.log(2)])  # no overflow at 1000


def test_whitening_turns_the_shrunk_covariance_into_the_identity_and_distances_into_mahalanobis():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 6)) @ rng.normal(size=(6, 6))  # correlated features
    centred = X - X.mean(axis=0)
    covariance = centred.T @ centred / len(X)
    ridge = 0.01 * np.trace(covariance) / 6
    W = whitening_matrix(centred.astype(np.float32), shrinkage=0.01)
    np.testing.assert_allclose(W.T @ (covariance + ridge * np.eye(6)) @ W, np.eye(6), atol=1e-4)
    means = np.stack([X[:250].mean(axis=0), X[250:].mean(axis=0)])
    x = rng.normal(size=(3, 6))
    precision = np.linalg.inv(covariance + ridge * np.eye(6))
    by_hand = [min((xi - m) @ precision @ (xi - m) for m in means) for xi in x]
    np.testing.assert_allclose(nearest_class_distance(x, means, W), by_hand, rtol=1e-4)


def test_auroc_and_false_positive_rate_by_hand():
    # pairs (inlier, outlier): 3>1, 3>2, 2>1 count 1 each, the tie 2=2 counts 1/2: 3.5 of 4
    assert auroc(np.array([3.0, 2.0]), np.array([1.0, 2.0])) == 0.875
    assert auroc(np.array([5.0, 6.0]), np.array([1.0, -np.inf])) == 1.0
    inliers = np.arange(100, dtype=float)  # keeping 95 of them puts the threshold at 4.95
    assert false_positive_rate(inliers, np.array([4.0, 5.0, 50.0, -1.0]), kept=0.95) == 0.5


@pytest.fixture(scope="module")
def reader(small_trained):
    return Reader.from_model(load_model(small_trained[1]))


def test_constructed_non_digits_are_not_digits(reader, non_digit_canvases):
    """Drawings as the page and predict frame them, and noise given directly as a 28x28 image."""
    inputs = {name: mnist_preprocess(pad / 255).reshape(-1) for name, pad in non_digit_canvases.items()}
    inputs["28x28 noise"] = np.random.default_rng(1).uniform(0, 1, 784).astype(np.float32)
    for name, x in inputs.items():
        answer = reader.read(x[None])[0]
        assert answer.verdict == "not a digit", f"{name}: {answer}"


def test_real_test_digits_are_kept_as_the_validation_digits_were(reader, mnist_test):
    X = scale_images(mnist_test.images[:2000])
    kept = np.mean([answer.verdict == "digit" for answer in reader.read(X)])
    assert 0.97 <= kept <= 1.0  # the threshold keeps 99% of validation digits; the test set is alike
    assert reader.novelty.kept_fraction == 0.99


def test_clothing_is_told_apart_from_digits(reader, mnist_test, fashion_test):
    """Fashion-MNIST was never used to choose or fit the score: never-seen non-digits."""
    digits, clothes = scale_images(mnist_test.images[:2000]), scale_images(fashion_test.images[:2000])
    network, detector = reader.network, reader.novelty
    digit_scores = detector.scores(digits, network.logits(digits))
    clothing_scores = detector.scores(clothes, network.logits(clothes))
    assert auroc(digit_scores, clothing_scores) >= 0.98
    assert false_positive_rate(digit_scores, clothing_scores, kept=0.95) <= 0.10


def test_class_statistics_a_chunk_at_a_time_are_the_whole_set_s_from_uint8_pixels(monkeypatch):
    monkeypatch.setattr(novelty, "CHUNK_ROWS", 64)  # 300 images: five chunks, the last one short
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(300, 20), dtype=np.uint8)
    labels = np.arange(300) % 3
    X = pixels.astype(np.float64) / 255
    means = np.stack([X[labels == c].mean(axis=0) for c in range(3)])
    centred = X - means[labels]
    got_means, got_covariance = class_statistics(pixels, labels, 3)
    np.testing.assert_allclose(got_means, means, rtol=1e-6)
    np.testing.assert_allclose(got_covariance, centred.T @ centred / 300, rtol=1e-4, atol=1e-7)
    float_means, float_covariance = class_statistics(scale_images(pixels), labels, 3)
    np.testing.assert_array_equal(float_means, got_means)  # scaled here or by the caller: the same numbers
    np.testing.assert_array_equal(float_covariance, got_covariance)


# ---- in model files ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def detector_and_network():
    """A detector fitted on random images for a random network (read only: ``arrays()`` and
    ``metadata()`` hand out copies to edit)."""
    rng = np.random.default_rng(0)
    network = Network.create([784, 8, 10], rng)
    images = rng.uniform(0, 1, size=(200, 784)).astype(np.float32)
    labels = np.arange(200) % 10
    detector = NoveltyDetector.fit(images, labels, images[:50], network.logits(images[:50]))
    return detector, network


def test_a_model_file_round_trips_its_novelty_statistics(detector_and_network, tmp_path):
    detector, network = detector_and_network
    path = save_model(tmp_path / "m.safetensors", network, detector.arrays(), novelty=detector.metadata())
    loaded = load_model(path).novelty
    X = np.random.default_rng(1).uniform(0, 1, size=(5, 784)).astype(np.float32)
    np.testing.assert_array_equal(loaded.scores(X, network.logits(X)), detector.scores(X, network.logits(X)))
    assert loaded.threshold == detector.threshold


def test_training_data_with_fewer_classes_than_outputs_gets_a_mean_for_each_class_it_has(
    detector_and_network, tmp_path
):
    _, network = detector_and_network
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 1, size=(100, 784)).astype(np.float32)
    detector = NoveltyDetector.fit(images, np.arange(100) % 4, images[:20], network.logits(images[:20]))
    assert detector.class_means.shape == (4, 784)
    path = save_model(tmp_path / "four.safetensors", network, detector.arrays(), novelty=detector.metadata())
    assert load_model(path).novelty.class_means.shape == (4, 784)


def test_a_model_file_without_them_loads_with_no_novelty_score(detector_and_network, tmp_path):
    _, network = detector_and_network
    model = load_model(save_model(tmp_path / "old.safetensors", network))
    assert model.novelty is None and model.temperature == 1.0 and model.class_names == list("0123456789")
    assert Reader.from_model(model).read(np.zeros((1, 784)))[0].verdict == "digit"  # it cannot say otherwise


def rewritten(path, network, tensors, info_changes):
    """A model file whose arrays and metadata are edited, with a content hash that matches, so
    only the structural checks can catch the edit."""
    raw = model_to_bytes(network)
    info = json.loads(json.loads(raw[8 : 8 + struct.unpack("<Q", raw[:8])[0]])["__metadata__"]["digitnet"])
    info.pop("content_sha256")
    info.update(info_changes)
    path.write_bytes(pack({**network.parameters(), **tensors}, info))
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda a, m: a.pop("novelty.whitening"), r"novelty arrays \['novelty.class_means'\] should be"),
        (lambda a, m: a.update({"novelty.whitening": np.zeros((784, 5), np.float32)}), r"is \(784, 5\), needs"),
        (lambda a, m: a.update({"novelty.class_means": np.full((10, 784), np.nan, np.float32)}), "finite numbers"),
        (lambda a, m: m.update(threshold="low"), "novelty metadata has invalid numbers"),
        (lambda a, m: m.update(score_std=[1.0, 0.0]), "novelty metadata has invalid numbers"),
        (lambda a, m: m.update(method="max-softmax"), "with method 'pixel-mahalanobis\\+energy'"),
        (lambda a, m: a.clear(), r"novelty arrays \[\] should be"),
    ],
)
def test_broken_novelty_data_is_refused_with_the_reason(detector_and_network, tmp_path, edit, message):
    detector, network = detector_and_network
    arrays, metadata = detector.arrays(), detector.metadata()
    edit(arrays, metadata)
    path = rewritten(tmp_path / "m.safetensors", network, arrays, {"novelty": metadata})
    with pytest.raises(ModelFileError, match=f"{path}: .*{message}"):
        load_model(path)


def test_novelty_arrays_without_their_metadata_are_refused(detector_and_network, tmp_path):
    detector, network = detector_and_network
    path = rewritten(tmp_path / "m.safetensors", network, detector.arrays(), {})
    with pytest.raises(ModelFileError, match="novelty metadata must be"):
        load_model(path)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"calibration": {"temperature": 0}}, "calibration metadata must be"),
        ({"calibration": {"temperature": float("inf")}}, "calibration metadata must be"),
        ({"calibration": {"T": 1.5}}, "calibration metadata must be"),
        ({"dataset": {"name": "mnist", "class_names": ["0", "1"]}}, r"\[10 names\]"),
        ({"dataset": "mnist"}, "dataset metadata must be"),
    ],
)
def test_bad_calibration_or_dataset_metadata_is_refused(detector_and_network, tmp_path, changes, message):
    _, network = detector_and_network
    path = rewritten(tmp_path / "m.safetensors", network, {}, changes)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)
