"""The ``digitnet`` command: parse arguments, call the library, print. Nothing else lives here.

``main(argv) -> exit code``: 0 on success, 1 for a problem with the input (one line on stderr,
no traceback), 2 for a usage error (argparse), 128 + the signal's number when SIGINT (130) or
SIGTERM (143) stopped training. One module per group of commands registers its subcommands.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..config import PRESETS
from ..errors import DigitnetError
from . import export, inspect_model, serve, tools, train, trust


def build_parser(preset: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``preset``, ``train``'s defaults are that preset's values
    (options given explicitly still win)."""
    parser = argparse.ArgumentParser(
        prog="digitnet", description="A from-scratch NumPy network that reads handwritten digits."
    )
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train.add_parser(commands, preset)
    inspect_model.add_parsers(commands)
    tools.add_parsers(commands)
    trust.add_parsers(commands)
    serve.add_parser(commands)
    export.add_parser(commands)
    return parser


def requested_preset(argv: list[str]) -> str | None:
    """The ``--preset`` named in ``argv``, looked at before the real parse so that the preset's
    values become ``train``'s defaults (and show in ``--help``). An unknown name is left for the
    real parser to reject with the list of choices."""
    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--preset")
    preset = peek.parse_known_args(argv)[0].preset
    return preset if preset in PRESETS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(requested_preset(argv)).parse_args(argv)
    args.argv = argv  # to print the command that resumes an interrupted run
    try:
        return args.run(args)
    except DigitnetError as error:
        print(f"digitnet: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return 130
