"""``digitnet evaluate``, ``predict`` and ``report``: use a saved model."""

from __future__ import annotations

import argparse
import json

import numpy as np

from ..atomic import check_writable_destination, write_atomically
from ..data import load_labelled_test_data, read_kaggle_csv, scale_images
from ..errors import ConfigError
from .common import MODEL_DATASET_HELP, add_data_argument, import_plots, model_dataset, write_figures


def add_parsers(commands) -> None:
    add_evaluate_parser(commands)
    add_predict_parser(commands)
    add_report_parser(commands)


def add_evaluate_parser(commands) -> None:
    evaluate = commands.add_parser("evaluate", help="test accuracy, per-class precision/recall, confusion matrix")
    evaluate.add_argument("model", metavar="MODEL")
    add_data_argument(evaluate, MODEL_DATASET_HELP)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run_evaluate)


def add_predict_parser(commands) -> None:
    predict = commands.add_parser("predict", help="read digits from image files, or a Kaggle test.csv")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("images", nargs="*", metavar="IMAGE", help="PNG/JPEG files of one digit each")
    predict.add_argument("--kaggle", metavar="CSV", help="a Kaggle test.csv to predict")
    predict.add_argument("-o", "--output", default="submission.csv", help="with --kaggle: the ImageId,Label file")
    predict.add_argument(
        "--min-confidence",
        type=probability,
        default=0.0,
        metavar="P",
        help="answer 'not sure' when the calibrated top probability is below P (0 to 1)",
    )
    predict.add_argument("--json", action="store_true", help="print one JSON object")
    predict.set_defaults(run=run_predict)


def add_report_parser(commands) -> None:
    report = commands.add_parser(
        "report",
        help="PNG figures of a trained model: curves, confusion matrix, mistakes, weights, calibration, robustness",
    )
    report.add_argument("model", metavar="MODEL")
    report.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="folder for the PNG files (created if needed)"
    )
    add_data_argument(report, MODEL_DATASET_HELP)
    report.add_argument(
        "--history-json",
        metavar="PATH",
        help="history from 'digitnet train --history-json' (default: the one saved in the model)",
    )
    report.set_defaults(run=run_report)


def run_evaluate(args) -> int:
    from ..metrics import evaluate
    from ..persistence import load_model
    from ..trust import Reader, evaluate_trust

    model = load_model(args.model)
    test_set = load_labelled_test_data(args.data, model_dataset(model, args.dataset))
    result = evaluate(model.network, test_set)
    reader = Reader.from_model(model)
    trust = evaluate_trust(reader, test_set)
    if args.json:
        print(json.dumps({**result.to_dict(), "trust": trust}))
        return 0
    print(f"accuracy {100 * result.accuracy:.2f}%  loss {result.loss:.4f}  on {result.n} images")
    print_trust(trust, reader.verdicts[2])
    names, width = reader.class_names, max(5, *map(len, reader.class_names))
    print(f"{reader.noun:>{width}}  precision  recall  support")
    for name, row in zip(names, result.per_class()):
        print(f"{name:>{width}}  {100 * row['precision']:>8.2f}%  {100 * row['recall']:>5.2f}%  {row['support']:>7}")
    print(f"confusion matrix (rows: true {reader.noun}, columns: predicted)")
    if names != [str(k) for k in range(len(names))]:
        print("classes by number: " + ", ".join(f"{k} {name}" for k, name in enumerate(names)))
    print("     " + "".join(f"{k:>6}" for k in range(len(names))))
    for k, row in enumerate(result.confusion):
        print(f"{k:>5}" + "".join(f"{count:>6}" for count in row))
    return 0


def run_predict(args) -> int:
    from ..persistence import load_model
    from ..preprocess import preprocess_image_file
    from ..trust import Reader

    if bool(args.images) == bool(args.kaggle):
        raise ConfigError("give either IMAGE files or --kaggle CSV (not both, not neither)")
    model = load_model(args.model)
    if args.kaggle:
        model.require_dataset("mnist")  # a Digit Recognizer submission labels digits
        return write_kaggle_submission(model.network, args.kaggle, args.output)
    reader = Reader.from_model(model)
    answers = reader.read(np.stack([preprocess_image_file(path) for path in args.images]), None, args.min_confidence)
    if args.json:
        results = [{"file": str(path), "digit": a.label, **a.to_dict()} for path, a in zip(args.images, answers)]
        print(json.dumps({"temperature": reader.temperature, "predictions": results}))
        return 0
    for path, answer in zip(args.images, answers):
        bars = "  ".join(f"{name}:{100 * p:.1f}%" for name, p in zip(reader.class_names, answer.probabilities))
        reading = answer.name if answer.verdict == reader.verdicts[0] else f"{answer.verdict} (reads {answer.name})"
        print(f"{path}: {reading}   ({bars})")
    if reader.novelty is None:
        print(f"({args.model} has no novelty statistics: run 'digitnet calibrate' to add '{reader.verdicts[2]}')")
    return 0


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability between 0 and 1")
    return value


def print_trust(trust: dict, novel_verdict: str) -> None:
    """The calibration, selective-prediction and novelty lines of ``digitnet evaluate``."""
    raw, calibrated = trust["raw"], trust["calibrated"]
    print(
        f"calibration (temperature {trust['temperature']:.3f}): ECE {100 * raw['ece']:.2f}% -> "
        f"{100 * calibrated['ece']:.2f}%, NLL {raw['nll']:.4f} -> {calibrated['nll']:.4f}, "
        f"Brier {raw['brier']:.4f} -> {calibrated['brier']:.4f} (raw -> calibrated)"
    )
    rows = [
        f">= {row['threshold']:g}: {100 * row['coverage']:.1f}% answered, "
        + ("none" if row["accuracy"] is None else f"{100 * row['accuracy']:.2f}% right")
        for row in trust["selective"]
    ]
    print("answering only above a confidence: " + "; ".join(rows))
    novelty = trust["novelty"]
    if novelty is None:
        print(f"no novelty statistics in this model: no '{novel_verdict}' answer (run 'digitnet calibrate')")
    else:
        print(
            f"'{novel_verdict}' keeps {100 * novelty['kept']:.2f}% of these images, "
            f"{100 * novelty['accuracy_on_kept']:.2f}% right among them"
        )


def write_kaggle_submission(network, csv_path: str, output: str) -> int:
    check_writable_destination(output, ConfigError)
    dataset = read_kaggle_csv(csv_path)
    predictions = network.predict(scale_images(dataset.images))
    lines = ["ImageId,Label"] + [f"{i},{label}" for i, label in enumerate(predictions, start=1)]
    write_atomically(output, ("\n".join(lines) + "\n").encode(), ConfigError)
    print(f"wrote {len(predictions)} predictions to {output}")
    return 0


def run_report(args) -> int:
    from ..persistence import load_model

    import_plots()  # before loading anything: without matplotlib, say so at once
    model = load_model(args.model)
    history = args.history_json or model.metadata.get("history")
    if history is None:
        print(
            f"{args.model} has no training history (saved by an older digitnet): no curves.png; "
            "give --history-json to draw them"
        )
    test_set = load_labelled_test_data(args.data, model_dataset(model, args.dataset))
    written = write_figures(args.output, model.network, test_set, history, model.temperature, model.class_names)
    print(f"figures written to {args.output}: {', '.join(path.name for path in written)}")
    return 0
