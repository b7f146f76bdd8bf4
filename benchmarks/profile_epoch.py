"""Where one training epoch's time goes: every stage of ``Trainer.train_step``, timed alone.

Usage::

    python benchmarks/profile_epoch.py --hidden 128 --batch-size 128 [--optimizer sgd|adam]

Runs one warm-up epoch, then one timed epoch in which each stage (batch gathering, the
uint8 -> float32 conversion, every layer's forward and backward, the loss, the optimizer) is
wrapped in a ``perf_counter`` pair; prints a Markdown table of milliseconds per epoch and the
share of the total, next to the five matrix products of the epoch timed on their own. The timers
cost about a microsecond per stage, which is included in the figures.

``--clock cpu`` times with the process's CPU time instead of the wall clock: on a shared machine
that ignores time spent waiting for a core, and with ``OPENBLAS_NUM_THREADS=1`` (a single thread,
so no time spent spinning in BLAS threads) it gives stable figures under load.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np
from matmul_limit import matmul_seconds_per_epoch

import digitnet.training
from digitnet.config import TrainConfig
from digitnet.data import load_mnist_split, resolve_data_dir
from digitnet.training import Trainer


class StageTimer:
    """Sums ``perf_counter`` time per named stage; ``wrap`` times one method of an object."""

    def __init__(self, clock):
        self.clock = clock
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, owner, method_name: str, stage: str) -> None:
        method = getattr(owner, method_name)

        def timed(*args, **kwargs):
            started = self.clock()
            result = method(*args, **kwargs)
            self.seconds[stage] += self.clock() - started
            return result

        object.__setattr__(owner, method_name, timed)  # also on frozen dataclasses (Schedule)


def instrument(trainer: Trainer, timer: StageTimer) -> None:
    """Wrap every stage of the trainer's step: each layer, the loss, the optimizer."""
    for position, layer in enumerate(trainer.network.layers):
        name = f"{type(layer).__name__.lower()}{position // 2}"
        timer.wrap(layer, "forward", f"{name} forward")
        timer.wrap(layer, "backward", f"{name} backward")
    timer.wrap(trainer.loss, "forward", "loss forward")
    timer.wrap(trainer.loss, "backward", "loss backward")
    timer.wrap(digitnet.training, "scale_images", "uint8->float32")  # the gather stays in the glue
    timer.wrap(trainer.optimizer, "step", "optimizer step")
    timer.wrap(trainer.schedule, "lr_at", "schedule lr_at")


def one_epoch_seconds(trainer: Trainer, clock) -> float:
    order = trainer.generators["shuffle"].permutation(len(trainer.train_set))
    started = clock()
    for start in range(0, len(order), trainer.config.batch_size):
        trainer.train_step(order[start : start + trainer.config.batch_size])
    return clock() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter

    train = load_mnist_split(resolve_data_dir(args.data), "train")
    config = TrainConfig(
        hidden=(args.hidden,),
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=0.1 if args.optimizer == "sgd" else 1e-3,
        nesterov=False,
        weight_decay=0.0,
        schedule="constant",
        epochs=2,
        val_size=1,
    )
    trainer = Trainer(config, train.subset(np.arange(len(train))), train.subset(np.arange(1)), log=lambda _: None)
    one_epoch_seconds(trainer, clock)  # warm-up: first-touch page faults, BLAS thread start
    untimed = one_epoch_seconds(trainer, clock)
    timer = StageTimer(clock)
    instrument(trainer, timer)
    total = one_epoch_seconds(trainer, clock)
    limit = matmul_seconds_per_epoch(config.layer_sizes, args.batch_size, len(train), clock=clock)

    print(
        f"784-{args.hidden}-10, batch {args.batch_size}, {args.optimizer}, "
        f"{args.clock} clock; epoch {1e3 * untimed:.0f} ms untimed, "
        f"{1e3 * total:.0f} ms with stage timers; matmul limit {1e3 * limit:.0f} ms\n"
    )
    print("| stage | ms / epoch | share |\n| --- | ---: | ---: |")
    for stage, seconds in sorted(timer.seconds.items(), key=lambda item: -item[1]):
        print(f"| {stage} | {1e3 * seconds:.1f} | {100 * seconds / total:.0f}% |")
    rest = total - sum(timer.seconds.values())
    print(f"| loop, slicing, untimed glue | {1e3 * rest:.1f} | {100 * rest / total:.0f}% |")


if __name__ == "__main__":
    main()
