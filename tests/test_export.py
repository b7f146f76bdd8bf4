"""``digitnet export``: the ONNX graph run by onnxruntime against the NumPy network on real MNIST
test digits, the static site's files, and every model the exports must refuse."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from digitnet.cli import main
from digitnet.data import FASHION_MNIST, scale_images
from digitnet.errors import ConfigError, ExportError
from digitnet.export import export_onnx, export_web, exportable_model
from digitnet.export.onnx_graph import ONNX_ACTIVATIONS
from digitnet.functional import ACTIVATIONS, softmax
from digitnet.layers import Dense
from digitnet.network import Network
from digitnet.persistence import load_model, save_model

onnx = pytest.importorskip("onnx", reason="needs the onnx extra")
onnxruntime = pytest.importorskip("onnxruntime", reason="needs the onnx-test extra")

FASHION_NAMES = list(FASHION_MNIST.class_names)
TOLERANCE = 1e-5


def described_model(path, network, temperature=1.5, test_accuracy=0.9581):
    """``network`` saved with everything an export carries: accuracy, dataset, calibration."""
    save_model(
        path,
        network,
        metrics={"test_accuracy": test_accuracy},
        dataset={"name": "mnist", "class_names": [str(digit) for digit in range(10)]},
        calibration={"temperature": temperature},
    )
    return load_model(path)


def reference_probabilities(network: Network, pixels: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """What digitnet computes for uint8 ``pixels`` ``(n, 784)``: scaled, forward, logits / T, softmax."""
    return softmax(network.infer(scale_images(pixels))[1] / np.float32(temperature))


def run_onnx(path, pixels: np.ndarray) -> dict[str, np.ndarray]:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"pixels": pixels.astype(np.float32)})
    return dict(zip([output.name for output in session.get_outputs()], outputs))


def random_network(activation: str, sizes=(784, 48, 32, 16, 10), seed=0) -> Network:
    return Network.create(list(sizes), np.random.default_rng(seed), activation)


@pytest.mark.parametrize("calibrated", [False, True])
def test_onnx_equals_the_network_on_1000_mnist_test_digits(small_trained, mnist_test, tmp_path, calibrated):
    network, plain_path = small_trained
    model = described_model(tmp_path / "m.safetensors", network) if calibrated else load_model(plain_path)
    temperature = 1.5 if calibrated else 1.0
    written = export_onnx(model, tmp_path / "m.onnx")
    assert written == tmp_path / "m.onnx"
    onnx.checker.check_model(onnx.load(written), full_check=True)

    pixels = mnist_test.images[:1000]
    outputs = run_onnx(written, pixels)
    expected = reference_probabilities(network, pixels, temperature)
    assert np.abs(outputs["probabilities"] - expected).max() <= TOLERANCE
    assert np.abs(outputs["logits"] - network.infer(scale_images(pixels))[1]).max() <= 1e-4
    assert np.array_equal(outputs["digit"], expected.argmax(axis=1))
    assert (outputs["digit"] == mnist_test.labels[:1000]).mean() > 0.9  # it reads digits, not noise


def test_onnx_metadata_round_trips(small_trained, tmp_path):
    model = described_model(tmp_path / "m.safetensors", small_trained[0], temperature=1.25, test_accuracy=0.9581)
    graph_model = onnx.load(export_onnx(model, tmp_path / "m.onnx"))
    properties = {prop.key: json.loads(prop.value) for prop in graph_model.metadata_props}
    assert properties["architecture"] == {"layer_sizes": [784, 128, 10], "activation": "relu", "leaky_relu_slope": 0.01}
    assert properties["dataset"] == {"name": "mnist", "class_names": list("0123456789")}
    assert properties["test_accuracy"] == 0.9581
    assert properties["calibration"] == {"temperature": 1.25}
    assert properties["digitnet_version"] == model.metadata["digitnet_version"]
    assert properties["source"] == {"file": "m.safetensors", "content_sha256": model.metadata["content_sha256"]}
    assert properties == exportable_model(model, ONNX_ACTIVATIONS, "ONNX").description()
    assert graph_model.producer_name == "digitnet"
    assert graph_model.opset_import[0].version == 21


def test_a_model_file_without_dataset_or_calibration_exports_as_mnist_digits_at_temperature_1(small_trained, tmp_path):
    graph_model = onnx.load(export_onnx(load_model(small_trained[1]), tmp_path / "m.onnx"))
    properties = {prop.key: json.loads(prop.value) for prop in graph_model.metadata_props}
    assert properties["dataset"] == {"name": "mnist", "class_names": list("0123456789")}
    assert "calibration" not in properties and properties["test_accuracy"] is None
    assert "Div" not in {node.op_type for node in graph_model.graph.node}


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_with_three_hidden_layers_exports_and_matches(activation, mnist_test, tmp_path):
    network = random_network(activation)
    model = described_model(tmp_path / "r.safetensors", network, temperature=0.8)
    outputs = run_onnx(export_onnx(model, tmp_path / "r.onnx"), mnist_test.images[:1000])
    expected = reference_probabilities(network, mnist_test.images[:1000], 0.8)
    assert np.abs(outputs["probabilities"] - expected).max() <= TOLERANCE
    assert np.array_equal(outputs["digit"], expected.argmax(axis=1))


def save_network(path, network, **metadata):
    save_model(path, network, **metadata)
    return load_model(path)


def test_exports_refuse_a_network_that_does_not_take_a_28x28_image(tmp_path):
    model = save_network(tmp_path / "m.safetensors", random_network("relu", sizes=(100, 8, 10)))
    with pytest.raises(ExportError, match=r"m\.safetensors: the network takes 100 inputs; the ONNX export feeds"):
        export_onnx(model, tmp_path / "m.onnx")
    with pytest.raises(ExportError, match=r"takes 100 inputs; the web page export feeds it a 28x28 image, 784"):
        export_web(model, tmp_path / "site")
    assert not (tmp_path / "m.onnx").exists() and not (tmp_path / "site").exists()


def test_an_activation_the_target_lacks_is_refused_with_the_ones_it_has(small_trained):
    model = load_model(small_trained[1])
    with pytest.raises(
        ExportError, match=r"activation 'relu' has no ONNX equivalent; the ONNX export supports sigmoid, tanh"
    ):
        exportable_model(model, ["tanh", "sigmoid"], "ONNX")


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"calibration": {"temperature": 0}}, r"calibration.temperature must be a positive number, got 0"),
        ({"calibration": {"temperature": "hot"}}, r"calibration.temperature must be a positive number, got 'hot'"),
        ({"dataset": {"name": "x", "class_names": ["a", "b"]}}, r"has 10 outputs but its dataset names 2 classes"),
        ({"dataset": {"name": "x", "class_names": list(range(10))}}, r"class_names must be a list of strings"),
        ({"dataset": "mnist"}, r"dataset must be an object with name and class_names, got 'mnist'"),
        ({"dataset": {"name": "kmnist"}}, r"dataset 'kmnist' names no classes and is not one digitnet knows"),
        ({"metrics": {"test_accuracy": 98.2}}, r"metrics.test_accuracy must be a fraction in \[0, 1\], got 98.2"),
    ],
)
def test_metadata_an_export_cannot_carry_is_refused(small_trained, tmp_path, metadata, message):
    model = save_network(tmp_path / "m.safetensors", small_trained[0], **metadata)
    with pytest.raises(ExportError, match=message):
        export_onnx(model, tmp_path / "m.onnx")


def test_float64_and_non_finite_weights_are_refused(tmp_path):
    wide = random_network("relu").copy(dtype=np.float64)
    with pytest.raises(ExportError, match=r"the weights are float64; the ONNX export carries float32 weights"):
        export_onnx(save_network(tmp_path / "wide.safetensors", wide), tmp_path / "m.onnx")
    broken = random_network("relu", sizes=(784, 4, 10))
    W = broken.dense_layers[1].W.copy()
    W[0, 0] = np.nan
    nan_network = Network([broken.dense_layers[0], Dense(W, broken.dense_layers[1].b)], "relu")
    with pytest.raises(ExportError, match=r"tensor dense1.W holds NaN or infinite values"):
        export_web(save_network(tmp_path / "nan.safetensors", nan_network), tmp_path / "site")


def test_onnx_needs_its_extra_and_says_which(small_trained, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what a missing package looks like to import
    with pytest.raises(ConfigError, match=r"exporting to ONNX needs the onnx package: pip install 'digitnet\[onnx\]'"):
        export_onnx(load_model(small_trained[1]), tmp_path / "m.onnx")


def test_importing_digitnet_and_its_exports_does_not_import_onnx():
    code = "import sys, digitnet.cli, digitnet.export; print(sorted(m for m in sys.modules if m.startswith('onnx')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_onnx_to_a_missing_folder_fails_before_building(small_trained, tmp_path):
    with pytest.raises(ExportError, match=r"cannot write, folder .*missing does not exist"):
        export_onnx(load_model(small_trained[1]), tmp_path / "missing" / "m.onnx")


# ------------------------------------------------------------------------------------ static site


def test_web_export_writes_the_page_the_weights_and_a_manifest_that_describes_them(small_trained, tmp_path):
    network = small_trained[0]
    model = described_model(tmp_path / "m.safetensors", network)
    written = export_web(model, tmp_path / "site")
    names = ["index.html", "style.css", "digitnet.js", "page.js", "weights.bin", "model.json"]
    assert written == [tmp_path / "site" / name for name in names]
    manifest = json.loads((tmp_path / "site" / "model.json").read_text())
    assert manifest["model"] == exportable_model(model, ACTIVATIONS, "web page").description()
    assert manifest["preprocessing"] == {"image_size": 28, "fit_size": 20, "ink_threshold": 0.1}
    weights = (tmp_path / "site" / "weights.bin").read_bytes()
    assert len(weights) == manifest["weights"]["bytes"] == 4 * sum(a.size for a in network.parameters().values())
    for tensor in manifest["weights"]["tensors"]:
        count = int(np.prod(tensor["shape"]))
        stored = np.frombuffer(weights, dtype="<f4", count=count, offset=tensor["offset"]).reshape(tensor["shape"])
        assert np.array_equal(stored, network.parameters()[tensor["name"]]), tensor["name"]
    page = (tmp_path / "site" / "index.html").read_text()
    assert "http" not in page.replace('http-equiv="Content-Security-Policy"', "")  # nothing from elsewhere


def test_web_export_replaces_an_earlier_export_but_never_overwrites_other_files(small_trained, tmp_path):
    model = load_model(small_trained[1])
    site = tmp_path / "site"
    export_web(model, site)
    (site / "notes.txt").write_text("mine")
    export_web(model, site)  # an earlier export: replaced in place, other files left alone
    assert (site / "notes.txt").read_text() == "mine"

    other = tmp_path / "blog"
    other.mkdir()
    (other / "index.html").write_text("<p>my blog</p>")
    with pytest.raises(ExportError, match=r"blog: the folder is not empty and is not a digitnet web export"):
        export_web(model, other)
    assert (other / "index.html").read_text() == "<p>my blog</p>"
    with pytest.raises(ExportError, match=r"cannot create it, folder .*nowhere does not exist"):
        export_web(model, tmp_path / "nowhere" / "site")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError, match=r"file: is a file, expected a folder for the web page"):
        export_web(model, tmp_path / "file")


def test_fashion_class_names_travel_to_both_exports(small_trained, tmp_path):
    model = save_network(tmp_path / "f.safetensors", small_trained[0], dataset={"name": "fashion-mnist"})
    graph_model = onnx.load(export_onnx(model, tmp_path / "f.onnx"))
    assert json.loads({p.key: p.value for p in graph_model.metadata_props}["dataset"])["class_names"] == FASHION_NAMES
    export_web(model, tmp_path / "site")
    assert json.loads((tmp_path / "site" / "model.json").read_text())["model"]["dataset"]["name"] == "fashion-mnist"


# ------------------------------------------------------------------------------------ the command


def test_the_command_writes_both_exports_and_names_every_file(small_trained, tmp_path, capsys):
    code = main(["export", str(small_trained[1]), "--onnx", str(tmp_path / "m.onnx"), "--web", str(tmp_path / "site")])
    out, err = capsys.readouterr()
    assert code == 0, err
    onnx_size = (tmp_path / "m.onnx").stat().st_size
    assert f"wrote {tmp_path / 'm.onnx'} ({onnx_size:,} bytes): ONNX graph of small.safetensors" in out
    weights_size = (tmp_path / "site" / "weights.bin").stat().st_size
    assert f"wrote {tmp_path / 'site'}: a static page for small.safetensors, 6 files" in out
    assert f"  weights.bin ({weights_size:,} bytes)" in out and "  index.html (" in out


def test_the_command_needs_a_target_and_reports_refusals_in_one_line(small_trained, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(small_trained[1])])
    assert exit_info.value.code == 2
    assert "say what to write: --onnx FILE, --web DIR, or both" in capsys.readouterr().err
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "index.html").write_text("mine")
    assert main(["export", str(small_trained[1]), "--web", str(occupied)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digitnet: error: ") and err.count("\n") == 1
    assert "occupied: the folder is not empty and is not a digitnet web export" in err
