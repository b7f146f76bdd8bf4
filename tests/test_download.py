"""Downloading MNIST, tested against a local HTTP server on 127.0.0.1 (never the internet):
good, missing, truncated and corrupted files, mirror fallback, atomic placement."""

import gzip
import http.server
import socket
import threading
from functools import partial

import pytest

from digitnet.cli import main
from digitnet.data import FASHION_MNIST, MNIST_FILE_NAMES, MNIST_FILES, load_mnist_split, read_mnist_file
from digitnet.download import download_file, download_mnist
from digitnet.errors import DownloadError

LABELS = next(spec for spec in MNIST_FILES if spec.name == "t10k-labels-idx1-ubyte.gz")
FASHION_LABELS = next(spec for spec in FASHION_MNIST.files if spec.name == "t10k-labels-idx1-ubyte.gz")


class MirrorHandler(http.server.BaseHTTPRequestHandler):
    """``/good/NAME`` serves the real file; ``/corrupt/`` a gzip with one changed byte inside;
    ``/short-gzip/`` a gzip cut in half (honest Content-Length); ``/cut/`` promises the full
    length but closes halfway; anything else is 404. Every request is counted."""

    def __init__(self, *args, files, counts, **kwargs):
        self.files, self.counts = files, counts
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.counts[self.path] = self.counts.get(self.path, 0) + 1
        _, mode, name = self.path.split("/", 2)
        if name not in self.files or mode not in ("good", "corrupt", "short-gzip", "cut"):
            self.send_error(404)
            return
        body = self.files[name]
        if mode == "corrupt":
            content = bytearray(gzip.decompress(body))
            content[-1] ^= 1
            body = gzip.compress(bytes(content), compresslevel=1)  # level 1: fast for 47 MB
        if mode == "short-gzip":
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.files[name]) if mode == "cut" else len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if mode == "cut" else body)


def serve(folder, names):
    """Serve ``names`` from ``folder`` on 127.0.0.1; yields the base URL and the request counts."""
    files = {name: (folder / name).read_bytes() for name in names}
    counts = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(MirrorHandler, files=files, counts=counts))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", counts
    server.shutdown()
    server.server_close()


@pytest.fixture
def mirror(mnist_dir):
    yield from serve(mnist_dir, MNIST_FILE_NAMES)


@pytest.fixture
def fashion_mirror(fashion_mnist_dir):
    yield from serve(fashion_mnist_dir, [FASHION_LABELS.name])


def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens here once the probe is closed


def test_falls_back_past_missing_and_corrupt_mirrors_and_verifies(mirror, mnist_test, tmp_path):
    base, counts = mirror
    folder = tmp_path / "cache"
    download_mnist(folder, mirrors=(f"{base}/missing/", f"{base}/corrupt/", f"{base}/good/"), progress=False)
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST_FILE_NAMES)  # no temporary files left
    test = load_mnist_split(folder, "test")
    assert (test.labels == mnist_test.labels).all()
    assert counts[f"/corrupt/{LABELS.name}"] == 1  # a bad checksum is not retried on the same mirror


def test_every_mirror_bad_reports_each_failure_and_leaves_nothing(mirror, tmp_path):
    base, counts = mirror
    with pytest.raises(DownloadError) as error:
        download_file(
            LABELS,
            tmp_path,
            (f"{base}/missing/", f"{base}/corrupt/", f"{base}/short-gzip/"),
            retries=2,
            timeout=5,
            progress=False,
        )
    message = str(error.value)
    assert f"{base}/missing/{LABELS.name}: HTTP 404" in message
    assert f"{base}/corrupt/{LABELS.name}: SHA-256 mismatch" in message
    assert f"{base}/short-gzip/{LABELS.name}: {LABELS.name}: gzip file is truncated" in message
    assert "digitnet needs the four files" in message
    assert list(tmp_path.iterdir()) == []


def test_connection_cut_short_is_retried_then_the_next_mirror_is_used(mirror, tmp_path):
    base, counts = mirror
    path = download_file(LABELS, tmp_path, (f"{base}/cut/", f"{base}/good/"), retries=2, timeout=5, progress=False)
    assert counts[f"/cut/{LABELS.name}"] == 2
    assert [p.name for p in tmp_path.iterdir()] == [LABELS.name] and path == tmp_path / LABELS.name
    assert read_mnist_file(path, LABELS).shape == (10000,)  # verified against its checksum


def test_no_network_says_which_files_are_needed_and_where(tmp_path):
    with pytest.raises(DownloadError) as error:
        download_file(LABELS, tmp_path, (closed_port_url(),), retries=2, timeout=2, progress=False)
    message = str(error.value)
    assert "attempt 2 of 2" in message
    assert all(name in message for name in MNIST_FILE_NAMES) and str(tmp_path) in message


def test_an_existing_file_is_never_overwritten_by_a_failed_download(mirror, tmp_path):
    base, _ = mirror
    existing = tmp_path / LABELS.name
    existing.write_bytes(b"previous content")
    with pytest.raises(DownloadError):
        download_file(LABELS, tmp_path, (f"{base}/corrupt/",), retries=1, timeout=5, progress=False)
    assert existing.read_bytes() == b"previous content"


def test_cli_download_into_the_user_cache_from_configured_mirrors(mirror, tmp_path, monkeypatch, capsys):
    base, _ = mirror
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("DIGITNET_MIRRORS", f"{base}/missing/,{base}/good/")
    assert main(["download"]) == 0
    folder = tmp_path / "digitnet" / "mnist"
    assert capsys.readouterr().out.strip() == f"MNIST is in {folder}"
    assert len(load_mnist_split(folder, "train")) == 60000


def test_cli_download_of_the_second_dataset_goes_to_its_own_cache_folder(
    fashion_mnist_dir, tmp_path, monkeypatch, capsys
):
    for base, _ in serve(fashion_mnist_dir, FASHION_MNIST.file_names):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
        monkeypatch.setenv("DIGITNET_MIRRORS", f"{base}/good/")
        assert main(["download", "--dataset", "fashion-mnist"]) == 0
    folder = tmp_path / "digitnet" / "fashion-mnist"
    assert capsys.readouterr().out.strip() == f"Fashion-MNIST is in {folder}"
    assert len(load_mnist_split(folder, "test", dataset="fashion-mnist")) == 10000


def test_a_second_dataset_downloads_against_its_own_checksums(mirror, fashion_mirror, tmp_path):
    mnist_base, _ = mirror
    fashion_base, _ = fashion_mirror
    # both mirrors serve a file of this name; only Fashion-MNIST's content passes its checksum
    mirrors = (f"{mnist_base}/good/", f"{fashion_base}/good/")
    path = download_file(FASHION_LABELS, tmp_path, mirrors, retries=1, timeout=5, progress=False, dataset=FASHION_MNIST)
    assert read_mnist_file(path, FASHION_LABELS).tolist()[:3] == [9, 2, 1]  # ankle boot, pullover, trouser
    path.unlink()
    with pytest.raises(DownloadError) as error:
        download_file(
            FASHION_LABELS, tmp_path, mirrors[:1], retries=1, timeout=5, progress=False, dataset=FASHION_MNIST
        )
    assert f"{mnist_base}/good/{FASHION_LABELS.name}: SHA-256 mismatch" in str(error.value)
    assert "Fashion-MNIST files missing in" in str(error.value)
