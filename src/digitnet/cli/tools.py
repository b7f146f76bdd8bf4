"""``digitnet gradcheck``, ``download`` and ``augment-preview``: tools around the network."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import DATASETS, N_CLASSES, get_dataset, load_training_data, scale_images
from ..errors import ConfigError
from ..functional import ACTIVATIONS
from ..losses import LOSSES
from .common import add_data_argument, import_plots, layer_list


def add_parsers(commands) -> None:
    add_gradcheck_parser(commands)
    add_download_parser(commands)
    add_augment_preview_parser(commands)


def add_gradcheck_parser(commands) -> None:
    gradcheck = commands.add_parser("gradcheck", help="compare backprop with finite differences")
    gradcheck.add_argument("--hidden", type=layer_list, default=(16,), metavar="N[,N...]")
    gradcheck.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    gradcheck.add_argument("--loss", choices=list(LOSSES), default="cross-entropy")
    gradcheck.add_argument("--samples", type=int, default=8, help="random input images in the batch")
    gradcheck.add_argument("--max-entries", type=int, default=200, help="entries checked per parameter array")
    gradcheck.add_argument("--seed", type=int, default=0)
    gradcheck.set_defaults(run=run_gradcheck)


def add_download_parser(commands) -> None:
    download = commands.add_parser("download", help="download and verify the four files of MNIST (or --dataset)")
    download.add_argument("--dir", metavar="FOLDER", help="where to put them (default: the user cache)")
    download.add_argument("--dataset", choices=list(DATASETS), default="mnist", help="which dataset")
    download.set_defaults(run=run_download)


def add_augment_preview_parser(commands) -> None:
    preview = commands.add_parser("augment-preview", help="a PNG of one training digit under random augmentations")
    preview.add_argument("-o", "--output", default="augmentations.png", help="the PNG file to write")
    add_data_argument(preview)
    preview.add_argument("--index", type=int, default=0, help="which training image")
    preview.add_argument("--count", type=int, default=7, help="variants per augmentation kind")
    preview.add_argument("--seed", type=int, default=0)
    preview.set_defaults(run=run_augment_preview)


def run_gradcheck(args) -> int:
    from ..gradcheck import gradcheck
    from ..network import Network

    if args.samples < 1 or args.max_entries < 1:
        raise ConfigError("--samples and --max-entries must be at least 1")
    rng = np.random.default_rng(args.seed)
    network = Network.create([784, *args.hidden, N_CLASSES], rng, args.activation, dtype=np.float64)
    X = rng.uniform(0, 1, size=(args.samples, 784))
    labels = rng.integers(0, N_CLASSES, size=args.samples)
    checks = gradcheck(network, X, labels, args.loss, max_entries=args.max_entries, rng=rng)
    print(
        f"gradient check: {'-'.join(map(str, network.layer_sizes))} {args.activation}, {args.loss}, "
        f"{args.samples} random images, central differences h=1e-6 in float64"
    )
    print(f"{'parameter':<10} {'shape':<12} {'checked':>7}  relative error")
    for check in checks:
        verdict = "ok" if check.relative_error < 1e-6 else "FAIL"
        print(
            f"{check.name:<10} {str(check.shape):<12} {check.entries_checked:>7}  {check.relative_error:.2e}  {verdict}"
        )
    worst = max(check.relative_error for check in checks)
    print(f"worst relative error {worst:.2e} ({'pass' if worst < 1e-6 else 'FAIL'}: threshold 1e-6)")
    return 0 if worst < 1e-6 else 1


def run_download(args) -> int:
    from ..data import cache_dir
    from ..download import download_mnist

    folder = download_mnist(Path(args.dir) if args.dir else cache_dir(args.dataset), dataset=args.dataset)
    print(f"{get_dataset(args.dataset).title} is in {folder}")
    return 0


def run_augment_preview(args) -> int:
    from ..augment import AugmentSettings, augment_batch

    plots = import_plots()
    train = load_training_data(args.data, args.dataset or "mnist").train
    if not 0 <= args.index < len(train) or args.count < 1:
        raise ConfigError(f"--index must be in 0..{len(train) - 1} and --count at least 1")
    rng = np.random.default_rng(args.seed)
    images = np.repeat(train.images[args.index : args.index + 1], args.count, axis=0)
    variants = {kind: augment_batch(images, rng, AugmentSettings(kind)) for kind in ("affine", "elastic")}
    figure = plots.plot_augmentations(scale_images(train.images[args.index]), variants)
    plots.save_figure(figure, args.output)
    spec = get_dataset(args.dataset or "mnist")
    digit = "" if train.labels is None else f" ({spec.item} {spec.class_names[train.labels[args.index]]})"
    print(
        f"wrote {args.output}: training image {args.index}{digit} "
        f"under {args.count} random affine and elastic distortions"
    )
    return 0
