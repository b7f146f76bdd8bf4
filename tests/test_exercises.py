"""The exercises cannot rot: every one has a stub, a grader, hints and a solution; the graders pass
every reference solution and fail every test on the stubs as committed (so no grader passes
untouched work and no solution is wrong)."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXERCISES = REPO / "exercises"
NAMES = sorted(path.stem for path in EXERCISES.glob("ex[0-9][0-9]_*.py"))


def grade(answers: str, tmp_path: Path) -> dict[str, Counter]:
    """Run every grader against ``answers`` (``solutions`` or a folder); per exercise, how many of
    its tests passed, failed, errored or were skipped."""
    report = tmp_path / "grades.xml"
    environment = {**os.environ, "DIGITNET_EXERCISES": answers}
    command = [sys.executable, "-m", "pytest", str(EXERCISES), "-q", "-p", "no:cacheprovider", f"--junitxml={report}"]
    subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True, timeout=300)
    outcomes: dict[str, Counter] = {name: Counter() for name in NAMES}
    for case in ElementTree.parse(report).iter("testcase"):
        name = case.get("classname").rsplit(".", 1)[-1].removeprefix("test_")
        outcome = next((child.tag for child in case if child.tag in ("failure", "error", "skipped")), "passed")
        outcomes[name][outcome] += 1
    return outcomes


def committed_stubs(folder: Path) -> Path:
    """The stubs as committed (a learner may be editing the ones in the working tree), or the working
    tree's when this is not a git checkout."""
    for name in NAMES:
        shown = subprocess.run(
            ["git", "show", f"HEAD:exercises/{name}.py"], cwd=REPO, capture_output=True, text=True, check=False
        )
        text = shown.stdout if shown.returncode == 0 else (EXERCISES / f"{name}.py").read_text()
        (folder / f"{name}.py").write_text(text)
    return folder


def test_every_exercise_has_a_stub_a_grader_hints_and_a_solution():
    assert len(NAMES) >= 10
    for name in NAMES:
        for path in (f"test_{name}.py", f"hints/{name}.md", f"solutions/{name}.py"):
            assert (EXERCISES / path).is_file(), f"exercise {name} lacks {path}"
        assert f"`{name}.py`" in (EXERCISES / "README.md").read_text(), f"exercises/README.md does not list {name}"


def test_the_graders_pass_every_solution(tmp_path):
    for name, outcomes in grade("solutions", tmp_path).items():
        assert outcomes["passed"] >= 1 and set(outcomes) == {"passed"}, f"{name}: {dict(outcomes)}"


def test_the_graders_fail_every_test_on_the_untouched_stubs(tmp_path):
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, outcomes in grade(str(committed_stubs(stubs)), tmp_path).items():
        assert outcomes["failure"] >= 1 and set(outcomes) == {"failure"}, f"{name}: {dict(outcomes)}"
