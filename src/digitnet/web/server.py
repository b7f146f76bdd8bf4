"""``digitnet serve``: the page and its JSON API on the standard library's threaded HTTP server.

One page and a handful of endpoints need no web framework. Every request passes the ``Guard``
(``security.py``: Host, Origin, token) first; everything a client sends is checked before use;
a bad request gets a 4xx JSON ``{"error": ...}`` (never a traceback), and a client that stalls
is cut off after ``read_timeout`` seconds. Bound to 127.0.0.1 unless told otherwise. Drawing
is ``/api/predict`` (``api.py``); the lab is everything under ``/api/lab/`` (``lab_app.py``),
whose training runs in a thread of its own while these threads keep answering.
"""

from __future__ import annotations

import json
import socketserver
import sys
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ..data import TrainingData, load_training_data
from ..errors import ConfigError
from ..persistence import LoadedModel
from ..preprocess import require_pillow
from .api import (
    BadRequest,
    Predictor,
    ServedModel,
    input_from_request,
    min_confidence_from_request,
    parse_json_body,
)
from .bodies import JsonBodyReader
from .drawings import DrawingStore
from .lab_app import Lab, LabData
from .notes import notes_page
from .security import Guard

READ_TIMEOUT_SECONDS = 10.0
SCRIPTS = ("app.js", "common.js", "draw.js", "train.js", "curves.js", "backprop.js", "teach.js")
STATIC_FILES = {  # URL path -> (file in static/, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    **{f"/{name}": (name, "text/javascript; charset=utf-8") for name in SCRIPTS},
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
TOKEN_PLACEHOLDER = b"__DIGITNET_TOKEN__"  # in index.html: the page reads its token from a <meta>
ALLOWED_METHODS = {
    "/api/predict": "POST",
    "/api/model": "GET",
    "/notes": "GET",
    **{path: "GET" for path in STATIC_FILES},
}
# The page loads only its own files and talks only to its own server: a browser enforces that.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class DemoServer(ThreadingHTTPServer):
    """The HTTP server plus what its handlers share: the served model, the lab, the guard, the page."""

    daemon_threads = True  # a stalled client must not keep the process alive at shutdown

    def __init__(
        self, address, served: ServedModel, lab: Lab | None, read_timeout: float, log: Callable[[str], None] | None
    ):
        self.served = served
        self.lab = lab
        self.read_timeout = read_timeout
        self.log = log
        self.static_files = {
            path: ((files(__package__) / "static" / name).read_bytes(), content_type)
            for path, (name, content_type) in STATIC_FILES.items()
        }
        super().__init__(address, DemoRequestHandler)
        self.guard = Guard(address[0], self.server_port)
        page, content_type = self.static_files["/"]
        self.static_files["/"] = (page.replace(TOKEN_PLACEHOLDER, self.guard.token.encode()), content_type)
        self.static_files["/notes"] = (notes_page(), "text/html; charset=utf-8")

    @property
    def predictor(self) -> Predictor:
        return self.served.predictor

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's fully qualified name, a DNS query that
        # stalls start-up on a machine with no network; the bound address is all we need.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.socket.getsockname()[:2]

    @property
    def url(self) -> str:
        return f"http://{self.server_name}:{self.server_port}/"

    def handle_error(self, request, client_address) -> None:
        # a client that hangs up mid-answer is routine; anything else is worth a log line
        if self.log and not isinstance(sys.exc_info()[1], ConnectionError):
            self.log(f"error while serving {client_address[0]}: {traceback.format_exc()}")


class DemoRequestHandler(JsonBodyReader):
    """One connection: the page and its files, the model, predictions, and the lab."""

    protocol_version = "HTTP/1.1"  # keep-alive: the page predicts many times per drawing
    # a request line without a version would otherwise get an HTTP/0.9 answer: no status, no headers
    default_request_version = "HTTP/1.0"
    server_version = "digitnet"
    sys_version = ""
    server: DemoServer

    def setup(self) -> None:
        super().setup()
        # per server, so not StreamRequestHandler's class-wide ``timeout``, which does the same
        self.connection.settimeout(self.server.read_timeout)

    def do_GET(self) -> None:
        self.dispatch("GET")

    def do_POST(self) -> None:
        self.dispatch("POST")

    def do_DELETE(self) -> None:
        self.dispatch("DELETE")

    def dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.body_read = False
        try:
            self.server.guard.check(method, url.path, self.headers)
            if method == "GET" and url.path in self.server.static_files:
                self.send_static(*self.server.static_files[url.path])
                return
            answer = self.answer(method, url.path, url.query)
        except BadRequest as error:
            if not self.body_read:
                self.close_if_body_unread()
            self.send_json(error.status, {"error": error.message})
            return
        except Exception:  # a bug of ours: log it here, tell the client no more than that
            self.log_message("%s", traceback.format_exc())
            self.close_connection = True
            self.send_json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error (see the server's log)"})
            return
        if answer is None:
            self.refuse_path(url.path)
        else:
            self.send_json(HTTPStatus.OK, answer)

    def answer(self, method: str, path: str, query: str) -> dict | None:
        """The JSON answer to an API request, or ``None`` for a path or method nobody serves."""
        lab = self.server.lab
        if method != "POST":
            self.close_if_body_unread()
        if (method, path) == ("GET", "/api/model"):
            return self.server.predictor.description
        if (method, path) == ("POST", "/api/predict"):
            request = parse_json_body(self.read_json_body())
            return self.server.predictor.predict(input_from_request(request), min_confidence_from_request(request))
        if lab is not None and method in lab.methods(path):
            body = parse_json_body(self.read_json_body()) if method == "POST" else dict(parse_qsl(query))
            return lab.handle(method, path, body)
        return None

    def refuse_path(self, path: str) -> None:
        if not self.body_read:
            self.close_if_body_unread()
        allowed = ALLOWED_METHODS.get(path) or ", ".join(self.server.lab.methods(path) if self.server.lab else [])
        if allowed:
            error = {"error": f"{path} accepts {allowed} only"}
            self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, error, {"Allow": allowed})
        else:
            self.send_json(HTTPStatus.NOT_FOUND, {"error": f"no such page: {path}"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by ``http.server`` itself (a garbled request line, huge headers, an
        unknown method) as JSON too; an unknown method is the client's error (405), not 501."""
        self.close_connection = True
        if code == HTTPStatus.NOT_IMPLEMENTED:
            error = {"error": message or "method not allowed"}
            self.send_json(HTTPStatus.METHOD_NOT_ALLOWED, error, {"Allow": "GET, POST, DELETE"})
        elif code == HTTPStatus.HTTP_VERSION_NOT_SUPPORTED:
            self.send_json(HTTPStatus.BAD_REQUEST, {"error": message or "HTTP version not supported"})
        else:
            self.send_json(code, {"error": message or HTTPStatus(code).phrase})

    def send_json(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_body(data)

    def send_static(self, data: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("Cache-Control", "no-cache")
        self.send_body(data)

    def send_body(self, data: bytes) -> None:
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code="-", size="-") -> None:
        pass  # one line per debounced prediction would drown the errors worth reading

    def log_error(self, format: str, *args) -> None:
        if format.startswith("Request timed out"):
            return  # an idle keep-alive connection being closed is routine, not an error
        self.log_message(format, *args)

    def log_message(self, format: str, *args) -> None:
        if self.server.log:
            self.server.log(f"{self.address_string()} {format % args}")


def make_server(
    model: LoadedModel,
    host: str = "127.0.0.1",
    port: int = 8000,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    log: Callable[[str], None] | None = None,
    training_data: Callable[[], TrainingData] | None = None,
    drawings_dir: Path | None = None,
    models_dir: Path | None = None,
) -> DemoServer:
    """A server for ``model`` listening on ``host:port`` (port 0: any free port); call
    ``serve_forever()`` on it. Raises ``ConfigError`` if the address cannot be used.

    The lab trains on ``training_data()`` (default: MNIST, found as ``digitnet train`` finds
    it, loaded on the first run), keeps drawings in ``drawings_dir`` and saves runs in
    ``models_dir`` (default: under ``$XDG_DATA_HOME/digitnet``)."""
    require_pillow()  # canvas preprocessing needs it: fail now, not on the first request
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range (0-65535)")
    served = ServedModel(Predictor(model))
    lab = Lab(
        served,
        LabData(training_data or load_training_data),
        DrawingStore(drawings_dir),
        models_dir,
        log=log or (lambda line: None),
    )
    try:
        return DemoServer((host, port), served, lab, read_timeout, log)
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port} ({error.strerror or error})") from None
