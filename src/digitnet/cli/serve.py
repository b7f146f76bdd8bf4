"""``digitnet serve``: the local web page to draw digits on, and the lab to train and steer networks."""

from __future__ import annotations

import sys

from ..errors import ConfigError
from .common import DEFAULT_MODEL


def add_parser(commands) -> None:
    serve = commands.add_parser(
        "serve", help="a local web page: draw digits, train live, step through backpropagation, teach it"
    )
    serve.add_argument(
        "model", nargs="?", metavar="MODEL", help="model file (default: the one `digitnet train` saved last)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free port)")
    serve.add_argument(
        "--data",
        metavar="DIR|CSV",
        help="what the lab trains on: an MNIST folder or a Kaggle train.csv (default: as `digitnet train` finds MNIST)",
    )
    serve.set_defaults(run=run_serve)


def run_serve(args) -> int:
    from ..data import load_training_data
    from ..last_model import last_model
    from ..persistence import load_model
    from ..web.server import make_server

    path = args.model or last_model()
    if path is None:
        raise ConfigError(
            "no MODEL given and no trained model remembered: train one with `digitnet train` "
            f"(it saves {DEFAULT_MODEL}), then run `digitnet serve` again"
        )
    model = load_model(path)
    server = make_server(
        model,
        args.host,
        args.port,
        log=lambda line: print(line, file=sys.stderr, flush=True),
        training_data=lambda: load_training_data(args.data),
    )
    print(f"serving {model.path} at {server.url} (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped")
    finally:
        server.server_close()
    return 0
