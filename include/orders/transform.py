"""N11 shipment packages (wire format) into rows of ``n11_orders``, ``n11_order_packages`` and ``n11_order_lines``.

A window's packages are turned into rows as a whole before anything is written, so a package N11 sent without
an order number, with a status N11 does not document, a line without ``orderLineId``, an amount that is not a
number, or lines that contradict another package fail the window with a message naming the order (or package)
and the field, and nothing of it reaches the database. Messages never quote names, addresses, phones, ids of
persons or e-mails: those stay in the shop tables.

Which package holds a line live, the order's status and its amounts are not decided here: an order's packages
can arrive in different windows, so the load decides them from the stored packages (``load.py``, ``status.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric, Table

from include.clock import from_ms
from include.orders.status import DEAD, STATUSES, STEP, id_order, normalise_status
from include.tables import n11_order_lines, n11_order_packages, n11_orders

IMPORTED_STATUSES = STATUSES  # Unpacked too: under the older reading of N11's pages split children are Unpacked
SENDERS = ("SELLER", "N11")
_CENT = Decimal("0.01")
_ADDRESS_FIELDS = {"full_name": "fullName", "address": "address", "neighborhood": "neighborhood",
                   "district": "district", "city": "city", "postal_code": "postalCode", "gsm": "gsm"}


class BadPackage(ValueError):
    """N11 sent a package the shop database cannot take; the message names the order or package and the field."""


@dataclass
class WindowRows:
    """The rows of one window's packages: one per order and per package (their newest versions), and one per
    line and package holding it (a split parent and its child both list the line)."""

    orders: list[dict]
    packages: list[dict]
    lines: list[dict]


def package_key(package: dict) -> str:
    """The package's id; N11 can send it null, and then ``<orderNumber>-<its smallest orderLineId>`` stands in
    (stable while the package keeps that line, which is how N11 changes a package: by new packages)."""
    package_id = _text(package.get("id"))
    if package_id:
        return package_id
    smallest = min((_text(line["orderLineId"]) for line in package["lines"]), key=id_order)
    return f"{package['orderNumber']}-{smallest}"


def package_rows(slug: str, packages: Iterable[dict], loaded_at: datetime) -> WindowRows:
    """Rows of a window's packages; raises ``BadPackage`` before returning anything if one is unusable.

    A package seen twice (it changed while the window was read) counts in its newest version: the later
    lastModifiedDate, and on the same millisecond the further status.
    """
    newest: dict[str, dict] = {}
    for package in map(_checked, packages):
        key = package_key(package)
        kept = newest.get(key)
        if kept is None or _revision(kept) <= _revision(package):
            newest[key] = package
    _check_agreement(newest)
    orders: dict[str, dict] = {}
    for package in sorted(newest.values(), key=_revision):  # the order's newest package last
        orders[package["orderNumber"]] = package
    rows = WindowRows(
        orders=[_order_row(slug, package, loaded_at) for package in orders.values()],
        packages=[_package_row(slug, key, package, loaded_at) for key, package in newest.items()],
        lines=[row for key, package in newest.items() for row in _line_rows(slug, key, package, loaded_at)],
    )
    for table, found in ((n11_orders, rows.orders), (n11_order_packages, rows.packages),
                         (n11_order_lines, rows.lines)):
        for row in found:
            _check_fits(table, row)
    return rows


def _check_fits(table: Table, row: dict) -> None:
    """``BadPackage`` naming the order and the field when a value does not fit its column or is not a finite
    number: a raw database error would abort the window without saying which row. A text is described by its
    length only: it may be a buyer's name or address."""
    for name, (kind, limit) in _limits(table).items():
        value = row.get(name)
        if value is None:
            continue
        if kind == "text" and len(value) > limit:
            raise BadPackage(f"{_where(row)}: {name} has {len(value)} characters; the shop table holds {limit}")
        if kind == "amount" and not (value.is_finite() and abs(value) < limit):
            raise BadPackage(f"{_where(row)}: {name} = {value} is not an amount the shop table can hold")
        if kind == "count" and not -limit <= value < limit:
            raise BadPackage(f"{_where(row)}: {name} = {value} is not a count the shop table can hold")


def _where(row: dict) -> str:
    """The order (and line) a row belongs to, for a refusal."""
    return f"order {row['order_number']}" + (f", line {row['order_line_id']}" if "order_line_id" in row else "")


@cache
def _limits(table: Table) -> dict[str, tuple[str, Any]]:
    """What each bounded column of ``table`` holds: text up to a length, amounts below a power of ten, 32-bit
    counts; worked out once per table, not per row."""
    found: dict[str, tuple[str, Any]] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, Numeric):
            found[column.name] = ("amount", Decimal(10) ** (kind.precision - kind.scale))
        elif isinstance(kind, Integer) and not isinstance(kind, BigInteger):
            found[column.name] = ("count", 2**31)
        elif getattr(kind, "length", None):
            found[column.name] = ("text", kind.length)
    return found


def _checked(package: dict) -> dict:
    """The package with its order number as a string and its status canonical, or ``BadPackage``."""
    package_id = _text(package.get("id"))
    order_number = _text(package.get("orderNumber"))
    if not order_number:
        raise BadPackage(f"package {package_id} has no orderNumber")
    where = f"order {order_number} (package {package_id})"
    raw_status = package.get("shipmentPackageStatus")
    status = normalise_status(raw_status)
    if not _text(raw_status):
        raise BadPackage(f"{where} has no shipmentPackageStatus")
    if status is None:
        raise BadPackage(f"{where}: shipmentPackageStatus {str(raw_status).strip()!r} is not an N11 status")
    if not isinstance(package.get("lastModifiedDate"), int):
        raise BadPackage(f"{where} has no lastModifiedDate (got {package.get('lastModifiedDate')!r})")
    if not isinstance(package.get("lines"), list):
        raise BadPackage(f"{where} has no lines list")
    for position, line in enumerate(package["lines"], start=1):
        if not isinstance(line, dict) or not _text(line.get("orderLineId")):
            stock_code = line.get("stockCode") if isinstance(line, dict) else None
            raise BadPackage(f"{where}: line {position} (stockCode {stock_code}) has no orderLineId")
    if not package_id and not package["lines"]:
        raise BadPackage(f"{where} has no id and no lines")
    return {**package, "orderNumber": order_number, "shipmentPackageStatus": status}


def _check_agreement(packages: dict[str, dict]) -> None:
    """A line listed by two packages (a split parent and its child) must be the same line of the same order."""
    seen: dict[str, tuple[str, dict]] = {}
    for key, package in packages.items():
        for line in package["lines"]:
            line_id = _text(line["orderLineId"])
            if line_id not in seen:
                seen[line_id] = (key, package)
                continue
            other_key, other = seen[line_id]
            where = f"order {package['orderNumber']} (package {key}), line {line_id}"
            if other["orderNumber"] != package["orderNumber"]:
                raise BadPackage(f"{where}: orderNumber contradicts package {other_key} (order "
                                 f"{other['orderNumber']})")
            other_line = next(x for x in other["lines"] if _text(x["orderLineId"]) == line_id)
            if _text(other_line.get("stockCode")) != _text(line.get("stockCode")):
                raise BadPackage(f"{where}: stockCode contradicts package {other_key}")


def _revision(package: dict) -> int:
    """Orders versions of a package: lastModifiedDate, then how far its status has come."""
    return package["lastModifiedDate"] * 10 + STEP[package["shipmentPackageStatus"]]


def _created_ms(package: dict) -> int | None:
    created = [entry.get("createdDate") for entry in package.get("packageHistories") or []
               if isinstance(entry, dict) and isinstance(entry.get("createdDate"), int)]
    return min(created) if created else None


def _sender(package: dict) -> str | None:
    """SELLER or N11: the sync marks each package with the sender it was asked for (``sync.fetch_senders``)."""
    sender = (_text(package.get("sender")) or "").upper()
    return sender if sender in SENDERS else None


def _package_row(slug: str, key: str, package: dict, loaded_at: datetime) -> dict:
    created = _created_ms(package)
    return {
        "store": slug,
        "package_id": key,
        "order_number": package["orderNumber"],
        "status": package["shipmentPackageStatus"],
        "revision": _revision(package),
        "cargo_provider": _text(package.get("cargoProviderName")),
        "cargo_tracking_number": _text(package.get("cargoTrackingNumber")),
        "cargo_tracking_link": _text(package.get("cargoTrackingLink")),
        "shipment_method": _text(package.get("shipmentMethod")),
        "sender": _sender(package),
        "line_ids": ",".join(_text(line["orderLineId"]) for line in package["lines"]),
        "created_at": from_ms(created) if created is not None else None,
        "last_modified": from_ms(package["lastModifiedDate"]),
        "loaded_at": loaded_at,
    }


def _line_rows(slug: str, key: str, package: dict, loaded_at: datetime) -> list[dict]:
    """The package's lines; a line takes its package's status unless N11 marks the item itself cancelled."""
    rows = []
    for line in package["lines"]:
        line_id = _text(line["orderLineId"])
        where = f"order {package['orderNumber']}, line {line_id}"
        item_status = normalise_status(line.get("orderItemLineItemStatusName"))
        rows.append({
            "store": slug,
            "order_line_id": line_id,
            "order_number": package["orderNumber"],
            "package_id": key,
            "status": item_status if item_status in DEAD else package["shipmentPackageStatus"],
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


def _order_row(slug: str, package: dict, loaded_at: datetime) -> dict:
    """The order as its newest package shows it: buyer, both addresses in full, invoice data.

    The buyer is ``customerfullName``, else the billing address's name: a pick-up-point order
    (``deliveryAddressType`` KTN, EASYPOINT, PUP) ships to the point's address, and only the billing address
    names the buyer. Status, cargo and amounts are set by the load from all of the order's packages.
    """
    billing = package.get("billingAddress") or {}
    shipping = package.get("shippingAddress") or {}
    created = _created_ms(package)
    agreed = package.get("agreedDeliveryDate")
    return {
        "store": slug,
        "order_number": package["orderNumber"],
        "status": package["shipmentPackageStatus"],
        "customer_id": _text(package.get("customerId")),
        "customer_name": _text(package.get("customerfullName")) or _text(billing.get("fullName")),
        "customer_email": _text(package.get("customerEmail")),
        **{f"shipping_{column}": _text(shipping.get(field)) for column, field in _ADDRESS_FIELDS.items()},
        **{f"billing_{column}": _text(billing.get(field)) for column, field in _ADDRESS_FIELDS.items()},
        "delivery_address_type": _text(package.get("deliveryAddressType")),
        "invoice_type": _text(billing.get("invoiceType")),
        "tc_id": _text(billing.get("tcId")),
        "tax_id": _text(billing.get("taxId")),
        "tax_office": _text(billing.get("taxHouse")),
        "agreed_delivery_date": from_ms(agreed) if isinstance(agreed, int) else None,
        "cargo_provider": _text(package.get("cargoProviderName")),
        "cargo_tracking_number": _text(package.get("cargoTrackingNumber")),
        "cargo_tracking_link": _text(package.get("cargoTrackingLink")),
        "shipment_method": _text(package.get("shipmentMethod")),
        "sender": _sender(package),
        "created_at": from_ms(created) if created is not None else None,
        "last_modified": from_ms(package["lastModifiedDate"]),
        "loaded_at": loaded_at,
    }


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
