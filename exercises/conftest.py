"""Grading the exercises: each ``test_exNN_*.py`` grades the module ``exNN_*.py`` through the
``answer`` fixture.

By default that module is your file in this folder. ``DIGITNET_EXERCISES=solutions`` grades the
reference solutions in ``solutions/`` instead, and ``DIGITNET_EXERCISES=/some/folder`` the files
of that name in another folder (CI grades the untouched stubs that way: they must fail).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def answers_folder() -> Path:
    chosen = os.environ.get("DIGITNET_EXERCISES", "")
    if not chosen:
        return HERE
    return HERE / "solutions" if chosen == "solutions" else Path(chosen)


@pytest.fixture
def answer(request):
    """The module being graded, loaded afresh from its file (``test_ex03_x.py`` grades ``ex03_x.py``)."""
    name = Path(request.module.__file__).stem.removeprefix("test_")
    path = answers_folder() / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"graded_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
