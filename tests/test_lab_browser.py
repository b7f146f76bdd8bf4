"""The lab in a real browser: Playwright drives Debian's Chromium against a live server.

One walk through every view, as a learner would take it: start a short run on MNIST and watch
curve points arrive, pause and run one batch, draw a digit (real MNIST strokes, as in
``test_web_browser.py``) and step through its backpropagation, check a gradient, apply the
step and see the loss fall, teach drawings and fine-tune. Each view is saved as a screenshot
in ``test-artifacts/`` (``make screenshots`` copies them into ``docs/images/`` for the README),
and the fine-tune's before/after figures go to ``test-artifacts/lab-fine-tune.json``.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import numpy as np
import pytest
from test_lab_api import lab_server
from test_web_browser import ARTIFACTS, browser, draw, pen_strokes, wait_for_answer  # noqa: F401 (browser: a fixture)

from digitnet.data import TrainingData
from digitnet.web.lab import MAX_EPOCHS

LAB_TRAIN_IMAGES = 6000  # a short run: 5,400 training images, 600 to validate
TAUGHT = 8  # drawings taught before fine-tuning: the first test image of digits 0-7; the 4th and 8th are held out


@pytest.fixture(scope="module")
def lab_url(small_trained, mnist_train, mnist_test, tmp_path_factory):
    data = TrainingData(mnist_train.subset(np.arange(LAB_TRAIN_IMAGES)), mnist_test, {"mnist": "first 6000"})
    with lab_server(small_trained[1], data, tmp_path_factory.mktemp("lab-browser")) as server:
        yield server.url


def attribute(page, selector: str, name: str) -> str | None:
    return page.get_attribute(selector, name)


def wait_until(page, script: str, argument=None, timeout: int = 30_000) -> None:
    """``script`` is a function (the CSP forbids eval, which Playwright uses for expressions)."""
    page.wait_for_function(script, arg=argument, timeout=timeout)


def draw_digit(page, image: np.ndarray) -> None:
    page.click("#clear")
    draw(page, pen_strokes(image.reshape(28, 28)), page.locator("#pad").bounding_box())
    wait_for_answer(page)


def first_of_each_digit(mnist_test, digits) -> list[tuple[int, np.ndarray]]:
    return [(digit, mnist_test.images[np.flatnonzero(mnist_test.labels == digit)[0]]) for digit in digits]


def test_train_steer_step_through_backprop_teach_and_fine_tune(browser, lab_url, mnist_test):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(lab_url)
    wait_until(page, "() => document.getElementById('model-info').textContent.includes('784-128-10 network')")
    ARTIFACTS.mkdir(exist_ok=True)

    # the tabs follow the keyboard: arrow keys move between them
    page.focus("#tab-sees")
    page.keyboard.press("ArrowRight")
    assert attribute(page, "#tab-train", "aria-selected") == "true" and page.is_visible("#run-form")

    # train: curve points arrive while the run goes on
    page.fill("#run-form input[name=hidden]", "32")
    # the most epochs a lab run takes, so that on a fast machine the run is still going when the
    # test pauses it (3 epochs once finished before the click arrived); the test stops it below
    page.fill("#run-form input[name=epochs]", str(MAX_EPOCHS))
    page.fill("#run-form input[name=batch_size]", "64")
    page.click("#start")
    wait_until(page, "() => Number(document.getElementById('loss-curve').dataset.points) >= 4")
    wait_until(page, "() => document.getElementById('weight-grid').children.length === 32")
    page.screenshot(path=str(ARTIFACTS / "lab-train.png"))

    # pause, then exactly one batch
    page.click("#pause")
    wait_until(page, "() => document.getElementById('run-state').dataset.state === 'paused'")
    step, points = int(attribute(page, "#run-state", "data-step")), int(attribute(page, "#loss-curve", "data-points"))
    page.click("#step")
    wait_until(page, "(step) => Number(document.getElementById('run-state').dataset.step) === step + 1", step)
    assert int(attribute(page, "#loss-curve", "data-points")) == points + 1
    page.fill("#knobs input[name=lr]", "0.05")
    page.click("#apply-knobs")
    wait_until(page, "() => document.getElementById('changes').children.length === 1")
    assert "lr 0.1000 \u2192 0.05000" in page.text_content("#changes")
    page.click("#stop")
    wait_until(page, "() => document.getElementById('run-state').dataset.state === 'stopped'")

    # draw a digit, step through its backpropagation, check a gradient, apply the step
    digit, image = first_of_each_digit(mnist_test, [3])[0]
    draw_digit(page, image)
    page.check(f"#label-{digit}")
    page.click("#tab-backprop")
    page.fill("#backprop-form input[name=lr]", "0.5")
    page.click("#run-backprop")
    wait_until(page, "() => document.getElementById('backprop').dataset.loss !== undefined")
    assert page.locator("#backprop table").count() == 3  # hidden layer, output layer, dW2
    page.click("#apply-step")
    wait_until(page, "() => document.getElementById('apply-result').dataset.lossAfter !== undefined")
    loss_before = float(attribute(page, "#apply-result", "data-loss-before"))
    loss_after = float(attribute(page, "#apply-result", "data-loss-after"))
    assert loss_after < loss_before
    assert float(attribute(page, "#backprop", "data-loss")) == pytest.approx(loss_after, rel=1e-4, abs=1e-6)
    # the page re-reads /api/model after the change: wait for it rather than race it
    wait_until(
        page,
        "(text) => document.getElementById('model-note').textContent.includes(text)",
        "changed by steps applied in the lab",
    )
    page.locator("#backprop table").nth(2).locator("button.cell").nth(digit).click()  # dW2 of the top unit, true digit
    wait_until(page, "() => document.getElementById('gradcheck-result').dataset.relativeError !== undefined")
    assert float(attribute(page, "#gradcheck-result", "data-relative-error")) < 1e-3
    page.screenshot(path=str(ARTIFACTS / "lab-backprop.png"), full_page=True)

    # teach drawings, then fine-tune on them
    page.click("#tab-teach")
    for digit, image in first_of_each_digit(mnist_test, range(TAUGHT)):
        draw_digit(page, image)
        page.check(f"#label-{digit}")
        page.click("#teach")
        wait_until(page, "(n) => Number(document.getElementById('drawings').dataset.count) === n", digit + 1)
    page.click("#fine-tune")
    wait_until(page, "() => document.getElementById('fine-tune-result').dataset.run !== undefined", timeout=120_000)
    rows = page.eval_on_selector_all(
        "#fine-tune-result tbody tr", "rows => rows.map(row => [...row.cells].map(cell => cell.textContent))"
    )
    page.screenshot(path=str(ARTIFACTS / "lab-teach.png"), full_page=True)
    (ARTIFACTS / "lab-fine-tune.json").write_text(json.dumps({"drawings": TAUGHT, "rows": rows}, indent=2))
    # the page re-reads /api/model after the change: wait for it rather than race it
    wait_until(
        page,
        "(text) => document.getElementById('model-note').textContent.includes(text)",
        "fine-tuned on 6 of your drawings",
    )
    held_out, mnist = rows
    assert held_out[0].startswith("your 2 held-out drawings")
    assert all(value.endswith("%") for value in mnist[1:])
    assert float(mnist[2][:-1]) >= float(mnist[1][:-1]) - 1.0  # MNIST test accuracy kept within 1 point

    assert errors == []
    outside = [url for url in requests if urlsplit(url).hostname != "127.0.0.1"]
    assert outside == [], f"the page fetched from outside 127.0.0.1: {outside}"
    page.close()


def test_the_lab_fits_a_narrow_screen(browser, lab_url):  # noqa: F811
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(lab_url)
    page.click("#tab-train")
    wait_until(page, "() => document.getElementById('run-state').dataset.state !== undefined")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "lab-narrow.png"), full_page=True)
    page.close()
