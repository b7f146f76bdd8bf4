"""The phenomena notebook runs top to bottom, as CI runs it: each experiment asserts the numbers its
text quotes, so any cell that raises (a changed result included) fails the test."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "phenomena.ipynb"
EXPERIMENTS = 7


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "stream"
    )


def test_the_committed_notebook_carries_the_outputs_of_one_clean_run():
    """So it reads well on a code host without running it: every cell ran, in order, without an
    error, and each experiment drew its figure."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    cells = code_cells(notebook)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    assert not [output for cell in cells for output in cell.outputs if output.output_type == "error"]
    figures = [output for cell in cells for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(figures) >= EXPERIMENTS
    headings = [
        cell.source for cell in notebook.cells if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]
    assert [heading.split(".")[0] for heading in headings[:EXPERIMENTS]] == [f"## {n}" for n in range(1, 8)]


@pytest.mark.slow
def test_the_notebook_runs_and_its_numbers_hold(mnist_dir, monkeypatch):
    monkeypatch.setenv("DIGITNET_DATA", str(mnist_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError naming the cell when an experiment's assertion fails
    out = printed(notebook)
    for result in ("updates to 50% accuracy", "never fire", "held out", "times smaller", "times fewer", "fresh ones"):
        assert result in out
