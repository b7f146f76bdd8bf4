"""``digitnet calibrate`` and ``robustness``: how far a saved model's answers can be trusted."""

from __future__ import annotations

import json

from ..atomic import check_writable_destination
from ..data import load_labelled_test_data, load_training_data, scale_images
from ..errors import ConfigError
from .common import MODEL_DATASET_HELP, add_data_argument, import_plots, model_dataset


def add_parsers(commands) -> None:
    add_calibrate_parser(commands)
    add_robustness_parser(commands)


def add_calibrate_parser(commands) -> None:
    calibrate = commands.add_parser(
        "calibrate",
        help="fit the temperature and the 'not a digit' statistics of a model saved without them",
    )
    calibrate.add_argument("model", metavar="MODEL")
    add_data_argument(calibrate, MODEL_DATASET_HELP)
    calibrate.add_argument("-o", "--output", metavar="MODEL", help="where to write the result (default: MODEL)")
    calibrate.set_defaults(run=run_calibrate)


def add_robustness_parser(commands) -> None:
    robustness = commands.add_parser(
        "robustness", help="test accuracy under noise, rotation, translation, scaling and stroke width"
    )
    robustness.add_argument("models", nargs="+", metavar="MODEL", help="one model, or several to compare")
    add_data_argument(robustness, MODEL_DATASET_HELP)
    robustness.add_argument("--limit", type=int, help="use only the first N test images (default: all)")
    robustness.add_argument("--seed", type=int, default=0, help="seeds the directions of rotations and shifts")
    robustness.add_argument("--json", action="store_true", help="print one JSON object")
    robustness.add_argument("--plot", metavar="PNG", help="also draw the curves into this PNG file")
    robustness.set_defaults(run=run_robustness)


def run_calibrate(args) -> int:
    from ..persistence import load_model, save_updated_model
    from ..trust import refit_trust

    output = args.output or args.model
    check_writable_destination(output, ConfigError)
    model = load_model(args.model)
    fitted = refit_trust(model, load_training_data(args.data, model_dataset(model, args.dataset)))
    save_updated_model(model, output, fitted["arrays"], **fitted["metadata"])
    temperature = fitted["metadata"]["calibration"]["temperature"]
    kept = fitted["metadata"]["novelty"]["kept_fraction"]
    print(
        f"calibration temperature {temperature:.4f} (was {model.temperature:g}); novelty statistics fitted "
        f"(the threshold keeps {100 * kept:g}% of validation images)"
    )
    print(f"calibrated model written to {output}")
    return 0


def run_robustness(args) -> int:
    from ..persistence import load_model
    from ..robustness import robustness_curves

    if args.limit is not None and args.limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {args.limit}")
    if args.plot:
        plots = import_plots()
        check_writable_destination(args.plot, ConfigError)
    models = [load_model(path) for path in args.models]
    datasets = {model_dataset(model, args.dataset) for model in models}
    if len(datasets) > 1:
        raise ConfigError(f"the models were trained on different datasets ({', '.join(sorted(datasets))})")
    test_set = load_labelled_test_data(args.data, datasets.pop())
    images, labels = test_set.images[: args.limit], test_set.require_labels()[: args.limit]
    curves = {
        str(model.path): robustness_curves(model.network, scale_images(images), labels, seed=args.seed)
        for model in models
    }
    if args.json:
        print(json.dumps({"images": len(images), "seed": args.seed, "models": curves}))
    else:
        print_curves(curves, len(images))
    if args.plot:
        from ..trust_plots import plot_robustness

        plots.save_figure(plot_robustness(curves), args.plot)
        print(f"curves drawn in {args.plot}")
    return 0


def print_curves(curves: dict[str, dict], n_images: int) -> None:
    """One table per perturbation: a row per strength, a column per model, test accuracy in %."""
    models = list(curves)
    print(f"test accuracy (%) on {n_images} damaged test images")
    for name, first in curves[models[0]].items():
        print(f"\n{name} ({first['unit']})")
        print(f"{'strength':>10}" + "".join(f"  {f'model {i + 1}':>9}" for i in range(len(models))))
        for row, strength in enumerate(first["strengths"]):
            cells = "".join(f"  {100 * curves[m][name]['accuracy'][row]:>9.2f}" for m in models)
            print(f"{strength:>10g}{cells}")
    if len(models) > 1:
        print("\n" + "\n".join(f"model {i + 1}: {m}" for i, m in enumerate(models)))
