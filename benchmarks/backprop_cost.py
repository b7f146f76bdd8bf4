"""Why backpropagation is fast, measured: the gradient of every parameter of 784-256-10 by
central differences against one backward pass (notes section 19).

Central differences (notes eq. (19)) need two evaluations of the loss per parameter:
2 x 203,530 = 407,060 forward passes for one gradient. Timing all of them would take hours, so
each round times ``digitnet.gradcheck.gradcheck`` on a random sample of entries of every
parameter array and extrapolates its seconds per entry to all 203,530; the same round times one
forward pass plus one backward pass (the whole gradient). Rounds alternate the two, and the
ratio is taken within each round, since the machine this runs on is shared and drifts. Both run
in float64, the precision gradient checks need, on one mini-batch of 128 real MNIST images.

Usage (``bench`` extra, for threadpoolctl and psutil)::

    python benchmarks/backprop_cost.py              # 40 rounds, 3 sampled entries per array each
    python benchmarks/backprop_cost.py --rounds 10 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np
from compare import blas_description, load_data, machine_description, spread

from digitnet.data import scale_images
from digitnet.gradcheck import gradcheck
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network

LAYER_SIZES = [784, 256, 10]
BATCH_SIZE = 128


def parameter_count(network: Network) -> int:
    return sum(array.size for array in network.parameters().values())


def finite_difference_seconds_per_entry(network: Network, X: np.ndarray, labels: np.ndarray, entries: int, seed: int):
    """Seconds per parameter entry of a central-difference gradient (two forward passes each),
    over ``entries`` random entries of every parameter array."""
    started = time.perf_counter()
    checks = gradcheck(network, X, labels, max_entries=entries, rng=np.random.default_rng(seed))
    elapsed = time.perf_counter() - started
    return elapsed / sum(check.entries_checked for check in checks)


def backward_seconds(network: Network, X: np.ndarray, labels: np.ndarray, repeats: int = 3) -> float:
    """Median seconds of one forward pass, loss and backward pass: every gradient at once."""
    loss = SoftmaxCrossEntropy()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        loss.forward(network.forward(X), labels)
        network.backward(loss.backward())
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="alternated rounds (default 40)")
    parser.add_argument("--entries", type=int, default=3, help="sampled entries per array and round (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1: stable on a shared machine)")
    parser.add_argument("--data", help="MNIST folder (default: as digitnet train finds it)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from threadpoolctl import threadpool_limits  # NumPy's BLAS is loaded already: limit the live pool

    threadpool_limits(args.threads)
    train, _ = load_data(args.data)
    rng = np.random.default_rng(0)
    network = Network.create(LAYER_SIZES, rng).copy(dtype=np.float64)
    batch = rng.choice(len(train), BATCH_SIZE, replace=False)
    X, labels = scale_images(train.images[batch]).astype(np.float64), train.labels[batch]
    n_parameters = parameter_count(network)
    print(f"machine: {machine_description(blas_description())}; load average before: {os.getloadavg()}")
    print(
        f"{'-'.join(map(str, LAYER_SIZES))}: {n_parameters:,} parameters, batch {BATCH_SIZE}, float64; "
        f"central differences need {2 * n_parameters:,} forward passes per gradient"
    )
    extrapolated, backward, ratios = [], [], []
    for round_number in range(args.rounds):
        per_entry = finite_difference_seconds_per_entry(network, X, labels, args.entries, seed=round_number)
        one_backward = backward_seconds(network, X, labels)
        extrapolated.append(per_entry * n_parameters)
        backward.append(one_backward)
        ratios.append(per_entry * n_parameters / one_backward)
    sampled = args.rounds * args.entries * len(network.parameters())
    print(f"finite differences: {sampled} sampled entries in {args.rounds} rounds")
    print(f"finite differences, all {n_parameters:,} entries (extrapolated): {spread(extrapolated, '{:.0f}')} s")
    print(f"one forward + backward pass: {spread([b * 1e3 for b in backward], '{:.2f}')} ms")
    print(f"ratio (within each round): {spread(ratios, '{:,.0f}')}")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
