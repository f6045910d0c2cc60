"""What the Airflow 3.3 UI needs from us: a Test button that works, and Istanbul time by default.

Two ASGI middlewares, installed into Airflow's API server by ``n11.plugin``:

- ``ConnectionTestMiddleware``: the UI's Test button posts ``port: 0`` for an empty (hidden) port field
  (``Number("")``), and Airflow then refuses to test a stored connection with "The host or port to test differs
  from the stored connection". Port 0 is no real port, so it is dropped from the request. Airflow tests under a
  random temporary connection id: the real one is kept for the request (``tested_connection_id``) so that the
  hook's message names it, and a failure message of any other connection type that does not name it gets it
  prefixed.
- ``UiTimezoneMiddleware``: the UI shows times in the browser's zone unless the user picked one; the page
  gets a default (``[n11] ui_timezone``, Europe/Istanbul) that a user's own choice still overrides.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TEST_PATH = "/api/v2/connections/test"
_tested_connection_id: ContextVar[str | None] = ContextVar("n11_tested_connection_id", default=None)


def tested_connection_id(default: str) -> str:
    """The id of the connection the UI's Test button is testing, or ``default`` outside such a test."""
    return _tested_connection_id.get() or default


async def _read_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_length(start: Message, length: int) -> Message:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    return {**start, "headers": [*headers, (b"content-length", str(length).encode())]}


class _BufferedSend:
    """Holds a response back until ``rewrite`` may change its body (small JSON or HTML answers only)."""

    def __init__(self, send: Send, rewrite: Callable[[bytes, Message], bytes | None]) -> None:
        self.send, self.rewrite = send, rewrite
        self.start: Message | None = None
        self.body = b""

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
            return
        if message["type"] != "http.response.body" or self.start is None:
            await self.send(message)
            return
        self.body += message.get("body", b"")
        if message.get("more_body"):
            return
        body = self.rewrite(self.body, self.start)
        if body is None:
            await self.send(self.start)
            await self.send({"type": "http.response.body", "body": self.body})
        else:
            await self.send(_with_length(self.start, len(body)))
            await self.send({"type": "http.response.body", "body": body})


def fix_test_request(body: bytes) -> tuple[bytes, str | None]:
    """Drop the UI's ``port: 0``; return the body and the connection id under test."""
    try:
        data = json.loads(body)
    except ValueError:
        return body, None
    if not isinstance(data, dict):
        return body, None
    if data.get("port") == 0:
        del data["port"]
        body = json.dumps(data).encode()
    conn_id = data.get("connection_id")
    return body, conn_id if isinstance(conn_id, str) else None


def name_connection(body: bytes, conn_id: str) -> bytes | None:
    """A failed test's message naming the connection, when it does not already."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("status") is not False:
        return None
    message = str(data.get("message") or "")
    if conn_id in message:
        return None
    return json.dumps({**data, "message": f"Connection {conn_id!r}: {message}"}).encode()


class ConnectionTestMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not scope["path"].endswith(TEST_PATH):
            await self.app(scope, receive, send)
            return
        body, conn_id = fix_test_request(await _read_body(receive))
        if not conn_id:
            await self.app(scope, _replay(body), send)
            return
        token = _tested_connection_id.set(conn_id)
        try:
            named = _BufferedSend(send, lambda answer, _start: name_connection(answer, conn_id))
            await self.app(scope, _replay(body), named)
        finally:
            _tested_connection_id.reset(token)


def timezone_script(timezone: str) -> bytes:
    """Sets the UI's time zone (its local-storage key ``timezone``) unless the user has chosen one."""
    value = json.dumps(json.dumps(timezone))
    return (f'<script>try{{if(!localStorage.getItem("timezone"))localStorage.setItem("timezone",{value})}}'
            "catch(e){}</script>").encode()


_NOT_PAGES = ("/api/", "/ui/", "/static/", "/execution/", "/auth/")


class UiTimezoneMiddleware:
    def __init__(self, app: ASGIApp, timezone: str) -> None:
        self.app = app
        self.script = timezone_script(timezone)

    def _inject(self, body: bytes, start: Message) -> bytes | None:
        content_type = dict(start.get("headers", [])).get(b"content-type", b"")
        if not content_type.startswith(b"text/html") or b"</head>" not in body:
            return None
        return body.replace(b"</head>", self.script + b"</head>", 1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope["path"].startswith(_NOT_PAGES):
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, _BufferedSend(send, self._inject))
