"""Property-based fuzzing of every reader: IDX, gzip, Kaggle CSV, model files, checkpoints.

Each reader, given random bytes or a valid file with random damage (truncation, bit flips,
forged header sizes and shapes, wrong magic, forged metadata), either returns valid data or
raises its own ``DigitnetError`` subclass with a message naming the file. Any other exception
fails the test. Forged sizes must be refused before anything of that size is allocated
(``tracemalloc`` checks the peak).

CI runs Hypothesis's default number of examples (100 per test, a few seconds in all); a long
run: ``HYPOTHESIS_PROFILE=fuzz make test ARGS=tests/test_fuzz.py`` (5,000 per test, about six minutes;
see ``conftest.py``).
"""

from __future__ import annotations

import gzip
import json
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitnet.checkpoints import Checkpointer, load_checkpoint
from digitnet.config import TrainConfig
from digitnet.data import (
    IMAGES_MAGIC,
    MNIST_FILES,
    N_PIXELS,
    decompress,
    parse_idx,
    read_kaggle_csv,
    read_mnist_file,
)
from digitnet.errors import CheckpointError, DataError, ModelFileError
from digitnet.network import Network
from digitnet.persistence import METADATA_KEY, load_model, model_to_bytes, pack
from digitnet.training import Trainer

IMAGES_SPEC, LABELS_SPEC = MNIST_FILES[2], MNIST_FILES[3]  # the test-set files
# module-scoped tmp folders are reused by every example (function-scoped fixtures are not)
FIXTURE_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)


# ----------------------------------------------------------------------------- mutations


@st.composite
def mutated(draw, valid: bytes, header_size: int = 16) -> bytes:
    """``valid`` with one to three kinds of damage, drawn by Hypothesis."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "forge_u32", "forge_u64", "insert", "append"]))
        if kind == "truncate":
            del data[draw(st.integers(0, max(0, len(data) - 1))) :]
        elif kind == "flip" and data:
            position = draw(st.integers(0, len(data) - 1))
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "forge_u32" and len(data) >= 4:
            # a header field (magic, count, rows, cols, big-endian) or anywhere else
            offset = draw(st.sampled_from([0, 4, 8, 12]) | st.integers(0, len(data) - 4))
            offset = min(offset, len(data) - 4)
            value = draw(
                st.sampled_from([0, 1, 27, 28, 29, 2049, 2051, 2**31 - 1, 2**32 - 1]) | st.integers(0, 2**32 - 1)
            )
            data[offset : offset + 4] = value.to_bytes(4, "big")
        elif kind == "forge_u64" and len(data) >= 8:
            # the safetensors header length (little-endian u64 at the start)
            value = draw(st.sampled_from([0, 1, 2**31, 2**63, 2**64 - 1]) | st.integers(0, 2**64 - 1))
            data[:8] = value.to_bytes(8, "little")
        elif kind == "insert":
            position = draw(st.integers(0, len(data)))
            data[position:position] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


def reads_or_refuses(read, error_type, path):
    """``read()``'s result, or ``None`` when it raised ``error_type`` naming ``path``.
    Any other exception propagates and fails the example."""
    try:
        return read()
    except error_type as error:
        assert str(error).startswith(str(path)) or str(path) in str(error), str(error)
        return None


# ----------------------------------------------------------------------------- IDX and gzip


def idx_bytes(magic: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">{1 + len(shape)}I", magic, *shape) + payload


@pytest.fixture(scope="module")
def valid_idx(mnist_test):
    """Twelve real test images and their labels, as uncompressed IDX files."""
    images = mnist_test.images[:12]
    return {
        "images": idx_bytes(IMAGES_MAGIC, (12, 28, 28), images.tobytes()),
        "labels": idx_bytes(2049, (12,), mnist_test.labels[:12].tobytes()),
    }


def check_idx_result(array, kind):
    if array is None:
        return
    if kind == "images":
        assert array.dtype == np.uint8 and array.ndim == 2 and array.shape[1] == N_PIXELS
    else:
        assert array.dtype == np.uint8 and array.ndim == 1 and (array.size == 0 or array.max() <= 9)


@pytest.mark.parametrize("kind", ["images", "labels"])
@given(data=st.data())
def test_idx_parser_survives_mutations(valid_idx, kind, data):
    content = data.draw(mutated(valid_idx[kind]) | st.binary(max_size=64))
    path = Path(f"fuzz-{kind}.idx")
    check_idx_result(reads_or_refuses(lambda: parse_idx(content, path, kind), DataError, path), kind)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("kind", ["images", "labels"])
@FIXTURE_SETTINGS
@given(data=st.data())
def test_gzip_idx_reader_survives_mutations(valid_idx, fuzz_dir, kind, data):
    """Damage to the gzip wrapper (CRC, length, deflate stream) or to the IDX inside it."""
    inner = data.draw(st.just(valid_idx[kind]) | mutated(valid_idx[kind]))
    raw = data.draw(st.just(gzip.compress(inner, mtime=0)) | mutated(gzip.compress(inner, mtime=0)))
    path = fuzz_dir / f"{kind}.gz"
    path.write_bytes(raw)
    spec = IMAGES_SPEC if kind == "images" else LABELS_SPEC
    check_idx_result(reads_or_refuses(lambda: read_mnist_file(path, spec, verify=False), DataError, path), kind)


@pytest.mark.parametrize("shape", [(2**31 - 1, 28, 28), (2**32 - 1, 28, 28), (12, 2**32 - 1, 2**32 - 1)])
def test_forged_idx_count_allocates_nothing(valid_idx, shape):
    content = idx_bytes(IMAGES_MAGIC, shape, valid_idx["images"][16:])
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"^forged.idx: (header says|images are)"):
            parse_idx(content, Path("forged.idx"), "images")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000


def test_gzip_bomb_stops_at_the_size_limit():
    """A gzip that inflates far beyond what the file can be is cut off at the limit."""
    bomb = gzip.compress(bytes(10_000_000), mtime=0)  # about 10 kB on disk
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"^bomb.gz: decompresses to more than 1000 bytes"):
            decompress(bomb, Path("bomb.gz"), max_size=1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000


# ----------------------------------------------------------------------------- Kaggle CSV


def valid_csv(images: np.ndarray, labels: np.ndarray | None) -> bytes:
    header = (["label"] if labels is not None else []) + [f"pixel{i}" for i in range(N_PIXELS)]
    rows = [",".join(header)]
    for index, image in enumerate(images):
        values = ([str(labels[index])] if labels is not None else []) + [str(v) for v in image]
        rows.append(",".join(values))
    return ("\n".join(rows) + "\n").encode()


CSV_NOISE = st.sampled_from(
    [
        b",",
        b"\n",
        b"\r\n",
        b'"',
        b"\x00",
        b"#",
        b"-",
        b"+",
        b" ",
        b"\xff",
        b"256",
        b"9" * 25,
        b"1e3",
        b"nan",
        b"label",
        b"\xe2\x82\xac",
        b"\xef\xbb\xbf",
        b"7" * 131_073,
    ]
)


@st.composite
def csv_mutated(draw, valid: bytes) -> bytes:
    data = draw(mutated(valid))
    for _ in range(draw(st.integers(0, 3))):
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(CSV_NOISE) + data[position:]
    return data


@pytest.mark.parametrize("labelled", [True, False])
@FIXTURE_SETTINGS
@given(data=st.data())
def test_kaggle_csv_reader_survives_mutations(mnist_test, fuzz_dir, labelled, data):
    valid = valid_csv(mnist_test.images[:3], mnist_test.labels[:3] if labelled else None)
    raw = data.draw(csv_mutated(valid) | st.binary(max_size=200))
    path = fuzz_dir / "train.csv"
    path.write_bytes(raw)
    dataset = reads_or_refuses(lambda: read_kaggle_csv(path), DataError, path)
    if dataset is not None:
        assert dataset.images.dtype == np.uint8 and dataset.images.shape[1:] == (N_PIXELS,)
        assert len(dataset.images) >= 1
        if dataset.labels is not None:
            assert dataset.labels.dtype == np.uint8 and dataset.labels.max() <= 9
            assert dataset.labels.shape == (len(dataset.images),)


# ----------------------------------------------------------------------------- model files and checkpoints

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


def json_paths(value, prefix=()):
    """Every (path, value) inside nested dicts and lists."""
    yield prefix, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from json_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_paths(child, (*prefix, index))


@st.composite
def forged_metadata(draw, info: dict) -> dict:
    """``info`` with one value replaced by random JSON, or one key deleted: what a buggy
    writer or a deliberate forger (who also fixes the checksum) could produce."""
    info = json.loads(json.dumps(info))
    paths = [path for path, _ in json_paths(info) if path]
    # half the time a top-level or architecture-level value, where the structural checks are
    path = draw(st.sampled_from([p for p in paths if len(p) <= 2]) | st.sampled_from(paths))
    parent = info
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(JSON_VALUES)
    return info


def split_file(data: bytes) -> tuple[dict[str, np.ndarray], dict]:
    import safetensors.numpy

    header_length = struct.unpack("<Q", data[:8])[0]
    info = json.loads(json.loads(data[8 : 8 + header_length])["__metadata__"][METADATA_KEY])
    info.pop("content_sha256")
    return safetensors.numpy.load(data), info


@st.composite
def damaged_digitnet_file(draw, valid: bytes) -> bytes:
    """Byte-level damage, or forged metadata resealed with a correct checksum."""
    if draw(st.booleans()):
        return draw(mutated(valid) | st.binary(max_size=64))
    tensors, info = split_file(valid)
    return pack(tensors, draw(forged_metadata(info)))


@pytest.fixture(scope="module")
def valid_model() -> bytes:
    network = Network.create([784, 4, 10], np.random.default_rng(0))
    return model_to_bytes(network, config=TrainConfig(hidden=(4,)).to_dict(), metrics={"test_accuracy": 0.5})


@FIXTURE_SETTINGS
@given(data=st.data())
def test_model_reader_survives_damage(valid_model, fuzz_dir, data):
    path = fuzz_dir / "model.safetensors"
    path.write_bytes(data.draw(damaged_digitnet_file(valid_model)))
    model = reads_or_refuses(lambda: load_model(path), ModelFileError, path)
    if model is not None:
        assert model.network.layer_sizes[0] >= 1 and model.network.dtype in (np.float32, np.float64)
        model.network.predict_proba(np.zeros((1, model.network.layer_sizes[0]), model.network.dtype))


@pytest.fixture(scope="module")
def valid_checkpoint(synthetic_data, tmp_path_factory) -> bytes:
    """A checkpoint stopped inside epoch 2, so it holds every kind of array and metadata."""
    config = TrainConfig(hidden=(4,), epochs=3, batch_size=50, val_size=100, patience=0, optimizer="adam")
    trainer = Trainer(config, synthetic_data.train, synthetic_data.test, log=lambda line: None)
    trainer.run(max_batches=6)  # 200 images, 4 batches an epoch: stopped 100 examples into epoch 2
    path = Checkpointer(tmp_path_factory.mktemp("ckpt"), synthetic_data.checksums).save(trainer)
    load_checkpoint(path)  # the fixture is valid to begin with
    return path.read_bytes()


@FIXTURE_SETTINGS
@given(data=st.data())
def test_checkpoint_reader_survives_damage(valid_checkpoint, fuzz_dir, data):
    path = fuzz_dir / "epoch0002-step000000006.safetensors"
    path.write_bytes(data.draw(damaged_digitnet_file(valid_checkpoint)))
    checkpoint = reads_or_refuses(lambda: load_checkpoint(path), CheckpointError, path)
    if checkpoint is not None:
        assert checkpoint.config.layer_sizes == checkpoint.network.layer_sizes


@pytest.mark.parametrize("length", [2**31, 2**63, 2**64 - 1])
def test_forged_safetensors_header_length_allocates_nothing(valid_model, fuzz_dir, length):
    path = fuzz_dir / "forged.safetensors"
    path.write_bytes(struct.pack("<Q", length) + valid_model[8:])
    tracemalloc.start()
    try:
        with pytest.raises(
            ModelFileError,
            match=rf"^{path}: header length field says {length} bytes but the file "
            rf"has only {len(valid_model) - 8} after it \(truncated or forged\)$",
        ):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * len(valid_model) + 100_000


def test_forged_tensor_shape_is_refused(valid_model, fuzz_dir):
    """A header whose shape claims 2^40 x 2^40 floats for a few kB of data."""
    header_length = struct.unpack("<Q", valid_model[:8])[0]
    header = json.loads(valid_model[8 : 8 + header_length])
    header["dense0.W"]["shape"] = [2**40, 2**40]
    forged_header = json.dumps(header).encode()
    path = fuzz_dir / "forged-shape.safetensors"
    path.write_bytes(struct.pack("<Q", len(forged_header)) + forged_header + valid_model[8 + header_length :])
    with pytest.raises(ModelFileError, match=rf"^{path}: corrupt safetensors data \("):
        load_model(path)


# ----------------------------------------------------------------------------- what the fuzzers found


def test_csv_field_over_the_csv_module_limit_is_a_data_error(fuzz_dir):
    path = fuzz_dir / "huge-field.csv"
    path.write_bytes(b"7" * 200_000)
    with pytest.raises(DataError, match=rf"^{path}: cannot read as a text CSV \(field larger than field limit"):
        read_kaggle_csv(path)


def test_csv_row_starting_with_hash_is_not_silently_dropped(mnist_test, fuzz_dir):
    path = fuzz_dir / "hash.csv"
    lines = valid_csv(mnist_test.images[:2], mnist_test.labels[:2]).split(b"\n")
    path.write_bytes(b"\n".join([lines[0], b"#" + lines[1], lines[2], b""]))
    with pytest.raises(DataError, match=rf"^{path}: line 2: '#7' is not an integer$"):
        read_kaggle_csv(path)


def test_csv_with_byte_order_mark_reads(mnist_test, fuzz_dir):
    path = fuzz_dir / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + valid_csv(mnist_test.images[:2], mnist_test.labels[:2]))
    dataset = read_kaggle_csv(path)
    assert np.array_equal(dataset.images, mnist_test.images[:2]) and np.array_equal(
        dataset.labels, mnist_test.labels[:2]
    )


@pytest.mark.parametrize(
    "architecture, problem",
    [
        ({"layer_sizes": [784, 4, 10], "activation": ["relu"]}, "architecture metadata is invalid"),
        ({"layer_sizes": [784, float("inf"), 10], "activation": "relu"}, "architecture metadata is incomplete"),
        ({"layer_sizes": [784, -4, 10], "activation": "relu"}, "architecture metadata is invalid"),
    ],
)
def test_forged_architecture_with_valid_checksum_is_refused(valid_model, fuzz_dir, architecture, problem):
    tensors, info = split_file(valid_model)
    path = fuzz_dir / "forged-architecture.safetensors"
    path.write_bytes(pack(tensors, {**info, "architecture": architecture}))
    with pytest.raises(ModelFileError, match=rf"^{path}: {problem}"):
        load_model(path)
