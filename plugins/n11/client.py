"""HTTP client of N11's seller API.

One ``requests.Session`` per client sends the ``appkey``/``appsecret`` headers N11 wants. Every call goes
through a client-side rate limiter and is retried with exponential backoff on 429, 5xx, timeouts and
resets (``Retry-After`` is honoured). Writes are not idempotent at N11, so they are retried only when N11
certainly did not take them (429, 503, a connection that never opened); a 502/504 comes from a gateway that
may have passed the request on, so, like a cut connection, it is an unknown outcome: the caller hears
``N11Unavailable`` and must look up the outcome instead of sending twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

import requests
import simplejson
import tenacity

from n11.errors import (
    N11AuthError,
    N11BadResponse,
    N11Error,
    N11OrderServiceClosed,
    N11RequestRefused,
    N11Unavailable,
    error_message,
    is_auth_refusal,
    is_missing_header,
    is_refused_request,
)
from n11.provider import DEFAULT_BASE_URL

log = logging.getLogger(__name__)

INTEGRATOR = "n11-airflow"
MAX_SKUS_PER_TASK = 1000
PRODUCT_PAGE_SIZE = 250
PACKAGE_PAGE_SIZE = 100

PRODUCT_QUERY = "/ms/product-query"
SHIPMENT_PACKAGES = "/rest/delivery/v1/shipmentPackages"
PRICE_STOCK_UPDATE = "/ms/product/tasks/price-stock-update"
PRODUCT_UPDATE = "/ms/product/tasks/product-update"
TASK_DETAILS = "/ms/product/task-details/page-query"

_SAFE_WRITE_RETRY = frozenset({429, 503})


@dataclass(frozen=True)
class ClientSettings:
    """Tunables, read from the Airflow connection's extra; defaults suit production N11."""

    requests_per_minute: float = 600.0  # N11 documents 1000/min for order listing: stay well under
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    max_retry_seconds: float = 300.0
    backoff_seconds: float = 1.0  # first wait; doubled on every retry
    backoff_max_seconds: float = 60.0

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


class _Retryable(Exception):
    """A failed attempt worth another try; ``final`` is raised when the tries run out."""

    def __init__(self, reason: str, retry_after: float | None = None, final: type[N11Error] = N11Unavailable):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.final = final


class N11Client:
    """N11's seller API: credential checks, product and order reads, product write tasks."""

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL,
                 settings: ClientSettings | None = None):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.settings = settings or ClientSettings()
        self._limiter = RateLimiter(self.settings.requests_per_minute)
        self._session = requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": INTEGRATOR})
        # A header left out makes N11 say which one is missing, which is the clearer message.
        self._session.headers.update({k: v for k, v in (("appkey", api_key), ("appsecret", api_secret)) if v})

    def __repr__(self) -> str:
        return f"N11Client(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def close(self) -> None:
        self._session.close()

    def share_rate(self, clients: int) -> None:
        """Limit this client to its share of ``requests_per_minute`` when ``clients`` of them run at once (the
        store's pool slots), so that together they stay within the rate."""
        self._limiter = RateLimiter(self.settings.requests_per_minute / clients)

    # --- credential checks -------------------------------------------------------------------------------

    def check_credentials(self) -> int:
        """Validate key and secret together; returns the store's product count on N11."""
        page = self._request("GET", PRODUCT_QUERY, params={"page": 0, "size": 1})
        return int(_required(page, "totalElements", PRODUCT_QUERY))

    def check_order_service(self) -> None:
        """Raise ``N11OrderServiceClosed`` when the order service refuses this API user."""
        try:
            self._request("GET", SHIPMENT_PACKAGES, params={"page": 0, "size": 1})
        except N11AuthError as exc:
            raise N11OrderServiceClosed(
                "N11's order service refused this API user although it may work for products; "
                "ask N11 (sellerintegration@n11.com) to open the order service for it, or check the key",
                status=exc.status, n11_message=exc.n11_message) from None

    # --- reads -------------------------------------------------------------------------------------------

    def iter_products(self, page_size: int = PRODUCT_PAGE_SIZE, **filters: Any) -> Iterator[list[dict]]:
        """Yield ``/ms/product-query`` pages (Spring pages) until the last one."""
        page = 0
        while True:
            body = self._request("GET", PRODUCT_QUERY, params={**filters, "page": page, "size": page_size})
            content = _content(body, PRODUCT_QUERY)
            if content:
                yield content
            if not content or body.get("last") is True or page + 1 >= int(body.get("totalPages") or 0):
                return
            page += 1

    def iter_shipment_packages(self, *, page_size: int = PACKAGE_PAGE_SIZE, **query: Any) -> Iterator[list[dict]]:
        """Yield shipment-package pages for one status (N11 takes one per request) until the last page.

        ``query`` is that of ``shipment_packages_page``.
        """
        page = 0
        while True:
            content, total_pages = self.shipment_packages_page(page, page_size=page_size, **query)
            if content:
                yield content
            if not content or page + 1 >= total_pages:
                return
            page += 1

    def shipment_packages_page(self, page: int, *, start_ms: int | None = None, end_ms: int | None = None,
                               status: str | None = None, sender: str | None = "ALL", by_last_modified: bool = True,
                               direction: str = "ASC", order_number: str | None = None,
                               package_ids: list[str] | None = None,
                               page_size: int = PACKAGE_PAGE_SIZE) -> tuple[list[dict], int]:
        """One page of shipment packages and N11's ``totalPages``."""
        params: dict[str, Any] = {
            "startDate": start_ms, "endDate": end_ms, "status": status, "sender": sender,
            "orderByField": "true" if by_last_modified else None, "orderByDirection": direction,
            "orderNumber": order_number, "packageIds": ",".join(package_ids) if package_ids else None,
            "size": page_size, "page": page,
        }
        body = self._request("GET", SHIPMENT_PACKAGES, params={k: v for k, v in params.items() if v is not None})
        # "pageCount" is the row count of this page, not the page count: only totalPages says the end.
        return _content(body, SHIPMENT_PACKAGES), int(body.get("totalPages") or 0)

    # --- product write tasks -----------------------------------------------------------------------------

    def update_price_stock(self, skus: list[dict], integrator: str = INTEGRATOR) -> dict:
        """Queue a price/stock task; a field left out of a SKU is not changed. Returns N11's receipt."""
        return self._submit(PRICE_STOCK_UPDATE, skus, integrator)

    def update_products(self, skus: list[dict], integrator: str = INTEGRATOR) -> dict:
        """Queue a product-info task (never title, category, images or attributes). Returns N11's receipt."""
        return self._submit(PRODUCT_UPDATE, skus, integrator)

    def get_task_details(self, task_id: int, page_size: int = MAX_SKUS_PER_TASK) -> dict:
        """A write task's status and every SKU's result across all pages, statuses upper-cased.

        Returns ``{"taskId", "status", "reasons", "items": [{"itemCode", "status", "reasons", "sku"}]}``.
        """
        items: list[dict] = []
        page = 0
        while True:
            body = self._request("POST", TASK_DETAILS,
                                 payload={"taskId": task_id, "pageable": {"page": page, "size": page_size}})
            skus = body.get("skus") or {}
            content = skus.get("content") or []
            items.extend({**item, "status": _norm(item.get("status"))} for item in content)
            if not content or skus.get("last", True) or page + 1 >= int(skus.get("totalPages") or 0):
                break
            page += 1
        return {"taskId": task_id, "status": _norm(_required(body, "status", TASK_DETAILS)),
                "reasons": body.get("reasons") or [], "items": items}

    def _submit(self, path: str, skus: list[dict], integrator: str) -> dict:
        if not 0 < len(skus) <= MAX_SKUS_PER_TASK:
            raise ValueError(f"a write task takes 1 to {MAX_SKUS_PER_TASK} SKUs, got {len(skus)}")
        receipt = self._request("POST", path, payload={"payload": {"integrator": integrator, "skus": skus}},
                                idempotent=False)
        return {**receipt, "status": _norm(_required(receipt, "status", path))}

    # --- transport ---------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: dict | None = None, payload: Any = None,
                 idempotent: bool = True) -> Any:
        """Send with rate limiting and retries; return the parsed JSON body."""
        data = simplejson.dumps(payload, use_decimal=True) if payload is not None else None
        s = self.settings
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(s.max_attempts) | tenacity.stop_after_delay(s.max_retry_seconds),
            wait=self._wait,
            before_sleep=lambda state: log.warning(
                "N11 %s %s: %s; attempt %d of %d failed, retrying in %.1fs", method, path,
                state.outcome.exception().reason, state.attempt_number, s.max_attempts,
                state.next_action.sleep),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, path, params, data, idempotent)
        except _Retryable as exc:
            raise exc.final(f"N11 {method} {path} kept failing after retries: {exc.reason}") from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying either returns or raises

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        backoff = min(self.settings.backoff_seconds * 2 ** (state.attempt_number - 1),
                      self.settings.backoff_max_seconds)
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return max(backoff, min(retry_after, self.settings.backoff_max_seconds))

    def _attempt(self, method: str, path: str, params: dict | None, data: str | None, idempotent: bool) -> Any:
        self._limiter.acquire()
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        headers = {"Content-Type": "application/json"} if data is not None else None
        try:
            response = self._session.request(method, self.base_url + path, params=params, data=data,
                                             headers=headers, timeout=timeout)
        except requests.ConnectTimeout as exc:
            raise _Retryable(f"could not connect ({type(exc).__name__})") from None
        except requests.RequestException as exc:
            if idempotent:
                raise _Retryable(f"no complete answer ({type(exc).__name__})") from None
            raise N11Unavailable(f"N11 {method} {path}: no complete answer ({type(exc).__name__}); N11 may or may "
                                 "not have taken the request, so it is not sent again blindly") from None
        self._raise_for_status(response, method, path, idempotent)
        try:
            return response.json()
        except ValueError:
            reason = f"HTTP {response.status_code} but the body is not JSON: {error_message(response, 120)!r}"
            if idempotent:
                raise _Retryable(reason, final=N11BadResponse) from None
            raise N11BadResponse(f"N11 {method} {path}: {reason}", status=response.status_code) from None

    @staticmethod
    def _raise_for_status(response: requests.Response, method: str, path: str, idempotent: bool) -> None:
        status = response.status_code
        if status < 400:
            return
        message = error_message(response)
        if is_missing_header(response):
            raise N11AuthError("N11 says a credential header is missing: the connection's API key (login) or "
                               f"API secret (password) is empty [{message}]", status=status, n11_message=message)
        if is_auth_refusal(response):
            raise N11AuthError(f"N11 refused the API key or secret (HTTP {status}: {message})",
                               status=status, n11_message=message)
        if is_refused_request(response):
            raise N11RequestRefused(f"N11 refused {method} {path} (HTTP {status}): {message}",
                                    status=status, n11_message=message)
        if idempotent or status in _SAFE_WRITE_RETRY:
            raise _Retryable(f"HTTP {status}: {message}", _retry_after(response))
        raise N11Unavailable(f"N11 {method} {path} failed with HTTP {status} ({message}); N11 may or may not have "
                             "taken the request, so it is not sent again blindly", status=status, n11_message=message)


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _content(body: Any, path: str) -> list[dict]:
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, list):
        raise N11BadResponse(f"N11 answered {path} without a 'content' list: {str(body)[:200]!r}")
    return content


def _required(body: Any, key: str, path: str) -> Any:
    if not isinstance(body, dict) or body.get(key) is None:
        raise N11BadResponse(f"N11 answered {path} without {key!r}: {str(body)[:200]!r}")
    return body[key]


def _norm(status: Any) -> str:
    """N11 spells statuses with stray spaces and varying case ("FAIL", "Fail")."""
    return str(status or "").strip().upper()
