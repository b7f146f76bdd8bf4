"""Fashion-MNIST: digitnet, PyTorch and scikit-learn train 784-H-10 on the same recipe.

The contenders of ``compare.py``, unchanged, on Fashion-MNIST's 60,000 training images: ReLU,
softmax cross-entropy averaged over the batch, float32, SGD with momentum 0.9 at a constant
learning rate 0.1, no weight decay, batch 128, reshuffled every epoch, scored on the 10,000 test
images after every epoch. That is the one recipe all three implement identically (scikit-learn
has no cosine schedule, and its ``alpha`` scales the L2 penalty differently). Each run is its
own process; the contenders alternate (A B C A B C ...).

    python benchmarks/fashion_mnist.py                  # H=256, 20 epochs, 1 round
    python benchmarks/fashion_mnist.py --rounds 3 --hidden 512 --epochs 30

Needs the ``bench`` extra and the Fashion-MNIST files ($DIGITNET_FASHION_MNIST_DATA or --data).
"""

from __future__ import annotations

import argparse
import os
import sys

from compare import machine_description, run_in_subprocess, seconds_per_epoch, spread

CONTENDERS = ("digitnet", "pytorch", "sklearn")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the rotation, seeds 0, 1, ...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", help="Fashion-MNIST folder (default: $DIGITNET_FASHION_MNIST_DATA, the cache)")
    args = parser.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    runs: dict[str, list[dict]] = {c: [] for c in CONTENDERS}
    for seed in range(args.rounds):
        for contender in CONTENDERS:
            spec = {
                "contender": contender,
                "dataset": "fashion-mnist",
                "hidden": args.hidden,
                "batch_size": 128,
                "optimizer": "sgd",
                "epochs": args.epochs,
                "seed": seed,
                "data": args.data,
                "threads": args.threads,
            }
            runs[contender].append(run_in_subprocess(spec))
            print(f"{contender} seed {seed}: {runs[contender][-1]['accuracies']}", file=sys.stderr)
    print(
        f"784-{args.hidden}-10 on Fashion-MNIST, {args.epochs} epochs, {args.rounds} round(s), {args.threads} threads"
    )
    print("| contender | s/epoch (epochs 2..N) | training time (s) | final test acc % | best test acc % (epoch) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for contender, these in runs.items():
        best = [max(range(len(r["accuracies"])), key=lambda e: r["accuracies"][e]) for r in these]
        best_text = ", ".join(f"{100 * r['accuracies'][e]:.2f} ({e + 1})" for r, e in zip(these, best))
        print(
            f"| {contender} | {spread([seconds_per_epoch(r) for r in these])} "
            f"| {spread([sum(r['seconds']) for r in these], '{:.0f}')} "
            f"| {spread([100 * r['accuracies'][-1] for r in these], '{:.2f}')} | {best_text} |"
        )
    print(f"\nMachine: {machine_description(runs['digitnet'][0]['blas'])}.")
    print(f"Load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
