"""Load on ``digitnet serve``: N requests from C concurrent clients against a local server.

    python benchmarks/serve_load.py [--model PATH] [--requests 2000] [--clients 8]
                                    [--payload canvas|image28] [--rounds 2] [--during-training]

The server runs as its own process (``python -m digitnet serve MODEL --port 0``), as a user
starts it; each client is a thread with one keep-alive connection. The bodies are real MNIST
test digits ($DIGITNET_DATA or --data): ``canvas`` sends each as the page does, a 280x280
canvas of 0-255 integers that the server preprocesses; ``image28`` sends the 784 pixels.
Reports requests per second, p50/p99 latency, errors (any answer other than a 200 with ten
probabilities), the server's CPU time per request, and its resident memory before and after
each round, so growth across rounds would show. Without --model, a 784-256-10 network with random weights stands in:
serving time does not depend on the weights' values. Traffic goes to 127.0.0.1 only.

``--during-training`` alternates rounds with the server idle and rounds while the lab trains a
784-128-10 network on MNIST (started through the lab's API with the page's token, as the page
does), and reports each round's p95 latency and, for each run, the time from the start request
to the first curve point in the lab's status (the first run includes loading MNIST).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from compare import blas_description

from digitnet.data import load_mnist_split, resolve_data_dir
from digitnet.network import Network
from digitnet.persistence import save_model


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model file (default: a random 784-256-10 network)")
    parser.add_argument("--data", help="MNIST folder (default: $DIGITNET_DATA, then the user cache)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--payload", choices=["canvas", "image28"], default="canvas")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, with the server's memory read after each")
    parser.add_argument(
        "--during-training", action="store_true", help="alternate idle rounds with rounds while the lab trains"
    )
    return parser


def request_bodies(data: str | None, payload: str, count: int = 200) -> list[bytes]:
    images = load_mnist_split(resolve_data_dir(data, download=False), "test").images[:count]
    if payload == "image28":
        return [json.dumps({"pixels": image.tolist(), "scale": 255}).encode() for image in images]
    block = np.ones((10, 10), dtype=np.uint8)
    return [
        json.dumps(
            {
                "pixels": np.kron(image.reshape(28, 28), block).ravel().tolist(),
                "width": 280,
                "height": 280,
                "scale": 255,
            }
        ).encode()
        for image in images
    ]


def start_server(model: Path) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "digitnet", "serve", str(model), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    if "127.0.0.1:" not in line:
        process.kill()
        raise SystemExit(f"the server did not start: {line!r}")
    return process, int(line.split("127.0.0.1:")[1].split("/")[0])


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process: unlike req/s, barely moved by other jobs' load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_round(port: int, bodies: list[bytes], n_requests: int, n_clients: int) -> dict:
    """``n_requests`` spread over ``n_clients`` threads; each times request + full answer."""
    latencies: list[float] = []
    errors: list[str] = []
    next_index = iter(range(n_requests))
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            start = time.perf_counter()
            try:
                connection.request(
                    "POST", "/api/predict", bodies[index % len(bodies)], {"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                errors.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            elapsed = time.perf_counter() - start
            if response.status != 200 or len(json.loads(answer).get("probabilities", [])) != 10:
                errors.append(f"HTTP {response.status}: {answer[:200]!r}")
            with lock:
                latencies.append(elapsed)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(n_clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "requests_per_second": n_requests / wall,
        "p50_ms": 1000 * quantiles[49],
        "p95_ms": 1000 * quantiles[94],
        "p99_ms": 1000 * quantiles[98],
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": wall,
    }


LAB_RUN = {"hidden": [128], "epochs": 30, "batch_size": 128, "lr": 0.1, "momentum": 0.9}


def lab_call(port: int, token: str, method: str, path: str, body: dict | None = None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"X-Digitnet-Token": token, "Content-Type": "application/json"}
    connection.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: HTTP {response.status}: {answer}")
    return answer


def page_token(port: int) -> str:
    """The token the page receives in its HTML, as a browser would read it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/")
    page = connection.getresponse().read().decode()
    connection.close()
    return re.search(r'name="digitnet-token" content="([^"]+)"', page).group(1)


def start_run_and_time_first_point(port: int, token: str) -> float:
    """Seconds from sending the start request to a status that holds a curve point."""
    start = time.perf_counter()
    lab_call(port, token, "POST", "/api/lab/start", LAB_RUN)
    while not lab_call(port, token, "GET", "/api/lab/status")["run"]["points"]:
        time.sleep(0.005)
    return time.perf_counter() - start


def training_rounds(port: int, bodies: list[bytes], args) -> bool:
    """Idle and training rounds alternated; a fresh lab run for every training round."""
    token = page_token(port)
    print(f"lab run: {LAB_RUN}")
    results: dict[str, list[float]] = {"idle": [], "training": []}
    failed = False
    for round_number in range(1, args.rounds + 1):
        for mode in ("idle", "training"):
            if mode == "training":
                first_point = start_run_and_time_first_point(port, token)
            result = run_round(port, bodies, args.requests, args.clients)
            detail = ""
            if mode == "training":
                run = lab_call(port, token, "GET", "/api/lab/status")["run"]
                lab_call(port, token, "POST", "/api/lab/stop", {})
                detail = f", first curve point after {1000 * first_point:.0f} ms, {run['step']} steps trained meanwhile"
            results[mode].append(result["p95_ms"])
            failed |= result["errors"] > 0
            print(
                f"round {round_number} {mode:>8}: {result['requests_per_second']:.1f} req/s, "
                f"p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                f"errors {result['errors']}{detail}"
            )
    for mode, p95s in results.items():
        print(f"{mode}: p95 median {statistics.median(p95s):.1f} ms [{min(p95s):.1f}-{max(p95s):.1f}]")
    return failed


def plain_rounds(port: int, pid: int, bodies: list[bytes], args) -> bool:
    """Rounds against the idle server, with its CPU time and memory read after each."""
    failed = False
    for round_number in range(1, args.rounds + 1):
        cpu_before = cpu_seconds(pid)
        result = run_round(port, bodies, args.requests, args.clients)
        cpu_ms = 1000 * (cpu_seconds(pid) - cpu_before) / args.requests
        failed |= result["errors"] > 0
        print(
            f"round {round_number}: {result['requests_per_second']:.1f} req/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, errors {result['errors']}, server CPU {cpu_ms:.1f} ms/request, "
            f"server RSS after {resident_mib(pid):.1f} MiB ({result['seconds']:.1f}s)"
        )
        for error in result["first_errors"]:
            print(f"  error: {error}")
    return failed


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    try:
        blas = blas_description()
    except ImportError:
        blas = "BLAS not identified: needs threadpoolctl (the [bench] extra)"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__} ({blas})"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    bodies = request_bodies(args.data, args.payload)
    with tempfile.TemporaryDirectory() as folder:
        model = Path(args.model) if args.model else Path(folder) / "random-784-256-10.safetensors"
        if not args.model:
            save_model(model, Network.create([784, 256, 10], np.random.default_rng(0)), metrics={})
        server, port = start_server(model)
        try:
            print(f"machine: {machine()}")
            print(
                f"{args.requests} requests x {args.rounds} rounds, {args.clients} clients, payload {args.payload} "
                f"({statistics.median(map(len, bodies)) / 1024:.0f} KiB per body), model {model.name}"
            )
            print(f"server RSS at start: {resident_mib(server.pid):.1f} MiB")
            print(f"load average at start: {os.getloadavg()}")
            if args.during_training:
                failed = training_rounds(port, bodies, args)
            else:
                failed = plain_rounds(port, server.pid, bodies, args)
            print(f"load average at the end: {os.getloadavg()}")
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
