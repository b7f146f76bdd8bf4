"""The math notes (docs/my_note.md) stay true to the code: every function and test they name
exists, every function cites its equation back, the worked example is what the library
computes, and the committed PDF was built from the current Markdown."""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

from digitnet.functional import softmax
from digitnet.layers import Dense
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.network import Network
from digitnet.optimizers import SGD

REPO = Path(__file__).resolve().parents[1]
NOTES = REPO / "docs" / "my_note.md"
PDF = REPO / "docs" / "my_note.pdf"
EQUATIONS = ["1", "2", "2b", "2c", "2d", *map(str, range(3, 22))]
CODE_REFERENCE = re.compile(r"`(digitnet(?:\.\w+)+)`")
TEST_REFERENCE = re.compile(r"`(tests/\w+\.py)::(\w+)`")
CITATION = re.compile(r"eq\. \((\d+)([a-d]?)\)(?:-\((\d+)\))?")


def notes_text() -> str:
    return NOTES.read_text(encoding="utf-8")


def equation_blocks() -> dict[str, str]:
    """Each tagged equation and the text after it, up to the next tag."""
    parts = re.split(r"\\tag\{(\w+)\}", notes_text())
    return dict(zip(parts[1::2], parts[2::2]))


def resolve(dotted: str):
    """``digitnet.layers.Dense.forward`` -> the object, importing the longest module prefix."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            obj = getattr(obj, attribute)
        return obj
    raise ImportError(dotted)


def cited_equations(text: str) -> set[str]:
    """Equation numbers cited as "eq. (N)", "eq. (2b)" or ranges "eq. (7)-(9)"."""
    cited = set()
    for first, letter, last in CITATION.findall(text):
        cited.add(first + letter)
        if last:
            cited.update(str(n) for n in range(int(first), int(last) + 1))
    return cited


def citing_text(obj) -> str:
    """Where an object's citation may live: its own source, then (for a method) its class's
    docstring, then its module's docstring."""
    texts = [inspect.getsource(obj)]
    qualname = getattr(obj, "__qualname__", "")
    module = inspect.getmodule(obj)
    if "." in qualname:
        texts.append(inspect.getdoc(getattr(module, qualname.split(".")[0])) or "")
    texts.append(inspect.getdoc(module) or "")
    return "\n".join(texts)


def test_every_equation_names_its_code_and_its_test():
    blocks = equation_blocks()
    assert sorted(blocks, key=EQUATIONS.index) == EQUATIONS
    for tag, text in blocks.items():
        assert CODE_REFERENCE.search(text.split("Test:")[0]), f"eq. ({tag}) names no function"
        assert TEST_REFERENCE.search(text), f"eq. ({tag}) names no test"


def test_every_named_function_exists_and_cites_its_equation():
    for tag, text in equation_blocks().items():
        code_line = next(line for line in text.splitlines() if line.startswith("Code:"))
        for dotted in CODE_REFERENCE.findall(code_line):
            obj = resolve(dotted)
            assert tag in cited_equations(citing_text(obj)), f"{dotted} does not cite notes eq. ({tag})"


def test_every_named_test_exists():
    references = set(TEST_REFERENCE.findall(notes_text()))
    assert len(references) >= 15
    for path, name in references:
        tree = ast.parse((REPO / path).read_text())
        defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert name in defined, f"{path}::{name}, named in the notes, does not exist"


def worked_example_numbers() -> dict[str, np.ndarray]:
    """The ``name = 1, 2; 3, 4`` lines of the worked example's ``text`` block."""
    block = notes_text().split("as `tests/test_notes.py` reads them")[1].split("```text\n")[1].split("```")[0]
    numbers = {}
    for line in block.strip().splitlines():
        name, values = line.split(" = ")
        numbers[name] = np.array([[float(v) for v in row.split(",")] for row in values.split(";")]).squeeze()
    return numbers


def test_the_worked_example_is_what_the_library_computes():
    x = np.array([[1.0, 0.5, -1.0]])
    y = np.array([1])
    network = Network(
        [
            Dense(np.array([[0.1, -0.2], [0.4, 0.3], [-0.5, 0.2]]), np.array([0.1, -0.1])),
            Dense(np.array([[0.5, -0.3], [0.2, 0.6]]), np.array([0.0, 0.1])),
        ],
        "relu",
    )
    loss = SoftmaxCrossEntropy()
    hidden, output = network.dense_layers
    computed = {"z1": x @ hidden.W + hidden.b, "z2": network.forward(x)}
    computed["a1"] = np.maximum(computed["z1"], 0)
    computed["loss"] = loss.forward(computed["z2"], y)
    computed["p"] = softmax(computed["z2"])
    computed["dz2"] = loss.backward()
    network.backward(computed["dz2"])
    gradients = network.gradients()
    computed.update(
        dW1=gradients["dense0.W"], db1=gradients["dense0.b"], dW2=gradients["dense1.W"], db2=gradients["dense1.b"]
    )
    SGD(network.parameters(), momentum=0.0).step(gradients, lr=0.5)
    for name, layer in (("1", hidden), ("2", output)):
        computed[f"W{name} after step"], computed[f"b{name} after step"] = layer.W, layer.b
    computed["z1 after step"] = x @ hidden.W + hidden.b
    computed["z2 after step"] = network.forward(x)
    computed["loss after step"] = loss.forward(computed["z2 after step"], y)
    computed["p after step"] = softmax(computed["z2 after step"])

    written = worked_example_numbers()
    assert set(written) == set(computed)
    for name, value in written.items():
        # the notes round to 6 decimals
        np.testing.assert_allclose(np.squeeze(computed[name]), value, rtol=0, atol=5.1e-7, err_msg=name)


def test_the_committed_pdf_was_built_from_the_current_notes():
    pypdf = pytest.importorskip("pypdf")
    subject = pypdf.PdfReader(PDF).metadata.subject or ""
    recorded = re.search(r"sha256 ([0-9a-f]{64})", subject)
    assert recorded, f"{PDF.name} records no source hash in its Subject: {subject!r}"
    current = hashlib.sha256(NOTES.read_bytes()).hexdigest()
    assert recorded.group(1) == current, "docs/my_note.pdf is out of date: run 'make pdf' and commit it"
