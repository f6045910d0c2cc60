"""N11's package statuses and the rules that make an order's state out of its stored packages.

Splits, under either reading of N11's pages, leave a parent package beside new ones:
- by product, the parent (``Unpacked``, or ``Cancelled`` under the older reading) still lists the lines its
  children list again; by quantity, N11 gives the lines new ids and puts cancelled items in an ``UnSupplied``
  package, so the parent's old lines are listed nowhere else.
- An ``Unpacked`` package is a **split parent** when another package of the order was created after it (its
  children); under the older reading the children themselves are ``Unpacked`` and nothing is created after them.
  A live ``Unpacked`` package (such a child) counts as ``Picking``, the only status N11 splits in.

A line belongs to the package that holds it live: a package that is not a split parent first, then the one
created last (a child is made at the split), then the one with fewer lines (a parent held all of its children's
lines), then the further and more recently modified. Lines held only by a split parent are ``Unpacked``: no
longer part of the order (their items live on under new line ids).

The order's status is the least advanced of Created < Picking < Shipped < Delivered among the packages that hold
its lines and are not Cancelled or UnSupplied. Only when every such package is Cancelled or UnSupplied is the
order so: UnSupplied when all are, else Cancelled. A split order is therefore never Cancelled while a child lives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ACTIVE = ("Created", "Picking", "Shipped", "Delivered")  # in the order a package advances
CREATED, PICKING = ACTIVE[:2]
APPROVED = ACTIVE[1:]  # a line that reached one of these was approved, by whoever
OPEN = ACTIVE[:-1]  # an order in one of these still changes on N11
DEAD = ("Cancelled", "UnSupplied")
UNPACKED = "Unpacked"
STATUSES = (*ACTIVE, *DEAD, UNPACKED)
NOT_COUNTED = (*DEAD, UNPACKED)  # a line in one of these adds nothing to the order's amounts
_CANONICAL = {status.casefold(): status for status in STATUSES}
# How far along a package is: breaks a tie of two versions N11 stamped with the same lastModifiedDate.
STEP = {**{status: step for step, status in enumerate(ACTIVE, start=1)}, **dict.fromkeys(NOT_COUNTED, 5)}

Package = Mapping[str, Any]  # a row of n11_order_packages


def normalise_status(raw: Any) -> str | None:
    """N11's canonical spelling of a status seen with stray spaces or other casing (``UnPacked`` is
    ``Unpacked``); None when blank or not an N11 status."""
    if raw is None:
        return None
    return _CANONICAL.get(str(raw).strip().casefold())


def id_order(value: str) -> tuple[int, str]:
    """Ids compared as numbers whatever their width (``"999" < "1000"``), never as plain strings."""
    return len(value), value


def line_ids(package: Package) -> list[str]:
    return [line_id for line_id in package["line_ids"].split(",") if line_id]


@dataclass
class OrderState:
    """An order as its stored packages make it: its status, the package that decides it (its cargo is the
    order's), which package holds each line, and each package's status as the order counts it."""

    status: str
    package: Package
    owners: dict[str, Package]
    effective: dict[str, str]  # package id -> its status for lines and the order (a live Unpacked is Picking)


def order_state(packages: Iterable[Package]) -> OrderState | None:
    """The order's state by the rules of this module; None for an order without packages."""
    packages = list(packages)
    if not packages:
        return None
    parents = _split_parents(packages)
    effective = {p["package_id"]: _effective(p, p["package_id"] in parents) for p in packages}
    owners: dict[str, Package] = {}
    for package in sorted(packages, key=lambda p: _holder_rank(p, parents)):  # the strongest holder last
        for line_id in line_ids(package):
            owners[line_id] = package
    counted = [p for p in {p["package_id"]: p for p in owners.values()}.values() if p["package_id"] not in parents]
    counted = counted or [p for p in packages if p["package_id"] not in parents] or packages
    live = [p for p in counted if effective[p["package_id"]] in ACTIVE]
    if live:
        package = min(live, key=lambda p: (STEP[effective[p["package_id"]]], -p["revision"]))
        return OrderState(effective[package["package_id"]], package, owners, effective)
    package = max(counted, key=lambda p: p["revision"])
    if all(p["status"] in DEAD for p in counted):
        unsupplied = all(p["status"] == "UnSupplied" for p in counted)
        return OrderState("UnSupplied" if unsupplied else "Cancelled", package, owners, effective)
    return OrderState("Picking", package, owners, effective)  # only split parents: their children are not read yet


def _split_parents(packages: list[Package]) -> set[str]:
    """Unpacked packages another package of the order was created after."""
    def created(package: Package):
        return package["created_at"] or package["last_modified"]

    newest = max(map(created, packages))
    return {p["package_id"] for p in packages if p["status"] == UNPACKED and created(p) < newest}


def _effective(package: Package, parent: bool) -> str:
    return "Picking" if package["status"] == UNPACKED and not parent else package["status"]


def _holder_rank(package: Package, parents: set[str]) -> tuple:
    """How strongly a package holds the lines it lists."""
    status = package["status"]
    return (package["package_id"] not in parents, package["created_at"] or package["last_modified"],
            -len(line_ids(package)), status not in DEAD, package["revision"], id_order(package["package_id"]))


def line_status(row_status: str, owner: Package, state: OrderState) -> str:
    """A line's status under the package that holds it: the package's as the order counts it, unless N11
    marked the item itself cancelled or unsupplied in a package that is not, or approved it (Picking) while
    its package is still Created."""
    package_status = state.effective[owner["package_id"]]
    if row_status in DEAD and package_status not in NOT_COUNTED:
        return row_status
    if row_status == "Picking" and package_status == "Created":
        return row_status  # approved on N11 while its package waits for its other lines
    return package_status
