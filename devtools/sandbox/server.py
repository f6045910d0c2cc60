"""The sandbox over real HTTP: routing, auth per path family, error envelopes, faults and a request log."""

import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devtools.sandbox import catalog, orders, products, rules, soap, tasks, wire
from devtools.sandbox.accounts import Account
from devtools.sandbox.data import generate_account
from devtools.sandbox.errors import ApiError
from devtools.sandbox.faults import FaultConfig
from devtools.sandbox.state import SandboxState

JSON = "application/json;charset=UTF-8"
OUTAGE_PAGE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    "<center><h1>503 Service Temporarily Unavailable</h1></center><hr><center>nginx</center></body></html>"
)


@dataclass
class RequestRecord:
    """One request as the sandbox saw it; the secret is never kept, only whether it was sent."""

    method: str
    path: str
    query: dict[str, str]
    body: Any  # the parsed JSON body, a SOAP request's operation and fields (SoapRequest.logged), or None
    status: int  # 0 when the connection was reset without an answer
    fault: str | None
    has_secret: bool
    api_key: str | None


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, wire.dumps(payload), headers=headers or {})


def _text(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), "text/plain;charset=UTF-8")


def _outage() -> Reply:
    return Reply(503, OUTAGE_PAGE.encode(), "text/html")


# What answers an authorised request: (state, account, query with the path's parameters, parsed body) -> body.
Handler = Callable[[SandboxState, Account, Mapping[str, str], Any], Any]

# The one route table, by path family; a {name} in a path stands for a number (the handler finds it in the query).
# The "ws" family is SOAP: its body is a ``soap.SoapRequest`` (credentials inside it), its handler returns the
# answer's fields, and ``soap.respond`` authenticates and renders.
ROUTES: dict[tuple[str, str], Handler] = {
    ("GET", "/ms/product-query"): products.product_query,
    ("POST", "/ms/product/tasks/price-stock-update"): partial(tasks.submit, rules.PRICE_STOCK_UPDATE),
    ("POST", "/ms/product/tasks/product-update"): partial(tasks.submit, rules.PRODUCT_UPDATE),
    ("POST", "/ms/product/tasks/product-create"): partial(tasks.submit, rules.PRODUCT_CREATE),
    ("POST", "/ms/product/task-details/page-query"): tasks.task_details,
    ("GET", "/rest/delivery/v1/shipmentPackages"): orders.shipment_packages,
    ("PUT", "/rest/order/v1/update"): orders.update_order_lines,
    ("POST", "/rest/delivery/v1/splitPackageByQuantity"): orders.split_package_by_quantity,
    ("GET", "/cdn/categories"): catalog.categories,
    ("GET", "/cdn/category/{categoryId}/attribute"): catalog.category_attributes,
    ("POST", "/ws/returnService/"): soap.return_service,
    ("POST", "/ws/SellerInvoiceService"): soap.invoice_service,
}


def _pattern(path: str) -> re.Pattern[str]:
    """A route's path as a regex: its text literally, each {name} a number captured under that name."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>\\d+)", re.escape(path)))


_PATTERNS = {key: _pattern(key[1]) for key in ROUTES}


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler of a request and the parameters its path carries, or None when N11 has no such endpoint."""
    for (route_method, template), pattern in _PATTERNS.items():
        match = pattern.fullmatch(path) if route_method == method else None
        if match:
            return ROUTES[route_method, template], match.groupdict()
    return None


def _authorise(
    state: SandboxState, family: str, api_key: str | None, api_secret: str | None
) -> Account | Reply:
    """The caller's account, or the refusal N11 sends on this path family."""
    if family == "ms" and (api_key is None or api_secret is None):
        missing = "appkey" if api_key is None else "appsecret"
        return _json(
            500,
            {
                "@type": "MissingRequestHeaderException",
                "message": f"Required request header '{missing}' for method parameter type String "
                "is not present",
            },
        )
    account = state.authenticate(api_key, api_secret)
    if account is not None and (family != "rest" or account.order_service_open):
        return account
    if family == "ms":
        return _json(
            401,
            {
                "@type": "SellerApiUserUnauthorizedException",
                "message": "Apide doğrulama işlemi başarısız oldu.",
                "status": 401,
            },
        )
    if family == "rest" and state.rest_auth_style == "400":
        return _json(
            400,
            {
                "code": 400,
                "status": "failure",
                "errorCode": "SELLER_API.authenticationFailed",
                "errorMessage": "Kimlik doğrulama başarısız oldu: appkey veya appsecret hatalı.",
            },
        )
    return _text(403, "Authentication failed")


def _api_error(family: str, error: ApiError) -> Reply:
    if family == "cdn":
        return _json(400, {"errorCode": error.exception, "errorMessage": error.message})
    if family == "rest":
        return _json(
            400,
            {
                "code": 400,
                "status": "failure",
                "errorCode": "SELLER_API.invalidParameter",
                "errorMessage": error.message,
            },
        )
    return _json(500, {"@type": error.exception, "message": error.message, "status": 500})


def respond(
    state: SandboxState,
    method: str,
    path: str,
    query: Mapping[str, str],
    body: Any,
    api_key: str | None,
    api_secret: str | None,
) -> Reply:
    """The answer N11 gives a request, faults aside."""
    found = route(method, path)
    if found is None:
        return _outage()
    handler, path_params = found
    family = path.split("/")[1]
    if family == "ws":
        status, xml = soap.respond(state, handler, body)
        return Reply(status, xml, soap.CONTENT_TYPE)
    account = _authorise(state, family, api_key, api_secret)
    if isinstance(account, Reply):
        return account
    if method in ("POST", "PUT") and body is None:
        return _json(
            500,
            {
                "@type": "HttpMessageNotReadableException",
                "message": "Required request body is missing or is not valid JSON",
                "status": 500,
            },
        )
    try:
        return _json(200, handler(state, account, {**query, **path_params}, body))
    except ApiError as error:
        return _api_error(family, error)


GATEWAY_AFTER_WORK = ("502", "504")


def _gateway(status: int) -> Reply:
    title = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
    return Reply(status, f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center>"
                         "<hr><center>nginx</center></body></html>".encode(), "text/html")


def _fault_reply(kind: str | None, faults: FaultConfig) -> Reply | None:
    """The answer a 429/500/503 fault sends instead of processing; None for the other kinds."""
    if kind == "429":
        headers = {"Retry-After": "1"} if faults.coin() else {}
        return _json(
            429, {"@type": "TooManyRequestsException", "message": "Çok fazla istek gönderildi."}, headers
        )
    if kind == "500":
        return _json(
            500, {"@type": "InternalServerError", "message": "Beklenmeyen bir hata oluştu.", "status": 500}
        )
    if kind == "503":
        return _outage()
    return None


class _Server(ThreadingHTTPServer):
    sandbox: "N11Sandbox"

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall for seconds without DNS.
        TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's session expects
    disable_nagle_algorithm = True  # headers and body go out in two writes: don't wait on delayed ACKs
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the sandbox keeps its own request log."""

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        query = {name: values[-1] for name, values in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if url.path.startswith("/ws/"):  # SOAP: the credentials travel in the body
            body = soap.read_request(raw)
            api_key, api_secret = (body.api_key, body.api_secret) if body else (None, None)
        else:
            try:
                body = wire.loads(raw) if raw else None
            except ValueError:
                body = None
            api_key, api_secret = self.headers.get("appkey"), self.headers.get("appsecret")
        fault = sandbox.faults.draw(url.path)
        if fault == "slow":
            time.sleep(sandbox.faults.slow_seconds)
        reply = _fault_reply(fault, sandbox.faults)
        if reply is None and fault != "reset":
            reply = respond(sandbox.state, self.command, url.path, query, body, api_key, api_secret)
        if fault == "truncated":
            reply.body = reply.body[: len(reply.body) // 2]
        if fault in GATEWAY_AFTER_WORK:  # the work is done; the gateway answers that it lost the backend
            reply = _gateway(int(fault))
        # Logged before answering, so a client that has its answer also finds the request in the log.
        status = reply.status if reply else 0
        logged = body.logged() if isinstance(body, soap.SoapRequest) else body  # never the secret
        sandbox.log(
            RequestRecord(self.command, url.path, query, logged, status, fault, api_secret is not None, api_key)
        )
        if reply is None:
            self._reset()
        else:
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def _reset(self) -> None:
        """Drop the connection with a TCP reset and no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # the read buffer holds a reference; without it, close() closes the socket at once
        self.connection.close()
        self.close_connection = True


class N11Sandbox:
    """A fake N11 seller API for tests and the demo: `with N11Sandbox().start() as sandbox: ...`."""

    def __init__(self, state: SandboxState | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state if state is not None else SandboxState([generate_account(seed=42)])
        self.faults = FaultConfig()
        self.requests: list[RequestRecord] = []
        self._address = (host, port)
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "N11Sandbox":
        """Serve in a daemon thread; port 0 picks a free port (read it from url)."""
        if self._server is None:
            self._server = _Server(self._address, _RequestHandler)
            self._server.sandbox = self
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},  # how fast stop() returns
                name=f"n11-sandbox-{self._server.server_address[1]}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> "N11Sandbox":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log(self, record: RequestRecord) -> None:
        with self._log_lock:
            self.requests.append(record)

    def calls(self, method: str, path: str) -> list[RequestRecord]:
        """The logged requests with this method and exact path, in order."""
        with self._log_lock:
            return [
                record for record in self.requests if record.method == method.upper() and record.path == path
            ]

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()
