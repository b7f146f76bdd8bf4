"""Fashion-MNIST: digitnet, PyTorch and scikit-learn train 784-H-10 on the same recipe.

Two recipes, each run in its own process per contender, contenders alternated (A B C A B C ...),
test accuracy measured after every epoch (not timed):

- ``--recipe shared`` (default): the contenders of ``compare.py``, unchanged: the 60,000
  training images, ReLU, softmax cross-entropy averaged over the batch, float32, SGD with
  momentum 0.9 at a constant learning rate 0.1, no weight decay, batch 128. The one recipe all
  three implement identically.
- ``--recipe digitnet``: ``digitnet train --dataset fashion-mnist --hidden H --epochs N --lr 0.1
  --patience 0``: the seeded 55,000 / 5,000 split, SGD with Nesterov momentum 0.9, L2 1e-4 on the
  weights (not the biases), the learning rate on a cosine schedule from 0.1 to 0 over every step
  (digitnet's own ``Schedule``, so both follow the same curve), batch 128. digitnet (its
  ``Trainer``) and PyTorch (same update rule, ``torch.optim.SGD`` with ``nesterov=True``);
  scikit-learn's ``MLPClassifier`` has no cosine schedule and scales its L2 penalty differently.

    python benchmarks/fashion_mnist.py                        # shared recipe, H=256, 20 epochs
    python benchmarks/fashion_mnist.py --recipe digitnet      # the CLI's recipe, digitnet and PyTorch

Needs the ``bench`` extra and the Fashion-MNIST files ($DIGITNET_FASHION_MNIST_DATA or --data).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
from compare import blas_description, load_data, machine_description, run_in_subprocess, seconds_per_epoch, spread

RECIPES = {"shared": ("digitnet", "pytorch", "sklearn"), "digitnet": ("digitnet-recipe", "pytorch-recipe")}
LEARNING_RATE, WEIGHT_DECAY, VAL_SIZE = 0.1, 1e-4, 5000


def recipe_config(spec: dict):
    from digitnet.config import TrainConfig

    return TrainConfig(hidden=(spec["hidden"],), epochs=spec["epochs"], lr=LEARNING_RATE, patience=0, seed=spec["seed"])


def run_digitnet_recipe(spec: dict, train, test) -> tuple[list[float], list[float]]:
    from digitnet.config import seeded_split
    from digitnet.training import Trainer

    config = recipe_config(spec)
    train_part, _ = seeded_split(train, VAL_SIZE, spec["seed"])
    # the test set stands in as the "validation" set: scored after every epoch, outside the timing
    trainer = Trainer(config, train_part, test, log=lambda line: None)
    records = [trainer.run_epoch() for _ in range(spec["epochs"])]
    return [r.seconds for r in records], [r.val_accuracy for r in records]


def run_pytorch_recipe(spec: dict, train, test) -> tuple[list[float], list[float]]:
    import math

    import torch

    from digitnet.config import seeded_split
    from digitnet.schedules import Schedule

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    generator = torch.Generator().manual_seed(spec["seed"])
    train_part, _ = seeded_split(train, VAL_SIZE, spec["seed"])
    X = torch.from_numpy(train_part.images.astype(np.float32) / np.float32(255))
    y = torch.from_numpy(train_part.require_labels().astype(np.int64))
    X_test = torch.from_numpy(test.images.astype(np.float32) / np.float32(255))
    y_test = torch.from_numpy(test.require_labels().astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, spec["hidden"]), torch.nn.ReLU(), torch.nn.Linear(spec["hidden"], 10)
    )
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    optimizer = torch.optim.SGD(
        [{"params": weights, "weight_decay": WEIGHT_DECAY}, {"params": biases, "weight_decay": 0.0}],
        lr=LEARNING_RATE,
        momentum=0.9,
        nesterov=True,
    )
    batch = 128
    steps_per_epoch = math.ceil(len(X) / batch)
    schedule = Schedule("cosine", LEARNING_RATE, steps_per_epoch * spec["epochs"], steps_per_epoch)
    seconds, accuracies, step = [], [], 0
    for _ in range(spec["epochs"]):
        started = time.perf_counter()
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch):
            for group in optimizer.param_groups:
                group["lr"] = schedule.lr_at(step)
            indices = order[start : start + batch]
            loss = torch.nn.functional.cross_entropy(model(X[indices]), y[indices])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        seconds.append(time.perf_counter() - started)
        with torch.no_grad():
            accuracies.append(float((model(X_test).argmax(dim=1) == y_test).float().mean()))
    return seconds, accuracies


RECIPE_RUNNERS = {"digitnet-recipe": run_digitnet_recipe, "pytorch-recipe": run_pytorch_recipe}


def worker(spec: dict) -> dict:
    train, test = load_data(spec["data"], "fashion-mnist")
    seconds, accuracies = RECIPE_RUNNERS[spec["contender"]](spec, train, test)
    return {"seconds": seconds, "accuracies": accuracies, "blas": blas_description()}


def table(runs: dict[str, list[dict]]) -> list[str]:
    rows = [
        "| contender | s/epoch (epochs 2..N) | training time (s) | final test acc % | best test acc % (epoch) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for contender, these in runs.items():
        best = [max(range(len(r["accuracies"])), key=lambda e, r=r: r["accuracies"][e]) for r in these]
        best_text = ", ".join(f"{100 * r['accuracies'][e]:.2f} ({e + 1})" for r, e in zip(these, best))
        rows.append(
            f"| {contender} | {spread([seconds_per_epoch(r) for r in these])} "
            f"| {spread([sum(r['seconds']) for r in these], '{:.0f}')} "
            f"| {spread([100 * r['accuracies'][-1] for r in these], '{:.2f}')} | {best_text} |"
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=list(RECIPES), default="shared")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the rotation, seeds 0, 1, ...")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", help="Fashion-MNIST folder (default: $DIGITNET_FASHION_MNIST_DATA, the cache)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    contenders = RECIPES[args.recipe]
    runs: dict[str, list[dict]] = {c: [] for c in contenders}
    for seed in range(args.rounds):
        for contender in contenders:
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
                "clock": "wall",  # compare.py's contenders time their epochs on this clock
            }
            script = __file__ if contender in RECIPE_RUNNERS else None
            runs[contender].append(run_in_subprocess(spec, script) if script else run_in_subprocess(spec))
            print(f"{contender} seed {seed}: {runs[contender][-1]['accuracies']}", file=sys.stderr)
    print(
        f"784-{args.hidden}-10 on Fashion-MNIST, recipe {args.recipe}, {args.epochs} epochs, "
        f"{args.rounds} round(s), {args.threads} threads"
    )
    print("\n".join(table(runs)))
    print(f"\nMachine: {machine_description(runs[contenders[0]][0]['blas'])}.")
    print(f"Load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
