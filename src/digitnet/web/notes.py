"""The math notes as a page of the lab, so each quantity's "eq. (N)" can link to its derivation.

``docs/my_note.md`` is read from the source checkout ``digitnet serve`` runs from and turned
into plain HTML: headings, paragraphs, lists, and each display equation as its LaTeX source in
a box with the anchor ``#eq-N`` for its ``\\tag{N}`` (no math renderer: the page loads nothing
from elsewhere, and the notes' LaTeX is written to be read). Anything else, such as tables and
figures, is shown as its Markdown text. An installed copy without the notes gets a page that
says where they are.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

NOTES = Path(__file__).resolve().parents[3] / "docs" / "my_note.md"
LIST_MARK = re.compile(r"^(- |\d+\. )")
TAG = re.compile(r"\\tag\{([0-9a-z]+)\}")
INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![*\w])\*([^*\s][^*]*)\*(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links and figures keep their text only
]
PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>digitnet: the math notes</title>
  <link rel="icon" href="/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/style.css">
</head>
<body class="notes">
  <p><a href="/">&larr; back to the lab</a> &middot; equations are shown as their LaTeX source</p>
  {body}
</body>
</html>
"""


def notes_page(path: Path = NOTES) -> bytes:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        body = (
            "<h1>The math notes</h1><p>They are <code>docs/my_note.md</code> in digitnet's repository "
            f"({html.escape(str(path))} is not here).</p>"
        )
        return PAGE.format(body=body).encode()
    return PAGE.format(body="\n".join(render_blocks(text))).encode()


def render_blocks(text: str) -> list[str]:
    """Markdown -> HTML, block by block (blocks are separated by blank lines)."""
    text = re.sub(r"\A---\n.*?\n---\n", lambda m: front_matter(m.group(0)), text, flags=re.S)
    html_blocks = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.split("\n")
        if block.startswith("<h1"):
            html_blocks.append(block)
        elif block.startswith("#"):
            level = min(len(block) - len(block.lstrip("#")), 3)
            title = block.lstrip("#").strip()
            anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            html_blocks.append(f'<h{level} id="{anchor}">{inline(title)}</h{level}>')
        elif block.startswith("$$"):
            tag = TAG.search(block)
            anchor = f' id="eq-{tag.group(1)}"' if tag else ""
            label = f'<span class="eq-number">({tag.group(1)})</span>' if tag else ""
            html_blocks.append(f'<div class="math"{anchor}><pre>{html.escape(block.strip("$"))}</pre>{label}</div>')
        elif block.startswith(("|", "```")):
            html_blocks.append(f"<pre>{html.escape(block)}</pre>")
        elif all(LIST_MARK.match(line) or line.startswith("  ") for line in lines):
            items = [LIST_MARK.sub("", item) for item in re.split(r"\n(?=- |\d+\. )", block)]
            rendered = "".join(f"<li>{inline(item)}</li>" for item in items)
            html_blocks.append(f"<ul>{rendered}</ul>")
        else:
            html_blocks.append(f"<p>{inline(block)}</p>")
    return html_blocks


def front_matter(block: str) -> str:
    title = re.search(r'title: "([^"]*)"', block)
    return f"<h1>{html.escape(title.group(1))}</h1>\n\n" if title else ""


def inline(text: str) -> str:
    """Escape, then code spans, bold, emphasis; a trailing backslash is a line break."""
    text = html.escape(text, quote=False)
    for pattern, replacement in INLINE:
        text = pattern.sub(replacement, text)
    return text.replace(" \\\n", "<br>\n")
