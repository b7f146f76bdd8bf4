"""The page in a real browser: Playwright drives Debian's Chromium against a live server.

Real MNIST test digits are drawn on the canvas as mouse strokes: each digit's ink is thinned to
a one-pixel skeleton, the skeleton is walked into strokes, and the strokes are replayed with
intermediate mouse moves so the page's pointer events fire as they would under a hand.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from digitnet.persistence import load_model
from digitnet.web.server import make_server

CHROMIUM = Path("/usr/bin/chromium")
# no GPU, no sandbox (root in CI), and none of Chromium's own calls home: the test's only
# network traffic is to the server on 127.0.0.1
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# thinning at 28x28 eats stroke ends two pixels wide (the hook of a 2); at 4x they survive
UPSAMPLE = 4
NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def thin(binary: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning: peel boundary pixels in two alternating sub-steps until only a
    one-pixel-wide skeleton is left (Zhang & Suen, CACM 1984). ``(h, w)`` bool in and out."""
    image = np.pad(binary.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4, p5, p6, p7, p8, p9 = (
                np.roll(image, (-dr, -dc), (0, 1))
                for dr, dc in [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]
            )
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(ring[:8])
            transitions = sum((ring[i] == 0) & (ring[i + 1] == 1) for i in range(8))
            if step == 0:
                side = (p2 * p4 * p6 == 0) & (p4 * p6 * p8 == 0)
            else:
                side = (p2 * p4 * p8 == 0) & (p2 * p6 * p8 == 0)
            peel = (image == 1) & (neighbours >= 2) & (neighbours <= 6) & (transitions == 1) & side
            if peel.any():
                image[peel] = 0
                changed = True
        if not changed:
            return image[1:-1, 1:-1].astype(bool)


def strokes_from_skeleton(skeleton: np.ndarray) -> list[list[tuple[int, int]]]:
    """Walk the skeleton into pen strokes: start at an end point when one is left, step to an
    unvisited neighbour (straight before diagonal) until none is left, then lift the pen. A new
    stroke that starts beside drawn ink begins on that ink, so junctions stay connected."""
    pixels = {(int(r), int(c)) for r, c in zip(*np.nonzero(skeleton))}
    remaining = set(pixels)

    def around(p, among):
        return [(p[0] + dr, p[1] + dc) for dr, dc in NEIGHBOURS if (p[0] + dr, p[1] + dc) in among]

    strokes = []
    while remaining:
        start = min(remaining, key=lambda p: (len(around(p, pixels)) != 1, p))
        drawn_next_to_start = sorted(set(around(start, pixels)) - remaining)
        stroke = drawn_next_to_start[:1] + [start]
        remaining.discard(start)
        while True:
            here = stroke[-1]
            options = around(here, remaining)
            if not options:
                break
            step = min(options, key=lambda q: (abs(q[0] - here[0]) + abs(q[1] - here[1]), q))
            stroke.append(step)
            remaining.discard(step)
        strokes.append(stroke)
    return strokes


def pen_strokes(image: np.ndarray) -> list[list[tuple[float, float]]]:
    """A 28x28 uint8 digit -> strokes as (row, column) points in 28x28 pixel units, tracing its
    ink at ``UPSAMPLE`` times the resolution; one point per MNIST pixel is kept (the mouse moves in
    between are interpolated by Playwright's ``steps``)."""
    side = 28 * UPSAMPLE
    smooth = np.asarray(Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR))
    strokes = strokes_from_skeleton(thin(smooth > 127))
    return [
        [((row + 0.5) / UPSAMPLE, (col + 0.5) / UPSAMPLE) for row, col in stroke[:-1:UPSAMPLE] + stroke[-1:]]
        for stroke in strokes
    ]


# a pen stroke zigzagging across the pad eight times, in 28x28 pixel units as `draw` takes them
ZIGZAG = [[(row + 3 * (step % 2), 2 + 3 * step) for step in range(9)] for row in range(2, 26, 3)]


def test_thinning_leaves_a_one_pixel_line_that_strokes_cover():
    bar = np.zeros((9, 12), dtype=bool)
    bar[3:6, 1:11] = True  # a 3-pixel-thick horizontal bar
    skeleton = thin(bar)
    assert skeleton.sum(axis=0)[2:9].tolist() == [1] * 7  # one pixel per column in the middle
    assert not (skeleton & ~bar).any()
    strokes = strokes_from_skeleton(skeleton)
    assert len(strokes) == 1 and set(strokes[0]) == {tuple(p) for p in np.argwhere(skeleton)}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (Debian package chromium; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(reason)  # CI installs it, so a skip there would hide a broken set-up
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the web-test extra (playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server_url(small_trained):
    server = make_server(load_model(small_trained[1]), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    server.server_close()


def draw(page, strokes, box) -> None:
    """Replay strokes in 28x28 pixel units on the canvas, 10 screen pixels per MNIST pixel."""
    scale = box["width"] / 28

    def screen(point):
        row, col = point
        return box["x"] + col * scale, box["y"] + row * scale

    for stroke in strokes:
        page.mouse.move(*screen(stroke[0]))
        page.mouse.down()
        for point in stroke[1:]:
            page.mouse.move(*screen(point), steps=2)
        page.mouse.up()


def wait_for_answer(page) -> None:
    """Until the page shows the answer for the drawing as it now is."""
    # a function, not an expression: Playwright evaluates expressions with eval, which the CSP forbids
    page.wait_for_function(
        "() => document.getElementById('prediction').dataset.version"
        " === document.getElementById('pad').dataset.version",
        timeout=15_000,
    )


def shown_probabilities(page) -> list[float]:
    return [float(p) for p in page.eval_on_selector_all(".bar", "bars => bars.map(b => b.dataset.probability)")]


def canvas_sum(page, selector: str, channel: int) -> int:
    """The sum of one RGBA channel over a canvas on the page."""
    return page.eval_on_selector(
        selector,
        "(canvas, channel) => canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data"
        ".reduce((sum, value, i) => i % 4 === channel ? sum + value : sum, 0)",
        channel,
    )


def first_test_digits_read_right(network, mnist_test):
    """The first test image of each digit that the network reads correctly as stored: then a
    wrong answer on the page is the page's doing (drawing, canvas, preprocessing), not the model's."""
    read = network.predict(mnist_test.images.astype(np.float32) / 255)
    return [
        (digit, mnist_test.images[np.flatnonzero((mnist_test.labels == digit) & (read == digit))[0]].reshape(28, 28))
        for digit in range(10)
    ]


def test_drawn_mnist_digits_are_read_and_the_page_stays_local(browser, server_url, small_trained, mnist_test):
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(server_url)
    architecture = "-".join(map(str, small_trained[0].layer_sizes))
    page.wait_for_function(
        f"() => document.getElementById('model-info').textContent.includes('{architecture} network')"
    )
    box = page.locator("#pad").bounding_box()

    shown, verdicts = {}, {}
    for digit, image in first_test_digits_read_right(small_trained[0], mnist_test):
        page.click("#clear")
        draw(page, pen_strokes(image), box)
        wait_for_answer(page)
        shown[digit] = int(page.text_content("#prediction"))
        verdicts[digit] = page.get_attribute("#verdict", "data-verdict")
        probabilities = shown_probabilities(page)
        assert len(probabilities) == 10 and min(probabilities) >= 0
        assert sum(probabilities) == pytest.approx(1, abs=1e-4)
        assert int(np.argmax(probabilities)) == shown[digit]
        assert page.locator("#hidden figure").count() > 0  # the units that fired, with their weights

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "serve.png"), full_page=True)
    correct = [digit for digit, read in shown.items() if read == digit and verdicts[digit] == "digit"]
    assert len(correct) >= 8, f"the page read {shown}, {verdicts} (drawn digit: shown digit, verdict)"

    page.click("#clear")
    draw(page, ZIGZAG, box)  # a scribble across the whole pad is no digit
    wait_for_answer(page)
    assert page.get_attribute("#verdict", "data-verdict") == "not a digit"
    assert page.text_content("#verdict").startswith("not a digit (it would say ")

    page.click("#clear")
    wait_for_answer(page)
    assert page.text_content("#prediction") == "\u2013"
    assert shown_probabilities(page) == [0.0] * 10
    assert page.locator("#hidden figure").count() == 0
    assert canvas_sum(page, "#pad", channel=3) == 0  # no ink left
    assert canvas_sum(page, "#input28", channel=0) == 0  # the network's view is black again

    assert any(url.endswith("/api/predict") for url in requests)
    outside = [url for url in requests if urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"the page fetched from outside 127.0.0.1: {outside}"
    page.close()


def test_a_finger_draws_too(browser, server_url):
    context = browser.new_context(has_touch=True, viewport={"width": 800, "height": 900})
    page = context.new_page()
    page.goto(server_url)
    box = page.locator("#pad").bounding_box()
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_answer(page)
    assert canvas_sum(page, "#pad", channel=3) > 0  # the tap left a dot of ink
    assert page.text_content("#prediction") in list("0123456789")
    assert sum(shown_probabilities(page)) == pytest.approx(1, abs=1e-4)
    context.close()
