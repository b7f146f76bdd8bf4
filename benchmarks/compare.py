"""digitnet against a PyTorch MLP on the CPU and scikit-learn's MLPClassifier, on the same work.

Every contender trains 784-H-10 (ReLU, softmax cross-entropy averaged over the batch, float32,
inputs in [0, 1]) on the 60,000 MNIST training images, reshuffled every epoch, with the same batch
size and optimizer (SGD lr 0.1 momentum 0.9, or Adam lr 1e-3), on 2 threads, and is scored on the
10,000 test images after every epoch (not timed). Each contender runs in its own process, so its
peak RSS is its own; the contenders of a configuration run alternately (A B C A B C ...), and the
table gives medians with [min-max] over the repeats, plus ratios paired within each round, the
only figures that mean something on a shared, drifting machine.

"matmul limit" is the matrix products of a digitnet epoch timed alone at the same shapes
(``matmul_limit.py``), measured in the same rotation.

``--baseline NAME=DIR`` adds another version of digitnet to the rotation: ``DIR`` holds its
``src/`` and ``benchmarks/`` (a checkout, or ``git archive COMMIT src benchmarks | tar -x -C DIR``),
and its own ``compare.py`` worker trains it. So "before and after" is measured in one alternated
run on one machine, the only comparison a shared machine allows.

The CPU (model name, family/model/stepping, vector extensions) and the BLAS library, kernel and
thread count are printed before the first run and with the table.

Usage (needs the ``bench`` extra: ``pip install -e '.[bench]'``)::

    python benchmarks/compare.py               # full: H=128, 800 x SGD, Adam + batch 64, 256 (SGD); 3 rounds
    python benchmarks/compare.py --quick       # H=128, batch 128, SGD, 3 epochs, 1 repeat
    python benchmarks/compare.py --json results.json   # also keep the raw measurements
    python benchmarks/compare.py --baseline main=/tmp/digitnet-main   # a second digitnet alongside
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
THREADS = 2
LEARNING_RATES = {"sgd": 0.1, "adam": 1e-3}
CONTENDERS = ("digitnet", "pytorch", "sklearn", "matmul-limit")
TARGETS = (0.975, 0.980)
# "cpu": the process's CPU time, which the queue for a core does not inflate; with --threads 1
# it measures the work on a shared machine. "wall": what a user waits, on a quiet machine.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


# ----------------------------------------------------------------------------- one run, in a worker process


def load_data(data: str | None, dataset: str = "mnist"):
    from digitnet.data import load_mnist_split, resolve_data_dir

    folder = resolve_data_dir(data, dataset=dataset)
    return load_mnist_split(folder, "train", dataset=dataset), load_mnist_split(folder, "test", dataset=dataset)


def timed_epoch(trainer, clock: str):
    """Train one epoch: (its training seconds on ``clock``, its history line). The wall clock is
    the trainer's own; CPU time runs from the epoch's start to the end of its last batch, so
    the validation after it is left out in both."""
    from digitnet.training import TrainingListener

    class LastBatchClock(TrainingListener):
        def on_batch_end(self, trainer, loss):
            self.time = time.process_time()

    last_batch, started = LastBatchClock(), time.process_time()
    record = trainer.run_epoch([last_batch])
    return (last_batch.time - started if clock == "cpu" else record.seconds), record


def run_digitnet(spec: dict, train, test) -> tuple[list[float], list[float]]:
    from digitnet.config import TrainConfig
    from digitnet.training import Trainer

    config = TrainConfig(
        hidden=(spec["hidden"],),
        optimizer=spec["optimizer"],
        lr=LEARNING_RATES[spec["optimizer"]],
        momentum=0.9,
        nesterov=False,
        weight_decay=0.0,
        schedule="constant",
        epochs=spec["epochs"],
        batch_size=spec["batch_size"],
        patience=0,
        seed=spec["seed"],
    )
    # the test set stands in as the "validation" set: scored after every epoch, outside the timing
    trainer = Trainer(config, train, test, log=lambda line: None)
    epochs = [timed_epoch(trainer, spec["clock"]) for _ in range(spec["epochs"])]
    return [seconds for seconds, _ in epochs], [record.val_accuracy for _, record in epochs]


def run_pytorch(spec: dict, train, test) -> tuple[list[float], list[float]]:
    import torch

    torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    generator = torch.Generator().manual_seed(spec["seed"])
    # preloaded float32 tensors and index slicing: the fast idiom, no DataLoader
    X = torch.from_numpy(train.images.astype(np.float32) / np.float32(255))
    y = torch.from_numpy(train.labels.astype(np.int64))
    X_test = torch.from_numpy(test.images.astype(np.float32) / np.float32(255))
    y_test = torch.from_numpy(test.labels.astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, spec["hidden"]), torch.nn.ReLU(), torch.nn.Linear(spec["hidden"], 10)
    )
    lr = LEARNING_RATES[spec["optimizer"]]
    optimizer = (
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        if spec["optimizer"] == "sgd"
        else torch.optim.Adam(model.parameters(), lr=lr)
    )
    batch, seconds, accuracies = spec["batch_size"], [], []
    for _ in range(spec["epochs"]):
        started = CLOCKS[spec["clock"]]()
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch):
            indices = order[start : start + batch]
            loss = torch.nn.functional.cross_entropy(model(X[indices]), y[indices])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        seconds.append(CLOCKS[spec["clock"]]() - started)
        with torch.no_grad():
            accuracies.append(float((model(X_test).argmax(dim=1) == y_test).float().mean()))
    return seconds, accuracies


def run_sklearn(spec: dict, train, test) -> tuple[list[float], list[float]]:
    from sklearn.neural_network import MLPClassifier

    X = train.images.astype(np.float32) / np.float32(255)
    X_test = test.images.astype(np.float32) / np.float32(255)
    model = MLPClassifier(
        hidden_layer_sizes=(spec["hidden"],),
        activation="relu",
        solver=spec["optimizer"],
        alpha=0.0,
        batch_size=spec["batch_size"],
        learning_rate="constant",
        learning_rate_init=LEARNING_RATES[spec["optimizer"]],
        momentum=0.9,
        nesterovs_momentum=False,
        shuffle=True,
        random_state=spec["seed"],
    )
    classes = np.arange(10)
    seconds, accuracies = [], []
    for _ in range(spec["epochs"]):
        started = CLOCKS[spec["clock"]]()
        model.partial_fit(X, train.labels, classes=classes)  # one epoch
        seconds.append(CLOCKS[spec["clock"]]() - started)
        accuracies.append(float(np.mean(model.predict(X_test) == test.labels)))
    return seconds, accuracies


def run_matmul_limit(spec: dict, train, test) -> tuple[list[float], list[float]]:
    from matmul_limit import matmul_seconds_per_epoch

    sizes = [784, spec["hidden"], 10]
    clock = CLOCKS[spec["clock"]]
    return [
        matmul_seconds_per_epoch(sizes, spec["batch_size"], len(train), seed=epoch, clock=clock)
        for epoch in range(spec["epochs"])
    ], []


RUNNERS = {"digitnet": run_digitnet, "pytorch": run_pytorch, "sklearn": run_sklearn, "matmul-limit": run_matmul_limit}


def blas_description() -> str:
    from threadpoolctl import threadpool_info

    for pool in threadpool_info():
        if pool["user_api"] == "blas" and "numpy" in pool["filepath"]:
            return (
                f"{pool['internal_api']} {pool['version']} ({pool.get('architecture', '?')} kernels, "
                f"{pool['num_threads']} threads)"
            )
    return "unknown"


def worker(spec: dict) -> dict:
    train, test = load_data(spec["data"], spec.get("dataset", "mnist"))
    seconds, accuracies = RUNNERS[spec["contender"]](spec, train, test)
    peak_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    return {
        "seconds": seconds,
        "accuracies": accuracies,
        "peak_rss_mb": peak_rss_kib / 1024,
        "blas": blas_description() if spec["contender"] == "digitnet" else None,
    }


def worker_environment(threads: int = THREADS, source: Path | None = None) -> dict:
    """``threads`` for every library; OpenBLAS picks its own kernel (see the env notes). With
    ``source`` (a baseline's folder), its ``src`` and ``benchmarks`` come first on the path."""
    paths = [str(source / "src"), str(source / "benchmarks")] if source else [str(HERE)]
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": str(threads),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]),
    }
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # both or neither: they slow a current OpenBLAS
        env.pop(name, None)
    return env


def run_in_subprocess(spec: dict, script: str = __file__, source: Path | None = None) -> dict:
    """Run ``script --worker SPEC`` in a fresh process (its own peak RSS, its own thread
    settings) and return the JSON it prints last. ``source``: a baseline's folder, whose
    ``compare.py`` worker then trains its own digitnet."""
    if source:
        script, spec = str(source / "benchmarks" / "compare.py"), {**spec, "contender": "digitnet"}
    completed = subprocess.run(
        [sys.executable, script, "--worker", json.dumps(spec)],
        env=worker_environment(spec["threads"], source),
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{spec} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the rotation and the table


def seconds_per_epoch(run: dict) -> float:
    """Median over epochs 2..N (epoch 1 pays for first-touch memory and thread start-up)."""
    return statistics.median(run["seconds"][1:] or run["seconds"])


def time_to(run: dict, target: float) -> float | None:
    """Training seconds until the end of the first epoch scoring ``target`` on the test set."""
    elapsed = 0.0
    for seconds, accuracy in zip(run["seconds"], run["accuracies"]):
        elapsed += seconds
        if accuracy >= target:
            return elapsed
    return None


def spread(values: list[float], fmt: str = "{:.3f}") -> str:
    if not values:
        return "–"
    text = fmt.format(statistics.median(values))
    return text if len(values) == 1 else f"{text} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def reached(values: list[float | None], fmt: str) -> str:
    hits = [v for v in values if v is not None]
    text = spread(hits, fmt) if hits else "not reached"
    return text if len(hits) == len(values) or not hits else f"{text} ({len(hits)}/{len(values)} runs)"


def config_rows(config: dict, runs: dict[str, list[dict]]) -> list[str]:
    from matmul_limit import matmul_flops_per_epoch

    label = f"H={config['hidden']} b={config['batch_size']} {config['optimizer']}"
    mine = [seconds_per_epoch(r) for r in runs["digitnet"]]
    rows = []
    for contender in [name for name in runs if name != "matmul-limit"]:
        these = [seconds_per_epoch(r) for r in runs[contender]]
        ratio = spread([a / b for a, b in zip(mine, these)], "{:.2f}") if contender != "digitnet" else "1"
        rows.append(
            " | ".join(
                [
                    f"| {label}",
                    contender,
                    spread(these),
                    ratio,
                    *(reached([time_to(r, t) for r in runs[contender]], "{:.1f}") for t in TARGETS),
                    spread([100 * r["accuracies"][-1] for r in runs[contender]], "{:.2f}"),
                    spread([100 * max(r["accuracies"]) for r in runs[contender]], "{:.2f}"),
                    spread([r["peak_rss_mb"] for r in runs[contender]], "{:.0f}") + " |",
                ]
            )
        )
    if "matmul-limit" in runs:
        limit = [seconds_per_epoch(r) for r in runs["matmul-limit"]]
        flops = matmul_flops_per_epoch([784, config["hidden"], 10], config["batch_size"], 60_000)
        rows.append(
            f"| {label} | matmul limit | {spread(limit)} | {spread([a / b for a, b in zip(mine, limit)], '{:.2f}')}"
            f" | digitnet {spread([flops / s / 1e9 for s in mine], '{:.0f}')} GFLOP/s"
            f" | limit {spread([flops / s / 1e9 for s in limit], '{:.0f}')} GFLOP/s | | | |"
        )
    return rows


TABLE_HEADER = (
    "| configuration | contender | s/epoch (epochs 2..N) | digitnet ÷ this | time to 97.5% (s) "
    "| time to 98.0% (s) | final test acc % | best test acc % | peak RSS (MB) |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def cpu_description() -> str:
    """``Intel(R) Xeon(R) Processor (family 6 model 207 stepping 2, AVX-512)``, from /proc/cpuinfo:
    a virtual machine's model name alone may not say which processor it is."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    fields: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    ids = " ".join(
        f"{name} {fields[key]}"
        for key, name in [("cpu family", "family"), ("model", "model"), ("stepping", "stepping")]
        if key in fields
    )
    return f"{fields.get('model name', platform.processor())} ({ids}, {vectors})"


def machine_description(blas: str | None) -> str:
    import psutil

    model = cpu_description()
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__} ({blas})"]
    for distribution in ("torch", "scikit-learn"):
        # read from the installed metadata: importing torch here would make this process big, and a
        # worker started from it inherits its peak RSS (Linux carries ru_maxrss across fork + exec)
        try:
            versions.append(f"{distribution} {importlib.metadata.version(distribution)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{distribution} not installed")
    return (
        f"{model}, {psutil.cpu_count(logical=False)} cores / {psutil.cpu_count()} threads, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; " + ", ".join(versions)
    )


def configurations(args) -> list[dict]:
    if args.quick:
        return [{"hidden": 128, "batch_size": 128, "optimizer": "sgd", "epochs": 3}]
    configs = []
    for optimizer in args.optimizers:
        configs += [
            {"hidden": 128, "batch_size": 128, "optimizer": optimizer, "epochs": args.epochs},
            {"hidden": 800, "batch_size": 128, "optimizer": optimizer, "epochs": args.epochs_800},
        ]
    # the batch sweep with the first optimizer only, to keep a full run near 15 minutes
    return configs + [
        {"hidden": 128, "batch_size": b, "optimizer": args.optimizers[0], "epochs": args.epochs} for b in (64, 256)
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one configuration, 3 epochs, 1 repeat")
    parser.add_argument("--repeats", type=int, default=None, help="rounds of the rotation (default 3, quick 1)")
    parser.add_argument("--epochs", type=int, default=12, help="epochs per run at H=128 (default 12)")
    parser.add_argument("--epochs-800", type=int, default=6, help="epochs per run at H=800 (default 6)")
    parser.add_argument("--optimizers", nargs="+", choices=tuple(LEARNING_RATES), default=list(LEARNING_RATES))
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(CONTENDERS))
    parser.add_argument("--threads", type=int, default=THREADS, help="threads for every contender (default 2)")
    parser.add_argument(
        "--clock", choices=tuple(CLOCKS), default="wall", help="wall clock, or CPU time (use with --threads 1)"
    )
    parser.add_argument("--data", default=None, help="MNIST folder (default: $DIGITNET_DATA, then the user cache)")
    parser.add_argument("--json", metavar="PATH", help="also write every measurement to PATH")
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="another digitnet (DIR holds its src/ and benchmarks/) in the same rotation; repeatable",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return parser


def parse_baselines(values: list[str]) -> dict[str, Path]:
    """``["main=/tmp/x"]`` -> ``{"digitnet main": Path("/tmp/x")}``; each folder must hold a
    ``compare.py`` worker and a ``src`` tree."""
    baselines = {}
    for value in values:
        name, _, folder = value.partition("=")
        source = Path(folder)
        if not name or not (source / "benchmarks" / "compare.py").is_file() or not (source / "src").is_dir():
            raise SystemExit(
                f"compare.py: --baseline {value!r}: need NAME=DIR with DIR/src and DIR/benchmarks/compare.py"
            )
        baselines[f"digitnet {name}"] = source
    return baselines


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    repeats = args.repeats or (1 if args.quick else 3)
    baselines = parse_baselines(args.baseline)
    if baselines and args.clock != "wall":
        raise SystemExit("compare.py: --baseline times with its own worker's wall clock; use --clock wall with it")
    contenders = [*args.contenders, *baselines]
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.threads, user_api="blas"):  # describe the BLAS as the workers get it
        print(f"Machine: {machine_description(blas_description())}.", flush=True)
    print(f"load average at start: {os.getloadavg()}", file=sys.stderr)
    print(TABLE_HEADER, flush=True)
    results, blas = [], None
    for config in configurations(args):
        runs: dict[str, list[dict]] = {c: [] for c in contenders}
        for repeat in range(repeats):
            for contender in contenders:  # A B C A B C ...: drift hits every contender alike
                spec = {
                    **config,
                    **{"contender": contender, "seed": repeat, "data": args.data},
                    **{"threads": args.threads, "clock": args.clock},
                }
                run = run_in_subprocess(spec, source=baselines.get(contender))
                runs[contender].append(run)
                blas = blas or (None if contender in baselines else run["blas"])
                print(
                    f"{config} {contender} round {repeat + 1}: {seconds_per_epoch(run):.3f} s/epoch, "
                    f"acc {run['accuracies'][-1:]}, {run['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                )
        results.append((config, runs))
        print("\n".join(config_rows(config, runs)), flush=True)  # rows as each configuration completes
        if args.json:
            Path(args.json).write_text(json.dumps([{"config": c, "runs": r} for c, r in results], indent=1))
    print(f"\nMachine: {machine_description(blas)}.")
    print(
        f"Load average (1, 5, 15 min) at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}; "
        f"{repeats} rounds, contenders alternated, {args.threads} thread(s) each, {args.clock} clock."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
