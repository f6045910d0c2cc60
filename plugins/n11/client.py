"""HTTP client of N11's seller API (REST: ``/ms``, ``/rest``, ``/cdn``).

Every request carries the ``appkey``/``appsecret`` headers N11 wants and goes through the ``Transport``
(``transport.py``): only to the configured host, https or plain http to this machine (the sandbox), no redirect
followed, rate-limited, retried with exponential backoff on 429, 5xx, timeouts and resets (``Retry-After`` is
honoured), each attempt and each call within its deadline. Writes are not idempotent at N11, so they are retried
only when N11 certainly did not take them (429, 503, a connection that never opened); a 502/504 comes from a
gateway that may have passed the request on, so, like a cut connection, it is an unknown outcome: the caller
hears ``N11Unavailable`` and must look up the outcome instead of sending twice. Paged reads go through the one
``Paginator``, bounded by ``max_pages``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, NamedTuple

import requests
import simplejson

from n11.errors import (
    N11AuthError,
    N11BadResponse,
    N11OrderServiceClosed,
    N11RequestRefused,
    N11Unavailable,
    error_message,
    is_auth_refusal,
    is_missing_header,
    is_refused_request,
)
from n11.paging import Page, Paginator
from n11.provider import DEFAULT_BASE_URL
from n11.transport import (  # noqa: F401 (ClientSettings and checked_base_url are imported from here too)
    USER_AGENT,
    ClientSettings,
    Retryable,
    Transport,
    checked_base_url,
    retry_after,
)

log = logging.getLogger(__name__)

INTEGRATOR = USER_AGENT  # the name N11 shows on write tasks, and the User-Agent
MAX_SKUS_PER_TASK = 1000
PRODUCT_PAGE_SIZE = 250
PACKAGE_PAGE_SIZE = 100

PRODUCT_QUERY = "/ms/product-query"
SHIPMENT_PACKAGES = "/rest/delivery/v1/shipmentPackages"
PRICE_STOCK_UPDATE = "/ms/product/tasks/price-stock-update"
PRODUCT_UPDATE = "/ms/product/tasks/product-update"
TASK_DETAILS = "/ms/product/task-details/page-query"
ORDER_UPDATE = "/rest/order/v1/update"
SPLIT_BY_QUANTITY = "/rest/delivery/v1/splitPackageByQuantity"
CATEGORIES = "/cdn/categories"
CATEGORY_ATTRIBUTES = "/cdn/category/{id}/attribute"
PRODUCT_CREATE = "/ms/product/tasks/product-create"

_SAFE_WRITE_RETRY = frozenset({429, 503})
# N11's reasons for items the seller cannot supply (``cancelReasonId``)
CANCEL_REASONS = {61: "out of stock", 62: "defective", 63: "wrong price", 64: "force majeure", 65: "other"}


class CancelledItem(NamedTuple):
    """Items of one order line the seller cannot supply, and N11's reason id for it (``CANCEL_REASONS``)."""

    order_line_id: str
    quantity: int
    reason_id: int = 61


class N11Client:
    """N11's seller API: credential checks, product and order reads, product write tasks, order actions."""

    def __init__(self, api_key: str, api_secret: str, base_url: str = DEFAULT_BASE_URL,
                 settings: ClientSettings | None = None):
        self.transport = Transport(api_key, api_secret, base_url, settings)
        self.base_url = self.transport.base_url
        self.api_key = api_key
        self._secret = api_secret
        self.settings = self.transport.settings
        # A header left out makes N11 say which one is missing, which is the clearer message.
        self._headers = {"Accept": "application/json",
                         **{k: v for k, v in (("appkey", api_key), ("appsecret", api_secret)) if v}}

    def __repr__(self) -> str:
        return f"N11Client(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def close(self) -> None:
        self.transport.close()

    def share_rate(self, clients: int) -> None:
        """Limit this client (and a SOAP client sharing its transport) to its share of ``requests_per_minute``
        when ``clients`` of them run at once (the store's pool slots), so that together they stay within the
        rate."""
        self.transport.share_rate(clients)

    # --- credential checks -------------------------------------------------------------------------------

    def check_credentials(self) -> int:
        """Validate key and secret together; returns the store's product count on N11."""
        page = self._request("GET", PRODUCT_QUERY, params={"page": 0, "size": 1})
        return self._count(page, "totalElements", PRODUCT_QUERY, required=True)

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
        """Yield the rows of ``/ms/product-query`` page by page (Spring pages) until the last one."""
        def fetch(number: int) -> Page:
            body = self._request("GET", PRODUCT_QUERY, params={**filters, "page": number, "size": page_size})
            return self._spring_page(PRODUCT_QUERY, number, body, page_size)

        for page in self._pages(PRODUCT_QUERY, fetch):
            if page.content:
                yield page.content

    def iter_shipment_packages(self, **query: Any) -> Iterator[list[dict]]:
        """Yield shipment-package pages for one status (N11 takes one per request) until the last page.

        ``query`` is that of ``shipment_packages_page``.
        """
        def fetch(number: int) -> Page:
            return self._shipment_page(number, **query)

        for page in self._pages(SHIPMENT_PACKAGES, fetch):
            if page.content:
                yield page.content

    def shipment_packages_page(self, page: int, **query: Any) -> tuple[list[dict], int]:
        """One page of shipment packages and N11's ``totalPages``, checked like every page of a paged read."""
        answer = self._shipment_page(page, **query)
        answer.check(self.settings.max_pages)
        return answer.content, answer.total_pages or 0

    def order_packages(self, order_number: str, sender: str = "ALL") -> list[dict]:
        """Every package of one order (split parents and children too), by its number, whatever its dates."""
        content, _ = self.shipment_packages_page(0, order_number=order_number, sender=sender,
                                                 by_last_modified=False, direction=None)
        return content

    def _shipment_page(self, page: int, *, start_ms: int | None = None, end_ms: int | None = None,
                       status: str | None = None, sender: str | None = "ALL", by_last_modified: bool = True,
                       direction: str | None = "ASC", order_number: str | None = None,
                       package_ids: list[str] | None = None, page_size: int = PACKAGE_PAGE_SIZE) -> Page:
        params: dict[str, Any] = {
            "startDate": start_ms, "endDate": end_ms, "status": status, "sender": sender,
            "orderByField": "true" if by_last_modified else None, "orderByDirection": direction,
            "orderNumber": order_number, "packageIds": ",".join(package_ids) if package_ids else None,
            "size": page_size, "page": page,
        }
        body = self._request("GET", SHIPMENT_PACKAGES, params={k: v for k, v in params.items() if v is not None})
        # "pageCount" is the row count of this page, not the page count: only totalPages says the end.
        return Page(SHIPMENT_PACKAGES, page, self._content(body, SHIPMENT_PACKAGES),
                    total_pages=self._count(body, "totalPages", SHIPMENT_PACKAGES),
                    size=self._count(body, "size", SHIPMENT_PACKAGES))

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
        def fetch(number: int) -> Page:
            body = self._request("POST", TASK_DETAILS,
                                 payload={"taskId": task_id, "pageable": {"page": number, "size": page_size}})
            skus = body.get("skus") if isinstance(body, dict) else None
            return replace(self._spring_page(TASK_DETAILS, number, skus or {"content": []}, page_size), answer=body)

        items: list[dict] = []
        body: Any = None  # the last page's answer: it carries the task's status
        for page in self._pages(TASK_DETAILS, fetch):
            items.extend({**item, "status": _norm(item.get("status"))} for item in page.content)
            body = page.answer
        return {"taskId": task_id, "status": _norm(self._required(body, "status", TASK_DETAILS)),
                "reasons": body.get("reasons") or [], "items": items}

    # --- order actions -----------------------------------------------------------------------------------

    def approve_lines(self, line_ids: list[str]) -> list[dict]:
        """Approve order lines (Created to Picking) in one call; N11's per-line results, statuses upper-cased.

        Each result is ``{"lineId": str, "status": "SUCCESS" | "FAIL" | ..., "reasons": [str]}``; N11 answers per
        line, so a call can partly succeed. Not idempotent: an unknown outcome raises ``N11Unavailable`` or
        ``N11BadResponse`` and must be looked up, not sent again.
        """
        if not line_ids:
            raise ValueError("approve_lines needs at least one order line id")
        payload = {"lines": [{"lineId": _line_id(i)} for i in line_ids], "status": "Picking"}
        body = self._request("PUT", ORDER_UPDATE, payload=payload, idempotent=False)
        return [{"lineId": str(item.get("lineId", item.get("orderLineId"))), "status": _norm(item.get("status")),
                 "reasons": _reasons(item)} for item in self._content(body, ORDER_UPDATE) if isinstance(item, dict)]

    def split_package_by_quantity(self, split_packages: Sequence[Mapping[str, int]],
                                  cancelled: Sequence[CancelledItem] = ()) -> dict:
        """Split one Picking package by quantity, cancelling the ``cancelled`` items ("tedarik edememe").

        Each of ``split_packages`` (order line id -> items) becomes a new package, what none names one more, the
        cancelled items an UnSupplied package; N11 gives the split lines new ids. N11 takes one package of one order
        per call and a cancel only with a split. Returns ``{"message": str | None, "items": [{"orderNumber",
        "packageId", "orderLineId", "stockCode", "quantity"}] | None}``, ids as strings; ``items`` is None when N11
        leaves ``splitPackageOrderItems`` out (an opt-in on some accounts). Not idempotent: an unknown outcome raises
        ``N11Unavailable`` or ``N11BadResponse`` and must be looked up, not sent again.
        """
        if not split_packages or not all(split_packages):
            raise ValueError("split_package_by_quantity needs at least one new package, each with an order line")
        quantities = [items for package in split_packages for items in package.values()]
        quantities += [item.quantity for item in cancelled]
        if any(isinstance(items, bool) or not isinstance(items, int) or items < 1 for items in quantities):
            raise ValueError(f"every quantity must be a whole number of at least 1, got {quantities}")
        unknown = [item.reason_id for item in cancelled if item.reason_id not in CANCEL_REASONS]
        if unknown:
            raise ValueError(f"cancel reason ids {unknown} are not N11's ({sorted(CANCEL_REASONS)})")
        payload = {
            "splitPackages": [{"packageDetails": [{"orderLineId": _line_id(line), "quantities": items}
                                                  for line, items in package.items()]} for package in split_packages],
            "cancelledItems": [{"orderLineId": _line_id(item.order_line_id), "quantity": item.quantity,
                                "cancelReasonId": item.reason_id} for item in cancelled],
        }
        body = self._request("POST", SPLIT_BY_QUANTITY, payload=payload, idempotent=False)
        if not isinstance(body, dict):
            raise N11BadResponse(f"N11 answered {SPLIT_BY_QUANTITY} with {self._excerpt(body)}, not a JSON object")
        code, message = body.get("code"), body.get("errorMessage") or body.get("message")
        if _norm(body.get("status")) == "FAILURE" or (isinstance(code, int) and 400 <= code < 500):
            words = self._clean(str(message or body.get("errorCode") or "no reason given"))[:300]
            raise N11RequestRefused(f"N11 refused POST {SPLIT_BY_QUANTITY} (HTTP 200, code {code}): {words}",
                                    status=200, n11_message=words)
        if code is not None and code != 200:
            raise N11BadResponse(f"N11 answered {SPLIT_BY_QUANTITY} with code {self._clean(repr(code))[:50]}: "
                                 f"{self._excerpt(body)}")
        items = body.get("splitPackageOrderItems")
        return {"message": None if message is None else self._clean(str(message)),
                "items": None if items is None else self._split_items(items)}

    def _split_items(self, items: Any) -> list[dict]:
        """``splitPackageOrderItems``, each with its order line id and a whole quantity, ids as strings."""
        if not isinstance(items, list) or not all(
                isinstance(item, dict) and item.get("orderLineId") is not None and isinstance(item.get("quantity"), int)
                and not isinstance(item["quantity"], bool) for item in items):
            raise N11BadResponse(f"N11 answered {SPLIT_BY_QUANTITY} with splitPackageOrderItems that are not a list "
                                 f"of order lines with their quantities: {self._excerpt(items)}")
        return [{"orderNumber": _id_text(item.get("orderNumber")), "packageId": _id_text(item.get("packageId")),
                 "orderLineId": str(item["orderLineId"]), "stockCode": _id_text(item.get("stockCode")),
                 "quantity": item["quantity"]} for item in items]

    # --- categories and product creation --------------------------------------------------------------------

    def categories(self) -> list[dict]:
        """N11's whole category tree: nodes ``{"id", "name", "subCategories"}``, ``subCategories`` None at a leaf."""
        body = self._request("GET", CATEGORIES)
        tree = body.get("categories") if isinstance(body, dict) else body
        if not isinstance(tree, list):
            raise N11BadResponse(f"N11 answered {CATEGORIES} without a category list: {self._excerpt(body)}")
        return tree

    def category_attributes(self, category_id: int | str) -> list[dict]:
        """A category's attributes (``attributeId``, ``attributeName``, ``isMandatory``, ``isVariant``,
        ``isCustomValue``, ``attributeValues[{id, value}]``). An unknown or non-leaf id raises N11RequestRefused."""
        path = CATEGORY_ATTRIBUTES.format(id=int(category_id))
        body = self._request("GET", path)
        attributes = body.get("categoryAttributes") if isinstance(body, dict) else None
        if not isinstance(attributes, list):
            raise N11BadResponse(f"N11 answered {path} without 'categoryAttributes': {self._excerpt(body)}")
        return attributes

    def create_products(self, skus: list[dict], integrator: str = INTEGRATOR) -> dict:
        """Queue a product-create task (title, category, images, attributes, prices, stock). Returns the receipt."""
        return self._submit(PRODUCT_CREATE, skus, integrator)

    def _submit(self, path: str, skus: list[dict], integrator: str) -> dict:
        if not 0 < len(skus) <= MAX_SKUS_PER_TASK:
            raise ValueError(f"a write task takes 1 to {MAX_SKUS_PER_TASK} SKUs, got {len(skus)}")
        receipt = self._request("POST", path, payload={"payload": {"integrator": integrator, "skus": skus}},
                                idempotent=False)
        return {**receipt, "status": _norm(self._required(receipt, "status", path))}

    # --- paging -----------------------------------------------------------------------------------------

    def _pages(self, endpoint: str, fetch: Callable[[int], Page]) -> Paginator:
        return Paginator(endpoint, fetch, self.settings.max_pages)

    def _spring_page(self, endpoint: str, number: int, body: Any, page_size: int) -> Page:
        """A Spring page (``/ms`` answers and the ``skus`` of task details)."""
        last = body.get("last") if isinstance(body, dict) else None
        if last is not None and not isinstance(last, bool):
            raise N11BadResponse(f"N11 answered {endpoint} page {number} with last={self._clean(repr(last))[:50]}, "
                                 "not true or false")
        return Page(endpoint, number, self._content(body, endpoint),
                    total_pages=self._count(body, "totalPages", endpoint),
                    total_elements=self._count(body, "totalElements", endpoint),
                    size=self._count(body, "size", endpoint) or page_size, last=last)

    def _content(self, body: Any, endpoint: str) -> list[dict]:
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, list):
            raise N11BadResponse(f"N11 answered {endpoint} without a 'content' list: {self._excerpt(body)}")
        return content

    def _count(self, body: Any, key: str, endpoint: str, *, required: bool = False) -> int | None:
        """A whole, non-negative number of the answer; None when N11 left it out (unless ``required``)."""
        if required:
            value = self._required(body, key, endpoint)
        else:
            value = body.get(key) if isinstance(body, dict) else None
            if value is None:
                return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise N11BadResponse(f"N11 answered {endpoint} with {key}={self._clean(repr(value))[:50]}, not a "
                                 f"whole number of at least 0: {self._excerpt(body)}")
        return value

    def _required(self, body: Any, key: str, endpoint: str) -> Any:
        if not isinstance(body, dict) or body.get(key) is None:
            raise N11BadResponse(f"N11 answered {endpoint} without {key!r}: {self._excerpt(body)}")
        return body[key]

    # --- transport ---------------------------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        """Text from an answer, safe to quote in a message or a log: without the secret."""
        return self.transport.clean(text)

    def _excerpt(self, body: Any) -> str:
        return repr(self._clean(str(body))[:200])

    def _request(self, method: str, path: str, *, params: dict | None = None, payload: Any = None,
                 idempotent: bool = True) -> Any:
        """Send through the transport (rate limit, retries, deadlines); return the parsed JSON body."""
        data = simplejson.dumps(payload, use_decimal=True) if payload is not None else None
        headers = {**self._headers, "Content-Type": "application/json"} if data is not None else self._headers

        def read(response: requests.Response) -> Any:
            self._raise_for_status(response, method, path, idempotent)
            return self._parse(response, method, path, idempotent)

        return self.transport.send(method, path, read, params=params, data=data, headers=headers,
                                   idempotent=idempotent)

    def _parse(self, response: requests.Response, method: str, path: str, idempotent: bool) -> Any:
        """The answer's JSON; NaN/Infinity and nesting too deep to read are refused, not retried."""
        try:
            return json.loads(response.content, parse_constant=_refuse_constant)
        except _NotANumber as exc:
            raise N11BadResponse(f"N11 {method} {path} answered {exc.constant} where a number belongs; the answer "
                                 "is refused rather than read as a number", status=response.status_code) from None
        except RecursionError:
            raise N11BadResponse(f"N11 {method} {path} answered JSON nested too deeply to read",
                                 status=response.status_code) from None
        except ValueError:
            excerpt = error_message(response.status_code, response.text or "", self._secret, 120)
            reason = f"HTTP {response.status_code} but the body is not JSON: {excerpt!r}"
            if idempotent:
                raise Retryable(reason, final=N11BadResponse) from None
            raise N11BadResponse(f"N11 {method} {path}: {reason}", status=response.status_code) from None

    def _raise_for_status(self, response: requests.Response, method: str, path: str, idempotent: bool) -> None:
        status = response.status_code
        if status < 300:
            return
        text = response.text or ""
        message = error_message(status, text, self._secret)
        if is_missing_header(status, text):
            raise N11AuthError("N11 says a credential header is missing: the connection's API key (login) or "
                               f"API secret (password) is empty [{message}]", status=status, n11_message=message)
        if is_auth_refusal(status, text):
            raise N11AuthError(f"N11 refused the API key or secret (HTTP {status}: {message})",
                               status=status, n11_message=message)
        if is_refused_request(status, text):
            raise N11RequestRefused(f"N11 refused {method} {path} (HTTP {status}): {message}",
                                    status=status, n11_message=message)
        if idempotent or status in _SAFE_WRITE_RETRY:
            raise Retryable(f"HTTP {status}: {message}", retry_after(response))
        raise N11Unavailable(f"N11 {method} {path} failed with HTTP {status} ({message}); N11 may or may not have "
                             "taken the request, so it is not sent again blindly", status=status, n11_message=message)


class _NotANumber(ValueError):
    def __init__(self, constant: str):
        super().__init__(constant)
        self.constant = constant


def _refuse_constant(constant: str) -> Any:
    raise _NotANumber(constant)


def _reasons(item: dict) -> list[str]:
    """A per-line result's reasons, whether N11 sent a list (``reasons``) or one text (``reason``/``message``)."""
    found = item.get("reasons")
    if isinstance(found, list):
        return [str(reason) for reason in found if reason]
    text = item.get("reason") or item.get("message")
    return [str(text)] if text else []


def _line_id(line_id: str) -> int | str:
    """An order line id as N11 takes it: a number when it is one."""
    return int(line_id) if str(line_id).isdigit() else line_id


def _id_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _norm(status: Any) -> str:
    """N11 spells statuses with stray spaces and varying case ("FAIL", "Fail")."""
    return str(status or "").strip().upper()
