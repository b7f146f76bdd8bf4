"""Model files: round trip, metadata, and every way a file can be broken."""

import json
import struct

import numpy as np
import pytest
import safetensors.numpy

from digitnet.errors import ModelFileError
from digitnet.layers import Dense
from digitnet.network import Network
from digitnet.persistence import FORMAT_VERSION, load_model, model_to_bytes, pack, save_model


@pytest.fixture
def network():
    return Network.create([784, 16, 10], np.random.default_rng(0))


@pytest.fixture
def saved(network, tmp_path):
    path = tmp_path / "model.safetensors"
    save_model(path, network, config={"epochs": 3}, metrics={"test_accuracy": 0.5}, data_checksums={"x": "abc"})
    return path


def test_round_trip_keeps_weights_dtype_and_metadata(network, saved):
    model = load_model(saved)
    for name, array in network.parameters().items():
        loaded = model.network.parameters()[name]
        assert loaded.dtype == np.float32
        np.testing.assert_array_equal(loaded, array)
    info = model.metadata
    assert info["format_version"] == FORMAT_VERSION
    assert info["architecture"] == {"layer_sizes": [784, 16, 10], "activation": "relu"}
    assert info["config"] == {"epochs": 3} and info["metrics"] == {"test_accuracy": 0.5}
    assert info["data_checksums"] == {"x": "abc"} and "255" in info["input_scaling"]
    X = np.random.default_rng(1).uniform(0, 1, (5, 784)).astype(np.float32)
    np.testing.assert_array_equal(model.network.predict_proba(X), network.predict_proba(X))


def test_a_transposed_non_contiguous_array_round_trips(tmp_path):
    # safetensors 0.8.0 writes a non-contiguous array's memory in the wrong order; we save
    # contiguous copies, so the transposed view must come back equal.
    W = np.arange(12, dtype=np.float32).reshape(4, 3).T  # (3, 4), Fortran-ordered view
    network = Network([Dense(W, np.zeros(4, dtype=np.float32))])
    assert not W.flags["C_CONTIGUOUS"]
    save_model(tmp_path / "t.safetensors", network)
    np.testing.assert_array_equal(load_model(tmp_path / "t.safetensors").network.dense_layers[0].W, W)


def test_no_pickle_in_the_file(saved):
    assert b"pickle" not in saved.read_bytes() and not saved.read_bytes().startswith(b"\x80")


def test_truncated_file(saved):
    saved.write_bytes(saved.read_bytes()[:-40])
    with pytest.raises(ModelFileError, match=f"{saved}: corrupt safetensors data"):
        load_model(saved)


def test_tiny_file(saved):
    saved.write_bytes(b"abc")
    with pytest.raises(ModelFileError, match=f"{saved}: file is 3 bytes, too short to be a digitnet file"):
        load_model(saved)


def test_a_flipped_bit_in_the_weights_is_caught(saved):
    data = bytearray(saved.read_bytes())
    data[-5] ^= 0x01
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=f"{saved}: checksum mismatch"):
        load_model(saved)


def test_edited_metadata_is_caught(saved):
    data = saved.read_bytes().replace(b'\\"test_accuracy\\": 0.5', b'\\"test_accuracy\\": 0.9')
    saved.write_bytes(data)
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(saved)


def test_forged_header_length(saved):
    data = bytearray(saved.read_bytes())
    data[:8] = struct.pack("<Q", 2**40)
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=f"{saved}: header length field says 1099511627776 bytes"):
        load_model(saved)


def test_not_a_digitnet_file(tmp_path):
    path = tmp_path / "other.safetensors"
    path.write_bytes(safetensors.numpy.save({"w": np.zeros(3, dtype=np.float32)}))
    with pytest.raises(ModelFileError, match=f"{path}: not a digitnet file"):
        load_model(path)


def rewrite_metadata(path, network, edit):
    """Save with metadata changed by ``edit`` and a content hash that matches the change, so
    only the structural check can catch it."""
    tensors = {n: np.ascontiguousarray(a) for n, a in network.parameters().items()}
    raw = model_to_bytes(network)
    header = json.loads(raw[8 : 8 + struct.unpack("<Q", raw[:8])[0]])
    info = json.loads(header["__metadata__"]["digitnet"])
    info.pop("content_sha256")
    edit(info, tensors)
    path.write_bytes(pack(tensors, info))


def test_shapes_that_disagree_with_the_metadata(network, tmp_path):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(path, network, lambda info, t: info["architecture"].update(layer_sizes=[784, 32, 10]))
    with pytest.raises(
        ModelFileError, match=r"tensor dense0.W is float32 \(784, 16\), the metadata says float32 \(784, 32\)"
    ):
        load_model(path)


def test_missing_tensor(network, tmp_path):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(path, network, lambda info, t: t.pop("dense1.b"))
    with pytest.raises(ModelFileError, match="do not match the architecture"):
        load_model(path)


def test_unknown_format_version(network, tmp_path):
    path = tmp_path / "m.safetensors"
    rewrite_metadata(path, network, lambda info, t: info.update(format_version=99))
    with pytest.raises(ModelFileError, match=f"{path}: format version 99 is not supported"):
        load_model(path)


def test_output_folder_that_does_not_exist(network, tmp_path):
    target = tmp_path / "nope" / "m.safetensors"
    with pytest.raises(ModelFileError, match=f"{target}: cannot write, folder {target.parent} does not exist"):
        save_model(target, network)


def test_failed_save_leaves_the_existing_file_intact(network, saved, monkeypatch):
    before = saved.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(ModelFileError, match="No space left on device"):
        save_model(saved, Network.create([784, 8, 10], np.random.default_rng(5)))
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == [saved.name]
