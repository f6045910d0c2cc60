"""The per-seller data of the sandbox's N11: an account's products, packages, write tasks, return claims and invoice
links, and the changes tests make to them as N11 or the seller's panel would (status moves, splits, approvals),
outside the API."""

import copy
import threading
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from devtools.sandbox import rules

SPLIT_READINGS = ("unpacked", "cancelled")  # N11's pages: parent Unpacked + children Picking, or parent
# Cancelled + children UnPacked/Picking
CHILD_TRACKING_BASE = 9 * 10**11  # a split child's cargo tracking number: 12 digits, like N11's campaign codes


def _with_quantity(line: dict, line_id: int, quantity: int, status: str) -> dict:
    """A copy of a line under a new id with another quantity, its amounts scaled to it."""
    new = copy.deepcopy(line) | {"orderLineId": line_id, "quantity": quantity, "orderItemLineItemStatusName": status}
    share = Decimal(quantity) / line["quantity"]
    for name in ("sellerDiscount", "sellerCouponDiscount", "totalSellerDiscountPrice", "mallDiscount"):
        new[name] = (line[name] * share).quantize(rules.CENT)
    new["sellerInvoiceAmount"] = rules.line_amount(new)
    return new


def stamp(package: dict, status: str, modified_ms: int) -> None:
    """Move a package to a status at a moment, as N11 records it: status, lastModifiedDate and a history entry."""
    package["shipmentPackageStatus"] = status
    package["lastModifiedDate"] = modified_ms
    package["packageHistories"].append({"createdDate": modified_ms, "status": status})


def public(package: dict) -> dict:
    """A copy of a package as it goes on the wire: private "_" keys removed, and ``_shown`` fields (what a test
    makes N11 send whatever the package's state, e.g. a status the filters do not know) put over it."""
    shown = {key: value for key, value in package.items() if not key.startswith("_")} | package.get("_shown", {})
    return copy.deepcopy(shown)


@dataclass
class WriteTask:
    """One product write task: its receipt, and after processing one result item per SKU."""

    id: int
    kind: str
    skus: list[dict]
    status: str  # IN_QUEUE, then PROCESSED; or REJECT from the start
    reasons: list[str]
    created: datetime
    modified: datetime
    polls: int = 0
    items: list[dict] = field(default_factory=list)


@dataclass(eq=False)
class Account:
    """One seller account, keyed by its API key; its lock guards every field below it."""

    api_key: str
    api_secret: str
    order_service_open: bool = True
    # whether splitPackageByQuantity answers with splitPackageOrderItems: an opt-in on some N11 accounts
    split_items_listed: bool = True
    products: dict[str, dict] = field(default_factory=dict)
    packages: list[dict] = field(default_factory=list)
    tasks: dict[int, WriteTask] = field(default_factory=dict)
    locked_codes: set[str] = field(default_factory=set)  # SKUs whose presence makes N11 REJECT a whole write task
    # the same, found only when N11 processes the task: the receipt says IN_QUEUE, the task's result REJECT
    late_locked_codes: set[str] = field(default_factory=set)
    claims: dict[str, dict] = field(default_factory=dict)  # return claims by claimReturnId (claims.py)
    invoice_links: dict[str, dict] = field(default_factory=dict)  # SaveLinkSellerInvoice's, by order number
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def panel_edit(self, stock_code: str, **fields: Any) -> None:
        """Change a product as the seller does in N11's panel (or N11 itself): no task, no trace in the API."""
        with self.lock:
            product = self.products[stock_code]
            product.update(fields)
            product["saleStatus"] = rules.sale_status(product["status"], product["quantity"])

    def package(self, order_number: str) -> list[dict]:
        """The packages of an order, split parents and children included (live objects, for tests)."""
        with self.lock:
            return [package for package in self.packages if package["orderNumber"] == order_number]

    def add_package(self, package: dict) -> None:
        """Store a package; sender defaults to the seller and creation to its last modification."""
        package.setdefault("_sender", "SELLER")
        package.setdefault("_created", package["lastModifiedDate"])
        with self.lock:
            self.packages.append(package)

    def set_package_status(self, order_number: str, status: str, modified_ms: int) -> None:
        """Move every live package of an order (not a split parent, not Cancelled or UnSupplied) and its lines
        to a status, as N11 would."""
        with self.lock:
            live = [
                p
                for p in self.package(order_number)
                if not p.get("_parent") and rules.canonical_status(p["shipmentPackageStatus"]) not in rules.DEAD
            ]
            if not live:
                raise KeyError(f"no live package for order {order_number}")
            for package in live:
                stamp(package, status, modified_ms)
                for line in package["lines"]:
                    line["orderItemLineItemStatusName"] = status

    def split_package(self, package_id: str, modified_ms: int, reading: str = "unpacked") -> list[dict]:
        """Split by product as N11 does, under either reading of its pages: two children with new ids share out
        the parent's lines; ``reading="unpacked"`` turns the parent Unpacked and the children Picking,
        ``"cancelled"`` turns the parent Cancelled and the children UnPacked and Picking."""
        if reading not in SPLIT_READINGS:
            raise ValueError(f"reading must be one of {SPLIT_READINGS}")
        with self.lock:
            parent = self._find(package_id)
            if len(parent["lines"]) < 2:
                raise ValueError(f"package {package_id} has fewer than two lines")
            half = len(parent["lines"]) // 2
            statuses = ("Picking", "Picking") if reading == "unpacked" else ("UnPacked", "Picking")
            children = [self._child(parent, copy.deepcopy(lines), status, modified_ms)
                        for lines, status in zip((parent["lines"][:half], parent["lines"][half:]), statuses,
                                                 strict=True)]
            stamp(parent, rules.UNPACKED if reading == "unpacked" else "Cancelled", modified_ms)
            if reading == "cancelled":
                for line in parent["lines"]:
                    line["orderItemLineItemStatusName"] = "Cancelled"
            parent["_parent"] = True
            return children

    def split_by_quantity(self, package_id: str, line_id: int, cancelled: int, modified_ms: int,
                          reading: str = "unpacked") -> list[dict]:
        """A partial cancel of one line, as the seeded data makes them: ``cancelled`` items of the line go to an
        UnSupplied package and every other item to one Picking child (``split_quantities``)."""
        if reading not in SPLIT_READINGS:
            raise ValueError(f"reading must be one of {SPLIT_READINGS}")
        with self.lock:
            parent = self._find(package_id)
            line = next(line for line in parent["lines"] if line["orderLineId"] == line_id)
            if not 0 < cancelled < line["quantity"]:
                raise ValueError(f"line {line_id} has {line['quantity']} items; cancel between 1 and one less")
            kept = {str(old["orderLineId"]): old["quantity"] - (cancelled if old is line else 0)
                    for old in parent["lines"]}
            return self.split_quantities(parent, [kept], {str(line_id): cancelled}, modified_ms, reading)

    def split_quantities(self, parent: dict, packages: list[dict[str, int]], cancelled: dict[str, int],
                         modified_ms: int, reading: str = "unpacked") -> list[dict]:
        """``splitPackageByQuantity`` as N11 does it, the quantities already checked: each of ``packages`` (order
        line id -> items) becomes a Picking child, the items named nowhere one more, and the ``cancelled`` items an
        UnSupplied package. Every child has a new package id and cargo tracking number and its lines new ids; the
        parent is retired as in ``split_package``. Returns the children in that order."""
        with self.lock:
            by_id = {str(line["orderLineId"]): line for line in parent["lines"]}
            left = {line_id: line["quantity"] - sum(group.get(line_id, 0) for group in packages)
                    - cancelled.get(line_id, 0) for line_id, line in by_id.items()}
            groups = [(group, "Picking") for group in packages]
            if any(left.values()):
                groups.append(({line_id: items for line_id, items in left.items() if items}, "Picking"))
            if cancelled:
                groups.append((cancelled, "UnSupplied"))
            next_line = max(int(x["orderLineId"]) for p in self.packages for x in p["lines"]) + 1
            children = []
            for group, status in groups:
                lines = [_with_quantity(by_id[line_id], next_line + offset, items, status)
                         for offset, (line_id, items) in enumerate(group.items())]
                next_line += len(lines)
                children.append(self._child(parent, lines, status, modified_ms))
            stamp(parent, rules.UNPACKED if reading == "unpacked" else "Cancelled", modified_ms)
            parent["_parent"] = True
            return children

    def _find(self, package_id: str) -> dict:
        package = next((p for p in self.packages if str(p["id"]) == str(package_id)), None)
        if package is None:
            raise ValueError(f"package {package_id} is unknown")
        return package

    def _child(self, parent: dict, lines: list[dict], status: str, modified_ms: int) -> dict:
        """A new package of the parent's order holding ``lines``, created now with a history and a cargo tracking
        number of its own."""
        next_id = max(int(p["id"]) for p in self.packages if p["id"] is not None) + 1
        for line in lines:
            line["orderItemLineItemStatusName"] = status
        tracking = str(CHILD_TRACKING_BASE + next_id)
        child = copy.deepcopy({key: value for key, value in parent.items() if key != "_parent"}) | {
            "id": next_id, "lines": lines, "_created": modified_ms, "shipmentPackageStatus": status,
            "lastModifiedDate": modified_ms, "packageHistories": [{"createdDate": modified_ms, "status": status}],
            "cargoTrackingNumber": tracking, "cargoTrackingLink": f"https://kargotakip.example.com/{tracking}",
        }
        child |= rules.package_totals(lines)
        self.packages.append(child)
        return child

    def approve(self, stock_code: str) -> None:
        """N11 approves a created product: it goes on sale and can be updated."""
        with self.lock:
            product = self.products[stock_code]
            product["status"] = "Active"
            product["saleStatus"] = rules.sale_status("Active", product["quantity"])

    def expected_orders(self, start_ms: int, end_ms: int) -> list[dict]:
        """What a correct client imports for lastModifiedDate in [start, end): every sender, no Unpacked."""
        lower = max(start_ms, rules.FIRST_SERVED_MS)
        with self.lock:
            chosen = [
                public(package)
                for package in self.packages
                if lower <= package["lastModifiedDate"] < end_ms
                and rules.canonical_status(package["shipmentPackageStatus"]) != rules.UNPACKED
            ]
        return sorted(chosen, key=lambda package: (package["orderNumber"], package["id"] or 0))
