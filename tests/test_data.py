"""MNIST IDX and Kaggle CSV readers, the dataset registry, where the data comes from, splits, scaling."""

import gzip
import hashlib
import shutil

import numpy as np
import pytest

from digitnet.data import (
    FASHION_MNIST,
    MNIST,
    MNIST_FILE_NAMES,
    cache_dir,
    get_dataset,
    load_mnist_split,
    load_training_data,
    parse_idx,
    read_kaggle_csv,
    resolve_data_dir,
    scale_images,
    split_train_validation,
)
from digitnet.errors import ConfigError, DataError

TRAIN_CLASS_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(kind, values):
    """Build an IDX file: images (n, 28, 28) with magic 2051, labels (n,) with magic 2049."""
    values = np.asarray(values, dtype=np.uint8)
    magic = 2051 if kind == "images" else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in values.shape)
    return header + values.tobytes()


def test_real_mnist_shapes_dtypes_and_class_counts(mnist_train, mnist_test):
    assert mnist_train.images.shape == (60000, 784) and mnist_test.images.shape == (10000, 784)
    assert mnist_train.images.dtype == np.uint8 and mnist_train.labels.dtype == np.uint8
    assert np.bincount(mnist_train.labels).tolist() == TRAIN_CLASS_COUNTS
    assert np.bincount(mnist_test.labels).tolist() == TEST_CLASS_COUNTS
    assert mnist_train.images.max() == 255 and mnist_train.images.min() == 0


def test_uncompressed_idx_files_are_read_too(mnist_dir, mnist_test, tmp_path):
    for name in MNIST_FILE_NAMES:
        if name.startswith("t10k"):
            with gzip.open(mnist_dir / name) as src:
                (tmp_path / name.removesuffix(".gz")).write_bytes(src.read())
    test = load_mnist_split(tmp_path, "test")
    np.testing.assert_array_equal(test.images, mnist_test.images)


def copy_test_files(mnist_dir, folder):
    folder.mkdir(exist_ok=True)
    for name in MNIST_FILE_NAMES:
        if name.startswith("t10k"):
            shutil.copy(mnist_dir / name, folder / name)
    return folder


def test_truncated_gzip_is_reported_with_the_file_name(mnist_dir, tmp_path):
    folder = copy_test_files(mnist_dir, tmp_path / "data")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=f"{path}: gzip file is truncated"):
        load_mnist_split(folder, "test")


def test_file_with_gzip_magic_but_garbage_is_not_a_valid_gzip(mnist_dir, tmp_path):
    folder = copy_test_files(mnist_dir, tmp_path / "data")
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b" + b"not really gzip at all" * 10)
    with pytest.raises(DataError, match=f"{path}: not a valid gzip file"):
        load_mnist_split(folder, "test")


def test_checksum_mismatch_names_the_file(mnist_dir, tmp_path):
    folder = copy_test_files(mnist_dir, tmp_path / "data")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    content = bytearray(gzip.decompress(path.read_bytes()))
    content[-1] = (content[-1] + 1) % 10  # still a valid label, so only the checksum can tell
    path.write_bytes(gzip.compress(bytes(content)))
    with pytest.raises(DataError, match=f"{path}: SHA-256 mismatch: got [0-9a-f]{{64}}, expected ff7bcfd4"):
        load_mnist_split(folder, "test")


def test_wrong_magic(tmp_path):
    content = bytearray(idx_bytes("labels", [1, 2, 3]))
    content[3] = 0x04  # 2049 -> 2052
    with pytest.raises(DataError, match="labels.idx: wrong magic number 2052, expected 2049 for IDX labels"):
        parse_idx(bytes(content), tmp_path / "labels.idx", "labels")


def test_header_count_disagrees_with_payload(tmp_path):
    content = idx_bytes("images", np.zeros((3, 28, 28)))[:-784]
    with pytest.raises(DataError, match="header says 3x28x28 = 2352 bytes of data, file has 1568"):
        parse_idx(content, tmp_path / "images.idx", "images")


def test_forged_huge_count_fails_without_allocating(tmp_path):
    content = bytearray(idx_bytes("images", np.zeros((1, 28, 28))))
    content[4:8] = (2**31 - 1).to_bytes(4, "big")
    with pytest.raises(DataError, match="header says 2147483647x28x28"):
        parse_idx(bytes(content), tmp_path / "x", "images")


def test_header_too_short(tmp_path):
    with pytest.raises(DataError, match="file is 6 bytes, too short for an IDX labels header"):
        parse_idx(b"\x00\x00\x08\x01\x00\x00", tmp_path / "x", "labels")


def test_images_that_are_not_28_by_28(tmp_path):
    content = idx_bytes("images", np.zeros((2, 28, 28)))
    content = content[:8] + (14).to_bytes(4, "big") + (56).to_bytes(4, "big") + content[16:]
    with pytest.raises(DataError, match="images are 14x56, expected 28x28"):
        parse_idx(content, tmp_path / "x", "images")


def test_label_outside_0_to_9(tmp_path):
    with pytest.raises(DataError, match="label 12 is outside 0-9"):
        parse_idx(idx_bytes("labels", [1, 12, 3]), tmp_path / "x", "labels")


def test_images_and_labels_of_different_counts(tmp_path):
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes("images", np.zeros((3, 28, 28))))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes("labels", [1, 2]))
    with pytest.raises(DataError, match="3 test images but 2 labels"):
        load_mnist_split(tmp_path, "test", verify=False)


def test_data_location_order(mnist_dir, tmp_path, monkeypatch):
    cache = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("DIGITNET_DATA", str(mnist_dir))
    assert resolve_data_dir(None) == mnist_dir  # the environment variable
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(DataError, match=f"MNIST files missing in {other}: train-images-idx3-ubyte.gz"):
        resolve_data_dir(other)  # --data comes first, and a folder you chose must have the files
    monkeypatch.delenv("DIGITNET_DATA")
    shutil.copytree(mnist_dir, cache / "digitnet" / "mnist")
    assert resolve_data_dir(None) == cache / "digitnet" / "mnist"  # then the user cache


def test_no_files_and_no_download_says_which_files_and_where(tmp_path, monkeypatch):
    monkeypatch.delenv("DIGITNET_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(DataError) as error:
        resolve_data_dir(None, download=False)
    message = str(error.value)
    assert all(name in message for name in MNIST_FILE_NAMES)
    assert str(tmp_path / "digitnet" / "mnist") in message and "DIGITNET_DATA" in message


def test_missing_data_folder(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'nope'}: data folder does not exist"):
        resolve_data_dir(tmp_path / "nope")


# ----------------------------------------------------------------------------- Kaggle CSV

HEADER = ",".join(f"pixel{i}" for i in range(784))


def write_csv(path, images, labels=None, header=None):
    lines = [header if header is not None else ("label," + HEADER if labels is not None else HEADER)]
    for i, image in enumerate(images):
        values = ([labels[i]] if labels is not None else []) + list(image)
        lines.append(",".join(map(str, values)))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_kaggle_train_and_test_csv_round_trip(mnist_test, tmp_path):
    images, labels = mnist_test.images[:50], mnist_test.labels[:50]
    train = read_kaggle_csv(write_csv(tmp_path / "train.csv", images, labels))
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.labels, labels)
    test = read_kaggle_csv(write_csv(tmp_path / "test.csv", images))
    assert test.labels is None and test.images.dtype == np.uint8
    np.testing.assert_array_equal(test.images, images)


def test_training_on_a_kaggle_csv_without_labels_is_refused(mnist_test, tmp_path):
    path = write_csv(tmp_path / "test.csv", mnist_test.images[:3])
    with pytest.raises(DataError, match="test.csv: has no 'label' column, so it cannot be trained on"):
        load_training_data(path)


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda h, rows: (h.replace(",pixel783", ""), rows), "header has 784 columns, expected 785"),
        (lambda h, rows: (h + ",extra", rows), "header has 786 columns, expected 785"),
        (lambda h, rows: (h.replace("pixel5,", "pixel_5,"), rows), "header column 7 is 'pixel_5', expected 'pixel5'"),
        (lambda h, rows: (h, [rows[0], rows[1] + ",0"]), "line 3 has 786 columns, expected 785"),
        (lambda h, rows: (h, [rows[0], rows[1].rsplit(",", 1)[0]]), "line 3 has 784 columns, expected 785"),
        (lambda h, rows: (h, [rows[0].replace(",0,", ",abc,", 1), rows[1]]), "line 2: 'abc' is not an integer"),
        (lambda h, rows: (h, [rows[0], rows[1].replace(",0,", ",256,", 1)]), "line 3: value 256 is outside 0-255"),
        (lambda h, rows: (h, [rows[0], rows[1].replace(",0,", ",-1,", 1)]), "line 3: value -1 is outside 0-255"),
        (lambda h, rows: (h, ["11" + rows[0][1:], rows[1]]), "line 2: label 11 is outside 0-9"),
        (lambda h, rows: (h, []), "no data rows after the header"),
        (lambda h, rows: ("", []), "empty file, expected a Kaggle CSV header"),
    ],
)
def test_bad_kaggle_csv(mnist_test, tmp_path, mutate, message):
    labels = [3, 7]
    rows = [",".join(map(str, [labels[i], *mnist_test.images[i]])) for i in range(2)]
    header, rows = mutate("label," + HEADER, rows)
    path = tmp_path / "train.csv"
    path.write_text("\n".join([header, *rows]) + ("\n" if header else ""))
    with pytest.raises(DataError, match=f"{path}: {message}"):
        read_kaggle_csv(path)


def test_csv_that_is_not_text(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(DataError, match=f"{path}: cannot read as a text CSV"):
        read_kaggle_csv(path)


# ----------------------------------------------------------------------------- split and scaling


def test_validation_split_is_disjoint_complete_and_seeded(mnist_test):
    train, val = split_train_validation(mnist_test, 1000, np.random.default_rng(3))
    assert len(train) == 9000 and len(val) == 1000
    again_train, again_val = split_train_validation(mnist_test, 1000, np.random.default_rng(3))
    np.testing.assert_array_equal(val.images, again_val.images)
    rows = {row.tobytes() for row in val.images[:200]}
    assert not rows & {row.tobytes() for row in train.images}
    assert np.bincount(np.concatenate([train.labels, val.labels])).tolist() == TEST_CLASS_COUNTS


def test_validation_size_out_of_range(mnist_test):
    with pytest.raises(DataError, match="validation size 10000 must be between 1 and 9999"):
        split_train_validation(mnist_test, 10000, np.random.default_rng(0))


def test_scale_images_to_float32_unit_range():
    images = np.array([[0, 51, 255]], dtype=np.uint8)
    scaled = scale_images(images)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 0.2, 1.0]], rtol=1e-6)
    out = np.empty((1, 3), dtype=np.float32)
    assert scale_images(images, out=out) is out


# ----------------------------------------------------------------------------- the dataset registry


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_registered_checksums_and_sizes_are_those_of_the_real_files(name, mnist_dir, fashion_mnist_dir):
    folder = {"mnist": mnist_dir, "fashion-mnist": fashion_mnist_dir}[name]
    for file in get_dataset(name).files:
        content = gzip.decompress((folder / file.name).read_bytes())
        assert len(content) == file.size
        assert hashlib.sha256(content).hexdigest() == file.sha256


def test_fashion_mnist_loads_by_name_with_its_class_names(fashion_mnist_dir):
    test = load_mnist_split(fashion_mnist_dir, "test", dataset="fashion-mnist")
    assert test.images.shape == (10000, 784) and test.source == f"Fashion-MNIST test ({fashion_mnist_dir})"
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert FASHION_MNIST.class_names[9] == "Ankle boot" and len(FASHION_MNIST.class_names) == 10
    assert MNIST.class_names == tuple("0123456789")


def test_one_dataset_is_never_taken_for_another(fashion_mnist_dir):
    # same file names, same format: only the checksums tell Fashion-MNIST from MNIST
    with pytest.raises(
        DataError, match=r"t10k-images-idx3-ubyte.gz: is Fashion-MNIST's t10k-images-idx3-ubyte.gz, not the one this"
    ):
        load_mnist_split(fashion_mnist_dir, "test", dataset="mnist")


def test_unknown_dataset_lists_the_registered_ones():
    with pytest.raises(ConfigError, match="unknown dataset 'cifar10'; choose one of: mnist, fashion-mnist"):
        load_training_data(dataset="cifar10")


def test_each_dataset_has_its_own_environment_variable_and_cache(mnist_dir, fashion_mnist_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("DIGITNET_FASHION_MNIST_DATA", str(fashion_mnist_dir))
    assert resolve_data_dir(dataset="fashion-mnist") == fashion_mnist_dir
    assert resolve_data_dir() == mnist_dir  # DIGITNET_DATA, set for every test
    monkeypatch.delenv("DIGITNET_FASHION_MNIST_DATA")
    assert cache_dir("fashion-mnist") == tmp_path / "digitnet" / "fashion-mnist"
    with pytest.raises(DataError) as error:
        resolve_data_dir(dataset="fashion-mnist", download=False)
    message = str(error.value)
    assert message.startswith(f"Fashion-MNIST files missing in {tmp_path / 'digitnet' / 'fashion-mnist'}: ")
    assert "point DIGITNET_FASHION_MNIST_DATA or --data" in message
    assert "run 'digitnet download --dataset fashion-mnist'" in message


def test_an_unlabelled_set_says_so_where_labels_are_required(mnist_test, tmp_path):
    path = write_csv(tmp_path / "test.csv", mnist_test.images[:2])
    with pytest.raises(DataError, match=f"Kaggle CSV {path}: has no labels"):
        read_kaggle_csv(path).require_labels()
    np.testing.assert_array_equal(mnist_test.require_labels(), mnist_test.labels)
