"""A hostile HTTP server on 127.0.0.1 for the client's tests: it answers whatever a test scripts, and records
what it received (method, path, query, headers, body) so a test can assert what left the client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import simplejson


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What the server sends back; ``trickle`` sends the answer one byte at a time with that many seconds
    between bytes, from its status line or, with ``trickle_body``, from its body (the head arrives at once)."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=dict)
    trickle: float = 0.0
    trickle_body: bool = False


def json_answer(payload, status: int = 200, **headers: str) -> Answer:
    return Answer(status, simplejson.dumps(payload).encode(), {"Content-Type": "application/json", **headers})


Script = Callable[[Received], Answer]


class HostileServer:
    """``with HostileServer(script) as server``: ``server.url``, ``server.received``; stopped on exit."""

    def __init__(self, script: Script):
        self.script = script
        self.received: list[Received] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def log_message(self, *args) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Received(self.command, parts.path, dict(parse_qsl(parts.query)),
                                   {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
                owner.received.append(request)
                answer = owner.script(request)
                head = [f"HTTP/1.1 {answer.status} Scripted", f"Content-Length: {len(answer.body)}",
                        *(f"{k}: {v}" for k, v in answer.headers.items())]
                raw = ("\r\n".join(head) + "\r\n\r\n").encode() + answer.body
                try:
                    if answer.trickle:
                        if answer.trickle_body:
                            self.wfile.write(raw[:len(raw) - len(answer.body)])
                            raw = answer.body
                        for byte in _bytes(raw):
                            self.wfile.write(byte)
                            self.wfile.flush()
                            time.sleep(answer.trickle)
                    else:
                        self.wfile.write(raw)
                except OSError:
                    self.close_connection = True  # the client hung up: what a deadline does

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


def _bytes(raw: bytes) -> Iterable[bytes]:
    return (raw[i:i + 1] for i in range(len(raw)))
