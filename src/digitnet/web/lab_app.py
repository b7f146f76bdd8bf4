"""The lab's endpoints, without HTTP: each takes a parsed JSON body and returns a JSON answer.

``Lab`` ties together the served model (``ServedModel``), the training data (loaded on first
use), the one ``LabRun`` at a time, and the user's drawings. ``server.py`` checks Host,
Origin and token, reads the body and calls ``Lab.handle``; every refusal here is a
``BadRequest`` with its 4xx status and a sentence saying what to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..config import TrainConfig
from ..data import TrainingData
from ..errors import ConfigError, DataError
from ..persistence import load_model
from ..session import TrainingSession
from . import backprop_view, finetune
from .api import BadRequest, Predictor, ServedModel
from .drawings import DrawingStore, data_dir
from .lab import MAX_EPOCHS, LabRun

MAX_HIDDEN_LAYERS = 3
MAX_HIDDEN_UNITS = 1024
BATCH_SIZES = (8, 1024)
MAX_LR = 10.0
MAX_VALIDATION = 5000
RUN_FIELDS = ("hidden", "activation", "optimizer", "lr", "momentum", "batch_size", "epochs", "augment", "seed")
# What the lab's runs fix: a constant learning rate, so the knob means what it says; plain
# momentum (notes eq. (13)); no weight decay or early stopping, so only what the page shows acts.
LAB_SETTINGS = {"schedule": "constant", "nesterov": False, "weight_decay": 0.0, "patience": 0}


class LabData:
    """The training data, loaded on first use (MNIST takes about a second) and kept."""

    def __init__(self, loader: Callable[[], TrainingData]):
        self.loader = loader
        self._data: TrainingData | None = None
        self._lock = threading.Lock()

    def get(self) -> TrainingData:
        with self._lock:
            if self._data is None:
                try:
                    self._data = self.loader()
                except DataError as error:
                    raise BadRequest(503, f"cannot load the training data: {error}") from None
            return self._data


def only_fields(request: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(request) - set(allowed))
    if unknown:
        raise BadRequest(400, f"unknown field(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(allowed)}")


def run_config(request: dict, n_examples: int) -> TrainConfig:
    """A start request -> the run's ``TrainConfig``, within the lab's bounds; ``n_examples``
    training examples, of which a tenth (at most MNIST's usual 5,000) are held out to validate."""
    only_fields(request, RUN_FIELDS)
    hidden = request.get("hidden", [128])
    if (
        not isinstance(hidden, list)
        or not 1 <= len(hidden) <= MAX_HIDDEN_LAYERS
        or any(type(h) is not int or not 1 <= h <= MAX_HIDDEN_UNITS for h in hidden)
    ):
        raise BadRequest(
            400, f"'hidden' must be 1 to {MAX_HIDDEN_LAYERS} layer sizes of 1 to {MAX_HIDDEN_UNITS}, got {hidden!r}"
        )
    epochs, batch_size = request.get("epochs", 3), request.get("batch_size", 128)
    if type(epochs) is not int or not 1 <= epochs <= MAX_EPOCHS:
        raise BadRequest(400, f"'epochs' must be a whole number from 1 to {MAX_EPOCHS}, got {epochs!r}")
    if type(batch_size) is not int or not BATCH_SIZES[0] <= batch_size <= BATCH_SIZES[1]:
        raise BadRequest(400, f"'batch_size' must be a whole number from {BATCH_SIZES[0]} to {BATCH_SIZES[1]}")
    check_lr(request.get("lr"))
    settings = {key: value for key, value in request.items() if key != "hidden"}
    try:
        return TrainConfig(
            **{"lr": 0.1, "momentum": 0.9, **settings, **LAB_SETTINGS},
            hidden=tuple(hidden),
            val_size=min(MAX_VALIDATION, n_examples // 10),
        )
    except ConfigError as error:
        raise BadRequest(400, str(error)) from None


def check_lr(lr) -> None:
    if lr is not None and isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > MAX_LR:
        raise BadRequest(400, f"'lr' is {lr}: the lab allows at most {MAX_LR:g}")


class Lab:
    """Everything the lab's endpoints act on. ``models_dir`` receives saved runs."""

    def __init__(
        self,
        served: ServedModel,
        data: LabData,
        drawings: DrawingStore,
        models_dir: Path | None = None,
        log: Callable[[str], None] = print,
    ):
        self.served = served
        self.data = data
        self.drawings = drawings
        self.models_dir = models_dir or data_dir() / "models"
        self.log = log
        self.run: LabRun | None = None
        self._runs = 0
        self._lock = threading.Lock()  # one run at a time: checking and starting are one step
        self.routes: dict[tuple[str, str], Callable[[dict], dict]] = {
            ("POST", "/api/lab/start"): self.start,
            ("POST", "/api/lab/fine-tune"): self.fine_tune,
            **{("POST", f"/api/lab/{name}"): self.command(name) for name in ("pause", "resume", "step", "stop")},
            ("POST", "/api/lab/add-epoch"): self.command("add-epoch"),
            ("POST", "/api/lab/settings"): self.settings,
            ("POST", "/api/lab/save"): self.save,
            ("POST", "/api/lab/backprop"): self.backprop,
            ("POST", "/api/lab/apply"): self.apply,
            ("POST", "/api/lab/gradcheck"): self.gradcheck,
            ("POST", "/api/lab/drawings"): self.teach,
            ("GET", "/api/lab/drawings"): lambda query: {"drawings": [d.to_dict() for d in self.drawings.drawings()]},
            ("GET", "/api/lab/status"): self.status,
            ("GET", "/api/lab/example"): self.example,
        }

    def methods(self, path: str) -> list[str]:
        """The methods ``path`` accepts (empty if it is not the lab's)."""
        if path.startswith("/api/lab/drawings/"):
            return ["DELETE"]
        return [method for method, route in self.routes if route == path]

    def handle(self, method: str, path: str, body: dict) -> dict:
        """Answer one request; ``body`` is the JSON body of a POST, the query of a GET."""
        if method == "DELETE" and path.startswith("/api/lab/drawings/"):
            self.drawings.delete(path.removeprefix("/api/lab/drawings/"))
            return {"deleted": path.removeprefix("/api/lab/drawings/")}
        return self.routes[(method, path)](body)

    # ------------------------------------------------------------------ the run

    def start(self, request: dict) -> dict:
        data = self.data.get()
        config = run_config(request, len(data.train))
        return self.begin("train", lambda: TrainingSession(config, data, log=self.log))

    def begin(self, kind: str, make_session: Callable[[], TrainingSession], on_finished=None) -> dict:
        with self._lock:
            if self.run is not None and self.run.active:
                raise BadRequest(409, f"a {self.run.kind} run is {self.run.state}: stop it before starting another")
            session = make_session()
            if self.run is not None:
                self.run.close()
            self._runs += 1
            self.run = LabRun(self._runs, kind, session, on_finished, self.log)
            return {"run": self._runs, "state": self.run.state}

    def current_run(self) -> LabRun:
        if self.run is None:
            raise BadRequest(409, "no run yet: start one")
        return self.run

    def command(self, name: str) -> Callable[[dict], dict]:
        def send(request: dict) -> dict:
            only_fields(request, ())
            run = self.current_run()
            return {"result": run.send(name), "state": run.state}

        return send

    def settings(self, request: dict) -> dict:
        only_fields(request, ("lr", "momentum"))
        if not request:
            raise BadRequest(400, "give 'lr', 'momentum' or both")
        check_lr(request.get("lr"))
        return {"changes": self.current_run().send("settings", **request)}

    def save(self, request: dict) -> dict:
        """Save the stopped or finished run (best weights, test accuracy) and draw with it."""
        only_fields(request, ())
        run = self.current_run()
        try:
            self.models_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise BadRequest(503, f"cannot create {self.models_dir} ({error.strerror})") from None
        path = self.models_dir / f"lab-{run.kind}-{time.strftime('%Y%m%d-%H%M%S')}-run{run.id}.safetensors"
        answer = run.send("save", path=path)
        self.served.update(lambda old: (Predictor(load_model(answer["path"])), {}))
        return answer

    def status(self, query: dict) -> dict:
        since = query.get("since", "0")
        if not since.isdigit():
            raise BadRequest(400, f"'since' must be a whole number, got {since!r}")
        return {
            "run": self.run.status(int(since)) if self.run else None,
            "model": self.served.predictor.description,
        }

    def example(self, query: dict) -> dict:
        """MNIST test digit number ``index``: something to read without drawing (a keyboard
        user's way in), with its true label."""
        test = self.data.get().test
        if test is None:
            raise BadRequest(409, "the training data has no labelled test set to take examples from")
        index = query.get("index", "0")
        if not index.isdigit() or int(index) >= len(test):
            raise BadRequest(400, f"'index' must be a whole number below {len(test)}, got {index!r}")
        return {
            "index": int(index),
            "pixels": test.images[int(index)].tolist(),
            "label": int(test.require_labels()[int(index)]),
        }

    # ------------------------------------------------------------------ one step by hand

    def backprop(self, request: dict) -> dict:
        network = self.served.predictor.network
        x, label, lr = backprop_view.step_request(request, network, extra=("unit",))
        return backprop_view.step_through(network, x, label, lr, backprop_view.parse_unit(request, network))

    def apply(self, request: dict) -> dict:
        def take_step(predictor: Predictor) -> tuple[Predictor, dict]:
            x, label, lr = backprop_view.step_request(request, predictor.network)
            network, answer = backprop_view.apply_step(predictor.network, x, label, lr)
            return predictor.with_network(network, "changed by steps applied in the lab (not saved)"), answer

        return self.served.update(take_step)

    def gradcheck(self, request: dict) -> dict:
        network = self.served.predictor.network
        x, label, _ = backprop_view.step_request(request, network, extra=("parameter", "index"))
        name, index = backprop_view.parse_entry(request, network)
        return backprop_view.check_gradient(network, x, label, name, index)

    # ------------------------------------------------------------------ your handwriting

    def teach(self, request: dict) -> dict:
        only_fields(request, ("pixels", "scale", "label"))
        label = request.get("label")
        if type(label) is not int or not 0 <= label <= 9:
            raise BadRequest(400, f"'label' must be the digit you drew, 0 to 9, got {label!r}")
        drawing = self.drawings.add(backprop_view.drawn_input(request), label)
        return {"drawing": drawing.to_dict(), "count": len(self.drawings.files())}

    def fine_tune(self, request: dict) -> dict:
        only_fields(request, ())
        teach, held_out = self.drawings.split()
        if teach is None:
            raise BadRequest(409, "teach at least one drawing first (every fourth is held out to measure)")
        network, data = self.served.predictor.network, self.data.get()
        before = finetune.measure(network, held_out, data.test)

        def finished(run: LabRun) -> None:
            result = run.session.finish()  # best validation weights back, MNIST test measured
            after = finetune.measure(run.session.network, held_out, None)
            after["mnist_test_accuracy"] = result.metrics.get("test_accuracy")
            note = f"fine-tuned on {len(teach)} of your drawings (not saved)"
            self.served.update(lambda old: (old.with_network(run.session.network.copy(), note), {}))
            run.result = {"before": before, "after": after, "drawings": len(teach)}

        return self.begin(
            "fine-tune", lambda: finetune.fine_tune_session(network, data, teach, self.log), on_finished=finished
        )
