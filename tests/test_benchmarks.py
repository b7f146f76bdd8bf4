"""The benchmark scripts' bookkeeping: the matmul limit times the products a step really does,
FLOPs are counted right, and times to an accuracy are read off the epochs correctly."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from compare import parse_baselines, seconds_per_epoch, spread, time_to, worker_environment  # noqa: E402
from matmul_limit import batch_sizes, matmul_flops_per_epoch, matmul_seconds_per_epoch, step_products  # noqa: E402


def test_an_epoch_of_1050_in_batches_of_100_ends_with_a_short_batch():
    assert batch_sizes(1050, 100) == [100] * 10 + [50]
    assert batch_sizes(1000, 100) == [100] * 10


def test_the_limit_times_the_five_products_a_two_layer_step_does():
    """Forward X W1 and A1 W2; backward A1^T dZ2, dZ2 W2^T, X^T dZ1 (no first-layer dX)."""
    products = step_products([784, 128, 10], 32, np.random.default_rng(0))
    shapes = sorted((a.shape, b.shape, out.shape) for a, b, out in products)
    assert shapes == sorted(
        [
            ((32, 784), (784, 128), (32, 128)),
            ((784, 32), (32, 128), (784, 128)),
            ((32, 128), (128, 10), (32, 10)),
            ((128, 32), (32, 10), (128, 10)),
            ((32, 10), (10, 128), (32, 128)),
        ]
    )
    assert all(out.dtype == np.float32 for _, _, out in products)


def test_flops_per_epoch_by_hand():
    # one batch of 2 through 4-3-2: forward 2*2*(4*3 + 3*2) = 72, dW the same 72, dX of layer 2 2*2*3*2 = 24
    assert matmul_flops_per_epoch([4, 3, 2], batch_size=2, n_train=2) == 168
    assert matmul_flops_per_epoch([4, 3, 2], batch_size=2, n_train=3) == 168 + 84  # plus a batch of 1


def test_matmul_limit_is_a_positive_time():
    assert 0 < matmul_seconds_per_epoch([20, 8, 10], 16, 100) < 5


def test_time_to_accuracy_counts_training_seconds_through_the_first_epoch_that_reaches_it():
    run = {"seconds": [2.0, 1.0, 1.5, 1.0], "accuracies": [0.96, 0.974, 0.981, 0.979]}
    assert time_to(run, 0.975) == pytest.approx(4.5)
    assert time_to(run, 0.98) == pytest.approx(4.5)
    assert time_to(run, 0.99) is None
    assert seconds_per_epoch(run) == 1.0  # median of epochs 2..N, the first one left out


def test_spread_is_median_with_min_and_max():
    assert spread([3.0, 1.0, 2.0], "{:.1f}") == "2.0 [1.0-3.0]"
    assert spread([0.5]) == "0.500"


def test_a_baseline_is_another_source_tree_run_by_its_own_worker(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "compare.py").write_text("")
    assert parse_baselines([f"main={tmp_path}"]) == {"digitnet main": tmp_path}
    paths = worker_environment(1, tmp_path)["PYTHONPATH"].split(":")
    assert paths[:2] == [str(tmp_path / "src"), str(tmp_path / "benchmarks")]
    with pytest.raises(SystemExit, match="need NAME=DIR with DIR/src and DIR/benchmarks/compare.py"):
        parse_baselines([f"old={tmp_path / 'missing'}"])
