"""setup.md stays true to what it describes: the commands and options it names are the ones the
command line parses, its table of extras is pyproject.toml's, and the make targets and the extras
each installs are the Makefile's."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from digitnet.cli import build_parser

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

REPO = Path(__file__).resolve().parents[1]
SETUP = (REPO / "setup.md").read_text(encoding="utf-8")
MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """The parser of every ``digitnet COMMAND``."""
    actions = build_parser()._actions  # argparse keeps its subcommands here; reading only
    return next(action.choices for action in actions if isinstance(action, argparse._SubParsersAction))


def options_of(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def mentioned_commands() -> list[tuple[str, str]]:
    """``(command, the rest of the line)`` for every ``digitnet COMMAND ...`` in a code span or
    a bash block (not in the blocks of error messages), and for ``make train ARGS="..."``
    (which runs ``digitnet train``)."""
    code = re.findall(r"`([^`\n]+)`", SETUP) + re.findall(r"```bash\n(.*?)```", SETUP, re.DOTALL)
    found = []
    for snippet in code:
        for line in snippet.splitlines():
            line = re.sub(r"\s#.*", "", line)  # a shell comment
            found += re.findall(r"(?:^|\s|/)digitnet ([a-z][a-z-]*)(.*)", line)
            found += [("train", rest) for rest in re.findall(r"make train ARGS=\"([^\"]*)\"", line)]
    return found


def package_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", MAKEFILE, re.MULTILINE))


def test_every_command_named_exists_and_every_command_is_in_the_table():
    commands = subcommands()
    named = {command for command, _ in mentioned_commands()}
    assert named <= set(commands), f"setup.md names commands digitnet does not have: {named - set(commands)}"
    table = set(re.findall(r"^\| `digitnet ([a-z-]+)` \|", SETUP, re.MULTILINE))
    assert table == set(commands), f"the commands table lacks {set(commands) - table}"


def test_every_option_named_is_one_that_command_parses():
    commands = subcommands()
    checked = 0
    for command, rest in mentioned_commands():
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            assert option in options_of(commands[command]), f"setup.md: digitnet {command} has no option {option}"
            checked += 1
    assert checked >= 5


def test_the_extras_table_is_pyprojects():
    extras = PYPROJECT["project"]["optional-dependencies"]
    rows = dict(re.findall(r"^\| `\[([a-z-]+)\]` \| ([^|]+) \|", SETUP, re.MULTILINE))
    assert set(rows) == set(extras), f"extras in pyproject.toml but not in setup.md: {set(extras) - set(rows)}"
    for extra, installs in rows.items():
        assert {name.strip() for name in installs.split(",")} == package_names(extras[extra]), extra
    core = re.search(r"^\| \(none\) \| ([^|]+) \|", SETUP, re.MULTILINE).group(1)
    assert {name.strip() for name in core.split(",")} == package_names(PYPROJECT["project"]["dependencies"])


def test_the_make_targets_named_exist_and_install_what_setup_md_says():
    named = set(re.findall(r"`make ([a-z][a-z-]*)", SETUP))
    assert named <= makefile_targets(), f"setup.md names make targets the Makefile lacks: {named - makefile_targets()}"
    test_extras = re.search(r"^TEST_EXTRAS := '\.\[([a-z,-]+)\]'", MAKEFILE, re.MULTILINE).group(1)
    assert re.search(rf"`make test` installs\s+`\[{test_extras}\]`", SETUP)
    for stamp, target in (
        ("run", "train"),
        ("notebook", "setup-notebook"),
        ("exercises", "exercises"),
        ("bench", "bench"),
    ):
        installed = re.search(rf"\.installed-{stamp}:.*\n\t\$\(PIP\) -e '\.\[([a-z,-]+)\]'", MAKEFILE).group(1)
        assert re.search(rf"`make {target}` installs\s+`\[{installed}\]`", SETUP), (
            f"make {target} installs [{installed}]"
        )


def test_the_python_version_is_pyprojects():
    required = PYPROJECT["project"]["requires-python"]
    assert f'`requires-python = "{required}"`' in SETUP
    assert f"Python {required.removeprefix('>=')} or newer" in SETUP
