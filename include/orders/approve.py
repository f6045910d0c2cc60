"""Order approval back to N11 (Created to Picking): which lines, sent at most once, and N11's per-line results.

Everything goes through ``n11_order_actions``, one row per line and action. The shop inserts ``approve`` rows;
while the store's ``auto_approve_orders`` is on, the DAG inserts one (requested_by ``auto``) for every
seller-fulfilled line the shop holds in Created. A row is sent at most once: a batch is claimed (``attempt_id``
and ``sent_at`` set, committed) before the call, and only rows never claimed can be claimed, so retries,
overlapping runs and crashes cannot send a line twice (the machinery is ``actions.py``'s, shared with cancels).
N11's per-line answer becomes ``result`` (accepted or failed, with N11's reason); a failed line is never sent again
unless the shop clears its row.

The result says whether the goal is reached, and N11's state decides it: N11 approves whole packages, so the
second line of a package sent in one call is answered ``FAIL: Kalem Picking durumunda`` although it is Picking.
A refused line's order is looked up, and a line N11 shows Picking or later is accepted, N11's words kept in the
reason. A row whose line the shop already holds past Created (approved in N11's panel, say) is accepted
without sending.

A send without a usable answer (timeout, 5xx, a worker that died mid-call) is ``unknown``: N11 may have taken
it. It is settled, not resent: once SETTLE has passed, the line's status decides, as the shop's last extraction
shows it, or else as a look-up of its order on N11 shows it. Picking or later means accepted; Created means
N11 did not take it and the row is sent again; Cancelled, UnSupplied or a line N11 no longer lists means failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, String, and_, exists, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from include.clock import utcnow
from include.orders.actions import (
    ACTIONS,
    APPROVE,
    GONE,
    SELLER,
    SEND_AGAIN,
    SETTLE,
    Outcome,
    Settling,
    Verdict,
    claim,
    close_unsent,
    fill_requested_at,
    line_refusal,
    look_up,
    pending,
    record,
    send_once,
    settle_unknown,
    tally,
    waiting,
    warehouse_refusal,
)
from include.orders.load import mark_picking
from include.orders.status import APPROVED, CREATED
from include.sends import ACCEPTED, FAILED, REFUSED, UNKNOWN, counts_of
from include.settings import StoreConfig
from include.shop_db import in_transaction
from include.tables import UtcDateTime, n11_order_actions, n11_order_lines, n11_orders
from n11.client import N11Client

log = logging.getLogger(__name__)
actions, lines, orders = n11_order_actions, n11_order_lines, n11_orders

AUTO = "auto"
# N11 documents no limit on the lines of one approval call. 100 is its largest order-listing page, so one call
# approves at most what one page shows, and a call whose outcome is lost leaves at most 100 lines to settle.
BATCH_LINES = 100


@dataclass
class ApprovalSummary:
    """What one approval run did, for the task's log line and return value (counts only, no personal data)."""

    store: str
    auto: bool
    requested: int = 0  # rows the DAG added for automatic approval
    refused: int = 0  # rows refused without sending (bad action, unknown line, another store's, not Created)
    reached: int = 0  # rows whose line N11 already showed approved: accepted without sending
    settled: int = 0  # unknown outcomes decided by the line's status
    resent: int = 0  # of those, lines N11 still showed Created: sent again
    calls: int = 0
    sent: int = 0
    accepted: int = 0
    failed: int = 0
    unknown: int = 0

    def idle_reason(self) -> str | None:
        """Why the run had nothing to do, or None when it did something."""
        if self.sent or self.refused or self.reached or self.settled:
            return None
        if self.auto:
            return (f"store {self.store!r}: nothing to approve: no seller-fulfilled line is waiting in Created and "
                    "the shop asked for no approval in n11_order_actions")
        return (f"store {self.store!r}: nothing to approve: auto_approve_orders is off and the shop asked for no "
                "approval in n11_order_actions")

    def log_line(self) -> str:
        return (f"store {self.store!r}, order approval (auto {'on' if self.auto else 'off'}): lines sent "
                f"{self.sent} in {self.calls} call(s), accepted {self.accepted}, failed {self.failed}, outcome "
                f"unknown {self.unknown}; refused without sending {self.refused}, already approved on N11 "
                f"{self.reached}; earlier unknown outcomes settled "
                f"{self.settled} (sent again {self.resent}); added for automatic approval {self.requested}")

    def counts(self) -> dict[str, int]:
        return counts_of(self)


def approve_orders(engine: Engine, client: N11Client, store: StoreConfig) -> ApprovalSummary:
    """Add the automatic rows, refuse bad ones, settle unknown outcomes, then send what waits, in batches."""
    slug = store.slug
    summary = ApprovalSummary(slug, store.auto_approve_orders)
    if store.auto_approve_orders:
        summary.requested = request_automatic(engine, slug, utcnow())
    with engine.begin() as conn:
        summary.reached = accept_reached(conn, slug, utcnow())
        summary.refused = refuse_bad_rows(conn, slug, utcnow())
    now = utcnow()
    settled = settle_unknown(engine, client, slug, APPROVAL, now, now - SETTLE)
    summary.settled, summary.resent = settled.settled, settled.resent
    with engine.connect() as conn:
        to_send = conn.execute(select(actions.c.order_line_id).where(waiting(slug, APPROVE))
                               .order_by(actions.c.requested_at, actions.c.order_line_id)).scalars().all()
    for start in range(0, len(to_send), BATCH_LINES):
        send_batch(engine, client, slug, to_send[start:start + BATCH_LINES], summary)
    return summary


def request_automatic(engine: Engine, slug: str, now: datetime) -> int:
    """Add an approve row for every seller-fulfilled line held in Created that has none; returns how many.

    An order whose sender is not known (NULL) is left alone: it could be N11's warehouse order.
    """
    candidates = (
        select(lines.c.store, lines.c.order_line_id, literal(APPROVE, String), literal(AUTO, String),
               literal(now, UtcDateTime))
        .select_from(lines.join(orders, and_(orders.c.store == lines.c.store,
                                             orders.c.order_number == lines.c.order_number)))
        .where(lines.c.store == slug, lines.c.status == CREATED, orders.c.sender == SELLER,
               ~exists().where(actions.c.store == lines.c.store, actions.c.order_line_id == lines.c.order_line_id,
                               actions.c.action == APPROVE))
    )
    columns = ["store", "order_line_id", "action", "requested_by", "requested_at"]
    try:
        with engine.begin() as conn:
            return conn.execute(insert(actions).from_select(columns, candidates)).rowcount
    except IntegrityError:  # an overlapping run added them first: they are there, which is all that counts
        log.info("store %r: another run added the automatic approvals at the same time", slug)
        return 0


def accept_reached(conn: Connection, slug: str, now: datetime) -> int:
    """Accept, without sending, the waiting approve rows whose line the shop holds approved already (its status
    comes from N11's pages: approved in N11's panel, or by an earlier call); returns how many."""
    rows = conn.execute(
        select(actions.c.order_line_id, lines.c.status)
        .select_from(actions.join(lines, and_(lines.c.store == actions.c.store,
                                              lines.c.order_line_id == actions.c.order_line_id)))
        .where(waiting(slug, APPROVE), lines.c.status.in_(APPROVED))).all()
    for row in rows:
        conn.execute(update(actions).where(waiting(slug, APPROVE), actions.c.order_line_id == row.order_line_id).values(
            result=ACCEPTED, answered_at=now,
            reason=f"N11 already shows the line {row.status} (approved before this run): not sent"))
    if rows:
        log.info("store %r: %d line(s) to approve were approved on N11 already: accepted without sending", slug,
                 len(rows))
    return len(rows)


def refuse_bad_rows(conn: Connection, slug: str, now: datetime) -> int:
    """Refuse the waiting rows that must not be sent, each with its reason; fill a missing requested_at.

    Refused: an action N11 has no call for, a line the shop database does not hold for this store (unknown, or
    another store's), a line not in Created, and an order fulfilled from N11's warehouse. Cancel rows are
    ``cancel.py``'s.
    """
    fill_requested_at(conn, slug, now)
    rows, elsewhere = pending(conn, slug, or_(actions.c.action == APPROVE, actions.c.action.notin_(ACTIONS)))
    refused = 0
    for row in rows:
        reason = _refusal(slug, row, elsewhere.get(row.order_line_id))
        if reason is not None:
            refused += close_unsent(conn, slug, row, REFUSED, reason, now)
    return refused


def _refusal(slug: str, row, other_store: str | None) -> str | None:
    if row.action != APPROVE:
        return f"unknown action {row.action!r}: the actions are {' and '.join(map(repr, ACTIONS))}"
    refusal = line_refusal(slug, row, other_store)
    if refusal is None and row.status != CREATED:
        refusal = f"the line is {row.status} in the shop database; N11 approves only lines in {CREATED}"
    return refusal or warehouse_refusal(row)


def send_batch(engine: Engine, client: N11Client, slug: str, line_ids: list[str], summary: ApprovalSummary) -> None:
    """Claim the lines no one has claimed, send them in one call and record N11's answer per line."""
    attempt, claimed = claim(engine, slug, APPROVE, line_ids)
    if not claimed:
        return  # an overlapping run claimed them first
    results, outcome = send_once(engine, slug, attempt, claimed, lambda: client.approve_lines(claimed))
    if outcome is None:
        outcome = _per_line(claimed, results)
        _settle_refusals(engine, client, slug, outcome)
    summary.calls += 1
    summary.sent += len(claimed)
    with engine.begin() as conn:
        record(conn, slug, APPROVE, attempt, outcome, utcnow())
    accepted = [line for line, (result, _) in outcome.items() if result == ACCEPTED]
    in_transaction(engine, lambda conn: mark_picking(conn, slug, accepted))
    tally(summary, outcome, "approve")


def _per_line(claimed: list[str], results: list[dict]) -> Outcome:
    by_line = {str(item["lineId"]): item for item in results}
    outcome: Outcome = {}
    for line in claimed:
        item = by_line.get(line)
        if item is None:
            outcome[line] = (UNKNOWN, f"N11's answer listed no result for this line. Settled by the line's status "
                                      f"after {SETTLE}")
        elif item["status"] == "SUCCESS":
            outcome[line] = (ACCEPTED, "; ".join(item["reasons"]) or None)
        else:
            outcome[line] = (FAILED, "; ".join(item["reasons"]) or f"N11 answered {item['status'] or 'nothing'}")
    return outcome


def _settle_refusals(engine: Engine, client: N11Client, slug: str, outcome: Outcome) -> None:
    """Turn a refused line that N11 shows approved into accepted, keeping N11's words: the goal is reached.

    N11 approves packages, so a call with two lines of one package moves it with the first and refuses the second.
    The refused lines' orders are looked up (at most ``MAX_LOOKUPS``); a look-up that fails leaves N11's answer.
    """
    refused = [line for line, (result, _) in outcome.items() if result == FAILED]
    if not refused:
        return
    with engine.connect() as conn:
        numbers = conn.execute(select(lines.c.order_number).distinct().where(
            lines.c.store == slug, lines.c.order_line_id.in_(refused))).scalars().all()
    statuses = look_up(client, slug, numbers, "check a refused approval").statuses
    for line in refused:
        if statuses.get(line) in APPROVED:
            outcome[line] = (ACCEPTED, f"N11 answered: {outcome[line][1]}; N11 shows the line {statuses[line]}")


def _verdict(status: str | None, sent: str, now: str) -> Verdict:
    """An unknown approval decided by its line's status: still Created means N11 did not take it (sent again once),
    Picking or later means accepted, anything else (Cancelled, UnSupplied, no such line) failed."""
    if status == CREATED:
        return SEND_AGAIN, (f"the send at {sent} got no usable answer and N11 still showed the line {CREATED} at "
                            f"{now}: sent again")
    if status in APPROVED:
        return ACCEPTED, f"the send at {sent} got no usable answer; N11 later showed the line {status}"
    shown = "no such line in the order" if status in (None, GONE) else f"the line {status}"
    return FAILED, f"the send at {sent} got no usable answer; N11 later showed {shown}: not sent again"


APPROVAL = Settling(APPROVE, look_up_when=(None, CREATED), verdict=_verdict, on_accepted=mark_picking)
