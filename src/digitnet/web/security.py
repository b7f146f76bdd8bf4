"""Who may talk to the server: the Host header, the Origin of state changes, and the page's token.

A server on 127.0.0.1 is still reachable from every web page open in the user's browser
(Jupyter's threat model):

- **DNS rebinding**: a site whose name first resolves to its own server, then to 127.0.0.1,
  could read our answers as same-origin. Its requests carry *its* name in ``Host``, so only
  names that cannot be rebound are accepted: ``localhost``, IP literals, and the ``--host``
  the server was started with, each with the server's port.
- **Cross-site requests**: another site may send requests without reading the answers. Every
  ``/api/lab/`` request (which starts training, writes files or reads the user's drawings)
  must carry the per-process token, which only the page itself receives (in its HTML, which
  the Host check keeps from other sites); a ``POST`` or ``DELETE`` with a foreign ``Origin``
  or ``Sec-Fetch-Site`` is refused even with the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from urllib.parse import urlsplit

from .api import BadRequest

TOKEN_HEADER = "X-Digitnet-Token"
PROTECTED_PREFIX = "/api/lab/"
STATE_CHANGING_METHODS = ("POST", "DELETE")
TRUSTED_FETCH_SITES = ("same-origin", "none")  # "none": typed in the address bar, a bookmark


class Guard:
    """The checks for one server: its host name as started, its port, and its token."""

    def __init__(self, host: str, port: int):
        self.host = host.lower()
        self.port = port
        self.token = secrets.token_urlsafe(32)

    def check(self, method: str, path: str, headers) -> None:
        """Raise ``BadRequest(403)`` for a request this server must not act on."""
        host = self.check_host(headers.get("Host"))
        if method in STATE_CHANGING_METHODS:
            self.check_origin(headers.get("Origin"), headers.get("Sec-Fetch-Site"), host)
        if path.startswith(PROTECTED_PREFIX):
            self.check_token(headers.get(TOKEN_HEADER))

    def check_host(self, value: str | None) -> str:
        """The ``Host`` header if it names this server in a way DNS cannot rebind."""
        if not value:
            raise BadRequest(403, "missing Host header")
        try:
            parts = urlsplit(f"//{value}")
            name, port = (parts.hostname or ""), parts.port or 80  # a browser leaves out the default port
        except ValueError:
            name, port = "", None
        if port != self.port or not (name in ("localhost", self.host) or is_ip_literal(name)):
            raise BadRequest(
                403, f"Host {value!r} is not this server's address (open the page at 127.0.0.1:{self.port})"
            )
        return value

    def check_origin(self, origin: str | None, fetch_site: str | None, host: str) -> None:
        """A state change must come from this server's own page (or from a non-browser client,
        which sends no ``Origin``; it still needs the token for ``/api/lab/``)."""
        if origin is not None and origin != f"http://{host}":
            raise BadRequest(403, f"requests from {origin} may not change anything here")
        if fetch_site is not None and fetch_site not in TRUSTED_FETCH_SITES:
            raise BadRequest(403, f"a {fetch_site} request may not change anything here")

    def check_token(self, value: str | None) -> None:
        if value is None:
            raise BadRequest(403, f"missing {TOKEN_HEADER} header: lab requests come from the lab page")
        if not hmac.compare_digest(value.encode(), self.token.encode()):
            raise BadRequest(403, f"wrong {TOKEN_HEADER}: reload the page (the server may have restarted)")


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
