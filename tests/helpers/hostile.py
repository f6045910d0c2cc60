"""A hostile HTTP server on 127.0.0.1 for the client's tests: it answers whatever a test scripts, and records
what it received (method, path, query, headers, body) so a test can assert what left the client."""

from __future__ import annotations

import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import simplejson
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


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
    """``with HostileServer(script) as server``: ``server.url``, ``server.received``; stopped on exit.

    With ``tls_dir`` it speaks https with a fresh self-signed certificate for 127.0.0.1, written to ``ca_file``.
    """

    def __init__(self, script: Script, tls_dir: Path | None = None):
        self.script = script
        self.ca_file: Path | None = None
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
        if tls_dir is not None:
            self.ca_file, key_file = _self_signed(tls_dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.ca_file, key_file)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.ca_file else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key: the client trusts it as its CA bundle."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _bytes(raw: bytes) -> Iterable[bytes]:
    return (raw[i:i + 1] for i in range(len(raw)))
