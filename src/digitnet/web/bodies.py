"""Reading a request's JSON body without trusting the client: headers checked first, a size
limit, and one deadline for the whole body, so a slow or lying client cannot hold a thread."""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler

from .api import MAX_BODY_BYTES, BadRequest


class JsonBodyReader(BaseHTTPRequestHandler):
    """A request handler that reads JSON bodies; ``body_read`` says whether this request's was."""

    body_read = False

    def close_if_body_unread(self) -> None:
        """Bytes of a body left on a kept-alive connection would be read as the next request."""
        if self.headers.get("Content-Length", "0").strip() != "0" or "Transfer-Encoding" in self.headers:
            self.close_connection = True

    def read_json_body(self) -> bytes:
        """The body, after checking its headers; an error before the whole body is read closes
        the connection (``close_if_body_unread``)."""
        keep_alive = not self.close_connection
        self.close_connection = True
        if "Content-Type" not in self.headers:
            raise BadRequest(415, "missing Content-Type: send the body as application/json")
        if self.headers.get_content_type() != "application/json":
            raise BadRequest(
                415, f"Content-Type {self.headers['Content-Type']!r} is not accepted: send application/json"
            )
        charset = self.headers.get_content_charset()
        if charset not in (None, "utf-8", "utf8"):
            raise BadRequest(415, f"charset {charset} is not accepted: send UTF-8")
        if "Transfer-Encoding" in self.headers:
            raise BadRequest(411, "chunked bodies are not accepted: send a Content-Length")
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            raise BadRequest(411, "missing Content-Length")
        if not length_header.strip().isdigit():
            raise BadRequest(400, f"Content-Length {length_header!r} is not a byte count")
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            raise BadRequest(413, f"the body is {length} bytes; the limit is {MAX_BODY_BYTES}")
        body = self.read_exactly(length)
        self.close_connection = not keep_alive
        self.body_read = True
        return body

    def read_exactly(self, length: int) -> bytes:
        """``length`` bytes within ``read_timeout`` in all: the socket timeout alone would let a
        client that sends one byte every few seconds hold a thread for ever."""
        timeout = self.connection.gettimeout() or 0.0  # the server's read_timeout, set in setup()
        deadline = time.monotonic() + timeout
        chunks, received = [], 0
        try:
            while received < length:
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunk = self.rfile.read1(min(length - received, 1 << 16))
                if not chunk:
                    raise BadRequest(400, f"the body ended after {received} of {length} bytes")
                chunks.append(chunk)
                received += len(chunk)
        except TimeoutError:
            raise BadRequest(408, f"timed out after {timeout:g}s with {received} of {length} bytes read") from None
        return b"".join(chunks)
