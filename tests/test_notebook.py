"""Both notebooks run top to bottom, as CI runs them: any cell that raises fails the test, including
the notebooks' own checks. The tutorial checks its gradient check, >= 97.5% test accuracy and
agreement with the digitnet package; each experiment of the phenomena notebook asserts the numbers
its text quotes. Both are committed with the outputs of one clean run, so they read well on a code
host without running them."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
TUTORIAL = NOTEBOOKS / "ann_no_packages.ipynb"
PHENOMENA = NOTEBOOKS / "phenomena.ipynb"


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "stream"
    )


def figures(notebook) -> list:
    return [output for cell in code_cells(notebook) for output in cell.outputs if "image/png" in output.get("data", {})]


def assert_one_clean_run(notebook) -> None:
    """Every code cell ran, in order, without an error."""
    cells = code_cells(notebook)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert not [output for cell in cells for output in cell.outputs if output.output_type == "error"]


def execute(path: Path, mnist_dir: Path, monkeypatch) -> str:
    """Run the notebook in a fresh kernel; raises CellExecutionError naming the cell when any cell
    (or assert) fails. Returns what it printed."""
    monkeypatch.setenv("DIGITNET_DATA", str(mnist_dir))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    return printed(notebook)


def test_the_committed_tutorial_carries_the_outputs_of_one_clean_run():
    notebook = nbformat.read(TUTORIAL, as_version=4)
    assert_one_clean_run(notebook)
    assert "test accuracy 9" in printed(notebook)
    assert len(figures(notebook)) >= 8


def test_the_committed_phenomena_notebook_carries_the_outputs_of_one_clean_run():
    """Seven experiments, numbered 1 to 7, each drawing its figure."""
    notebook = nbformat.read(PHENOMENA, as_version=4)
    assert_one_clean_run(notebook)
    assert len(figures(notebook)) >= 7
    headings = [
        cell.source for cell in notebook.cells if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]
    assert [heading.split(".")[0] for heading in headings[:7]] == [f"## {n}" for n in range(1, 8)]


@pytest.mark.slow
def test_the_tutorial_runs_top_to_bottom(mnist_dir, monkeypatch):
    out = execute(TUTORIAL, mnist_dir, monkeypatch)
    assert "largest difference in the loss over" in out
    assert "test accuracy: notebook" in out


@pytest.mark.slow
def test_the_phenomena_notebook_runs_and_its_numbers_hold(mnist_dir, monkeypatch):
    out = execute(PHENOMENA, mnist_dir, monkeypatch)
    for result in ("updates to 50% accuracy", "never fire", "held out", "times smaller", "times fewer", "fresh ones"):
        assert result in out
