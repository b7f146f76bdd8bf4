"""``digitnet evaluate``, ``predict`` and ``report``: use a saved model."""

from __future__ import annotations

import json

import numpy as np

from ..atomic import check_writable_destination, write_atomically
from ..data import N_CLASSES, load_labelled_test_data, read_kaggle_csv, scale_images
from ..errors import ConfigError
from .common import add_data_argument, import_plots


def add_parsers(commands) -> None:
    add_evaluate_parser(commands)
    add_predict_parser(commands)
    add_report_parser(commands)


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


def run_evaluate(args) -> int:
    from ..metrics import evaluate
    from ..persistence import load_model

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
    from ..persistence import load_model
    from ..preprocess import preprocess_image_file

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
    for path, p in zip(args.images, probabilities):
        bars = "  ".join(f"{d}:{100 * v:.1f}%" for d, v in enumerate(p))
        print(f"{path}: {int(p.argmax())}   ({bars})")
    return 0


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
