"""N11 shipment packages (wire format) into rows of ``n11_orders`` and ``n11_order_lines``.

A window's packages are turned into rows as a whole before anything is written, so a package N11 sent
without an order number, a line without ``orderLineId`` or an amount that is not a number fails the window
with a message naming the package or line, and nothing of it reaches the database.

Order-level amounts are not taken from the packages here: an order's packages can arrive in different
windows, so the load sums them from the stored lines instead (see ``load.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from include.clock import from_ms

log = logging.getLogger(__name__)

STATUSES = ("Created", "Picking", "Shipped", "Delivered", "Cancelled", "UnSupplied", "Unpacked")
UNPACKED = "Unpacked"  # a split parent: its lines reappear in the child packages
IMPORTED_STATUSES = tuple(status for status in STATUSES if status != UNPACKED)
_CANONICAL = {status.casefold(): status for status in STATUSES}
_CENT = Decimal("0.01")


class BadPackage(ValueError):
    """N11 sent a package the shop database cannot take; the message names the package, order or line."""


@dataclass
class WindowRows:
    """The rows of one window's packages: one per order (its newest package) and one per line."""

    orders: list[dict]
    lines: list[dict]
    unpacked: int  # split parents skipped


def normalise_status(raw: Any) -> str | None:
    """N11's canonical spelling of a status seen with stray spaces or other casing; an unknown one trimmed."""
    if raw is None:
        return None
    text = str(raw).strip()
    return _CANONICAL.get(text.casefold(), text)


def package_rows(store: str, packages: Iterable[dict], loaded_at: datetime) -> WindowRows:
    """Rows of a window's packages; raises ``BadPackage`` before returning anything if one is unusable.

    A package seen twice (it changed status while the window was read) counts in its newest version.
    """
    unpacked = 0
    live = []
    for package in packages:
        if normalise_status(package.get("shipmentPackageStatus")) == UNPACKED:
            unpacked += 1
        else:
            live.append(_checked(package))
    lines: dict[str, dict] = {}
    newest: dict[str, dict] = {}
    for package in sorted(live, key=_recency):  # oldest first, so the newest version is written last
        for row in _line_rows(store, package, loaded_at):
            lines[row["order_line_id"]] = row
        newest[package["orderNumber"]] = package
    orders = [_order_row(store, package, loaded_at) for package in newest.values()]
    _warn_unknown_statuses(store, orders, lines.values())
    return WindowRows(orders, list(lines.values()), unpacked)


def _checked(package: dict) -> dict:
    """The package with its order number as a string, or ``BadPackage`` naming what is missing."""
    package_id = package.get("id")
    order_number = _text(package.get("orderNumber"))
    if not order_number:
        raise BadPackage(f"package {package_id} has no orderNumber")
    where = f"order {order_number} (package {package_id})"
    if not normalise_status(package.get("shipmentPackageStatus")):
        raise BadPackage(f"{where} has no shipmentPackageStatus")
    if not isinstance(package.get("lastModifiedDate"), int):
        raise BadPackage(f"{where} has no lastModifiedDate (got {package.get('lastModifiedDate')!r})")
    if not isinstance(package.get("lines"), list):
        raise BadPackage(f"{where} has no lines list")
    for position, line in enumerate(package["lines"], start=1):
        if not isinstance(line, dict) or not _text(line.get("orderLineId")):
            stock_code = line.get("stockCode") if isinstance(line, dict) else None
            raise BadPackage(f"{where}: line {position} (stockCode {stock_code}) has no orderLineId")
    return {**package, "orderNumber": order_number}


def _recency(package: dict) -> tuple[int, str]:
    return package["lastModifiedDate"], _text(package.get("id")) or ""


def _line_rows(store: str, package: dict, loaded_at: datetime) -> list[dict]:
    package_status = normalise_status(package.get("shipmentPackageStatus"))
    rows = []
    for line in package["lines"]:
        line_id = _text(line["orderLineId"])
        where = f"order {package['orderNumber']}, line {line_id}"
        rows.append({
            "store": store,
            "order_line_id": line_id,
            "order_number": package["orderNumber"],
            "package_id": _text(package.get("id")),
            "status": normalise_status(line.get("orderItemLineItemStatusName")) or package_status,
            "stock_code": _text(line.get("stockCode")),
            "product_id": _text(line.get("productId")),
            "product_name": _text(line.get("productName")),
            "quantity": _quantity(line.get("quantity"), where),
            "price": _decimal(line, "price", where),
            "seller_discount": _decimal(line, "sellerDiscount", where),
            "seller_coupon_discount": _decimal(line, "sellerCouponDiscount", where),
            "mall_discount": _decimal(line, "mallDiscount", where),
            "total_seller_discount_price": _decimal(line, "totalSellerDiscountPrice", where),
            "seller_invoice_amount": _decimal(line, "sellerInvoiceAmount", where),
            "vat_rate": _decimal(line, "vatRate", where),
            "commission_rate": _decimal(line, "commissionRate", where),
            "last_modified": from_ms(package["lastModifiedDate"]),
            "loaded_at": loaded_at,
        })
    return rows


def _order_row(store: str, package: dict, loaded_at: datetime) -> dict:
    """The order as its newest package shows it.

    The buyer is ``customerfullName``, else the billing address's name: a pick-up-point order leaves the
    former empty and its shipping name is the pick-up point's, not the buyer's. ``sender`` (SELLER, or N11 for its
    warehouse) is kept when the package carries it; NULL means unknown, which automatic approval leaves alone.
    """
    billing = package.get("billingAddress") or {}
    shipping = package.get("shippingAddress") or {}
    created = [entry.get("createdDate") for entry in package.get("packageHistories") or []
               if isinstance(entry, dict) and isinstance(entry.get("createdDate"), int)]
    return {
        "store": store,
        "order_number": package["orderNumber"],
        "status": normalise_status(package.get("shipmentPackageStatus")),
        "customer_id": _text(package.get("customerId")),
        "customer_name": _text(package.get("customerfullName")) or _text(billing.get("fullName")),
        "customer_email": _text(package.get("customerEmail")),
        "billing_city": _text(billing.get("city")),
        "shipping_city": _text(shipping.get("city")),
        "cargo_provider": _text(package.get("cargoProviderName")),
        "cargo_tracking_number": _text(package.get("cargoTrackingNumber")),
        "created_at": from_ms(min(created)) if created else None,
        "last_modified": from_ms(package["lastModifiedDate"]),
        "loaded_at": loaded_at,
        "sender": (_text(package.get("sender")) or "").upper() or None,
    }


def _warn_unknown_statuses(store: str, orders: list[dict], lines: Iterable[dict]) -> None:
    """One warning per order with a status N11 does not document; the row keeps it as N11 sent it."""
    unknown: dict[str, set[str]] = {}
    for row in [*orders, *lines]:
        if row["status"] not in _CANONICAL.values():
            unknown.setdefault(row["order_number"], set()).add(str(row["status"]))
    for order_number, statuses in unknown.items():
        log.warning("store %r: order %s has the unknown status %s; stored as N11 sent it", store, order_number,
                    ", ".join(sorted(statuses)))


def _text(value: Any) -> str | None:
    """Ids and names as trimmed strings (N11 sends ids as numbers whose widths grow); blank is None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(line: dict, field: str, where: str) -> Decimal | None:
    """An exact two-decimal amount; floats go through their shortest text, so 249.9 is 249.90."""
    value = line.get(field)
    if value is None:
        return None
    problem = BadPackage(f"{where}: {field} is not a number (got {value!r})")
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise problem
    try:
        return Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise problem from None


def _quantity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        raise BadPackage(f"{where}: quantity is not a whole number (got {value!r})")
    return int(value)

