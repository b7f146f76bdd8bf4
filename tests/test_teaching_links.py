"""The teaching material's links lead somewhere: every relative link of the math notes, the
notebooks, setup.md and the exercises' README names a file that exists and, with ``#anchor``, a
heading in it; and every "section N" the notes mention is a link to the heading numbered N."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTES = REPO / "docs" / "my_note.md"
DOCUMENTS = [
    NOTES,
    REPO / "setup.md",
    REPO / "exercises" / "README.md",
    REPO / "notebooks" / "ann_no_packages.ipynb",
    REPO / "notebooks" / "phenomena.ipynb",
]
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def markdown_of(path: Path) -> str:
    """A Markdown file's text, or a notebook's Markdown cells joined."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def github_anchor(heading: str) -> str:
    """The id a code host (and pandoc's gfm_auto_identifiers) gives a Markdown heading:
    lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def jupyter_anchor(heading: str) -> str:
    """The id Jupyter gives a notebook heading: the text as written, spaces to hyphens."""
    return heading.replace(" ", "-")


def anchors_of(path: Path) -> dict[str, str]:
    """Anchor -> heading text, for every heading of a document."""
    make = jupyter_anchor if path.suffix == ".ipynb" else github_anchor
    return {make(heading): heading for heading in HEADING.findall(markdown_of(path))}


def relative_links(path: Path) -> list[tuple[str, str]]:
    return [(text, target) for text, target in LINK.findall(markdown_of(path)) if "://" not in target]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_every_relative_link_names_a_file_and_a_heading_that_exist(document):
    links = relative_links(document)
    assert links, f"{document.name} has no links to check"
    for text, target in links:
        file_part, _, anchor = target.partition("#")
        linked = (document.parent / file_part).resolve() if file_part else document
        assert linked.exists(), f"{document.name}: [{text}]({target}): {linked} does not exist"
        if anchor:
            assert anchor in anchors_of(linked), (
                f"{document.name}: [{text}]({target}): no such heading in {linked.name}"
            )


@pytest.mark.parametrize("document", [NOTES, *DOCUMENTS[2:]], ids=lambda path: path.name)
def test_every_section_number_mentioned_is_a_link_to_that_section(document):
    text = markdown_of(document)
    for link_text, target in relative_links(document):
        mentioned = re.search(r"section (\d+)", link_text, re.IGNORECASE)
        if mentioned:
            file_part, _, anchor = target.partition("#")
            heading = anchors_of((document.parent / file_part).resolve() if file_part else document)[anchor]
            assert heading.startswith(f"{mentioned.group(1)}. "), f"[{link_text}]({target}) leads to {heading!r}"
    unlinked = re.findall(r"\bsections? \d+", LINK.sub("", text), re.IGNORECASE)
    assert not unlinked, f"{document.name} mentions {unlinked} without a link to the section"
