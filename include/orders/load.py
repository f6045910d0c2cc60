"""N11's packages into the shop database: a window's rows in one transaction, and the approval's own writes.

Packages and orders are upserted in bulk with a version guard (a package's ``revision``, an order's
``last_modified``), so a rerun, an overlap or an older answer changes nothing. For every order whose packages
the window changed, its stored packages decide (``status.py``) which package holds each line live, the order's
status and cargo, and its amounts from its live lines: an order's packages may have come in other windows or
runs, and the stored packages are the only place that has them all, so the result does not depend on how the
range was cut. A line is written from a package only when that package's newest version was just written and
holds it live.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Executable, bindparam, exists, select, update

from include.clock import utcnow
from include.orders.errors import BadOrderData
from include.orders.status import CREATED, NOT_COUNTED, PICKING, OrderState, line_status, order_state
from include.orders.transform import BadPackage, WindowRows, package_rows
from include.settings import StoreConfig
from include.tables import n11_order_lines, n11_order_packages, n11_orders
from include.upsert import upsert

_BATCH = 1000
_ZERO = Decimal("0.00")
# What the load sets on an order from its packages and lines.
DERIVED = ("status", "cargo_provider", "cargo_tracking_number", "cargo_tracking_link", "shipment_method", "sender",
           "total_amount", "total_discount_amount", "invoice_total")


@dataclass
class LoadCounts:
    """Orders new, updated (a newer package or lastModifiedDate) and unchanged; lines new, updated and unchanged
    (stored from the same or a newer package version, or held live by another package: not written)."""

    orders_new: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    lines_new: int = 0
    lines_updated: int = 0
    lines_unchanged: int = 0

    def __add__(self, other: LoadCounts) -> LoadCounts:
        return LoadCounts(*(a + b for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other),
                                                   strict=True)))


def load_window(conn: Connection, slug: str, rows: WindowRows) -> LoadCounts:
    """Upsert the window's packages, the lines they hold live, then its orders with their status, cargo and
    amounts worked out beforehand (new orders are written once)."""
    packages = upsert(conn, n11_order_packages, rows.packages, version="revision")
    written = {row["package_id"] for row in packages.written}
    states = _states(conn, slug, {row["order_number"] for row in packages.written})
    owned = []
    for row in (row for row in rows.lines if row["package_id"] in written):
        state = states[row["order_number"]]
        owner = state.owners[row["order_line_id"]]
        if owner["package_id"] == row["package_id"]:
            owned.append({**row, "status": line_status(row["status"], owner, state)})
    lines = upsert(conn, n11_order_lines, owned)
    values = order_values(conn, slug, states)
    orders = [upsert(conn, n11_orders, part, version="last_modified") for part in (
        [{**row, **values[row["order_number"]]} for row in rows.orders if row["order_number"] in values],
        [row for row in rows.orders if row["order_number"] not in values])]
    written_orders = {row["order_number"] for result in orders for row in result.written}
    late = written_orders - set(values)  # an order row newer than any of its packages: its values come after
    values |= order_values(conn, slug, _states(conn, slug, late))
    changed = set_order_values(conn, slug, {n: v for n, v in values.items() if n not in written_orders or n in late})
    new = sum(result.new for result in orders)
    updated = sum(result.updated for result in orders) + len(changed - written_orders)
    window_lines = {row["order_line_id"] for row in rows.lines}
    return LoadCounts(new, updated, len(rows.orders) - new - updated, lines.new, lines.updated,
                      len(window_lines) - len(lines.written))


def _states(conn: Connection, slug: str, order_numbers: Iterable[str]) -> dict[str, OrderState]:
    return {number: order_state(found) for number, found in _stored_packages(conn, slug, order_numbers).items()}


def refresh_orders(conn: Connection, slug: str, order_numbers: Iterable[str]) -> set[str]:
    """Work the orders' status, cargo and amounts out again from their stored packages and lines (after a change
    made in the shop database, such as an approval N11 confirmed); returns the orders that changed."""
    return set_order_values(conn, slug, order_values(conn, slug, _states(conn, slug, order_numbers)))


def order_values(conn: Connection, slug: str, states: Mapping[str, OrderState]) -> dict[str, dict[str, Any]]:
    """Each order's status, cargo and amounts from its packages and live lines; a line whose stored package no
    longer holds it live is first moved to the one that does."""
    lines = _stored_rows(conn, n11_order_lines, slug, states, n11_order_lines.c.order_line_id,
                         n11_order_lines.c.order_number, n11_order_lines.c.package_id, n11_order_lines.c.status,
                         n11_order_lines.c.price, n11_order_lines.c.quantity,
                         n11_order_lines.c.seller_invoice_amount)
    moved = []
    for line in (line for found in lines.values() for line in found):
        state = states[line["order_number"]]
        owner = state.owners.get(line["order_line_id"])
        if owner is None:
            continue  # no stored package lists it any more: left as last seen
        status = line_status(line["status"] if owner["package_id"] == line["package_id"] else "", owner, state)
        if (owner["package_id"], status) != (line["package_id"], line["status"]):
            line.update(package_id=owner["package_id"], status=status)
            moved.append({"b_line": line["order_line_id"], "b_package": owner["package_id"], "b_status": status})
    if moved:
        conn.execute(_MOVE_LINE, [{"b_store": slug, **row} for row in sorted(moved, key=lambda r: r["b_line"])])
    return {number: _derived(state, lines.get(number, [])) for number, state in states.items()}


def set_order_values(conn: Connection, slug: str, values: Mapping[str, dict[str, Any]]) -> set[str]:
    """Update the stored orders whose values differ; returns their numbers."""
    stored = {number: found[0] for number, found in _stored_rows(
        conn, n11_orders, slug, values, n11_orders.c.order_number, *(n11_orders.c[c] for c in DERIVED)).items()}
    changes = []
    for number, new in sorted(values.items()):  # key order, as the upserts: concurrent loads never deadlock
        if number in stored and any(stored[number][column] != value for column, value in new.items()):
            changes.append({"b_order": number, **{f"v_{column}": value for column, value in new.items()}})
    if changes:
        conn.execute(_SET_ORDER, [{"b_store": slug, **row} for row in changes])
    return {row["b_order"] for row in changes}


def _derived(state: OrderState, lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """An order's status and cargo (from its deciding package) and the amounts of its live lines."""
    live = [line for line in lines if line["status"] not in NOT_COUNTED]
    gross = sum(((line["price"] or _ZERO) * line["quantity"] for line in live), _ZERO)
    invoiced = sum((line["seller_invoice_amount"] or _ZERO for line in live), _ZERO)
    package = state.package
    return {"status": state.status, "cargo_provider": package["cargo_provider"],
            "cargo_tracking_number": package["cargo_tracking_number"],
            "cargo_tracking_link": package["cargo_tracking_link"], "shipment_method": package["shipment_method"],
            "sender": package["sender"], "total_amount": gross, "total_discount_amount": gross - invoiced,
            "invoice_total": invoiced}


def _stored_packages(conn: Connection, slug: str, order_numbers: Iterable[str]) -> dict[str, list[dict]]:
    return _stored_rows(conn, n11_order_packages, slug, order_numbers, *n11_order_packages.columns)


def _stored_rows(conn: Connection, table, slug: str, order_numbers: Iterable[str], *columns) -> dict[str, list[dict]]:
    """The stored rows of the orders, by order number, read in batches of indexed ``IN`` lists."""
    numbers = sorted(order_numbers)
    found: dict[str, list[dict]] = defaultdict(list)
    for start in range(0, len(numbers), _BATCH):
        query = select(*columns).where(table.c.store == slug,
                                       table.c.order_number.in_(numbers[start:start + _BATCH]))
        for row in conn.execute(query).mappings():
            found[row["order_number"]].append(dict(row))
    return found


_MOVE_LINE = (update(n11_order_lines)
              .where(n11_order_lines.c.store == bindparam("b_store"),
                     n11_order_lines.c.order_line_id == bindparam("b_line"))
              .values(package_id=bindparam("b_package"), status=bindparam("b_status")))
_SET_ORDER = (update(n11_orders)
              .where(n11_orders.c.store == bindparam("b_store"), n11_orders.c.order_number == bindparam("b_order"))
              .values({column: bindparam(f"v_{column}") for column in DERIVED}))


def load_packages(engine: Engine, store: StoreConfig, packages: list[dict], where: str,
                  *also: Executable) -> LoadCounts:
    """Turn N11's packages into rows and load them in one transaction (with the statements ``also``), or fail
    naming the store, ``where`` ("window ..." or another batch) and what is unusable, writing nothing of it."""
    try:
        rows = package_rows(store.slug, packages, utcnow())
    except BadPackage as exc:
        raise BadOrderData(f"store {store.slug!r}, {where}: N11's answer is unusable: {exc}; nothing of this "
                           f"{where.split(' ', 1)[0]} was written. Rerun once N11 answers correctly.") from None
    with engine.begin() as conn:
        counts = load_window(conn, store.slug, rows)
        for statement in also:
            conn.execute(statement)
    return counts


def mark_picking(conn: Connection, slug: str, line_ids: Iterable[str]) -> None:
    """Lines N11 accepted say Picking, as does a package none of whose lines is left in Created (N11 moves it
    then); their orders follow by the orders import's status rule (``include.orders.status``).

    ``last_modified`` and a package's ``revision`` keep N11's values, so the next extraction writes N11's view
    over this one.
    """
    lines, packages = n11_order_lines, n11_order_packages
    ids = list(line_ids)
    if not ids:
        return
    conn.execute(update(lines).where(lines.c.store == slug, lines.c.order_line_id.in_(ids),
                                     lines.c.status == CREATED).values(status=PICKING))
    touched = conn.execute(select(lines.c.order_number, lines.c.package_id).distinct().where(
        lines.c.store == slug, lines.c.order_line_id.in_(ids))).all()
    created_left = exists().where(lines.c.store == packages.c.store, lines.c.package_id == packages.c.package_id,
                                  lines.c.status == CREATED)
    conn.execute(update(packages).where(packages.c.store == slug,
                                        packages.c.package_id.in_({package for _, package in touched}),
                                        packages.c.status == CREATED, ~created_left).values(status=PICKING))
    refresh_orders(conn, slug, {number for number, _ in touched})
