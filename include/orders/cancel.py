"""Cancel what the shop cannot supply ("tedarik edememe"): the shop's ``cancel`` rows of ``n11_order_actions``, sent
once to N11 as a split by quantity, then the order read again so the shop holds what N11 holds.

The shop inserts one ``cancel`` row per order line, with ``quantity`` (NULL: the whole line) and ``cancel_reason``
(N11's id; NULL: 61). N11 cancels items only by splitting a Picking package (``splitPackageByQuantity``): the
cancelled items go to an UnSupplied package, the others to a Picking one, under new package and line ids, and the
old package turns Unpacked. So the cancels of one package go in one call: after it, their old line ids are gone.

Not sent, with the reason in ``reason``: a line the store does not hold, a warehouse order, a line still Created
(while its approval is open the cancel waits for it instead), a line split already (Unpacked), Shipped or later, a
quantity that is not 1 to the line's, an unknown ``cancel_reason``, and a cancel of every item of a package (nothing
would remain to split off, and N11's API cancels only with a split: the shop uses N11's panel). A line N11 already
shows UnSupplied or Cancelled is accepted without sending.

Sent exactly once, by ``actions.py``'s machinery: claimed before the call (only while the row still holds the
values the call was built from), and an unknown outcome settled by the line's state on N11, never by sending again:
gone from the live packages (split) or UnSupplied or Cancelled means accepted; still Picking means N11 did not take
it, which is ``failed`` (the shop clears the row's outcome to send it again).

``cancel_lines`` must run after ``approve_orders`` in the same task: a line that run approved is Picking by then,
so the shop can approve and cancel a line in one run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, exists, or_, select

from include.clock import utcnow
from include.orders.actions import (
    APPROVE,
    CANCEL,
    GONE,
    SETTLE,
    LookUp,
    Settling,
    Verdict,
    claim,
    close_unsent,
    fill_requested_at,
    line_refusal,
    pending,
    record,
    send_once,
    settle_unknown,
    tally,
    warehouse_refusal,
)
from include.orders.errors import BadOrderData
from include.orders.fetch import read_order
from include.orders.load import load_packages
from include.orders.status import CREATED, DEAD, NOT_COUNTED, PICKING, UNPACKED
from include.sends import ACCEPTED, FAILED, REFUSED, UNKNOWN, counts_of
from include.settings import StoreConfig
from include.tables import n11_order_actions, n11_order_lines, n11_orders
from n11.client import CANCEL_REASONS, CancelledItem, N11Client
from n11.errors import N11AuthError, N11Error

log = logging.getLogger(__name__)
actions, lines, orders = n11_order_actions, n11_order_lines, n11_orders

DEFAULT_REASON = 61  # out of stock
SEND, LATER = "send", "later"  # a waiting row's lot besides accepted and refused: sent now, or after its approval
_approval = actions.alias("approval")
# What a waiting cancel row is judged by, besides its line's order, status and sender.
_COLUMNS = (
    lines.c.package_id, lines.c.quantity.label("ordered"), actions.c.quantity, actions.c.cancel_reason,
    exists().where(_approval.c.store == actions.c.store, _approval.c.order_line_id == actions.c.order_line_id,
                   _approval.c.action == APPROVE,
                   or_(_approval.c.result.is_(None), _approval.c.result == UNKNOWN)).label("approving"),
)
_REASONS = ", ".join(f"{number} {name}" for number, name in CANCEL_REASONS.items())


@dataclass
class CancelSummary:
    """What one cancel run did, for the task's log line and return value (counts only, no personal data)."""

    store: str
    refused: int = 0  # rows never sent, with the reason
    reached: int = 0  # lines N11 already showed UnSupplied or Cancelled: accepted without sending
    waiting: int = 0  # lines still Created whose approval is open: sent once it went through
    settled: int = 0  # earlier unknown outcomes decided by the line's state on N11
    calls: int = 0
    sent: int = 0
    accepted: int = 0
    failed: int = 0
    unknown: int = 0
    reread: int = 0  # orders read again from N11 into the shop
    reread_failed: int = 0  # of those, reads that failed: the next run's follow-up of open orders reads them

    def idle_reason(self) -> str | None:
        """Why the run had nothing to do, or None when it did something."""
        if any(self.counts().values()):
            return None
        return f"store {self.store!r}: nothing to cancel: the shop asked for no cancel in n11_order_actions"

    def log_line(self) -> str:
        return (f"store {self.store!r}, cancels of items that cannot be supplied: lines sent {self.sent} in "
                f"{self.calls} call(s), accepted {self.accepted}, failed {self.failed}, outcome unknown "
                f"{self.unknown}; refused without sending {self.refused}, already cancelled on N11 {self.reached}, "
                f"waiting for their approval {self.waiting}; earlier unknown outcomes settled {self.settled}; "
                f"orders read again {self.reread} (failed {self.reread_failed})")

    def counts(self) -> dict[str, int]:
        return counts_of(self)


def cancel_lines(engine: Engine, client: N11Client, store: StoreConfig) -> CancelSummary:
    """Settle earlier unknown cancels, judge the waiting ones, send each package's cancels in one call and read
    its order again. Call it after ``approve_orders`` (see the module's docstring)."""
    slug = store.slug
    summary = CancelSummary(slug)
    now = utcnow()
    settled = settle_unknown(engine, client, slug, CANCELLING, now, now - SETTLE)
    summary.settled = settled.settled
    _load_looked_up(engine, store, settled.looked_up, summary)
    with engine.begin() as conn:
        fill_requested_at(conn, slug, now)
        rows, elsewhere = pending(conn, slug, actions.c.action == CANCEL, *_COLUMNS)
        to_send = []
        for row in rows:
            lot, reason = _judge(slug, row, elsewhere.get(row.order_line_id))
            if lot == SEND:
                to_send.append(row)
            elif lot == LATER:
                summary.waiting += 1
            elif lot == ACCEPTED:
                summary.reached += close_unsent(conn, slug, row, ACCEPTED, reason, now)
            else:
                summary.refused += close_unsent(conn, slug, row, REFUSED, reason, now)
        packages = _by_package(conn, slug, to_send)
        for package_id, (group, live) in list(packages.items()):
            if not any(_kept(group, live).values()):
                del packages[package_id]
                reason = (f"this would cancel every item of package {package_id}, and N11's API cancels items only "
                          "by splitting off what remains: cancel it in N11's panel (so.n11.com)")
                summary.refused += sum(close_unsent(conn, slug, row, REFUSED, reason, now) for row in group)
    for package_id, (group, live) in packages.items():
        _send(engine, client, store, package_id, group, live, summary)
    return summary


def _judge(slug: str, row, other_store: str | None) -> tuple[str, str | None]:
    """Whether a waiting row is sent now, later, accepted or refused, and why."""
    refusal = line_refusal(slug, row, other_store)
    if refusal is not None:
        return REFUSED, refusal
    if row.status in DEAD:
        return ACCEPTED, f"N11 already shows the line {row.status}: not sent"
    refusal = warehouse_refusal(row)
    if refusal is not None:
        return REFUSED, refusal
    if row.status == UNPACKED:
        return REFUSED, ("the line was split on N11 and its items are under new order line ids now: ask for the line "
                         "that holds them")
    if row.status == CREATED:
        if row.approving:
            return LATER, None
        return REFUSED, (f"the line is {CREATED}: N11 cancels items only in a {PICKING} package; approve the line "
                         f"first (an 'approve' row, sent before the cancel), or reject it in N11's panel")
    if row.status != PICKING:
        return REFUSED, (f"the line is {row.status}: N11 cancels items only in a {PICKING} package, before it "
                         "ships; handle it as a return or in N11's panel")
    items = _items(row)
    if isinstance(items, bool) or not isinstance(items, int) or not 1 <= items <= row.ordered:
        return REFUSED, f"quantity {items!r} is not a whole number from 1 to the line's {row.ordered} items"
    if _reason_id(row) not in CANCEL_REASONS:
        return REFUSED, f"cancel_reason {_reason_id(row)!r} is not one of N11's: {_REASONS}"
    return SEND, None


def _items(row) -> int:
    return row.ordered if row.quantity is None else row.quantity


def _reason_id(row) -> int:
    return DEFAULT_REASON if row.cancel_reason is None else row.cancel_reason


def _by_package(conn: Connection, slug: str, rows: list) -> dict[str, tuple[list, dict[str, int]]]:
    """The rows to send by package, each with the package's live lines and their items."""
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[row.package_id].append(row)
    live: dict[str, dict[str, int]] = defaultdict(dict)
    if groups:
        for package_id, line_id, items in conn.execute(
                select(lines.c.package_id, lines.c.order_line_id, lines.c.quantity).where(
                    lines.c.store == slug, lines.c.package_id.in_(list(groups)), lines.c.status.notin_(NOT_COUNTED))):
            live[package_id][line_id] = items
    return {package_id: (group, live[package_id]) for package_id, group in groups.items()}


def _kept(group: list, live: dict[str, int]) -> dict[str, int]:
    """What each live line of the package keeps once the group's items are cancelled."""
    cancelled = {row.order_line_id: _items(row) for row in group}
    return {line: items - cancelled.get(line, 0) for line, items in live.items()}


def _send(engine: Engine, client: N11Client, store: StoreConfig, package_id: str, group: list, live: dict[str, int],
          summary: CancelSummary) -> None:
    """Claim the package's cancel rows, split it once on N11 with them, record the answer and read the order again."""
    slug = store.slug
    unchanged = {row.order_line_id: {"quantity": row.quantity, "cancel_reason": row.cancel_reason} for row in group}
    attempt, claimed = claim(engine, slug, CANCEL, list(unchanged), unchanged)
    if not claimed:
        return  # an overlapping run claimed them first, or the shop changed them since: the next run judges again
    group = [row for row in group if row.order_line_id in claimed]
    cancelled = [CancelledItem(row.order_line_id, _items(row), _reason_id(row)) for row in group]
    split = {line: items for line, items in _kept(group, live).items() if items > 0}
    answer, outcome = send_once(engine, slug, attempt, claimed,
                                lambda: client.split_package_by_quantity([split], cancelled))
    if outcome is None:
        new_lines = ", ".join(item["orderLineId"] for item in answer["items"]) if answer["items"] is not None \
            else "as the order read again shows them"
        outcome = {item.order_line_id: (ACCEPTED, (
            f"N11 split package {package_id}: {item.quantity} item(s) of this line UnSupplied (reason "
            f"{item.reason_id} {CANCEL_REASONS[item.reason_id]}); the items kept go on under new order line ids "
            f"({new_lines})")) for item in cancelled}
    summary.calls += 1
    summary.sent += len(claimed)
    with engine.begin() as conn:
        record(conn, slug, CANCEL, attempt, outcome, utcnow())
    tally(summary, outcome, "cancel")
    if ACCEPTED in {result for result, _ in outcome.values()}:
        _read_again(engine, store, group[0].order_number, group[0].sender, summary,
                    lambda: read_order(client, group[0].order_number, group[0].sender))


def _load_looked_up(engine: Engine, store: StoreConfig, looked_up: LookUp, summary: CancelSummary) -> None:
    """Load the orders that settling looked up as N11 showed them, each marked with its stored sender."""
    answered = {number: packages for number, packages in looked_up.packages.items() if packages}
    if not answered:
        return
    with engine.connect() as conn:
        senders = dict(conn.execute(select(orders.c.order_number, orders.c.sender).where(
            orders.c.store == store.slug, orders.c.order_number.in_(list(answered)))).all())
    for number, packages in sorted(answered.items()):
        sender = senders.get(number)
        _read_again(engine, store, number, sender, summary,
                    lambda packages=packages, sender=sender: [{**p, "sender": sender} for p in packages])


def _read_again(engine: Engine, store: StoreConfig, order_number: str, sender: str | None, summary: CancelSummary,
                read) -> None:
    """Load an order's packages as N11 shows them (``read()``), so the shop holds the split; a failure is logged
    and left to the next run's follow-up of open orders (the order is open, and its old package is Unpacked)."""
    try:
        load_packages(engine, store, read(), f"re-read of order {order_number} after a cancel")
    except N11AuthError:
        raise
    except (N11Error, BadOrderData) as exc:
        summary.reread_failed += 1
        log.warning("store %r: order %s was not read again after a cancel; the next orders run's follow-up reads it: "
                    "%s", store.slug, order_number, exc)
    else:
        summary.reread += 1


def _verdict(status: str | None, sent: str, now: str) -> Verdict:
    """An unknown cancel decided by its line's state on N11: gone from the live packages (split), UnSupplied or
    Cancelled means accepted; still Picking means N11 did not take it: failed, never sent again blindly."""
    if status is None:
        return None  # N11 answered the order without any package: nothing to decide by yet
    if status in (GONE, UNPACKED):
        return ACCEPTED, (f"the send at {sent} got no usable answer; N11 later showed the line split (gone from its "
                          "live packages, its items under new line ids)")
    if status in DEAD:
        return ACCEPTED, f"the send at {sent} got no usable answer; N11 later showed the line {status}"
    if status == PICKING:
        return FAILED, (f"the send at {sent} got no usable answer and N11 still showed the line {PICKING} at {now}: "
                        "N11 did not take it; not sent again (clear the row's outcome to send it again)")
    return FAILED, f"the send at {sent} got no usable answer; N11 later showed the line {status}: not sent again"


CANCELLING = Settling(CANCEL, look_up_when=(None, PICKING), verdict=_verdict)
