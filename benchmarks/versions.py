"""CPU time of digitnet's training step, this tree against other versions, alternated.

Each round runs every version once, A B C A B C ..., each in its own process with its own
``src`` first on the path, for the same configuration and seed: an epoch of
``Trainer.train_step`` over the 60,000 training images, timed with the process's CPU clock
(``time.process_time``) on one BLAS thread. On a shared machine the wall clock measures the
queue for a core; one thread's CPU time measures the work, which is what a before/after asks.
The table gives medians over the rounds of each run's median epoch (epochs 2..N), with
[min-max], and each version's time over the first one's, paired within each round.

Usage::

    git archive 7a1ecd3 src | tar -x -C /tmp/main-7a1ecd3       # a version to compare with
    python benchmarks/versions.py --version main=/tmp/main-7a1ecd3/src --hidden 128 --optimizer sgd

The current tree (``src`` beside this script) runs first, as "this branch". A version is any
``src`` folder whose ``digitnet.training.Trainer`` has ``train_step`` (since issue 7).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def epoch_cpu_seconds(spec: dict) -> list[float]:
    """In a worker: CPU seconds of each epoch of ``train_step`` calls, for ``spec``."""
    from digitnet.data import load_mnist_split, resolve_data_dir
    from digitnet.training import Trainer

    try:
        from digitnet.config import TrainConfig
    except ImportError:  # before issue 10 the config lived in training.py
        from digitnet.training import TrainConfig

    train = load_mnist_split(resolve_data_dir(spec["data"]), "train")
    config = TrainConfig(
        hidden=(spec["hidden"],),
        batch_size=spec["batch_size"],
        optimizer=spec["optimizer"],
        lr=0.1 if spec["optimizer"] == "sgd" else 1e-3,
        nesterov=False,
        weight_decay=0.0,
        schedule="constant",
        epochs=spec["epochs"],
        patience=0,
    )
    trainer = Trainer(config, train, train, log=lambda line: None)
    seconds = []
    for _ in range(spec["epochs"]):
        order = trainer.generators["shuffle"].permutation(len(train))
        started = time.process_time()
        for start in range(0, len(order), config.batch_size):
            trainer.train_step(order[start : start + config.batch_size])
        seconds.append(time.process_time() - started)
    return seconds


def run_version(source: Path, spec: dict) -> list[float]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")]),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)], env=env, capture_output=True, text=True
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{source}: {completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="append", default=[], metavar="NAME=SRC", help="another src folder")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(epoch_cpu_seconds(json.loads(args.worker))))
        return 0
    versions = {"this branch": HERE.parent / "src"}
    versions.update((name, Path(folder)) for name, _, folder in (v.partition("=") for v in args.version))
    spec = {k: getattr(args, k) for k in ("hidden", "batch_size", "optimizer", "epochs", "data")}
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    medians: dict[str, list[float]] = {name: [] for name in versions}
    for round_ in range(args.rounds):
        for name, source in versions.items():
            seconds = run_version(source, spec)
            medians[name].append(statistics.median(seconds[1:] or seconds))
            print(f"round {round_ + 1} {name}: {[round(s, 3) for s in seconds]}", file=sys.stderr, flush=True)
    first = next(iter(versions))
    label = f"784-{args.hidden}-10 b={args.batch_size} {args.optimizer}"
    print(f"| configuration | version | CPU s/epoch | ÷ {first} |\n| --- | --- | ---: | ---: |")
    for name, values in medians.items():
        ratios = [a / b for a, b in zip(values, medians[first])]
        print(
            f"| {label} | {name} | {statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}] "
            f"| {statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}] |"
        )
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; 1 BLAS thread, CPU time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
