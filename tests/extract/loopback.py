"""A tiny hostile upstream on loopback for tests: each request is answered by a Python function.

`Answer` says what goes on the wire: status, headers and a body sent in pieces with pauses in
between (a trickle), or with a Content-Length that lies; the status line and headers themselves
can be trickled a byte at a time (`head_pause`). Every request is counted while it is being
answered (`in_flight`, `most_in_flight`), so a test can see calls overlap. The sandbox imitates
the real APIs; this imitates what no API should do, so that the session's bounds and the key
masking can be tested on real sockets.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Asked:
    """One request as the server saw it."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    raw: str = ""  # the request target as sent (path and query, still URL-encoded)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    pieces: int = 1  # the body in this many pieces...
    pause: float = 0.0  # ...with this many seconds between two
    length: int | None = None  # Content-Length to announce (None: the body's own; -1: none,
    # the body ends when the connection closes)
    head_pause: float = 0.0  # > 0: the status line and headers one byte at a time, this apart


Handler = Callable[[Asked], Answer]


class Loopback:
    """`with Loopback(handler) as server:` serves on `server.url` until the block ends."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.asked: list[Asked] = []
        self.in_flight = 0  # requests being answered right now
        self.most_in_flight = 0  # the most ever answered at once
        self._count = threading.Lock()
        self._stop = threading.Event()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except OSError:  # the client hung up on a cut: expected here
                    self.close_connection = True

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                asked = Asked(parts.path, query, dict(self.headers), self.path)
                with outer._count:
                    outer.asked.append(asked)
                    outer.in_flight += 1
                    outer.most_in_flight = max(outer.most_in_flight, outer.in_flight)
                try:
                    self._answer(outer.handler(asked))
                finally:
                    with outer._count:
                        outer.in_flight -= 1

            def _answer(self, answer: Answer) -> None:
                if answer.head_pause:
                    self._trickle_head(answer)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                length = len(answer.body) if answer.length is None else answer.length
                if length >= 0:
                    self.send_header("Content-Length", str(length))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    for piece in _pieces(answer.body, answer.pieces):
                        self.wfile.write(piece)
                        self.wfile.flush()
                        if answer.pause and outer._stop.wait(answer.pause):
                            break
                except OSError:  # the client hung up: what a cut looks like from here
                    self.close_connection = True

            def _trickle_head(self, answer: Answer) -> None:
                lines = [f"HTTP/1.1 {answer.status} OK"]
                lines += [f"{k}: {v}" for k, v in answer.headers.items()]
                lines += [f"Content-Length: {len(answer.body)}", "", ""]
                self.close_connection = True
                try:
                    for byte in "\r\n".join(lines).encode():
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        if outer._stop.wait(answer.head_pause):
                            return
                    self.wfile.write(answer.body)
                except OSError:  # the client hung up mid-head
                    return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _pieces(body: bytes, count: int) -> Iterator[bytes]:
    size = max(1, -(-len(body) // max(1, count)))
    for start in range(0, len(body), size):
        yield body[start : start + size]
