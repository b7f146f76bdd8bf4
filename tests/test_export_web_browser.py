"""The page of ``digitnet export --web`` in a real browser: Playwright drives Debian's Chromium
against the exported folder served by a plain static file server on 127.0.0.1, as any static
host would serve it. The page's JavaScript is compared number for number with the NumPy network
and with the Python preprocessing, on real MNIST test digits and on digits drawn with the mouse.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import numpy as np
import pytest
from test_export import described_model, random_network, reference_probabilities
from test_web_browser import ARTIFACTS, browser, canvas_sum, draw, first_test_digits_read_right, pen_strokes  # noqa: F401

from digitnet.data import scale_images
from digitnet.export import export_web
from digitnet.functional import ACTIVATIONS, softmax
from digitnet.preprocess import mnist_preprocess

TEMPERATURE = 1.5
TOLERANCE = 1e-5
PAD_SIZE = 280  # page.js's canvas
# drawing one digit takes about 3 s of mouse moves: four digits of different shapes are enough here
# (tests/test_web_browser.py draws all ten on the served page)
DRAWN_DIGITS = (3, 4, 7, 8)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the name the base class uses)
        pass


@pytest.fixture(scope="module")
def sites(small_trained, tmp_path_factory):
    """A static server over a folder of exports: ``trained/`` (the small MNIST model, calibrated)
    and one random three-hidden-layer network per activation; yields (base URL, trained model)."""
    root = tmp_path_factory.mktemp("sites")
    trained = described_model(root / "trained.safetensors", small_trained[0], temperature=TEMPERATURE)
    export_web(trained, root / "trained")
    for activation in ACTIVATIONS:
        export_web(described_model(root / f"{activation}.safetensors", random_network(activation)), root / activation)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", trained
    server.shutdown()
    server.server_close()


def open_site(browser, url: str):  # noqa: F811 (the fixture's value, passed in)
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    page.wait_for_function("() => document.body.dataset.ready === 'true'", timeout=15_000)
    return page, requests


def page_probabilities(page, inputs: np.ndarray) -> np.ndarray:
    """The page's own loadModel and infer (digitnet.js) on 28x28 inputs in [0, 1], ``(n, 784)``."""
    return np.array(
        page.evaluate(
            "async (inputs) => { const model = await loadModel('model.json');"
            " return inputs.map((x) => Array.from(infer(model, Float32Array.from(x)).probabilities)); }",
            inputs.tolist(),
        )
    )


def test_the_pages_javascript_equals_numpy_on_100_mnist_test_digits(browser, sites, mnist_test):  # noqa: F811
    url, model = sites
    page, _ = open_site(browser, url + "trained/")
    probabilities = page_probabilities(page, scale_images(mnist_test.images[:100]))
    expected = reference_probabilities(model.network, mnist_test.images[:100], TEMPERATURE)
    assert np.abs(probabilities - expected).max() <= TOLERANCE
    assert np.array_equal(probabilities.argmax(axis=1), expected.argmax(axis=1))
    page.close()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_with_three_hidden_layers_matches_in_the_page(browser, sites, mnist_test, activation):  # noqa: F811
    page, _ = open_site(browser, sites[0] + activation + "/")
    probabilities = page_probabilities(page, scale_images(mnist_test.images[:20]))
    expected = reference_probabilities(random_network(activation), mnist_test.images[:20], TEMPERATURE)
    assert np.abs(probabilities - expected).max() <= TOLERANCE
    page.close()


def drawn_ink_and_its_framing(page) -> tuple[np.ndarray, np.ndarray]:
    """The canvas's alpha channel (0..255) and what digitnet.js makes of exactly those pixels."""
    # the alpha bytes travel as one Latin-1 string: a list of 78,400 numbers takes seconds
    alpha, framed = page.evaluate(
        "() => { const rgba = padContext.getImageData(0, 0, PAD_SIZE, PAD_SIZE).data; let alpha = '';"
        " for (let i = 3; i < rgba.length; i += 4) alpha += String.fromCharCode(rgba[i]);"
        " return [alpha, Array.from(mnistPreprocess(canvasInk(), PAD_SIZE, state.model.preprocessing))]; }"
    )
    pixels = np.frombuffer(alpha.encode("latin-1"), dtype=np.uint8).astype(np.float64)
    return pixels.reshape(PAD_SIZE, PAD_SIZE), np.array(framed)


def shown_probabilities(page) -> np.ndarray:
    return np.array(page.eval_on_selector_all(".bar", "bars => bars.map(b => Number(b.dataset.probability))"))


def wait_for_answer(page) -> None:
    page.wait_for_function(
        "() => document.getElementById('prediction').dataset.version"
        " === document.getElementById('pad').dataset.version",
        timeout=15_000,
    )


def test_drawn_digits_are_framed_as_python_frames_them_read_right_and_nothing_leaves_the_origin(
    browser,  # noqa: F811
    sites,
    small_trained,
    mnist_test,
):
    url, model = sites
    page, requests = open_site(browser, url + "trained/")
    info = page.text_content("#model-info")
    assert "784-128-10 network (relu) on mnist: 95.81% test accuracy, calibrated (T = 1.500)" in info
    box = page.locator("#pad").bounding_box()

    shown, worst_framing = {}, 0.0
    for digit, image in first_test_digits_read_right(small_trained[0], mnist_test):
        if digit not in DRAWN_DIGITS:
            continue
        page.click("#clear")
        draw(page, pen_strokes(image), box)
        wait_for_answer(page)
        alpha, framed_in_js = drawn_ink_and_its_framing(page)
        framed_in_python = mnist_preprocess(alpha / 255).reshape(-1)  # as digitnet serve's API does
        worst_framing = max(worst_framing, float(np.abs(framed_in_js - framed_in_python).max()))
        logits = model.network.infer(framed_in_python.reshape(1, -1))[1]
        expected = softmax(logits / np.float32(TEMPERATURE))[0]
        assert np.abs(shown_probabilities(page) - expected).max() <= TOLERANCE
        shown[digit] = page.text_content("#prediction")
        assert shown[digit] == str(expected.argmax())
        assert page.locator("#hidden figure").count() > 0
    assert worst_framing <= 1e-6
    assert shown == {digit: str(digit) for digit in DRAWN_DIGITS}, "the page read these (drawn digit: shown class)"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export-web.png"), full_page=True)

    page.click("#clear")
    wait_for_answer(page)
    assert page.text_content("#prediction") == "\u2013"
    assert shown_probabilities(page).tolist() == [0.0] * 10
    assert canvas_sum(page, "#pad", channel=3) == 0 and canvas_sum(page, "#input28", channel=0) == 0

    origin = urlsplit(url)
    assert {urlsplit(request).path.rsplit("/", 1)[-1] for request in requests} == {
        "",
        "style.css",
        "digitnet.js",
        "page.js",
        "model.json",
        "weights.bin",
    }
    outside = [request for request in requests if urlsplit(request).netloc != origin.netloc]
    assert outside == [], f"the page fetched from outside its origin: {outside}"
    page.close()
