"""digitnet.plots and the CLI commands that use it: real PNGs of the promised size, not blank."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("matplotlib")

from digitnet import plots  # noqa: E402
from digitnet.cli import main  # noqa: E402
from digitnet.errors import ConfigError  # noqa: E402
from digitnet.training import EpochRecord  # noqa: E402

REPORT_FILES = ["curves.png", "confusion.png", "misclassified.png", "first-layer-weights.png", "probabilities.png"]
TRUST_FILES = ["reliability.png", "coverage.png", "robustness.png"]  # trust_plots.write_trust_report


def assert_png_figure(path, name):
    """A valid PNG of ``FIGURE_SIZES[name] * DPI`` pixels with a drawing on it (not one flat colour)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = plots.FIGURE_SIZES[name]
        assert image.size == (round(width * plots.DPI), round(height * plots.DPI))
        pixels = np.asarray(image.convert("L"))
    background = np.bincount(pixels.ravel()).argmax()
    drawn = np.mean(pixels != background)
    assert drawn > 0.02, f"{path.name}: only {drawn:.1%} of the pixels differ from the background"


def history_records(epochs=3):
    return [
        EpochRecord(
            epoch=e,
            lr=0.1,
            train_loss=1.0 / e,
            train_accuracy=0.9 + e / 100,
            val_loss=1.1 / e,
            val_accuracy=0.89 + e / 100,
            seconds=1.0,
        )
        for e in range(1, epochs + 1)
    ]


def test_load_history_accepts_records_dicts_and_the_history_json(tmp_path):
    records = history_records()
    path = tmp_path / "history.json"
    path.write_text(json.dumps([vars(r) for r in records]))
    expected = [vars(r) for r in records]
    assert plots.load_history(records) == expected
    assert plots.load_history(expected) == expected
    assert plots.load_history(path) == expected
    assert plots.load_history(str(path)) == expected


def test_load_history_rejects_what_is_not_a_history(tmp_path):
    path = tmp_path / "history.json"
    path.write_text(json.dumps([{"epoch": 1, "train_loss": 0.5}]))
    with pytest.raises(ConfigError) as caught:
        plots.load_history(path)
    assert str(caught.value) == (
        f"{path}: not a training history (needs one record per epoch with epoch, train_loss, val_loss, "
        "train_accuracy, val_accuracy; missing val_loss, train_accuracy, val_accuracy)"
    )
    with pytest.raises(ConfigError, match="missing every record"):
        plots.load_history([])
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"history.json: cannot read a training history \(Expecting"):
        plots.load_history(path)


def test_write_report_writes_every_figure_of_the_promised_size(small_trained, mnist_test, tmp_path):
    network, _ = small_trained
    written = plots.write_report(tmp_path / "new" / "report", network, mnist_test, history_records())
    assert [p.name for p in written] == REPORT_FILES
    for path in written:
        assert_png_figure(path, path.stem)


def test_write_report_without_history_skips_only_the_curves(synthetic_trained, synthetic_data, tmp_path):
    network, _ = synthetic_trained
    written = plots.write_report(tmp_path, network, synthetic_data.test)
    assert [p.name for p in written] == REPORT_FILES[1:]


def test_misclassified_gallery_shows_only_wrong_predictions(synthetic_data):
    labels = synthetic_data.test.require_labels()
    predicted = labels.astype(np.int64)
    predicted[[3, 50]] = (predicted[[3, 50]] + 1) % 10
    figure = plots.plot_misclassified(synthetic_data.test.images, labels, predicted)
    titles = [axes.get_title() for axes in figure.axes if axes.get_title()]
    assert titles == [f"{labels[i]} -> {predicted[i]}" for i in (3, 50)]
    assert "2 of 100" in figure.get_suptitle()


def test_first_layer_weights_need_image_inputs():
    with pytest.raises(ConfigError, match="^the first layer has 20 inputs, not 784: its weights are not images$"):
        plots.plot_first_layer_weights(np.ones((20, 4), dtype=np.float32))


def test_report_folder_that_is_a_file_is_refused(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    with pytest.raises(ConfigError, match="taken: cannot write figures there, it is a file$"):
        plots.prepare_output_dir(blocker)


def test_train_plots_and_report_write_the_same_figures(mnist_dir, tmp_path, capsys):
    model = tmp_path / "model.safetensors"
    code = main(
        [
            "train",
            "--data",
            str(mnist_dir),
            "--hidden",
            "16",
            "--epochs",
            "2",
            "--val-size",
            "50000",
            "--out",
            str(model),
            "--plots",
            str(tmp_path / "train-plots"),
        ]
    )
    assert code == 0
    every_file = REPORT_FILES + TRUST_FILES
    assert f"figures written to {tmp_path / 'train-plots'}: {', '.join(every_file)}" in capsys.readouterr().out
    assert main(["report", str(model), "-o", str(tmp_path / "report"), "--data", str(mnist_dir)]) == 0
    for name in every_file:
        assert_png_figure(tmp_path / "report" / name, name.removesuffix(".png"))
        # the model file keeps the history, so the report redraws the training run's curves exactly
        assert (tmp_path / "report" / name).read_bytes() == (tmp_path / "train-plots" / name).read_bytes()


def test_report_of_a_model_without_history_says_so(synthetic_trained, synthetic_csv, tmp_path, capsys):
    _, model = synthetic_trained
    data = ["--data", str(synthetic_csv)]
    assert main(["report", str(model), "-o", str(tmp_path), *data]) == 0
    out = capsys.readouterr().out
    assert f"{model} has no training history (saved by an older digitnet): no curves.png" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(REPORT_FILES[1:] + TRUST_FILES)
    history = tmp_path / "history.json"
    history.write_text(json.dumps([vars(r) for r in history_records()]))
    assert (
        main(["report", str(model), "-o", str(tmp_path / "with-history"), "--history-json", str(history), *data]) == 0
    )
    assert_png_figure(tmp_path / "with-history" / "curves.png", "curves")


def test_train_refuses_a_plots_folder_that_is_a_file_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--plots", str(blocker)]) == 1
    assert capsys.readouterr().err == f"digitnet: error: {blocker}: cannot write figures there, it is a file\n"


def test_augment_preview_draws_one_digit_under_distortions(tmp_path, capsys):
    path = tmp_path / "augmentations.png"
    assert main(["augment-preview", "-o", str(path), "--index", "5", "--count", "4"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"wrote {path}: training image 5 (digit 2) under 4 random affine and elastic distortions"
    )
    assert_png_figure(path, "augmentations")
