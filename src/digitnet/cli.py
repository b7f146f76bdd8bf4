"""The ``digitnet`` command: parse arguments, call the library, print. Nothing else lives here.

``main(argv) -> exit code``: 0 on success, 1 for a problem with the input (one line on stderr,
no traceback), 2 for a usage error (argparse), 128 + the signal's number when SIGINT (130) or
SIGTERM (143) stopped training.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from . import __version__
from .atomic import check_writable_destination, write_atomically
from .augment import AUGMENTATIONS
from .data import (
    N_CLASSES,
    load_labelled_test_data,
    load_training_data,
    read_kaggle_csv,
    scale_images,
    split_train_validation,
)
from .errors import ConfigError, DigitnetError, TrainingDiverged
from .functional import ACTIVATIONS
from .initializers import INIT_NAMES
from .losses import LOSSES
from .optimizers import OPTIMIZERS
from .schedules import SCHEDULES

DEFAULT_MODEL = "digitnet-model.safetensors"


def layer_list(text: str) -> tuple[int, ...]:
    """``"256"`` -> ``(256,)``; ``"512,256"`` -> ``(512, 256)``."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of layer sizes") from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be positive")
    return sizes


def build_parser(preset: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``preset``, ``train``'s defaults are that preset's values
    (options given explicitly still win)."""
    parser = argparse.ArgumentParser(
        prog="digitnet", description="A from-scratch NumPy network that reads handwritten digits."
    )
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train_parser(commands, preset)
    add_evaluate_parser(commands)
    add_predict_parser(commands)
    add_gradcheck_parser(commands)
    add_download_parser(commands)
    add_report_parser(commands)
    add_serve_parser(commands)
    add_augment_preview_parser(commands)
    return parser


def add_data_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="MNIST folder or Kaggle CSV (default: $DIGITNET_DATA, then the user cache, then download)",
    )


def add_train_parser(commands, preset: str | None = None) -> None:
    from .training import PRESETS, TrainConfig

    defaults = TrainConfig(**PRESETS[preset]) if preset else TrainConfig()
    train = commands.add_parser(
        "train", help="train a network on MNIST and save it", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    add_data_argument(train)
    train.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=preset,
        help="start from a named configuration (see README); other options override it",
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
        help="early stopping: epochs without a better validation loss (0: off)",
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
    train.set_defaults(run=run_train)


def add_evaluate_parser(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="test accuracy, per-class precision/recall, confusion matrix")
    evaluate.add_argument("model", metavar="MODEL")
    add_data_argument(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run_evaluate)


def add_predict_parser(commands) -> None:
    predict = commands.add_parser("predict", help="read digits from image files, or a Kaggle test.csv")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("images", nargs="*", metavar="IMAGE", help="PNG/JPEG files of one digit each")
    predict.add_argument("--kaggle", metavar="CSV", help="a Kaggle test.csv to predict")
    predict.add_argument("-o", "--output", default="submission.csv", help="with --kaggle: the ImageId,Label file")
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.set_defaults(run=run_predict)


def add_gradcheck_parser(commands) -> None:
    gradcheck = commands.add_parser("gradcheck", help="compare backprop with finite differences")
    gradcheck.add_argument("--hidden", type=layer_list, default=(16,), metavar="N[,N...]")
    gradcheck.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    gradcheck.add_argument("--loss", choices=list(LOSSES), default="cross-entropy")
    gradcheck.add_argument("--samples", type=int, default=8, help="random input images in the batch")
    gradcheck.add_argument("--max-entries", type=int, default=200, help="entries checked per parameter array")
    gradcheck.add_argument("--seed", type=int, default=0)
    gradcheck.set_defaults(run=run_gradcheck)


def add_download_parser(commands) -> None:
    download = commands.add_parser("download", help="download and verify the four MNIST files")
    download.add_argument("--dir", metavar="FOLDER", help="where to put them (default: the user cache)")
    download.set_defaults(run=run_download)


def add_report_parser(commands) -> None:
    report = commands.add_parser(
        "report", help="PNG figures of a trained model: curves, confusion matrix, mistakes, weights"
    )
    report.add_argument("model", metavar="MODEL")
    report.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="folder for the PNG files (created if needed)"
    )
    add_data_argument(report)
    report.add_argument(
        "--history-json",
        metavar="PATH",
        help="history from 'digitnet train --history-json' (default: the one saved in the model)",
    )
    report.set_defaults(run=run_report)


def add_augment_preview_parser(commands) -> None:
    preview = commands.add_parser("augment-preview", help="a PNG of one training digit under random augmentations")
    preview.add_argument("-o", "--output", default="augmentations.png", help="the PNG file to write")
    add_data_argument(preview)
    preview.add_argument("--index", type=int, default=0, help="which training image")
    preview.add_argument("--count", type=int, default=7, help="variants per augmentation kind")
    preview.add_argument("--seed", type=int, default=0)
    preview.set_defaults(run=run_augment_preview)


def run_augment_preview(args) -> int:
    from .augment import AugmentSettings, augment_batch

    plots = import_plots()
    train = load_training_data(args.data).train
    if not 0 <= args.index < len(train) or args.count < 1:
        raise ConfigError(f"--index must be in 0..{len(train) - 1} and --count at least 1")
    rng = np.random.default_rng(args.seed)
    images = np.repeat(train.images[args.index : args.index + 1], args.count, axis=0)
    variants = {kind: augment_batch(images, rng, AugmentSettings(kind)) for kind in ("affine", "elastic")}
    figure = plots.plot_augmentations(scale_images(train.images[args.index]), variants)
    plots.save_figure(figure, args.output)
    print(
        f"wrote {args.output}: training image {args.index} (digit {train.labels[args.index]}) "
        f"under {args.count} random affine and elastic distortions"
    )
    return 0


def import_plots():
    """``digitnet.plots``, or a ConfigError saying how to install matplotlib (the ``[plot]`` extra)."""
    try:
        from . import plots
    except ModuleNotFoundError as error:
        raise ConfigError(f"figures need matplotlib ({error}): pip install 'digitnet[plot]'") from None
    return plots


def add_serve_parser(commands) -> None:
    serve = commands.add_parser("serve", help="a local web page to draw digits on and watch the network read them")
    serve.add_argument(
        "model", nargs="?", metavar="MODEL", help="model file (default: the one `digitnet train` saved last)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)")
    serve.set_defaults(run=run_serve)


def run_train(args) -> int:
    from .checkpoints import (
        Checkpointer,
        check_compatible,
        latest_valid_checkpoint,
        restore,
        stop_after_batch_on_signals,
    )
    from .metrics import evaluate
    from .persistence import remember_last_model, save_model
    from .training import TrainConfig, Trainer, seeded_generators

    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    check_writable_destination(args.out, ConfigError)
    if args.history_json:
        check_writable_destination(args.history_json, ConfigError)
    if args.plots:
        plots = import_plots()
        plots.prepare_output_dir(args.plots)
    checkpoint = latest_valid_checkpoint(args.resume, warn=print_error) if args.resume else None
    data = load_training_data(args.data)
    train_set, val_set = split_train_validation(data.train, config.val_size, seeded_generators(config.seed)["split"])
    print(
        f"training {'-'.join(map(str, config.layer_sizes))} on {len(train_set)} images, "
        f"validating on {len(val_set)} ({data.train.source})"
    )
    trainer = Trainer(config, train_set, val_set)
    if checkpoint:
        for change in check_compatible(checkpoint, config, data.checksums):
            print_error(f"warning: resuming with {change}: the result will differ from an uninterrupted run")
        restore(trainer, checkpoint)
        print(f"resuming from {checkpoint.describe()}")
    checkpoint_dir = args.checkpoint_dir or args.resume
    continuing = args.resume is not None and Path(checkpoint_dir) == Path(args.resume)
    checkpointer = Checkpointer(checkpoint_dir, data.checksums, continuing) if checkpoint_dir else None
    with stop_after_batch_on_signals(trainer) as signals_received:
        history = fit_keeping_checkpoints(trainer, checkpointer)
        if signals_received and not trainer.finished:  # a signal during the last validation changes nothing
            return report_stopped(trainer, checkpointer, signals_received[0], args.argv)
    train_seconds = sum(record.seconds for record in history)
    metrics = {"val_accuracy": trainer.history[trainer.best_epoch - 1].val_accuracy, "train_seconds": train_seconds}
    if data.test is not None:
        test = evaluate(trainer.network, data.test, config.loss)
        metrics.update(test_accuracy=test.accuracy, test_loss=test.loss)
        print(
            f"test accuracy: {100 * test.accuracy:.2f}% ({test.n} MNIST test images), "
            f"training time {train_seconds:.1f}s"
        )
    else:
        print(f"validation accuracy: {100 * metrics['val_accuracy']:.2f}% (a Kaggle CSV has no labelled test set)")
    save_model(
        args.out,
        trainer.network,
        config=config.to_dict(),
        metrics=metrics,
        data_checksums=data.checksums,
        history=[asdict(r) for r in history],
    )
    remember_last_model(Path(args.out))
    print(f"model saved to {args.out}")
    if args.history_json:
        write_atomically(args.history_json, json.dumps([asdict(r) for r in history], indent=2).encode(), ConfigError)
        print(f"history written to {args.history_json}")
    if args.plots:
        written = plots.write_report(args.plots, trainer.network, val_set if data.test is None else data.test, history)
        print(f"figures written to {args.plots}: {', '.join(path.name for path in written)}")
    return 0


def run_report(args) -> int:
    from .persistence import load_model

    plots = import_plots()
    model = load_model(args.model)
    history = args.history_json or model.metadata.get("history")
    if history is None:
        print(
            f"{args.model} has no training history (saved by an older digitnet): no curves.png; "
            "give --history-json to draw them"
        )
    written = plots.write_report(args.output, model.network, load_labelled_test_data(args.data), history)
    print(f"figures written to {args.output}: {', '.join(path.name for path in written)}")
    return 0


def fit_keeping_checkpoints(trainer, checkpointer):
    """``trainer.fit()`` with a checkpoint after each epoch; on divergence, say which checkpoint
    is the last good one (a diverged state is never saved)."""
    from .checkpoints import checkpoint_files

    try:
        return trainer.fit(on_epoch_end=checkpointer)
    except TrainingDiverged as error:
        saved = checkpoint_files(checkpointer.folder) if checkpointer else []
        if not saved:
            raise
        raise TrainingDiverged(
            f"{error}. The last good checkpoint is {saved[0]}: continue from it with "
            f"--resume {checkpointer.folder} and a lower --lr"
        ) from None


def report_stopped(trainer, checkpointer, signum: int, argv: list[str]) -> int:
    """After SIGINT/SIGTERM stopped training between batches: save, say how to resume, and exit
    with the shell's status for that signal."""
    from .checkpoints import exit_status

    position = (
        f"epoch {trainer.epoch} done"
        if trainer.epoch_order is None
        else f"{trainer.epoch_position}/{len(trainer.epoch_order)} examples into epoch {trainer.epoch}"
    )
    print_error(
        f"digitnet: {signal.Signals(signum).name} received: stopped after step "
        f"{trainer.optimizer.step_count} ({position})"
    )
    if checkpointer is None:
        print_error("digitnet: nothing was saved; give --checkpoint-dir DIR to make a run resumable")
        return exit_status(signum)
    path = checkpointer.save(trainer)
    resume_argv = argv if "--resume" in argv else [*argv, "--resume", str(checkpointer.folder)]
    print_error(f"digitnet: checkpoint saved to {path}")
    print_error(f"digitnet: to continue, run: {shlex.join(['digitnet', *resume_argv])}")
    return exit_status(signum)


def print_error(message: str) -> None:
    print(message, file=sys.stderr)


def run_evaluate(args) -> int:
    from .metrics import evaluate
    from .persistence import load_model

    model = load_model(args.model)
    result = evaluate(model.network, load_labelled_test_data(args.data))
    if args.json:
        print(json.dumps(result.to_dict()))
        return 0
    print(f"accuracy {100 * result.accuracy:.2f}%  loss {result.loss:.4f}  on {result.n} images")
    print("digit  precision  recall  support")
    for row in result.per_class():
        print(f"{row['digit']:>5}  {100 * row['precision']:>8.2f}%  {100 * row['recall']:>5.2f}%  {row['support']:>7}")
    print("confusion matrix (rows: true digit, columns: predicted)")
    print("     " + "".join(f"{d:>6}" for d in range(N_CLASSES)))
    for digit, row in enumerate(result.confusion):
        print(f"{digit:>5}" + "".join(f"{count:>6}" for count in row))
    return 0


def run_predict(args) -> int:
    from .persistence import load_model
    from .preprocess import preprocess_image_file

    if bool(args.images) == bool(args.kaggle):
        raise ConfigError("give either IMAGE files or --kaggle CSV (not both, not neither)")
    model = load_model(args.model)
    if args.kaggle:
        return write_kaggle_submission(model.network, args.kaggle, args.output)
    inputs = np.stack([preprocess_image_file(path) for path in args.images])
    probabilities = model.network.predict_proba(inputs.astype(model.network.dtype))
    results = [
        {"file": str(path), "digit": int(p.argmax()), "probabilities": [round(float(v), 6) for v in p]}
        for path, p in zip(args.images, probabilities)
    ]
    if args.json:
        print(json.dumps({"predictions": results}))
        return 0
    for result in results:
        bars = "  ".join(f"{d}:{100 * v:.1f}%" for d, v in enumerate(result["probabilities"]))
        print(f"{result['file']}: {result['digit']}   ({bars})")
    return 0


def write_kaggle_submission(network, csv_path: str, output: str) -> int:
    check_writable_destination(output, ConfigError)
    dataset = read_kaggle_csv(csv_path)
    predictions = network.predict(scale_images(dataset.images))
    lines = ["ImageId,Label"] + [f"{i},{label}" for i, label in enumerate(predictions, start=1)]
    write_atomically(output, ("\n".join(lines) + "\n").encode(), ConfigError)
    print(f"wrote {len(predictions)} predictions to {output}")
    return 0


def run_gradcheck(args) -> int:
    from .gradcheck import gradcheck
    from .network import Network

    if args.samples < 1 or args.max_entries < 1:
        raise ConfigError("--samples and --max-entries must be at least 1")
    rng = np.random.default_rng(args.seed)
    network = Network.create([784, *args.hidden, N_CLASSES], rng, args.activation, dtype=np.float64)
    X = rng.uniform(0, 1, size=(args.samples, 784))
    labels = rng.integers(0, N_CLASSES, size=args.samples)
    checks = gradcheck(network, X, labels, args.loss, max_entries=args.max_entries, rng=rng)
    print(
        f"gradient check: {'-'.join(map(str, network.layer_sizes))} {args.activation}, {args.loss}, "
        f"{args.samples} random images, central differences h=1e-6 in float64"
    )
    print(f"{'parameter':<10} {'shape':<12} {'checked':>7}  relative error")
    for check in checks:
        verdict = "ok" if check.relative_error < 1e-6 else "FAIL"
        print(
            f"{check.name:<10} {str(check.shape):<12} {check.entries_checked:>7}  {check.relative_error:.2e}  {verdict}"
        )
    worst = max(check.relative_error for check in checks)
    print(f"worst relative error {worst:.2e} ({'pass' if worst < 1e-6 else 'FAIL'}: threshold 1e-6)")
    return 0 if worst < 1e-6 else 1


def run_download(args) -> int:
    from .data import cache_dir
    from .download import download_mnist

    folder = download_mnist(Path(args.dir) if args.dir else cache_dir())
    print(f"MNIST is in {folder}")
    return 0


def run_serve(args) -> int:
    from .persistence import last_model, load_model
    from .web.server import make_server

    path = args.model or last_model()
    if path is None:
        raise ConfigError(
            "no MODEL given and no trained model remembered: train one with `digitnet train` "
            f"(it saves {DEFAULT_MODEL}), then run `digitnet serve` again"
        )
    model = load_model(path)
    server = make_server(model, args.host, args.port, log=lambda line: print(line, file=sys.stderr, flush=True))
    print(f"serving {model.path} at {server.url} (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0


def requested_preset(argv: list[str]) -> str | None:
    """The ``--preset`` named in ``argv``, looked at before the real parse so that the preset's
    values become ``train``'s defaults (and show in ``--help``). An unknown name is left for the
    real parser to reject with the list of choices."""
    from .training import PRESETS

    peek = argparse.ArgumentParser(add_help=False)
    peek.add_argument("--preset")
    preset = peek.parse_known_args(argv)[0].preset
    return preset if preset in PRESETS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(requested_preset(argv)).parse_args(argv)
    args.argv = argv  # to print the command that resumes an interrupted run
    try:
        return args.run(args)
    except DigitnetError as error:
        print(f"digitnet: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return 130
