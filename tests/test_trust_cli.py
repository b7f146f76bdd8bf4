"""Trustworthy answers through the command line: predict's verdicts, evaluate's calibration
figures, calibrate on an older model file, and the robustness table."""

import json

import numpy as np
import pytest
from PIL import Image
from test_cli import kaggle_csv

from digitnet.calibration import fit_temperature
from digitnet.cli import main
from digitnet.config import seeded_split
from digitnet.data import read_kaggle_csv, scale_images
from digitnet.persistence import load_model, save_model


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def png(path, pixels: np.ndarray):
    Image.fromarray(pixels.astype(np.uint8)).save(path)
    return path


def test_predict_says_not_a_digit_for_drawings_that_are_none(small_trained, non_digit_canvases, tmp_path, capsys):
    # PNGs as a user would save them: dark ink on white paper
    paths = [png(tmp_path / f"{name.replace(' ', '-')}.png", 255 - pad) for name, pad in non_digit_canvases.items()]
    code, out, err = run(capsys, "predict", small_trained[1], *paths, "--json")
    assert code == 0, err
    predictions = json.loads(out)["predictions"]
    assert [p["verdict"] for p in predictions] == ["not a digit"] * len(paths), predictions
    assert predictions[0]["novelty_score"] is None  # the blank page: no ink, no score
    code, out, _ = run(capsys, "predict", small_trained[1], paths[0])
    assert out.startswith(f"{paths[0]}: not a digit (reads ")


def test_predict_min_confidence_says_not_sure_only_below_it(small_trained, mnist_test, tmp_path, capsys):
    network, path = small_trained
    model = load_model(path)
    logits = network.logits(scale_images(mnist_test.images[:500])).astype(np.float64) / model.temperature
    confidence = np.exp(logits.max(axis=1)) / np.exp(logits).sum(axis=1)
    hesitant, confident = int(confidence.argmin()), int(confidence.argmax())
    assert confidence[hesitant] < 0.6 and confidence[confident] > 0.99
    images = [png(tmp_path / f"{i}.png", 255 - mnist_test.images[i].reshape(28, 28)) for i in (hesitant, confident)]
    code, out, err = run(capsys, "predict", path, *images, "--min-confidence", "0.9", "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["temperature"] == model.temperature
    assert [p["verdict"] for p in answer["predictions"]] == ["not sure", "digit"]
    assert answer["predictions"][0]["confidence"] < 0.9 <= answer["predictions"][1]["confidence"]
    code, out, _ = run(capsys, "predict", path, *images, "--min-confidence", "0.9")
    assert out.splitlines()[0].startswith(f"{images[0]}: not sure (reads ")


@pytest.mark.parametrize("value", ["1.5", "-0.1", "often"])
def test_min_confidence_must_be_a_probability(small_trained, capsys, value):
    with pytest.raises(SystemExit) as stopped:
        main(["predict", str(small_trained[1]), "x.png", "--min-confidence", value])
    assert stopped.value.code == 2 and "--min-confidence" in capsys.readouterr().err


def test_evaluate_json_reports_calibration_coverage_and_novelty(small_trained, capsys):
    code, out, err = run(capsys, "evaluate", small_trained[1], "--json")
    assert code == 0, err
    trust = json.loads(out)["trust"]
    assert trust["temperature"] == load_model(small_trained[1]).temperature
    for key in ("raw", "calibrated"):
        assert set(trust[key]) == {"ece", "nll", "brier"} and 0 < trust[key]["ece"] < 0.05
    assert trust["calibrated"]["nll"] <= trust["raw"]["nll"] * 1.02  # fitted on validation, measured on test
    coverage = [row["coverage"] for row in trust["selective"]]
    accuracy = [row["accuracy"] for row in trust["selective"]]
    assert coverage == sorted(coverage, reverse=True) and accuracy == sorted(accuracy)  # fewer answers, more right
    assert 0.97 <= trust["novelty"]["kept"] <= 1 and trust["novelty"]["accuracy_on_kept"] >= 0.95
    code, out, _ = run(capsys, "evaluate", small_trained[1])
    assert "calibration (temperature " in out and "'not a digit' keeps " in out


def test_calibrate_adds_temperature_and_novelty_to_an_older_model_file(mnist_train, tmp_path, capsys):
    csv = kaggle_csv(tmp_path / "train.csv", mnist_train.images[:2000], mnist_train.labels[:2000])
    trained = tmp_path / "new.safetensors"
    options = ["--hidden", "16", "--epochs", "2", "--val-size", "500"]
    code, _, err = run(capsys, "train", "--data", csv, *options, "--out", trained)
    assert code == 0, err
    new = load_model(trained)
    older = save_model(  # as digitnet saved it before: no calibration, no novelty
        tmp_path / "old.safetensors",
        new.network,
        config=new.metadata["config"],
        data_checksums=new.metadata["data_checksums"],
    )
    code, out, _ = run(capsys, "evaluate", older, "--data", csv)
    assert "no novelty statistics in this model" in out
    code, out, err = run(capsys, "calibrate", older, "--data", csv, "-o", tmp_path / "calibrated.safetensors")
    assert code == 0, err
    calibrated = load_model(tmp_path / "calibrated.safetensors")
    assert calibrated.metadata["config"] == new.metadata["config"]
    # the training run's own split, so the same fit as training made
    assert calibrated.temperature == pytest.approx(new.temperature)
    assert calibrated.novelty.threshold == pytest.approx(new.novelty.threshold)
    _, val_set = seeded_split(read_kaggle_csv(csv), 500, seed=0)
    val_logits = new.network.logits(scale_images(val_set.images))
    assert calibrated.temperature == pytest.approx(fit_temperature(val_logits, val_set.labels))
    other = kaggle_csv(tmp_path / "other.csv", mnist_train.images[2000:2100], mnist_train.labels[2000:2100])
    code, _, err = run(capsys, "calibrate", older, "--data", other)
    assert code == 1 and "was trained on other data (train.csv) than Kaggle CSV" in err


def test_calibrate_refuses_a_model_without_its_training_config(small_trained, tmp_path, capsys):
    bare = save_model(tmp_path / "bare.safetensors", small_trained[0])
    code, _, err = run(capsys, "calibrate", bare)
    assert code == 1 and "has no training config (seed, val_size), so its validation split is unknown" in err


def test_robustness_prints_a_table_and_json(small_trained, capsys):
    code, out, err = run(capsys, "robustness", small_trained[1], "--limit", "200", "--json")
    assert code == 0, err
    result = json.loads(out)
    curves = result["models"][str(small_trained[1])]
    assert result["images"] == 200 and set(curves) == {"noise", "rotation", "translation", "scaling", "stroke"}
    assert curves["rotation"]["strengths"][0] == 0 and curves["rotation"]["accuracy"][-1] < 0.7
    code, out, _ = run(capsys, "robustness", small_trained[1], "--limit", "200")
    assert out.startswith("test accuracy (%) on 200 damaged test images") and "\nrotation (degrees)\n" in out
