"""How closely the exports agree with the NumPy network: ONNX in onnxruntime and the static page's
JavaScript in Chromium, on all 10,000 MNIST test images, plus the size of each exported file.

Usage (needs the ``onnx-test`` and ``web-test`` extras and Debian's /usr/bin/chromium)::

    python benchmarks/export_agreement.py MODEL [--data MNIST_FOLDER] [--images 10000]

Prints the largest absolute difference in any class probability, how many predicted digits
differ, and the machine (CPU, BLAS), since float32 BLAS kernels round differently on other CPUs.
"""

from __future__ import annotations

import argparse
import functools
import platform
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from digitnet.data import load_mnist_split, resolve_data_dir, scale_images
from digitnet.export import export_onnx, export_web
from digitnet.functional import softmax
from digitnet.persistence import load_model

CHROMIUM = "/usr/bin/chromium"
PAGE_BATCH = 500  # inputs per call into the page: a call carries them as JSON


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass


def onnx_probabilities(path: Path, pixels: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"pixels": pixels.astype(np.float32)})[0]


def page_probabilities(site: Path, inputs: np.ndarray) -> np.ndarray:
    from playwright.sync_api import sync_playwright

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_function("() => document.body.dataset.ready === 'true'")
            batches = [
                page.evaluate(
                    "(inputs) => inputs.map((x) => Array.from(infer(state.model, Float32Array.from(x)).probabilities))",
                    inputs[start : start + PAGE_BATCH].tolist(),
                )
                for start in range(0, len(inputs), PAGE_BATCH)
            ]
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return np.concatenate([np.array(batch) for batch in batches])


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    try:
        from threadpoolctl import threadpool_info

        blas = next(f"{p['internal_api']} {p['version']} ({p.get('architecture')})" for p in threadpool_info())
    except (ImportError, StopIteration):
        blas = "BLAS unknown (pip install threadpoolctl)"
    return f"{cpu}; NumPy {np.__version__} with {blas}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--data", help="MNIST folder (default: $DIGITNET_DATA, then the user cache)")
    parser.add_argument("--images", type=int, default=10_000, help="how many test images (default 10000)")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    test = load_mnist_split(Path(args.data) if args.data else resolve_data_dir(), "test")
    pixels = test.images[: args.images]
    temperature = np.float32((model.metadata.get("calibration") or {}).get("temperature", 1))
    expected = softmax(model.network.infer(scale_images(pixels))[1] / temperature)
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = export_onnx(model, Path(folder) / "model.onnx")
        site_files = export_web(model, Path(folder) / "site")
        results = {
            "ONNX (onnxruntime)": onnx_probabilities(onnx_file, pixels),
            "static page (Chromium)": page_probabilities(Path(folder) / "site", scale_images(pixels)),
        }
        sizes = {path.name: path.stat().st_size for path in [onnx_file, *site_files]}
    print(f"{args.model}: {'-'.join(map(str, model.network.layer_sizes))}, {len(pixels)} MNIST test images")
    print(f"machine: {machine()}")
    for name, probabilities in results.items():
        differ = int((probabilities.argmax(axis=1) != expected.argmax(axis=1)).sum())
        print(f"{name}: max |p - p_numpy| = {np.abs(probabilities - expected).max():.3g}, predictions differ: {differ}")
    for name, size in sizes.items():
        print(f"{name}: {size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
