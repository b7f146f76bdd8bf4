"""The command line, called as ``main([...])``: output, exit codes, files written, bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from digitnet.cli import main
from digitnet.data import read_kaggle_csv, scale_images
from digitnet.metrics import evaluate
from digitnet.persistence import load_model

HEADER = ",".join(f"pixel{i}" for i in range(784))


def kaggle_csv(path, images, labels=None):
    rows = [("label," if labels is not None else "") + HEADER]
    rows += [",".join(map(str, ([labels[i]] if labels is not None else []) + list(im))) for i, im in enumerate(images)]
    path.write_text("\n".join(rows) + "\n")
    return path


def run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 1
    assert err.startswith("digitnet: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert str(fragment) in err, (fragment, err)


def test_train_on_mnist_prints_test_accuracy_and_saves_a_model(tmp_path, capsys, mnist_test):
    out_path, history_path = tmp_path / "m.safetensors", tmp_path / "history.json"
    code, out, err = run(
        capsys,
        "train",
        "--hidden",
        "32",
        "--epochs",
        "1",
        "--val-size",
        "55000",  # 5,000 images to train on: the whole path on real MNIST, in a fraction of the time
        "--out",
        out_path,
        "--history-json",
        history_path,
    )
    assert code == 0, err
    model = load_model(out_path)
    accuracy = evaluate(model.network, mnist_test).accuracy
    assert f"test accuracy: {100 * accuracy:.2f}% (10000 MNIST test images)" in out
    assert f"model saved to {out_path}" in out and "epoch 1/1" in out
    assert model.metadata["metrics"]["test_accuracy"] == pytest.approx(accuracy)
    assert model.metadata["config"]["hidden"] == [32] and len(model.metadata["data_checksums"]) == 4
    history = json.loads(history_path.read_text())
    assert [h["epoch"] for h in history] == [1] and {"val_loss", "train_accuracy"} <= set(history[0])


def test_train_on_a_kaggle_csv(tmp_path, capsys, synthetic_csv):
    code, out, err = run(
        capsys,
        "train",
        "--data",
        synthetic_csv,
        "--hidden",
        "32",
        "--epochs",
        "10",
        "--batch-size",
        "20",
        "--val-size",
        "50",
        "--out",
        tmp_path / "k.safetensors",
    )
    assert code == 0, err
    assert "training 784-32-10 on 150 images, validating on 50" in out
    accuracy = float(out.split("validation accuracy: ")[1].split("%")[0])
    assert accuracy > 70  # four shapes, chance 25%: seeds 0-4 give 88-100% of these 50 images
    assert list(load_model(tmp_path / "k.safetensors").metadata["data_checksums"]) == ["train.csv"]


def test_evaluate_json_is_one_object_with_the_documented_fields(small_trained, capsys, mnist_test):
    network, path = small_trained
    code, out, _ = run(capsys, "evaluate", path, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["accuracy"] == pytest.approx(evaluate(network, mnist_test).accuracy)
    assert result["n"] == 10000 and np.array(result["confusion"]).shape == (10, 10)
    assert sum(map(sum, result["confusion"])) == 10000
    assert [c["digit"] for c in result["per_class"]] == list(range(10))
    assert 0 < result["loss"] < 1


def test_evaluate_human_readable(synthetic_trained, synthetic_csv, capsys):
    code, out, _ = run(capsys, "evaluate", synthetic_trained[1], "--data", synthetic_csv)
    assert code == 0
    assert out.startswith("accuracy ") and "on 200 images" in out.splitlines()[0]
    assert "confusion matrix (rows: true digit, columns: predicted)" in out


def save_digit_pngs(folder, images, dark_on_light=False, off_centre=False):
    paths = []
    for i, image in enumerate(images):
        picture = Image.fromarray(image.reshape(28, 28))
        if off_centre:  # 4x bigger, in the top-left corner of a larger sheet, as a phone photo might be
            sheet = Image.new("L", (300, 260), 0)
            sheet.paste(picture.resize((112, 112), Image.Resampling.BILINEAR), (10, 5))
            picture = sheet
        if dark_on_light:
            picture = Image.eval(picture, lambda v: 255 - v)
        path = folder / f"digit{i}.png"
        picture.save(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("dark_on_light, off_centre", [(False, False), (True, True)])
def test_predict_image_files(small_trained, capsys, mnist_test, tmp_path, dark_on_light, off_centre):
    picks = [int(np.flatnonzero(mnist_test.labels == d)[0]) for d in range(10)]
    paths = save_digit_pngs(tmp_path, mnist_test.images[picks], dark_on_light, off_centre)
    code, out, _ = run(capsys, "predict", small_trained[1], *paths, "--json")
    assert code == 0
    predictions = json.loads(out)["predictions"]
    assert [p["file"] for p in predictions] == [str(p) for p in paths]
    assert all(sum(p["probabilities"]) == pytest.approx(1, abs=1e-4) for p in predictions)
    correct = sum(p["digit"] == d for d, p in enumerate(predictions))
    assert correct >= 9


def test_predict_kaggle_writes_a_submission(synthetic_trained, capsys, synthetic_data, tmp_path):
    network, path = synthetic_trained
    csv_path = kaggle_csv(tmp_path / "test.csv", synthetic_data.test.images)
    out_path = tmp_path / "submission.csv"
    code, out, _ = run(capsys, "predict", path, "--kaggle", csv_path, "-o", out_path)
    assert code == 0 and out.strip() == f"wrote 100 predictions to {out_path}"
    lines = out_path.read_text().splitlines()
    assert lines[0] == "ImageId,Label" and len(lines) == 101
    ids, labels = zip(*(map(int, line.split(",")) for line in lines[1:]))
    assert list(ids) == list(range(1, 101))
    expected = network.predict(scale_images(read_kaggle_csv(csv_path).images))
    assert list(labels) == expected.tolist()


def test_gradcheck_command(capsys):
    code, out, _ = run(capsys, "gradcheck", "--hidden", "8", "--activation", "tanh", "--loss", "mse")
    assert code == 0
    assert "784-8-10 tanh, mse" in out and out.strip().endswith("(pass: threshold 1e-6)")


# ----------------------------------------------------------------------------- bad input


def test_train_to_a_missing_folder_fails_before_training(capsys, tmp_path):
    target = tmp_path / "missing" / "m.safetensors"
    code, out, err = run(capsys, "train", "--out", target)
    assert_one_line_error(code, err, target, "does not exist")
    assert "epoch" not in out


def test_evaluate_a_truncated_model_file(synthetic_trained, capsys, tmp_path):
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(synthetic_trained[1].read_bytes()[:1000])
    code, _, err = run(capsys, "evaluate", broken)
    assert_one_line_error(code, err, broken)


def test_predict_a_file_that_is_not_an_image(synthetic_trained, capsys, tmp_path):
    fake = tmp_path / "digit.png"
    fake.write_text("this is not a PNG")
    code, _, err = run(capsys, "predict", synthetic_trained[1], fake)
    assert_one_line_error(code, err, fake, "not a readable image")


def test_predict_a_missing_image(synthetic_trained, capsys, tmp_path):
    code, _, err = run(capsys, "predict", synthetic_trained[1], tmp_path / "nope.png")
    assert_one_line_error(code, err, tmp_path / "nope.png", "no such file")


def test_bad_kaggle_csv_leaves_the_existing_submission_untouched(synthetic_trained, capsys, tmp_path):
    bad = tmp_path / "test.csv"
    bad.write_text(HEADER + "\n" + ",".join(["0"] * 783 + ["300"]) + "\n")
    existing = tmp_path / "submission.csv"
    existing.write_text("ImageId,Label\n1,7\n")
    code, _, err = run(capsys, "predict", synthetic_trained[1], "--kaggle", bad, "-o", existing)
    assert_one_line_error(code, err, bad, "value 300 is outside 0-255")
    assert existing.read_text() == "ImageId,Label\n1,7\n"


def test_missing_data_folder(capsys, tmp_path):
    code, _, err = run(capsys, "evaluate", "model.safetensors", "--data", tmp_path / "nothing")
    assert_one_line_error(code, err, "model.safetensors")


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--hidden", "abc"])
    assert exit_info.value.code == 2
    assert "'abc' is not a comma-separated list of layer sizes" in capsys.readouterr().err


def test_bad_option_value_is_a_one_line_error(capsys, tmp_path):
    code, _, err = run(capsys, "train", "--epochs", "0", "--out", tmp_path / "m.safetensors")
    assert_one_line_error(code, err, "epochs=0 is out of range")


def test_python_dash_m_and_version():
    result = subprocess.run([sys.executable, "-m", "digitnet", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("digitnet ")


def test_a_preset_sets_the_defaults_and_explicit_options_still_win(tmp_path, capsys, synthetic_csv):
    out_path = tmp_path / "m.safetensors"
    code, out, err = run(
        capsys,
        "train",
        "--data",
        synthetic_csv,
        "--preset",
        "record",
        "--hidden",
        "16",
        "--epochs",
        "1",
        "--val-size",
        "50",
        "--out",
        out_path,
    )
    assert code == 0, err
    config = load_model(out_path).metadata["config"]
    assert config["augment"] == "elastic" and config["lr"] == 0.1 and config["patience"] == 0  # from the preset
    assert config["hidden"] == [16] and config["epochs"] == 1  # given explicitly


def test_unknown_preset_lists_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--preset", "fastest"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fastest' (choose from 'record')" in capsys.readouterr().err
