"""The lab's training run: one at a time, in a thread of the server, steered from the page.

A ``LabRun`` owns a ``TrainingSession`` and the one thread that touches it. The page's
requests become commands (pause, resume, one batch, stop, a new learning rate or momentum,
one more epoch, save) that the thread carries out between two batches; the request waits for
the answer. So the session never sees two threads, and training never blocks predictions,
which use ``Network.infer`` on the served model in the server's other threads (the training
thread also runs at a lower priority, so they get a busy CPU first).

While it trains, a ``CurveProbe`` listener measures loss and accuracy on fixed samples of the
training and validation sets about ten times an epoch (and after every single step), and
publishes the first hidden units' incoming weights, for the page to poll.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, DigitnetError, TrainingDiverged
from ..metrics import evaluate
from ..session import TrainingSession
from ..training import Trainer, TrainingListener
from .api import BadRequest

PROBES_PER_EPOCH = 10
PROBE_SAMPLE = 1000  # images of each set scored per curve point: a few milliseconds
GRID_UNITS = 32  # hidden units whose incoming weights the page draws
MAX_POINTS = 5000
MAX_EPOCHS = 30
COMMAND_TIMEOUT = 120.0  # seconds a request waits for the run's thread (saving evaluates the test set)
ACTIVE = ("running", "paused")
NICE = 10  # how far the training thread's priority is below the request threads' (Linux nice levels)


class CurveProbe(TrainingListener):
    """Curve points and weight snapshots, measured in the training thread between batches."""

    def __init__(self, session: TrainingSession):
        trainer = session.trainer
        self.every = max(1, trainer.steps_per_epoch // PROBES_PER_EPOCH)
        self.train_sample = trainer.train_set.subset(np.arange(min(PROBE_SAMPLE, len(trainer.train_set))))
        self.val_sample = trainer.val_set.subset(np.arange(min(PROBE_SAMPLE, len(trainer.val_set))))
        self.points: list[dict] = []
        self.grid: dict = {}
        self._batch_losses: list[float] = []

    def on_batch_end(self, trainer: Trainer, loss: float) -> None:
        self._batch_losses.append(loss)
        if trainer.step == 1 or trainer.step % self.every == 0:
            self.probe(trainer)

    def probe(self, trainer: Trainer) -> None:
        if not self._batch_losses or len(self.points) >= MAX_POINTS:
            return
        train = evaluate(trainer.network, self.train_sample, trainer.config.loss)
        val = evaluate(trainer.network, self.val_sample, trainer.config.loss)
        self.points.append(
            {
                "step": trainer.step,
                "epoch": trainer.step / trainer.steps_per_epoch,
                "batch_loss": float(np.mean(self._batch_losses)),
                "train_loss": train.loss,
                "train_accuracy": train.accuracy,
                "val_loss": val.loss,
                "val_accuracy": val.accuracy,
            }
        )
        self._batch_losses = []
        self.grid = weight_grid(trainer.network.dense_layers[0].W, trainer.step)


def weight_grid(W: np.ndarray, step: int) -> dict:
    """The first ``GRID_UNITS`` columns of ``W`` ``(784, H)``, each divided by its largest
    magnitude and sent as whole numbers in [-100, 100] (a third of the JSON of floats)."""
    columns = W[:, :GRID_UNITS].astype(np.float64)
    peak = np.abs(columns).max(axis=0)
    scaled = np.round(100 * columns / np.where(peak > 0, peak, 1)).astype(int)
    return {"step": step, "units": scaled.T.tolist()}


def yield_to_requests() -> None:
    """Lower the calling thread's priority (10 nice levels) where the system allows it per thread
    (Linux), so the server's request threads get a busy CPU first: a prediction while a run
    trains waits less, and training slows only while requests are being answered."""
    if not sys.platform.startswith("linux"):
        return  # elsewhere a thread id is not a valid "process" for setpriority
    thread = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + NICE))
    except OSError:  # not allowed here (a sandbox): training just competes on equal terms
        pass


@dataclass
class Command:
    name: str
    arguments: dict = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BadRequest | None = None


class LabRun:
    """One training session in its own thread, steered by commands between batches.

    ``kind`` is ``"train"`` or ``"fine-tune"``; ``on_finished(run)`` runs in the thread when
    the last epoch is done (fine-tuning uses it to measure and serve the result).
    """

    def __init__(
        self,
        run_id: int,
        kind: str,
        session: TrainingSession,
        on_finished: Callable[[LabRun], None] | None = None,
        log: Callable[[str], None] = print,
    ):
        self.id = run_id
        self.log = log
        self.kind = kind
        self.session = session
        self.on_finished = on_finished
        self.probe = CurveProbe(session)
        session.add_listener(self.probe)
        self.state = "running"
        self.message = ""
        self.result: dict = {}
        self._commands: queue.Queue[Command] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name=f"lab-run-{run_id}", daemon=True)
        self._thread.start()

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def send(self, name: str, **arguments) -> Any:
        """Have the run's thread carry out a command; its result, or its ``BadRequest``."""
        command = Command(name, arguments)
        self._commands.put(command)
        if not command.done.wait(COMMAND_TIMEOUT):
            raise BadRequest(503, f"the run did not answer {name!r} within {COMMAND_TIMEOUT:g}s")
        if command.error is not None:
            raise command.error
        return command.result

    def close(self) -> None:
        """End the thread (after its current batch); the session is dropped."""
        self._commands.put(Command("close"))

    def status(self, since: int) -> dict:
        trainer = self.session.trainer
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "message": self.message,
            "layer_sizes": self.session.config.layer_sizes,
            "config": self.session.config.to_dict(),
            "step": trainer.step,
            "epoch": trainer.epoch,
            "epochs": trainer.epochs,
            "steps_per_epoch": trainer.steps_per_epoch,
            "lr": trainer.schedule.lr,
            "momentum": getattr(trainer.optimizer, "momentum", None),  # Adam has none
            "changes": [asdict(change) for change in trainer.changes],
            "history": [asdict(record) for record in trainer.history],
            "points": self.probe.points[since:],
            "point_count": len(self.probe.points),
            "grid": self.probe.grid,
            "result": self.result,
        }

    # ------------------------------------------------------------------ the run's thread

    def _loop(self) -> None:
        yield_to_requests()
        while True:
            try:
                command = self._commands.get(block=self.state != "running")
            except queue.Empty:
                self._train(max_batches=1)
                continue
            if command.name == "close":
                command.done.set()
                return
            try:
                command.result = getattr(self, f"_do_{command.name.replace('-', '_')}")(**command.arguments)
            except BadRequest as error:
                command.error = error
            except ConfigError as error:  # a setting out of range
                command.error = BadRequest(400, str(error))
            except DigitnetError as error:  # a model file that cannot be written, ...
                command.error = BadRequest(503, str(error))
            except Exception as error:  # a bug of ours: the run ends, the server stays up
                self.state, self.message = "failed", f"internal error: {error!r}"
                command.error = BadRequest(500, self.message)
                self.log(traceback.format_exc())
            command.done.set()

    def _train(self, max_batches: int | None) -> None:
        try:
            finished = self.session.run(max_batches=max_batches)
            if finished:
                if self.on_finished:  # before the state says so: a poll that sees "finished" sees its results
                    self.on_finished(self)
                self.state = "finished"
                self.message = f"all {self.session.trainer.epochs} epochs done"
        except TrainingDiverged as error:
            self.state, self.message = "failed", str(error)
        except Exception as error:  # a bug of ours: the run ends, the server stays up
            self.state, self.message = "failed", f"internal error: {error!r}"
            self.log(traceback.format_exc())

    def _require(self, *states: str, doing: str) -> None:
        if self.state not in states:
            raise BadRequest(409, f"cannot {doing}: the run is {self.state}")

    def _do_pause(self) -> None:
        self._require("running", doing="pause")
        self.state = "paused"

    def _do_resume(self) -> None:
        self._require("paused", doing="resume")
        self.state = "running"

    def _do_step(self) -> dict:
        self._require("paused", doing="run one batch (pause first)")
        self._train(max_batches=1)
        self.probe.probe(self.session.trainer)
        return {"step": self.session.trainer.step}

    def _do_stop(self) -> None:
        self._require("running", "paused", "finished", doing="stop")
        self.state, self.message = "stopped", f"stopped at step {self.session.trainer.step}"

    def _do_add_epoch(self) -> dict:
        self._require("running", "paused", "finished", doing="add an epoch")
        if self.session.trainer.epochs >= MAX_EPOCHS:
            raise BadRequest(409, f"a lab run has at most {MAX_EPOCHS} epochs")
        change = self.session.add_epochs(1)
        if self.state == "finished":
            self.state = "running"
        return asdict(change)

    def _do_settings(self, lr: float | None = None, momentum: float | None = None) -> list[dict]:
        self._require("running", "paused", "finished", doing="change settings")
        changes = []
        if lr is not None:
            changes.append(self.session.set_learning_rate(lr))
        if momentum is not None:
            changes.append(self.session.set_momentum(momentum))
        return [asdict(change) for change in changes]

    def _do_save(self, path) -> dict:
        """Best weights back, test set measured, model file written (``TrainingSession.save``)."""
        self._require("stopped", "finished", doing="save (stop it first)")
        if not self.session.trainer.history:
            raise BadRequest(409, "nothing to save yet: the run has not finished an epoch")
        saved = self.session.save(path)
        self.state, self.message = "saved", f"saved as {saved}"
        return {"path": str(saved), "metrics": self.session.result.metrics if self.session.result else {}}
