"""The HTTP exchange both N11 clients share: the REST client (``client.py``) and the SOAP one (``soap.py``).

One ``requests.Session`` goes only to the configured host: https, or plain http to this machine (the sandbox);
redirects are never followed (the credentials would travel with them). Every call goes through the client-side
rate limiter and is retried with exponential backoff while the answer says retrying may help (429, 5xx, timeouts,
resets; ``Retry-After`` is honoured). Writes are not idempotent at N11: a write whose connection broke after it
was sent raises ``N11Unavailable`` instead of being sent again, and each client's reading of the answer decides
the rest (``Retryable`` asks for another try). Each attempt has a total deadline (``call_timeout``, see
``deadline.py``) and a call with its retries another (``max_retry_seconds``); an answer may be bounded in size.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import tenacity

from n11.deadline import DeadlineAdapter, deadline
from n11.errors import N11BadResponse, N11Error, N11Unavailable, scrub
from n11.provider import DEFAULT_BASE_URL

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_AGENT = "n11-airflow"


@dataclass(frozen=True)
class ClientSettings:
    """Tunables, read from the Airflow connection's extra; defaults suit production N11."""

    requests_per_minute: float = 600.0  # N11 documents 1000/min for order listing: stay well under
    connect_timeout: float = 10.0
    read_timeout: float = 60.0  # the longest silence within an answer
    call_timeout: float = 120.0  # the longest one attempt may take, from connecting to the answer's last byte
    max_attempts: int = 5
    max_retry_seconds: float = 300.0  # the longest a call may take, its retries and waits included
    backoff_seconds: float = 1.0  # first wait; doubled on every retry
    backoff_max_seconds: float = 60.0
    max_pages: int = 2000  # the most pages one paged read may take: a 200k-SKU product scan is 800
    max_requests_per_window: int = 2000  # the most requests one order window may take, its parts included

    @classmethod
    def from_extra(cls, extra: dict[str, Any]) -> ClientSettings:
        """Build from a connection extra, naming the field when a value is not a positive number."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in extra:
                continue
            raw = extra[f.name]
            try:
                value = int(raw) if f.type == "int" else float(raw)
            except (TypeError, ValueError):
                raise ValueError(f"connection extra {f.name!r} must be a number, got {raw!r}") from None
            if value <= 0:
                raise ValueError(f"connection extra {f.name!r} must be positive, got {raw!r}")
            values[f.name] = value
        return cls(**values)


class RateLimiter:
    """Spaces calls evenly so that no more than ``per_minute`` start in any minute (thread-safe)."""

    def __init__(self, per_minute: float):
        self.interval = 60.0 / per_minute
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class Retryable(Exception):
    """A failed attempt worth another try; ``final`` is raised when the tries run out."""

    def __init__(self, reason: str, retry_after: float | None = None, final: type[N11Error] = N11Unavailable):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.final = final


class Transport:
    """The session, rate limiter and retry budget of one store's N11 credentials; both clients may share one."""

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL,
                 settings: ClientSettings | None = None):
        self.base_url = checked_base_url(base_url)
        self.api_key = api_key
        self.secret = api_secret
        self.settings = settings or ClientSettings()
        self._limiter = RateLimiter(self.settings.requests_per_minute)
        self._session = requests.Session()
        for scheme in ("http://", "https://"):
            self._session.mount(scheme, DeadlineAdapter())
        if self.base_url.startswith("http://"):
            self._session.trust_env = False  # no proxy (nor .netrc) between the client and this machine
        self._session.headers.update({"User-Agent": USER_AGENT})

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def close(self) -> None:
        self._session.close()

    def share_rate(self, clients: int) -> None:
        """Limit these credentials to their share of ``requests_per_minute`` when ``clients`` of them run at once
        (the store's pool slots), so that together they stay within the rate."""
        self._limiter = RateLimiter(self.settings.requests_per_minute / clients)

    def clean(self, text: str) -> str:
        """Text from an answer, safe to quote in a message or a log: without the secret."""
        return scrub(text, self.secret)

    def send(self, method: str, path: str, read: Callable[[requests.Response], T], *, label: str | None = None,
             params: dict | None = None, data: str | bytes | None = None, headers: dict | None = None,
             idempotent: bool = True, max_bytes: int | None = None) -> T:
        """Send with rate limiting and retries, all within ``max_retry_seconds``, and return ``read(answer)``.

        ``read`` sees every answer that is not a redirect and raises ``Retryable`` for one worth another try;
        ``label`` names the call in messages (default ``METHOD path``); an answer longer than ``max_bytes`` is
        refused without being read to its end.
        """
        label = label or f"{method} {path}"
        s = self.settings
        give_up_at = time.monotonic() + s.max_retry_seconds
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(Retryable),
            stop=tenacity.stop_after_attempt(s.max_attempts) | tenacity.stop_before_delay(s.max_retry_seconds),
            wait=self._wait,
            before_sleep=lambda state: log.warning(
                "N11 %s: %s; attempt %d of %d failed, retrying in %.1fs", label,
                state.outcome.exception().reason, state.attempt_number, s.max_attempts,
                state.next_action.sleep),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    seconds = min(s.call_timeout, max(give_up_at - time.monotonic(), 0.0))
                    response = self._attempt(method, path, label, params, data, headers, idempotent, max_bytes,
                                             seconds)
                    return read(response)
        except Retryable as exc:
            raise exc.final(f"N11 {label} kept failing after retries: {exc.reason}") from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying either returns or raises

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.settings.backoff_seconds * 2 ** (state.attempt_number - 1),
                      self.settings.backoff_max_seconds)
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return max(backoff, min(retry_after, self.settings.backoff_max_seconds))

    def _attempt(self, method: str, path: str, label: str, params: dict | None, data: str | bytes | None,
                 headers: dict | None, idempotent: bool, max_bytes: int | None, seconds: float) -> requests.Response:
        self._limiter.acquire()
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        with deadline(seconds) as cut:
            try:
                response = self._session.request(method, self.base_url + path, params=params, data=data,
                                                 headers=headers, timeout=timeout, allow_redirects=False,
                                                 stream=max_bytes is not None)
                if max_bytes is not None:
                    _read_bounded(response, max_bytes, label)
            except requests.ConnectTimeout as exc:
                raise Retryable(f"could not connect ({type(exc).__name__})") from None
            except requests.RequestException as exc:
                what = f"no complete answer within {seconds:.3g} s (call_timeout)" if cut.expired else \
                    f"no complete answer ({type(exc).__name__})"
                if idempotent:
                    raise Retryable(what) from None
                raise N11Unavailable(f"N11 {label}: {what}; N11 may or may not have taken the request, so it is not "
                                     "sent again blindly") from None
        if 300 <= response.status_code < 400:
            target = self.clean(urlsplit(response.headers.get("Location", "")).netloc or "nowhere named")
            raise N11BadResponse(f"N11 {label} answered HTTP {response.status_code}, a redirect to {target[:100]!r}; "
                                 f"redirects are not followed, so the API key and secret go only to "
                                 f"{urlsplit(self.base_url).netloc}. Check the connection's API base URL",
                                 status=response.status_code)
        return response


def _read_bounded(response: requests.Response, max_bytes: int, label: str) -> None:
    """Read a streamed answer into ``response.content``, refusing one longer than ``max_bytes`` (decoded) as soon
    as it is: a huge answer costs neither the memory nor the time of reading it whole."""
    declared = response.headers.get("Content-Length", "")
    chunks, size = [], 0
    if not (declared.isdigit() and int(declared) > max_bytes):
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                break
            chunks.append(chunk)
    if size > max_bytes or (declared.isdigit() and int(declared) > max_bytes):
        response.close()
        raise N11BadResponse(f"N11 {label} answered more than {max_bytes} bytes; such an answer is refused unread",
                             status=response.status_code)
    response._content = b"".join(chunks)  # what .content and .text give from now on


def checked_base_url(base_url: str) -> str:
    """The base URL without its trailing slash, if the secret may go there: https, or http to this machine."""
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.query:
        raise ValueError(f"the N11 API base URL {url!r} is not an http(s) address like {DEFAULT_BASE_URL}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"the N11 API base URL {url!r} is refused: the API key and secret go only over https "
                         f"(plain http only to this machine, as for the sandbox); use https://{parts.netloc}")
    return url


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def retry_after(response: requests.Response) -> float | None:
    """The answer's ``Retry-After`` in seconds, when it gives one as a number."""
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None
