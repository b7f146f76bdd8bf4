"""The lab's API over HTTP, on a live server on a free 127.0.0.1 port: runs on tiny synthetic
data (start, pause, one batch, settings, one more epoch, resume, stop, save), the step-through
against the library's own forward and backward pass, the gradient check, apply, teaching,
fine-tuning on real MNIST, and the guard (Host, Origin, token)."""

from __future__ import annotations

import http.client
import json
import os
import re
import sys
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest
from test_session import synthetic_digits

from digitnet.data import TrainingData, scale_images
from digitnet.functional import softmax
from digitnet.losses import SoftmaxCrossEntropy
from digitnet.metrics import evaluate
from digitnet.network import Network
from digitnet.persistence import load_model, save_model
from digitnet.web.backprop_view import EQUATIONS
from digitnet.web.drawings import DrawingStore
from digitnet.web.server import make_server


@contextmanager
def lab_server(model_path, data: TrainingData, folder):
    server = make_server(
        load_model(model_path),
        "127.0.0.1",
        0,
        training_data=lambda: data,
        drawings_dir=folder / "drawings",
        models_dir=folder / "models",
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        if server.lab.run is not None:
            server.lab.run.close()
        server.shutdown()
        server.server_close()
        thread.join()


def call(server, method, path, body=None, *, token=True, headers=None):
    """One request as the page makes it (Host, token) -> (status, parsed JSON)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=60)
    all_headers = {"X-Digitnet-Token": server.guard.token} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    all_headers.update(headers or {})
    try:
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def ok(server, method, path, body=None):
    status, answer = call(server, method, path, body)
    assert status == 200, answer
    return answer


def wait_for(server, condition, what: str, seconds: float = 30.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = ok(server, "GET", "/api/lab/status")["run"]
        if condition(run):
            return run
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}: {run}")


@pytest.fixture(scope="module")
def tiny_data() -> TrainingData:
    return TrainingData(synthetic_digits(2000, 0), synthetic_digits(200, 1), {"synthetic": "0" * 64})


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("lab") / "tiny.safetensors"
    save_model(path, Network.create([784, 16, 10], np.random.default_rng(0)), metrics={})
    return path


@pytest.fixture
def server(tiny_model, tiny_data, tmp_path):
    with lab_server(tiny_model, tiny_data, tmp_path) as server:
        yield server


@pytest.fixture(scope="module")
def mnist_lab(small_trained, mnist_train, mnist_test, tmp_path_factory):
    data = TrainingData(mnist_train, mnist_test, {"mnist": "test"})
    with lab_server(small_trained[1], data, tmp_path_factory.mktemp("mnist-lab")) as server:
        yield server


@pytest.fixture
def mnist_server(mnist_lab):
    """The MNIST model the other web tests use, with MNIST as the lab's data; whatever a test
    does to the served model (apply, fine-tune) is undone after it."""
    original = mnist_lab.predictor
    yield mnist_lab
    mnist_lab.served.update(lambda changed: (original, {}))


# ---- a run, start to save ---------------------------------------------------------------------

LONG_RUN = {"hidden": [16], "epochs": 30, "batch_size": 8, "lr": 0.05, "momentum": 0.5}


def test_start_pause_one_batch_steer_resume_and_stop(server):
    assert ok(server, "GET", "/api/lab/status")["run"] is None
    started = time.monotonic()
    assert ok(server, "POST", "/api/lab/start", LONG_RUN) == {"run": 1, "state": "running"}
    run = wait_for(server, lambda run: run["points"], "the first curve point")
    assert time.monotonic() - started < 10
    point = run["points"][0]
    assert point["step"] == 1 and set(point) == {
        "step",
        "epoch",
        "batch_loss",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
    }
    assert run["layer_sizes"] == [784, 16, 10] and run["steps_per_epoch"] == 225  # 1800 / 8
    assert len(run["grid"]["units"]) == 16 and len(run["grid"]["units"][0]) == 784
    status, answer = call(server, "POST", "/api/lab/start", LONG_RUN)
    assert status == 409 and answer["error"] == "a train run is running: stop it before starting another"
    status, answer = call(server, "POST", "/api/lab/step", {})
    assert status == 409 and answer["error"] == "cannot run one batch (pause first): the run is running"

    assert ok(server, "POST", "/api/lab/pause", {})["state"] == "paused"
    before = ok(server, "GET", "/api/lab/status")["run"]
    time.sleep(0.1)
    assert ok(server, "GET", "/api/lab/status")["run"]["step"] == before["step"]  # paused means paused
    assert ok(server, "POST", "/api/lab/step", {})["result"] == {"step": before["step"] + 1}
    after = ok(server, "GET", f"/api/lab/status?since={before['point_count']}")["run"]
    assert after["step"] == before["step"] + 1
    assert [p["step"] for p in after["points"]] == [before["step"] + 1]  # a point for the single step

    changes = ok(server, "POST", "/api/lab/settings", {"lr": 0.02, "momentum": 0.8})["changes"]
    step = before["step"] + 1
    assert changes == [
        {"step": step, "epoch": 1, "setting": "lr", "old": 0.05, "new": 0.02},
        {"step": step, "epoch": 1, "setting": "momentum", "old": 0.5, "new": 0.8},
    ]
    run = ok(server, "GET", "/api/lab/status")["run"]
    assert run["lr"] == 0.02 and run["momentum"] == 0.8 and run["changes"] == changes
    assert ok(server, "POST", "/api/lab/resume", {})["state"] == "running"
    wait_for(server, lambda run: run["step"] > step + 5, "more steps after resuming")
    assert ok(server, "POST", "/api/lab/stop", {})["state"] == "stopped"
    status, answer = call(server, "POST", "/api/lab/save", {})
    assert status == 409 and answer["error"] == "nothing to save yet: the run has not finished an epoch"
    status, answer = call(server, "POST", "/api/lab/resume", {})
    assert status == 409 and answer["error"] == "cannot resume: the run is stopped"
    assert ok(server, "POST", "/api/lab/start", {**LONG_RUN, "epochs": 1})["run"] == 2  # a stopped run frees the lab


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")
def test_the_training_thread_yields_the_cpu_to_requests(server):
    ok(server, "POST", "/api/lab/start", LONG_RUN)
    [thread] = [t for t in threading.enumerate() if t.name == "lab-run-1"]
    assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == os.getpriority(os.PRIO_PROCESS, 0) + 10


def test_a_finished_run_gets_one_more_epoch_then_is_saved_and_drawn_with(server, tmp_path):
    ok(server, "POST", "/api/lab/start", {"hidden": [16], "epochs": 1, "batch_size": 32})
    run = wait_for(server, lambda run: run["state"] == "finished", "the end of the run")
    assert [record["epoch"] for record in run["history"]] == [1] and run["step"] == 57  # ceil(1800 / 32)
    assert ok(server, "POST", "/api/lab/add-epoch", {})["result"]["new"] == 2
    run = wait_for(server, lambda run: run["state"] == "finished", "the added epoch")
    assert [record["epoch"] for record in run["history"]] == [1, 2] and run["step"] == 114
    assert run["changes"] == [{"step": 57, "epoch": 1, "setting": "epochs", "old": 1, "new": 2}]

    saved = ok(server, "POST", "/api/lab/save", {})
    model = load_model(saved["path"])
    assert model.path.parent == tmp_path / "models" and model.network.layer_sizes == [784, 16, 10]
    assert model.metadata["changes"] == run["changes"] and len(model.metadata["history"]) == 2
    assert saved["metrics"]["test_accuracy"] == model.metadata["metrics"]["test_accuracy"] > 0.9
    description = ok(server, "GET", "/api/model")
    assert description["file"] == model.path.name and description["test_accuracy"] == saved["metrics"]["test_accuracy"]
    assert ok(server, "GET", "/api/lab/status")["run"]["state"] == "saved"
    status, answer = call(server, "POST", "/api/lab/add-epoch", {})
    assert status == 409 and answer["error"] == "cannot add an epoch: the run is saved"


def test_commands_without_a_run_are_refused(server):
    for command in ("pause", "resume", "step", "stop", "add-epoch", "save"):
        status, answer = call(server, "POST", f"/api/lab/{command}", {})
        assert status == 409 and answer == {"error": "no run yet: start one"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"hidden": [0]}, "'hidden' must be 1 to 3 layer sizes of 1 to 1024, got [0]"),
        ({"hidden": [2000]}, "'hidden' must be 1 to 3 layer sizes"),
        ({"hidden": "128"}, "'hidden' must be 1 to 3 layer sizes of 1 to 1024, got '128'"),
        ({"hidden": [8, 8, 8, 8]}, "'hidden' must be 1 to 3 layer sizes"),
        ({"epochs": 31}, "'epochs' must be a whole number from 1 to 30, got 31"),
        ({"epochs": 2.5}, "'epochs' must be a whole number from 1 to 30, got 2.5"),
        ({"batch_size": 4}, "'batch_size' must be a whole number from 8 to 1024"),
        ({"lr": 20}, "'lr' is 20: the lab allows at most 10"),
        ({"lr": -1}, "lr=-1 is out of range (a number > 0)"),
        ({"momentum": 1}, "momentum=1 is out of range (a number in [0, 1))"),
        ({"activation": "softplus"}, "activation='softplus' is out of range (one of: relu, leaky_relu, sigmoid, tanh)"),
        ({"schedule": "cosine"}, "unknown field(s) 'schedule'"),
    ],
)
def test_bad_run_settings_get_a_400_naming_the_field(server, body, message):
    status, answer = call(server, "POST", "/api/lab/start", body)
    assert status == 400 and message in answer["error"]
    assert ok(server, "GET", "/api/lab/status")["run"] is None


def test_bad_mid_run_settings_are_refused_and_change_nothing(server):
    ok(server, "POST", "/api/lab/start", LONG_RUN)
    ok(server, "POST", "/api/lab/pause", {})
    for body, message in [
        ({}, "give 'lr', 'momentum' or both"),
        ({"lr": 0}, "lr=0 is out of range (a number > 0)"),
        ({"momentum": "high"}, "momentum='high' is out of range"),
        ({"gamma": 0.5}, "unknown field(s) 'gamma'; allowed: lr, momentum"),
    ]:
        status, answer = call(server, "POST", "/api/lab/settings", body)
        assert status == 400 and message in answer["error"]
    assert ok(server, "GET", "/api/lab/status")["run"]["changes"] == []


# ---- the guard ----------------------------------------------------------------------------------


def test_the_page_carries_the_token_that_lab_requests_need(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    connection.request("GET", "/")
    page = connection.getresponse().read().decode()
    connection.close()
    token = re.search(r'<meta name="digitnet-token" content="([^"]+)">', page).group(1)
    assert token == server.guard.token and len(token) >= 40
    assert call(server, "GET", "/api/lab/status", token=False) == (
        403,
        {"error": "missing X-Digitnet-Token header: lab requests come from the lab page"},
    )
    status, answer = call(server, "GET", "/api/lab/drawings", token=False, headers={"X-Digitnet-Token": "guess"})
    assert status == 403 and answer["error"].startswith("wrong X-Digitnet-Token")
    status, answer = call(server, "POST", "/api/lab/start", LONG_RUN, token=False)
    assert status == 403 and ok(server, "GET", "/api/lab/status")["run"] is None


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:{port}", True),
        ("localhost:{port}", True),
        ("[::1]:{port}", True),
        ("evil.example:{port}", False),  # DNS rebinding: a name the attacker controls
        ("localhost.evil.example:{port}", False),
        ("127.0.0.1:1", False),
        ("127.0.0.1", False),
        ("", False),
    ],
)
def test_a_host_header_that_is_not_this_server_is_refused_for_every_path(server, host, allowed):
    host = host.format(port=server.server_port)
    for path in ("/", "/api/model", "/api/lab/status"):
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.putrequest("GET", path, skip_host=True)
        if host:
            connection.putheader("Host", host)
        connection.putheader("X-Digitnet-Token", server.guard.token)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == (200 if allowed else 403), (path, body)
        if not allowed:
            assert b"Host" in body and server.guard.token.encode() not in body


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Origin": "http://evil.example"}, "requests from http://evil.example may not change anything here"),
        ({"Origin": "null"}, "requests from null may not change anything here"),
        ({"Origin": "http://127.0.0.1:1"}, "requests from http://127.0.0.1:1 may not change anything here"),
        ({"Sec-Fetch-Site": "cross-site"}, "a cross-site request may not change anything here"),
        ({"Sec-Fetch-Site": "same-site"}, "a same-site request may not change anything here"),
    ],
)
def test_a_state_change_from_another_origin_is_refused_even_with_the_token(server, headers, message):
    for path, body in [("/api/lab/start", LONG_RUN), ("/api/lab/drawings", {"pixels": [1] * 784, "label": 1})]:
        assert call(server, "POST", path, body, headers=headers) == (403, {"error": message})
    status, answer = call(server, "DELETE", "/api/lab/drawings/20250101T000000000000-abcdef", headers=headers)
    assert status == 403
    assert ok(server, "GET", "/api/lab/status")["run"] is None
    same_origin = {"Origin": f"http://127.0.0.1:{server.server_port}", "Sec-Fetch-Site": "same-origin"}
    assert call(server, "POST", "/api/lab/start", LONG_RUN, headers=same_origin)[0] == 200


def test_wrong_methods_on_lab_paths_get_405_with_allow(server):
    for method, path, allow in [
        ("GET", "/api/lab/start", "POST"),
        ("POST", "/api/lab/status", "GET"),
        ("GET", "/api/lab/drawings/20250101T000000000000-abcdef", "DELETE"),
    ]:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
        connection.request(method, path, body=b"{}", headers={"X-Digitnet-Token": server.guard.token})
        response = connection.getresponse()
        assert response.status == 405 and response.getheader("Allow") == allow
        assert "accepts" in json.loads(response.read())["error"]
        connection.close()
    assert call(server, "GET", "/api/lab/nothing")[0] == 404


# ---- one backpropagation step by hand -----------------------------------------------------------


def digit_and_label(mnist_test, index: int) -> tuple[np.ndarray, int]:
    return mnist_test.images[index].astype(np.float64) / 255, int(mnist_test.labels[index])


def least_likely(network, x: np.ndarray) -> int:
    """The label the network finds least likely for ``x``: a large loss, so no gradient is ~0."""
    return int(network.predict_proba(x.reshape(1, -1).astype(np.float32))[0].argmin())


def test_the_step_through_is_what_network_computes_for_that_input_and_label(mnist_server, small_trained, mnist_test):
    x, _ = digit_and_label(mnist_test, 8)
    wrong_label = least_likely(small_trained[0], x)
    answer = ok(mnist_server, "POST", "/api/lab/backprop", {"pixels": x.tolist(), "label": wrong_label, "lr": 0.5})

    network = small_trained[0].copy(dtype=np.float64)
    X = np.asarray(answer["input28"]).reshape(1, -1)
    np.testing.assert_array_equal(X[0], x.astype(np.float32))  # the input as the API reads it
    loss = SoftmaxCrossEntropy()
    logits = network.forward(X)
    assert answer["loss"] == loss.forward(logits, np.array([wrong_label]))
    network.backward(loss.backward())
    gradients = network.gradients()
    units, unit = answer["units"], answer["unit"]
    W1, b1, W2 = (network.parameters()[name] for name in ("dense0.W", "dense0.b", "dense1.W"))
    z1 = X @ W1 + b1  # notes eq. (1)
    a1 = np.maximum(z1, 0)  # eq. (2)
    assert units[:8] == list(np.argsort(-a1[0], kind="stable")[:8]) and unit == units[0]
    np.testing.assert_array_equal(answer["logits"], logits[0])
    np.testing.assert_array_equal(answer["p"], softmax(logits)[0])
    np.testing.assert_array_equal(answer["dW2"], gradients["dense1.W"][units])
    np.testing.assert_array_equal(answer["db2"], gradients["dense1.b"])
    np.testing.assert_array_equal(answer["dW1"], gradients["dense0.W"][:, unit])
    np.testing.assert_array_equal(answer["db1"], gradients["dense0.b"][units])
    # and each is the equation it cites, written out here
    y = np.eye(10)[wrong_label]
    p_minus_y = softmax(logits)[0] - y  # eq. (6), n = 1
    dA1 = p_minus_y @ W2.T  # eq. (9)
    dZ1 = dA1 * (z1[0] > 0)  # eq. (10)
    np.testing.assert_allclose(answer["z1"], z1[0, units], rtol=1e-12)
    np.testing.assert_allclose(answer["a1"], a1[0, units], rtol=1e-12)
    np.testing.assert_allclose(answer["p_minus_y"], p_minus_y, atol=1e-15)
    np.testing.assert_allclose(answer["dW2"], np.outer(a1[0, units], p_minus_y), rtol=1e-12)  # eq. (7)
    np.testing.assert_allclose(answer["dA1"], dA1[units], rtol=1e-12)
    np.testing.assert_array_equal(answer["mask"], (z1[0, units] > 0).astype(float))
    np.testing.assert_allclose(answer["dZ1"], dZ1[units], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(answer["dW1"], X[0] * dZ1[unit], rtol=1e-12, atol=1e-18)  # eq. (7)
    # the update plain SGD would make: -lr * gradient, notes eq. (13) with mu = 0
    np.testing.assert_allclose(answer["update"]["dense1.W"], -0.5 * gradients["dense1.W"][units], rtol=1e-9)
    np.testing.assert_allclose(
        answer["update"]["dense0.W"], -0.5 * gradients["dense0.W"][:, unit], rtol=1e-9, atol=1e-18
    )
    assert answer["equations"] == {**EQUATIONS, "mask": "2"}


def test_the_gradient_check_agrees_with_backprop_and_the_step_through(mnist_server, small_trained, mnist_test):
    x, label = digit_and_label(mnist_test, 8)
    request = {"pixels": x.tolist(), "label": least_likely(small_trained[0], x)}
    step = ok(mnist_server, "POST", "/api/lab/backprop", request)
    unit, inked_pixel = step["unit"], int(np.argmax(x))
    for parameter, index, expected in [
        ("dense1.W", [unit, 4], step["dW2"][0][4]),
        ("dense0.W", [inked_pixel, unit], step["dW1"][inked_pixel]),
        ("dense1.b", [label], step["db2"][label]),
    ]:
        check = ok(mnist_server, "POST", "/api/lab/gradcheck", {**request, "parameter": parameter, "index": index})
        assert check["analytic"] == expected and check["h"] == 1e-6
        assert check["relative_error"] < 1e-3, check  # notes eq. (19): O(h^2)
        assert abs(check["analytic"]) > 1e-4  # a gradient worth checking, not 0 = 0


def test_apply_takes_the_step_and_the_loss_on_the_digit_falls(mnist_server, small_trained, mnist_test):
    x, _ = digit_and_label(mnist_test, 8)
    target = least_likely(small_trained[0], x)
    request = {"pixels": x.tolist(), "label": target, "lr": 0.1}
    previous_description = ok(mnist_server, "GET", "/api/model")
    step = ok(mnist_server, "POST", "/api/lab/backprop", request)
    applied = ok(mnist_server, "POST", "/api/lab/apply", request)
    assert applied["loss_before"] == pytest.approx(step["loss"], rel=1e-5)  # float32 model, float64 view
    assert applied["loss_after"] < applied["loss_before"]
    assert applied["p_after"][target] > applied["p_before"][target]
    again = ok(mnist_server, "POST", "/api/lab/backprop", request)
    assert again["loss"] == pytest.approx(applied["loss_after"], rel=1e-4, abs=1e-6)
    served = mnist_server.predictor.network
    np.testing.assert_allclose(  # the served model took exactly the step the view showed (in float32)
        served.parameters()["dense1.W"][step["units"]],
        small_trained[0].parameters()["dense1.W"][step["units"]] + np.array(step["update"]["dense1.W"]),
        atol=1e-6,
    )
    description = ok(mnist_server, "GET", "/api/model")
    assert (
        description["note"] == "changed by steps applied in the lab (not saved)"
        and description["test_accuracy"] is None
    )
    assert previous_description["note"] == ""
    on_disk = load_model(small_trained[1]).network.parameters()["dense1.W"]
    np.testing.assert_array_equal(on_disk, small_trained[0].parameters()["dense1.W"])  # the file is untouched


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"pixels": [0] * 784, "label": 3}, 400, "the canvas is blank: draw a digit"),
        ({"pixels": [1] * 784, "label": 10}, 400, "'label' must be the true digit, 0 to 9, got 10"),
        ({"pixels": [1] * 784}, 400, "'label' must be the true digit"),
        ({"pixels": [1] * 784, "label": 3, "lr": 0}, 400, "'lr' must be a number in (0, 10], got 0"),
        ({"pixels": [1] * 784, "label": 3, "unit": 128}, 400, "'unit' must be a hidden unit, 0 to 127, got 128"),
        ({"pixels": [1] * 783, "label": 3}, 400, "'pixels' has 783 values"),
        ({"pixels": [1] * 784, "label": 3, "extra": 1}, 400, "unknown field(s) 'extra'"),
    ],
)
def test_bad_step_through_requests_get_a_400(mnist_server, body, status, message):
    answer_status, answer = call(mnist_server, "POST", "/api/lab/backprop", body)
    assert answer_status == status and message in answer["error"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"parameter": "dense2.W", "index": [0, 0]}, "'parameter' must be one of dense0.W, dense0.b, dense1.W"),
        ({"parameter": "dense1.W", "index": [128, 0]}, "'index' must be 2 whole number(s) within dense1.W's shape"),
        ({"parameter": "dense1.b", "index": [1, 1]}, "'index' must be 1 whole number(s)"),
        ({"parameter": "dense1.b", "index": 1}, "'index' must be 1 whole number(s)"),
    ],
)
def test_bad_gradient_checks_get_a_400(mnist_server, extra, message):
    status, answer = call(mnist_server, "POST", "/api/lab/gradcheck", {"pixels": [1] * 784, "label": 3, **extra})
    assert status == 400 and message in answer["error"]


def test_the_step_through_refuses_a_network_with_two_hidden_layers(tiny_data, tmp_path):
    path = tmp_path / "deep.safetensors"
    save_model(path, Network.create([784, 8, 8, 10], np.random.default_rng(0)), metrics={})
    with lab_server(path, tiny_data, tmp_path) as server:
        status, answer = call(server, "POST", "/api/lab/backprop", {"pixels": [1] * 784, "label": 1})
    assert status == 409
    assert answer["error"] == "the step-through shows networks with one hidden layer (784-H-10); this one is 784-8-8-10"


# ---- drawings, blank canvases, examples, the notes ----------------------------------------------


def test_teach_list_and_delete_drawings(server, tmp_path, mnist_test):
    image = mnist_test.images[0] / 255
    taught = ok(server, "POST", "/api/lab/drawings", {"pixels": image.tolist(), "label": 4})
    drawing = taught["drawing"]
    assert taught["count"] == 1 and drawing["label"] == 4
    np.testing.assert_array_equal(drawing["pixels"], mnist_test.images[0])  # the 28x28 input, kept exactly
    [path] = (tmp_path / "drawings").iterdir()
    assert path.name == f"{drawing['id']}_4.png"
    assert ok(server, "GET", "/api/lab/drawings") == {"drawings": [drawing]}
    assert ok(server, "DELETE", f"/api/lab/drawings/{drawing['id']}") == {"deleted": drawing["id"]}
    assert ok(server, "GET", "/api/lab/drawings") == {"drawings": []}
    for missing in (drawing["id"], "..%2F..%2Fetc", "20250101T000000000000-zzzzzz"):
        status, answer = call(server, "DELETE", f"/api/lab/drawings/{missing}")
        assert status == 404 and answer["error"].startswith("no drawing")
    for body, message in [
        ({"pixels": [0] * 784, "label": 4}, "the canvas is blank: draw a digit"),
        ({"pixels": image.tolist(), "label": "4"}, "'label' must be the digit you drew, 0 to 9, got '4'"),
        (
            {"pixels": image.tolist(), "label": 4, "width": 28},
            "unknown field(s) 'width'; allowed: pixels, scale, label",
        ),
    ]:
        assert call(server, "POST", "/api/lab/drawings", body) == (400, {"error": message})


def test_the_store_keeps_a_bounded_number_of_drawings(tmp_path):
    store = DrawingStore(tmp_path, limit=2)
    for label in (1, 2):
        store.add(np.full(784, 0.5), label)
    with pytest.raises(Exception, match="^2 drawings are kept at most: delete some first$"):
        store.add(np.full(784, 0.5), 3)
    (tmp_path / "20250101T000000000000-abcdef_5.png").write_bytes(b"not a png")  # skipped, never fatal
    assert [d.label for d in store.drawings()] == [1, 2]


def test_the_drawings_live_under_the_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert DrawingStore().folder == tmp_path / "digitnet" / "drawings"


def test_a_blank_canvas_gets_no_digit(server):
    answer = ok(server, "POST", "/api/predict", {"pixels": [0] * 78400, "width": 280, "height": 280, "scale": 255})
    assert answer == {
        "digit": None,
        "blank": True,
        "message": "the canvas is blank: draw a digit",
        "verdict": "not a digit",
        "input28": [0.0] * 784,
        "hidden": [],
    }
    faint = ok(server, "POST", "/api/predict", {"pixels": [0.05] * 784})  # below the ink threshold
    assert faint["digit"] is None and faint["blank"]


def test_an_example_is_an_mnist_test_digit(mnist_server, mnist_test):
    example = ok(mnist_server, "GET", "/api/lab/example?index=3")
    assert example == {"index": 3, "pixels": mnist_test.images[3].tolist(), "label": int(mnist_test.labels[3])}
    for index in ("10000", "-1", "x"):
        assert call(mnist_server, "GET", f"/api/lab/example?index={index}")[0] == 400


def test_every_equation_the_step_through_cites_is_an_anchor_of_the_notes_page(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
    connection.request("GET", "/notes")
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    assert response.status == 200 and "default-src 'none'" in response.getheader("Content-Security-Policy")
    anchors = set(re.findall(r'id="eq-([0-9a-z]+)"', page))
    assert {*EQUATIONS.values(), "2", "2b", "2c", "2d"} <= anchors
    assert "<script" not in page


# ---- fine-tuning on real MNIST ------------------------------------------------------------------


@pytest.mark.slow
def test_teach_then_fine_tune_changes_the_model_and_keeps_mnist_accuracy(mnist_server, small_trained, mnist_test):
    """The drawings are MNIST test digits the model reads wrong (someone's 'unusual handwriting'):
    16 taught, every fourth of them held out. Bound: MNIST test accuracy drops by at most 1 point."""
    network = small_trained[0]
    wrong = np.flatnonzero(network.predict(scale_images(mnist_test.images)) != mnist_test.labels)[:16]
    for index in wrong:
        x, label = digit_and_label(mnist_test, int(index))
        ok(mnist_server, "POST", "/api/lab/drawings", {"pixels": x.tolist(), "label": label})
    assert ok(mnist_server, "POST", "/api/lab/fine-tune", {})["state"] == "running"
    run = wait_for(mnist_server, lambda run: run["result"], "the fine-tuning result", seconds=120)
    before, after = run["result"]["before"], run["result"]["after"]
    assert run["kind"] == "fine-tune" and run["result"]["drawings"] == 12 and before["held_out_count"] == 4
    assert before["held_out_accuracy"] == 0.0  # they were chosen as read wrong
    assert before["mnist_test_accuracy"] == pytest.approx(evaluate(network, mnist_test).accuracy)
    served = mnist_server.predictor.network
    assert after["mnist_test_accuracy"] == pytest.approx(evaluate(served, mnist_test).accuracy)
    assert after["mnist_test_accuracy"] >= before["mnist_test_accuracy"] - 0.01
    assert not np.array_equal(served.parameters()["dense0.W"], network.parameters()["dense0.W"])
    taught = wrong[[i for i in range(16) if i % 4 != 3]]
    print(run["result"])
    read_now = served.predict(scale_images(mnist_test.images[taught]))
    assert np.mean(read_now == mnist_test.labels[taught]) >= 0.75  # it learned the drawings it was taught
    assert ok(mnist_server, "GET", "/api/model")["note"] == "fine-tuned on 12 of your drawings (not saved)"
