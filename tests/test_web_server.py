"""``digitnet serve``'s API: what a good request gets, and a 4xx JSON error for every bad one.

The unit tests call ``web.api`` directly; the HTTP tests talk to a live server on a free
127.0.0.1 port with ``http.client``, so headers, sizes and timeouts are exercised for real.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from digitnet.cli import main
from digitnet.functional import softmax
from digitnet.last_model import remember_last_model
from digitnet.persistence import load_model
from digitnet.preprocess import mnist_preprocess
from digitnet.web.api import (
    MAX_BODY_BYTES,
    BadRequest,
    Predictor,
    forward_with_hidden,
    input_from_request,
    min_confidence_from_request,
    parse_json_body,
)
from digitnet.web.server import make_server


@contextmanager
def running_server(model_path, read_timeout=10.0):
    server = make_server(load_model(model_path), "127.0.0.1", 0, read_timeout=read_timeout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def server(small_trained):
    with running_server(small_trained[1]) as server:
        yield server


@pytest.fixture(scope="module")
def predictor(small_trained):
    return Predictor(load_model(small_trained[1]))


def request(server, method, path, body=b"", headers=None, content_type="application/json"):
    """One request on a fresh connection -> (status, headers, parsed JSON or raw bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        all_headers = {"Content-Type": content_type} if content_type else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        is_json = response.getheader("Content-Type") == "application/json"
        return response.status, response, json.loads(data) if is_json else data
    finally:
        connection.close()


def predict(server, payload, **kwargs):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return request(server, "POST", "/api/predict", body, **kwargs)


def host(server) -> str:
    """The Host header a browser sends for the server (any other name is refused)."""
    return f"127.0.0.1:{server.server_port}"


def raw_exchange(server, data: bytes, wait_for_close=True) -> bytes:
    """Send bytes as they are (malformed HTTP included) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def json_error_of(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert b"Content-Type: application/json" in head
    return status, json.loads(body)


EXTERNAL_REFERENCE = re.compile(rb"(?:https?:|wss?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}|@import|url\(")


def mnist_digit(mnist_test, index=0) -> np.ndarray:
    return mnist_test.images[index].reshape(28, 28)


# ---- web.api without HTTP -------------------------------------------------------------------


def test_a_28x28_image_is_used_as_it_is_on_either_scale(mnist_test):
    image = mnist_test.images[0].astype(np.float64)
    from_bytes = input_from_request({"pixels": image.tolist(), "scale": 255})
    from_unit = input_from_request({"pixels": (image / 255).tolist()})
    assert from_bytes.dtype == np.float32 and from_bytes.shape == (784,)
    np.testing.assert_array_equal(from_bytes, (image / 255).astype(np.float32))
    np.testing.assert_array_equal(from_unit, from_bytes)


def test_a_canvas_gets_the_mnist_preprocessing_of_digitnet_predict(mnist_test):
    canvas = np.kron(mnist_digit(mnist_test), np.ones((10, 10), dtype=np.uint8))  # 280x280, 10x10 blocks
    canvas = np.roll(canvas, (-60, 70), axis=(0, 1))  # drawn off-centre, towards a corner
    got = input_from_request({"pixels": canvas.ravel().tolist(), "width": 280, "height": 280, "scale": 255})
    expected = mnist_preprocess(canvas / 255).reshape(-1)
    np.testing.assert_array_equal(got, expected)
    rows, cols = np.nonzero(got.reshape(28, 28) > 0.1)
    assert rows.min() >= 2 and rows.max() <= 25 and cols.min() >= 2 and cols.max() <= 25  # back in the middle


def test_forward_with_hidden_matches_the_network_and_the_relu_of_layer_one(small_trained, mnist_test):
    network = small_trained[0]
    x = mnist_test.images[:1].astype(np.float32) / 255
    hidden, logits = forward_with_hidden(network, x[0])
    np.testing.assert_allclose(softmax(logits), network.predict_proba(x), rtol=1e-6)
    W, b = network.dense_layers[0].W.astype(np.float64), network.dense_layers[0].b.astype(np.float64)
    np.testing.assert_allclose(hidden, np.maximum(x[0] @ W + b, 0), rtol=1e-5, atol=1e-6)  # notes eq. (1), (2)


def test_the_strongest_units_come_first_with_their_normalised_weights(predictor, small_trained, mnist_test):
    x = mnist_test.images[0].astype(np.float32) / 255
    hidden, _ = forward_with_hidden(small_trained[0], x)
    answer = predictor.predict(x)
    units = answer["hidden"]
    activations = [unit["activation"] for unit in units]
    assert len(units) == min(12, int((hidden > 0).sum())) and activations == sorted(activations, reverse=True)
    assert units[0]["unit"] == int(hidden.argmax())
    W = small_trained[0].dense_layers[0].W
    column = W[:, units[0]["unit"]]
    np.testing.assert_allclose(units[0]["weights"], column / np.abs(column).max(), atol=5e-4)
    assert max(abs(w) for w in units[0]["weights"]) == 1.0


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "the body is empty"),
        (b"   ", "the body is empty"),
        (b"{pixels: 1}", "not valid JSON"),
        (b"\xff\xfe{\x00}\x00", "not UTF-8"),  # UTF-16, which json.loads alone would accept
        (b'{"pixels": "\xe9"}', "not UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
        (b"[1, 2]", "must be a JSON object, got a JSON array"),
        (b'"pixels"', "must be a JSON object, got a JSON string"),
        (b'{"pixels": [NaN]}', "NaN is not a number JSON allows"),
        (b'{"pixels": [Infinity]}', "Infinity is not a number JSON allows"),
        (b'{"pixels": [-Infinity]}', "-Infinity is not a number JSON allows"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(body, message):
    with pytest.raises(BadRequest) as caught:
        parse_json_body(body)
    assert caught.value.status == 400 and message in caught.value.message


ZEROS = [0] * 784
ONE_DOT = [0] * 400 + [1] + [0] * 383  # the least a drawing can be and still get an answer


@pytest.mark.parametrize(
    "request_body, message",
    [
        ({}, "missing field 'pixels'"),
        (
            {"pixels": ZEROS, "colour": "red"},
            "unknown field(s) 'colour'; allowed: pixels, scale, width, height, min_confidence",
        ),
        ({"pixels": "0" * 784}, "'pixels' must be an array of numbers, got a JSON string"),
        ({"pixels": {"0": 1}}, "'pixels' must be an array of numbers, got a JSON object"),
        ({"pixels": ZEROS[:-1]}, "'pixels' has 783 values: send 784 (a 28x28 image)"),
        ({"pixels": ZEROS + [0]}, "'pixels' has 785 values"),
        ({"pixels": ZEROS[:-1] + ["1"]}, "every pixel must be a number, found string"),
        ({"pixels": ZEROS[:-1] + [True]}, "every pixel must be a number, found boolean"),
        ({"pixels": ZEROS[:-1] + [None]}, "every pixel must be a number, found null"),
        ({"pixels": ZEROS[:-1] + [[1]]}, "every pixel must be a number, found array"),
        ({"pixels": ZEROS[:-1] + [10**400]}, "a pixel value is too large to be a number"),
        ({"pixels": ZEROS[:-1] + [1e999]}, "pixel 783 is inf: with scale 1 values must lie in [0, 1]"),
        ({"pixels": [-0.5] + ZEROS[1:]}, "pixel 0 is -0.5: with scale 1 values must lie in [0, 1]"),
        ({"pixels": ZEROS[:5] + [1.5] + ZEROS[6:]}, "pixel 5 is 1.5: with scale 1 values must lie in [0, 1]"),
        ({"pixels": ZEROS[:-1] + [256], "scale": 255}, "pixel 783 is 256: with scale 255 values must lie in [0, 255]"),
        ({"pixels": ZEROS, "scale": 2}, "'scale' must be 1 (pixels in [0, 1]) or 255 (pixels in [0, 255]), got 2"),
        ({"pixels": ZEROS, "scale": True}, "'scale' must be 1"),
        ({"pixels": ZEROS, "scale": "255"}, "'scale' must be 1"),
        ({"pixels": ZEROS, "scale": 255.0}, "'scale' must be 1"),
        ({"pixels": [0] * 300 * 280, "width": 300, "height": 280}, "the canvas must be square, got 300x280"),
        ({"pixels": [0] * 280 * 280, "width": 280}, "give both 'width' and 'height'"),
        ({"pixels": [0] * 280 * 280, "height": 280}, "give both 'width' and 'height'"),
        ({"pixels": [0] * 280 * 280, "width": 280.0, "height": 280.0}, "'width' and 'height' must be whole numbers"),
        ({"pixels": [0] * 400, "width": 20, "height": 20}, "the canvas side must be 28 to 560 pixels, got 20"),
        ({"pixels": [0] * 4, "width": 600, "height": 600}, "the canvas side must be 28 to 560 pixels, got 600"),
        ({"pixels": [0] * 1000, "width": 280, "height": 280}, "'pixels' has 1000 values; a 280x280 canvas needs 78400"),
    ],
)
def test_predict_requests_with_wrong_fields_or_values_are_refused(request_body, message):
    with pytest.raises(BadRequest) as caught:
        input_from_request(request_body)
    assert caught.value.status == 400
    assert message in caught.value.message


@pytest.mark.parametrize("value", [1.5, -0.1, True, "0.5", None, [0.5]])
def test_min_confidence_must_be_a_number_from_0_to_1(value):
    with pytest.raises(BadRequest) as caught:
        min_confidence_from_request({"pixels": ZEROS, "min_confidence": value})
    assert caught.value.status == 400
    assert caught.value.message == f"'min_confidence' must be a number from 0 to 1, got {value!r}"
    assert (
        min_confidence_from_request({"pixels": ZEROS}) == 0 and min_confidence_from_request({"min_confidence": 1}) == 1
    )


# ---- over HTTP ------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_with_a_strict_csp_and_nothing_external(server):
    status, response, html = request(server, "GET", "/", content_type=None)
    assert status == 200 and response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "default-src 'none'" in response.getheader("Content-Security-Policy")
    assert b'<canvas id="pad"' in html and b'src="/app.js"' in html
    for path, content_type in [
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
        ("/favicon.svg", "image/svg+xml"),
    ]:
        status, response, data = request(server, "GET", path, content_type=None)
        assert status == 200 and response.getheader("Content-Type").startswith(content_type) and data
        # no CDN, no web font: the SVG namespace is a name, never fetched; everything else is relative
        assert set(EXTERNAL_REFERENCE.findall(html + data)) <= {b"http://www.w3.org"}


def test_model_description_gives_the_architecture(server, small_trained):
    status, _, body = request(server, "GET", "/api/model", content_type=None)
    assert status == 200
    n_hidden = small_trained[0].layer_sizes[1]
    assert body["layer_sizes"] == [784, n_hidden, 10] and body["activation"] == "relu"
    assert body["parameters"] == 784 * n_hidden + n_hidden + n_hidden * 10 + 10
    assert body["file"] == small_trained[1].name and body["test_accuracy"] is None  # the fixture saved no metrics
    assert body["dataset"] == "mnist" and body["class_names"] == list("0123456789")
    assert body["verdicts"] == ["digit", "not sure", "not a digit"] and body["novelty"] is True
    assert body["temperature"] == load_model(small_trained[1]).temperature


def test_a_real_test_digit_is_read_as_the_network_reads_it(server, small_trained, mnist_test):
    images = mnist_test.images[:20]
    temperature = load_model(small_trained[1]).temperature
    assert temperature != 1  # so the calibrated probabilities below differ from the raw softmax
    expected = softmax(small_trained[0].logits(images.astype(np.float32) / 255).astype(np.float64) / temperature)
    for image, probabilities in zip(images, expected):
        status, _, answer = predict(server, {"pixels": image.tolist(), "scale": 255})
        assert status == 200
        assert answer["digit"] == int(probabilities.argmax())
        np.testing.assert_allclose(answer["probabilities"], probabilities, atol=1e-6)
        assert math.isclose(sum(answer["probabilities"]), 1, abs_tol=1e-5)
        np.testing.assert_allclose(answer["input28"], image / 255, atol=5e-5)
    accuracy = np.mean(expected.argmax(axis=1) == mnist_test.labels[:20])
    assert accuracy >= 0.85  # the fixture's model really reads digits


def test_drawings_that_are_not_digits_get_the_verdict_not_a_digit(server, small_trained, non_digit_canvases):
    for name, pad in non_digit_canvases.items():
        status, _, answer = predict(server, {"pixels": pad.ravel().tolist(), "width": 280, "height": 280, "scale": 255})
        assert status == 200 and answer["verdict"] == "not a digit", (name, answer)
        if name == "blank":  # no ink: no class and no score, just "not a digit"
            assert answer["blank"] and answer["digit"] is None and "novelty_score" not in answer
            continue
        assert answer["name"] == str(answer["digit"]) and math.isclose(sum(answer["probabilities"]), 1, abs_tol=1e-5)
        assert answer["novelty_score"] < load_model(small_trained[1]).novelty.threshold
    noise = np.random.default_rng(1).uniform(0, 1, 784).round(4).tolist()  # a 28x28 image, used as it is
    assert predict(server, {"pixels": noise})[2]["verdict"] == "not a digit"


def test_real_digits_are_digits_and_a_hesitant_one_is_not_sure_above_its_confidence(server, mnist_test):
    answers = [predict(server, {"pixels": image.tolist(), "scale": 255})[2] for image in mnist_test.images[:40]]
    assert sum(a["verdict"] == "digit" for a in answers) >= 38
    hesitant = min(range(40), key=lambda i: answers[i]["confidence"])
    confidence = answers[hesitant]["confidence"]
    assert confidence < 0.95
    image = mnist_test.images[hesitant].tolist()
    for threshold, verdict in ((confidence - 0.01, "digit"), (confidence + 0.01, "not sure")):
        status, _, answer = predict(server, {"pixels": image, "scale": 255, "min_confidence": threshold})
        assert status == 200 and answer["verdict"] == verdict
    status, _, body = predict(server, {"pixels": image, "scale": 255, "min_confidence": 2})
    assert status == 400 and "'min_confidence' must be a number from 0 to 1" in body["error"]


def test_a_canvas_is_read_exactly_as_digitnet_predict_reads_the_same_picture(
    server, small_trained, mnist_test, tmp_path, capsys
):
    canvas = np.kron(mnist_digit(mnist_test, 7), np.ones((10, 10), dtype=np.uint8))
    picture = tmp_path / "drawn.png"
    Image.fromarray(canvas).save(picture)
    assert main(["predict", str(small_trained[1]), str(picture), "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)["predictions"][0]
    status, _, answer = predict(server, {"pixels": canvas.ravel().tolist(), "width": 280, "height": 280, "scale": 255})
    assert status == 200 and answer["digit"] == from_cli["digit"]
    np.testing.assert_allclose(answer["probabilities"], from_cli["probabilities"], atol=2e-6)


def assert_json_error(status, response, body, expected_status, message):
    assert status == expected_status
    assert response.getheader("Content-Type") == "application/json"
    assert set(body) == {"error"} and message in body["error"] and "Traceback" not in body["error"]


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"not json", "not valid JSON"),
        (b'{"pixels": [NaN]}', "NaN is not a number"),
        (json.dumps({"pixels": ZEROS[:100]}).encode(), "'pixels' has 100 values"),
        (json.dumps({"pixels": [0] * 600, "width": 30, "height": 20}).encode(), "the canvas must be square"),
        (json.dumps({"pixels": ZEROS, "extra": 1}).encode(), "unknown field(s) 'extra'"),
        (json.dumps({"pixels": [2] + ZEROS[1:]}).encode(), "pixel 0 is 2"),
    ],
)
def test_bad_bodies_get_a_400_json_error_over_http(server, payload, message):
    assert_json_error(*predict(server, payload), 400, message)


@pytest.mark.parametrize(
    "headers, content_type, status, message",
    [
        ({}, None, 415, "missing Content-Type"),
        ({}, "text/plain", 415, "Content-Type 'text/plain' is not accepted"),
        ({}, "application/x-www-form-urlencoded", 415, "is not accepted: send application/json"),
        ({}, "application/json; charset=latin-1", 415, "charset latin-1 is not accepted"),
        ({"Content-Length": "12abc"}, "application/json", 400, "Content-Length '12abc' is not a byte count"),
        ({"Content-Length": "-5"}, "application/json", 400, "is not a byte count"),
    ],
)
def test_wrong_headers_get_a_4xx_json_error(server, headers, content_type, status, message):
    body = json.dumps({"pixels": ZEROS}).encode()
    assert_json_error(*predict(server, body, headers=headers, content_type=content_type), status, message)


def test_a_charset_of_utf8_is_accepted(server):
    status, _, answer = predict(server, {"pixels": ONE_DOT}, content_type="application/json; charset=UTF-8")
    assert status == 200 and len(answer["probabilities"]) == 10


def test_a_body_over_the_limit_gets_413_before_it_is_read(server):
    head = (
        f"POST /api/predict HTTP/1.1\r\nHost: {host(server)}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    ).encode()
    status, body = json_error_of(raw_exchange(server, head))  # the server answers and closes unread
    assert status == 413 and body["error"] == f"the body is {MAX_BODY_BYTES + 1} bytes; the limit is {MAX_BODY_BYTES}"


def test_a_missing_content_length_or_a_chunked_body_gets_411(server):
    head = f"POST /api/predict HTTP/1.1\r\nHost: {host(server)}\r\nContent-Type: application/json\r\n".encode()
    status, body = json_error_of(raw_exchange(server, head + b"Connection: close\r\n\r\n"))
    assert status == 411 and body["error"] == "missing Content-Length"
    status, body = json_error_of(raw_exchange(server, head + b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"))
    assert status == 411 and "chunked bodies are not accepted" in body["error"]


def test_a_body_cut_short_gets_400(server):
    head = f"POST /api/predict HTTP/1.1\r\nHost: {host(server)}\r\nContent-Type: application/json\r\n".encode()
    head += b"Content-Length: 50\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as sock:
        sock.sendall(head + b'{"pixels": [')
        sock.shutdown(socket.SHUT_WR)  # the client is done sending: the body ends early
        raw = b"".join(iter(lambda: sock.recv(65536), b""))
    status, body = json_error_of(raw)
    assert status == 400 and body["error"] == "the body ended after 12 of 50 bytes"


def test_a_stalled_or_dripping_client_is_cut_off_with_408(small_trained):
    with running_server(small_trained[1], read_timeout=0.5) as server:
        head = f"POST /api/predict HTTP/1.1\r\nHost: {host(server)}\r\nContent-Type: application/json\r\n".encode()
        head += b"Content-Length: 50\r\n\r\n"
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as stalled:
            stalled.sendall(head + b'{"pix')
            start = time.monotonic()
            status, body = json_error_of(b"".join(iter(lambda: stalled.recv(65536), b"")))
            assert 0.4 < time.monotonic() - start < 5
        assert status == 408 and body["error"] == "timed out after 0.5s with 5 of 50 bytes read"

        # one byte every 0.1 s beats the socket timeout but not the deadline for the whole body
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as dripping:
            dripping.sendall(head)
            start = time.monotonic()
            dripping.settimeout(0.1)
            answer = b""
            for _ in range(50):
                try:
                    dripping.sendall(b" ")
                    answer += dripping.recv(65536)
                except (TimeoutError, ConnectionError):
                    pass
                if answer:
                    break
            dripping.settimeout(10)
            answer += b"".join(iter(lambda: dripping.recv(65536), b""))
            assert time.monotonic() - start < 2
        status, body = json_error_of(answer)
        assert status == 408 and "timed out after 0.5s" in body["error"]


def test_an_idle_connection_is_closed_after_the_timeout_without_a_log_line(small_trained):
    with running_server(small_trained[1], read_timeout=0.3) as server:
        lines = []
        server.log = lines.append
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as idle:
            start = time.monotonic()
            assert idle.recv(1) == b""  # the server hung up
            assert 0.2 < time.monotonic() - start < 5
    assert lines == []  # http.server itself would log "Request timed out" for every idle browser connection


@pytest.mark.parametrize(
    "method, path, status, allow",
    [
        ("GET", "/api/predict", 405, "POST"),
        ("PUT", "/api/predict", 405, "GET, POST, DELETE"),
        ("DELETE", "/", 405, "GET"),
        ("POST", "/api/model", 405, "GET"),
        ("POST", "/", 405, "GET"),
        ("GET", "/nothing/here", 404, None),
        ("POST", "/api/other", 404, None),
        ("GET", "/static/../../etc/passwd", 404, None),
    ],
)
def test_wrong_methods_and_paths_get_405_or_404_json(server, method, path, status, allow):
    got_status, response, body = request(server, method, path, b"{}")
    assert got_status == status and response.getheader("Content-Type") == "application/json"
    assert response.getheader("Allow") == allow and set(body) == {"error"}


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"POST /api/predict\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n" + b"X-A: 1\r\n" * 120 + b"\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    ],
)
def test_malformed_http_gets_a_json_error_too(server, raw, status):
    got_status, body = json_error_of(raw_exchange(server, raw))
    assert got_status == status and isinstance(body["error"], str)


def test_keep_alive_serves_several_predictions_on_one_connection(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    try:
        for bad_first in (True, False, False):
            body = b'{"pixels": 1}' if bad_first else json.dumps({"pixels": ZEROS}).encode()
            connection.request("POST", "/api/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            assert response.status == (400 if bad_first else 200) and not response.will_close
    finally:
        connection.close()


def test_a_body_sent_with_get_does_not_poison_a_kept_alive_connection(server, small_trained):
    raw = (
        f"GET /api/model HTTP/1.1\r\nHost: {host(server)}\r\nContent-Length: 21\r\n\r\n".encode()
        + b"GET /nothing HTTP/1.1\r\n"
    )  # unread, these bytes would look like a second request
    head, _, body = raw_exchange(server, raw).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
    assert json.loads(body)["layer_sizes"] == small_trained[0].layer_sizes  # one answer, then the server hung up


def test_a_bug_of_the_server_is_a_500_without_a_traceback_and_is_logged(small_trained, monkeypatch):
    with running_server(small_trained[1]) as server:
        lines = []
        server.log = lines.append
        monkeypatch.setattr(server.predictor, "predict", lambda x, min_confidence: 1 / 0)
        status, response, body = predict(server, {"pixels": ZEROS})
    assert status == 500 and body == {"error": "internal error (see the server's log)"}
    assert len(lines) == 1 and "ZeroDivisionError" in lines[0] and "Traceback" in lines[0]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=20,
)
predict_like = st.fixed_dictionaries(
    {"pixels": st.lists(st.floats(-1, 300), min_size=780, max_size=790)},
    optional={"scale": st.sampled_from([1, 255, 0, "1"]), "width": st.integers(0, 30), "height": st.integers(0, 30)},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | predict_like)
def test_no_json_body_gets_anything_but_200_or_a_400_error(server, body):
    status, response, answer = predict(server, body)
    if status == 200:
        assert len(answer["probabilities"]) == 10 if not answer["blank"] else answer["digit"] is None
    else:
        assert_json_error(status, response, answer, 400, "")


# ---- the command ----------------------------------------------------------------------------


def test_serve_with_no_model_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert main(["serve"]) == 1
    assert capsys.readouterr().err == (
        "digitnet: error: no MODEL given and no trained model remembered: train one with `digitnet train` "
        "(it saves digitnet-model.safetensors), then run `digitnet serve` again\n"
    )


def test_serve_refuses_a_missing_model_a_bad_port_and_a_busy_port(tmp_path, small_trained, capsys):
    missing = tmp_path / "gone.safetensors"
    assert main(["serve", str(missing)]) == 1
    assert capsys.readouterr().err.startswith(f"digitnet: error: {missing}: cannot read model file")
    assert main(["serve", str(small_trained[1]), "--port", "70000"]) == 1
    assert capsys.readouterr().err == "digitnet: error: port 70000 is out of range (0-65535)\n"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", str(small_trained[1]), "--port", str(port)]) == 1
    assert capsys.readouterr().err == f"digitnet: error: cannot listen on 127.0.0.1:{port} (Address already in use)\n"


def test_serve_without_model_uses_the_last_trained_one_and_stops_on_ctrl_c(tmp_path, small_trained, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    remember_last_model(small_trained[1])  # what `digitnet train` does after saving
    environment = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "digitnet", "serve", "--port", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith(f"serving {small_trained[1].resolve()} at http://127.0.0.1:")
        port = int(first_line.split("127.0.0.1:")[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/model")
        assert json.loads(connection.getresponse().read())["layer_sizes"] == small_trained[0].layer_sizes
        connection.close()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0 and out == "stopped\n" and err == ""
