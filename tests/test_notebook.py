"""The tutorial notebook runs top to bottom, as CI runs it: any cell that raises fails the test,
including the notebook's own checks (gradient check, >= 97.5% test accuracy, agreement with the
digitnet package to float32 precision)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "ann_no_packages.ipynb"


def printed(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )


def test_the_committed_notebook_carries_the_outputs_of_one_clean_run():
    """So it reads well on a code host without running it."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert not [output for cell in code_cells for output in cell.outputs if output.output_type == "error"]
    assert "test accuracy 9" in printed(notebook)
    figures = [output for cell in code_cells for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(figures) >= 8


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom(mnist_dir, monkeypatch):
    monkeypatch.setenv("DIGITNET_DATA", str(mnist_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()  # raises CellExecutionError naming the cell when any cell (or assert) fails
    out = printed(notebook)
    assert "largest difference in the loss over" in out
    assert "test accuracy: notebook" in out
