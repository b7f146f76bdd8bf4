"""Pieces several commands share: argument types, the data option, error output, plots."""

from __future__ import annotations

import argparse
import sys

from ..data import DATASETS
from ..errors import ConfigError

DEFAULT_MODEL = "digitnet-model.safetensors"


def layer_list(text: str) -> tuple[int, ...]:
    """``"256"`` -> ``(256,)``; ``"512,256"`` -> ``(512, 256)``."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer sizes") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be positive")
    return sizes


def add_data_argument(parser: argparse.ArgumentParser, dataset_help: str = "which dataset (default: mnist)") -> None:
    """``--data PATH`` and ``--dataset NAME`` (a registered dataset; ``None`` when not given)."""
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="the dataset's folder, or a Kaggle CSV (digits); default: its environment variable "
        "($DIGITNET_DATA for MNIST), then the user cache, then download",
    )
    parser.add_argument("--dataset", choices=list(DATASETS), help=dataset_help)


MODEL_DATASET_HELP = "the dataset to read (default: the one the model was trained on; another is refused)"


def model_dataset(model, requested: str | None) -> str:
    """The dataset to evaluate ``model`` on: its own; another one given with --dataset is refused."""
    if requested is not None:
        model.require_dataset(requested)
    return model.dataset["name"]


def print_error(message: str) -> None:
    print(message, file=sys.stderr)


def import_plots():
    """``digitnet.plots``, or a ConfigError saying how to install matplotlib (the ``[plot]`` extra)."""
    try:
        from .. import plots
    except ModuleNotFoundError as error:
        raise ConfigError(f"figures need matplotlib ({error}): pip install 'digitnet[plot]'") from None
    return plots


def write_figures(folder, network, test_set, history, temperature: float, class_names: list[str]) -> list:
    """Every figure of ``digitnet report`` (and ``train --plots``): the run and the network
    (``plots.write_report``), then calibration, coverage and robustness (``trust_plots``)."""
    plots = import_plots()
    from ..trust_plots import write_trust_report

    return plots.write_report(folder, network, test_set, history, class_names) + write_trust_report(
        folder, network, test_set, temperature
    )
