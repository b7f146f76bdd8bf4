"""Pieces several commands share: argument types, the data option, error output, plots."""

from __future__ import annotations

import argparse
import sys

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


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="MNIST folder or Kaggle CSV (default: $DIGITNET_DATA, then the user cache, then download)",
    )


def print_error(message: str) -> None:
    print(message, file=sys.stderr)


def import_plots():
    """``digitnet.plots``, or a ConfigError saying how to install matplotlib (the ``[plot]`` extra)."""
    try:
        from .. import plots
    except ModuleNotFoundError as error:
        raise ConfigError(f"figures need matplotlib ({error}): pip install 'digitnet[plot]'") from None
    return plots


def write_figures(folder, network, test_set, history, temperature: float) -> list:
    """Every figure of ``digitnet report`` (and ``train --plots``): the run and the network
    (``plots.write_report``), then calibration, coverage and robustness (``trust_plots``)."""
    plots = import_plots()
    from ..trust_plots import write_trust_report

    return plots.write_report(folder, network, test_set, history) + write_trust_report(
        folder, network, test_set, temperature
    )
