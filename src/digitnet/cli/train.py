"""``digitnet train``: options -> ``TrainConfig``; the library's ``TrainingSession`` does the run.

This module only parses, prints (the epoch lines, a progress bar on a terminal) and turns
Ctrl-C / SIGTERM into "stop after this batch, save a checkpoint, say how to continue".
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

from ..atomic import check_writable_destination, write_atomically
from ..augment import AUGMENTATIONS
from ..checkpoints import latest_valid_checkpoint
from ..config import PRESETS, TrainConfig
from ..data import load_training_data
from ..errors import ConfigError
from ..functional import ACTIVATIONS
from ..initializers import INIT_NAMES
from ..losses import LOSSES
from ..optimizers import OPTIMIZERS
from ..schedules import SCHEDULES
from ..session import TrainingSession
from ..training import EpochRecord, Trainer, TrainingListener
from .common import DEFAULT_MODEL, add_data_argument, import_plots, layer_list, print_error, write_figures
from .signals import exit_status, stop_after_batch_on_signals


def add_parser(commands, preset: str | None = None) -> None:
    defaults = TrainConfig(**PRESETS[preset]) if preset else TrainConfig()
    train = commands.add_parser(
        "train",
        help="train a network on MNIST (or --dataset) and save it",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add_data_argument(train, "which dataset to train on (default: mnist)")
    train.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=preset,
        help="start from a named configuration (see docs/accuracy.md); other options override it",
    )
    train.add_argument(
        "--hidden",
        type=layer_list,
        default=",".join(map(str, defaults.hidden)),
        metavar="N[,N...]",
        help="hidden layer sizes: 256 for 784-256-10, 512,256 for two hidden layers",
    )
    train.add_argument("--activation", choices=list(ACTIVATIONS), default=defaults.activation, help="hidden activation")
    train.add_argument("--init", default=defaults.init, help=f"weight initialisation: {', '.join(INIT_NAMES)}")
    train.add_argument("--loss", choices=list(LOSSES), default=defaults.loss, help="loss on the softmax output")
    train.add_argument("--epochs", type=int, default=defaults.epochs, help="passes over the training set")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size, help="examples per update")
    train.add_argument("--optimizer", choices=list(OPTIMIZERS), default=defaults.optimizer, help="update rule")
    train.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate")
    train.add_argument("--momentum", type=float, default=defaults.momentum, help="SGD momentum")
    train.add_argument(
        "--nesterov", action=argparse.BooleanOptionalAction, default=defaults.nesterov, help="Nesterov momentum (SGD)"
    )
    train.add_argument("--weight-decay", type=float, default=defaults.weight_decay, help="L2 penalty on weights")
    train.add_argument(
        "--dropout",
        type=float,
        default=defaults.dropout,
        help="dropout rate after each hidden layer, while training (0: off)",
    )
    train.add_argument("--schedule", choices=SCHEDULES, default=defaults.schedule, help="learning-rate schedule")
    train.add_argument("--warmup-epochs", type=float, default=defaults.warmup_epochs, help="cosine warm-up length")
    train.add_argument(
        "--step-epochs", type=int, default=defaults.step_epochs, help="step schedule: decay every N epochs"
    )
    train.add_argument("--gamma", type=float, default=defaults.gamma, help="step schedule: decay factor")
    train.add_argument(
        "--val-size", type=int, default=defaults.val_size, help="training images held out for validation"
    )
    train.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="early stopping: epochs without a better validation loss, then the best weights are restored "
        "(0: off, the last epoch's weights are kept)",
    )
    train.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seeds the split, the initial weights, the shuffling and the augmentation",
    )
    augment = train.add_argument_group("augmentation (new random distortions of every batch)")
    augment.add_argument("--augment", choices=AUGMENTATIONS, default=defaults.augment, help="distortion family")
    augment.add_argument("--aug-rotation", type=float, default=defaults.aug_rotation, help="affine: max degrees")
    augment.add_argument("--aug-scale", type=float, default=defaults.aug_scale, help="affine: max relative scaling")
    augment.add_argument("--aug-shear", type=float, default=defaults.aug_shear, help="affine: max shear degrees")
    augment.add_argument("--aug-translate", type=float, default=defaults.aug_translate, help="affine: max pixels")
    augment.add_argument(
        "--elastic-alpha", type=float, default=defaults.elastic_alpha, help="elastic: strength (pixels)"
    )
    augment.add_argument(
        "--elastic-sigma", type=float, default=defaults.elastic_sigma, help="elastic: smoothness (pixels)"
    )
    train.add_argument("--out", default=DEFAULT_MODEL, metavar="MODEL", help="where to save the model")
    train.add_argument("--history-json", metavar="PATH", help="write the per-epoch history as JSON")
    train.add_argument("--plots", metavar="DIR", help="after training, write the report's PNG figures into DIR")
    train.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="save a checkpoint at the end of every epoch (and on Ctrl-C) into DIR, keeping the newest two",
    )
    train.add_argument(
        "--resume",
        metavar="DIR",
        help="continue from the newest valid checkpoint in DIR (same options as the interrupted run); "
        "new checkpoints go to DIR too unless --checkpoint-dir says otherwise",
    )
    train.set_defaults(run=run)


def run(args) -> int:
    config = TrainConfig(**{name: getattr(args, name) for name in TrainConfig.field_names()})
    check_writable_destination(args.out, ConfigError)
    if args.history_json:
        check_writable_destination(args.history_json, ConfigError)
    if args.plots:
        plots = import_plots()
        plots.prepare_output_dir(args.plots)
    checkpoint = latest_valid_checkpoint(args.resume, warn=print_error) if args.resume else None
    data = load_training_data(args.data, args.dataset or "mnist")
    checkpoint_dir = args.checkpoint_dir or args.resume
    session = TrainingSession(
        config,
        data,
        checkpoint_dir=checkpoint_dir,
        resume=checkpoint,
        continuing=args.resume is not None and Path(checkpoint_dir) == Path(args.resume),
        warn=print_error,
    )
    print(session.describe())
    if checkpoint:
        print(f"resuming from {checkpoint.describe()}")
    session.add_listener(EpochPrinter())
    if sys.stderr.isatty():  # logs and CI output stay clean
        session.add_listener(ProgressBar())
    with stop_after_batch_on_signals(session.request_stop) as signals_received:
        session.run()
        if signals_received and not session.finished:  # a signal during the last validation changes nothing
            return report_stopped(session, signals_received[0], args.argv)
    result = session.finish()
    if "test_accuracy" in result.metrics:
        print(
            f"test accuracy: {100 * result.metrics['test_accuracy']:.2f}% "
            f"({len(session.test_set)} {data.dataset.title} test images), training time {result.train_seconds:.1f}s"
        )
    else:
        print(
            f"validation accuracy: {100 * result.metrics['val_accuracy']:.2f}% (a Kaggle CSV has no labelled test set)"
        )
    trust = session.trust()["metadata"]
    temperature = trust["calibration"]["temperature"]
    print(
        f"calibration temperature {temperature:.3f} (fitted on the validation split); novelty statistics stored: "
        f"the 'not a {data.dataset.item}' threshold keeps {100 * trust['novelty']['kept_fraction']:g}% "
        "of validation images"
    )
    session.save(args.out)
    print(f"model saved to {args.out}")
    if args.history_json:
        history = json.dumps([asdict(record) for record in result.history], indent=2)
        write_atomically(args.history_json, history.encode(), ConfigError)
        print(f"history written to {args.history_json}")
    if args.plots:
        figures_data = session.val_set if data.test is None else data.test
        class_names = list(data.dataset.class_names)
        written = write_figures(args.plots, session.network, figures_data, result.history, temperature, class_names)
        print(f"figures written to {args.plots}: {', '.join(path.name for path in written)}")
    return 0


class EpochPrinter(TrainingListener):
    """One line per epoch on stdout."""

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        print(record.describe(trainer.config.epochs), flush=True)


class ProgressBar(TrainingListener):
    """A tqdm bar over the batches of the epoch under way (only on a terminal)."""

    def __init__(self):
        self.bar: tqdm | None = None

    def on_batch_end(self, trainer: Trainer, loss: float) -> None:
        if self.bar is None:
            self.bar = tqdm(total=trainer.steps_per_epoch, desc=f"epoch {trainer.epoch}", leave=False, unit="batch")
            self.bar.update(trainer.position // trainer.config.batch_size - 1)  # a resumed epoch starts midway
        self.bar.update(1)

    def on_epoch_end(self, trainer: Trainer, record: EpochRecord) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def report_stopped(session: TrainingSession, signum: int, argv: list[str]) -> int:
    """After SIGINT/SIGTERM stopped training between batches: save, say how to resume, and exit
    with the shell's status for that signal."""
    trainer = session.trainer
    print_error(
        f"digitnet: {signal.Signals(signum).name} received: stopped after step "
        f"{trainer.step} ({trainer.describe_position()})"
    )
    path = session.save_checkpoint()
    if path is None:
        print_error("digitnet: nothing was saved; give --checkpoint-dir DIR to make a run resumable")
        return exit_status(signum)
    folder = path.parent
    resume_argv = argv if "--resume" in argv else [*argv, "--resume", str(folder)]
    print_error(f"digitnet: checkpoint saved to {path}")
    print_error(f"digitnet: to continue, run: {shlex.join(['digitnet', *resume_argv])}")
    return exit_status(signum)
