"""Order approval back to N11 (Created to Picking): which lines, sent at most once, and N11's per-line results.

Everything goes through ``n11_order_actions``, one row per line and action. The shop inserts ``approve`` rows;
while the store's ``auto_approve_orders`` is on, the DAG inserts one (requested_by ``auto``) for every
seller-fulfilled line the shop holds in Created. A row is sent at most once: a batch is claimed (``attempt_id``
and ``sent_at`` set, committed) before the call, and only rows never claimed can be claimed, so retries,
overlapping runs and crashes cannot send a line twice. N11's per-line answer becomes ``result`` (accepted or
failed, with N11's reason); a failed line is never sent again unless the shop clears its row.

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
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, String, and_, exists, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError

from include.clock import utcnow
from include.orders.load import mark_picking
from include.orders.status import APPROVED, CREATED, UNPACKED, normalise_status
from include.settings import StoreConfig
from include.shop_db import in_transaction
from include.tables import UtcDateTime, n11_order_actions, n11_order_lines, n11_order_packages, n11_orders
from n11.client import N11Client
from n11.errors import N11AuthError, N11BadResponse, N11Error, N11RequestRefused, N11Unavailable

log = logging.getLogger(__name__)
actions, lines, orders, packages = n11_order_actions, n11_order_lines, n11_orders, n11_order_packages

APPROVE = "approve"
AUTO = "auto"
SELLER = "SELLER"
ACCEPTED, FAILED, REFUSED, UNKNOWN = "accepted", "failed", "refused", "unknown"
# N11 documents no limit on the lines of one approval call. 100 is its largest order-listing page, so one call
# approves at most what one page shows, and a call whose outcome is lost leaves at most 100 lines to settle.
BATCH_LINES = 100
# A claimed row gets its answer within the client's retry budget (5 minutes plus timeouts); one without an answer
# after this long belongs to a send that died. Unknown outcomes also wait this long, so N11 and the next
# extraction have caught up with the send before its line's status is read.
SETTLE = timedelta(minutes=15)
MAX_LOOKUPS = 100  # orders looked up on N11 per run to settle unknown outcomes: the rest wait for the next run


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
        return {key: value for key, value in asdict(self).items() if isinstance(value, int)
                and not isinstance(value, bool)}


def approve_orders(engine: Engine, client: N11Client, store: StoreConfig) -> ApprovalSummary:
    """Add the automatic rows, refuse bad ones, settle unknown outcomes, then send what waits, in batches."""
    slug = store.slug
    summary = ApprovalSummary(slug, store.auto_approve_orders)
    if store.auto_approve_orders:
        summary.requested = request_automatic(engine, slug, utcnow())
    with engine.begin() as conn:
        summary.reached = accept_reached(conn, slug, utcnow())
        summary.refused = refuse_bad_rows(conn, slug, utcnow())
    summary.settled, summary.resent = settle_unknown(engine, client, slug, utcnow())
    with engine.connect() as conn:
        waiting = conn.execute(select(actions.c.order_line_id).where(_waiting(slug))
                               .order_by(actions.c.requested_at, actions.c.order_line_id)).scalars().all()
    for start in range(0, len(waiting), BATCH_LINES):
        send_batch(engine, client, slug, waiting[start:start + BATCH_LINES], summary)
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
        .where(_waiting(slug), lines.c.status.in_(APPROVED))).all()
    for row in rows:
        conn.execute(update(actions).where(_waiting(slug), actions.c.order_line_id == row.order_line_id).values(
            result=ACCEPTED, answered_at=now,
            reason=f"N11 already shows the line {row.status} (approved before this run): not sent"))
    if rows:
        log.info("store %r: %d line(s) to approve were approved on N11 already: accepted without sending", slug,
                 len(rows))
    return len(rows)


def refuse_bad_rows(conn: Connection, slug: str, now: datetime) -> int:
    """Refuse the waiting rows that must not be sent, each with its reason; fill a missing requested_at.

    Refused: an action other than approve, a line the shop database does not hold for this store (unknown, or
    another store's), a line not in Created, and an order fulfilled from N11's warehouse.
    """
    conn.execute(update(actions).where(actions.c.store == slug, actions.c.requested_at.is_(None))
                 .values(requested_at=now))
    rows = conn.execute(
        select(actions.c.order_line_id, actions.c.action, lines.c.order_number, lines.c.status, orders.c.sender)
        .select_from(actions
                     .outerjoin(lines, and_(lines.c.store == actions.c.store,
                                            lines.c.order_line_id == actions.c.order_line_id))
                     .outerjoin(orders, and_(orders.c.store == lines.c.store,
                                             orders.c.order_number == lines.c.order_number)))
        .where(actions.c.store == slug, actions.c.sent_at.is_(None), actions.c.result.is_(None))).all()
    unknown = [row.order_line_id for row in rows if row.order_number is None]
    elsewhere = dict(conn.execute(select(lines.c.order_line_id, lines.c.store).where(
        lines.c.store != slug, lines.c.order_line_id.in_(unknown))).all()) if unknown else {}
    refused = 0
    for row in rows:
        reason = _refusal(slug, row, elsewhere.get(row.order_line_id))
        if reason is None:
            continue
        refused += conn.execute(update(actions).where(
            actions.c.store == slug, actions.c.order_line_id == row.order_line_id, actions.c.action == row.action,
            actions.c.sent_at.is_(None), actions.c.result.is_(None),
        ).values(result=REFUSED, reason=reason, answered_at=now)).rowcount
        log.warning("store %r: order line %s, action %r refused without sending: %s", slug, row.order_line_id,
                    row.action, reason)
    return refused


def _refusal(slug: str, row, other_store: str | None) -> str | None:
    if row.action != APPROVE:
        return f"unknown action {row.action!r}: the only action is {APPROVE!r}"
    if other_store is not None:
        return f"the order line belongs to store {other_store!r}, not {slug!r}"
    if row.order_number is None:
        return f"no order line {row.order_line_id} of store {slug!r} in n11_order_lines"
    if row.status != CREATED:
        return f"the line is {row.status} in the shop database; N11 approves only lines in {CREATED}"
    if row.sender is not None and row.sender != SELLER:
        return f"order {row.order_number} is fulfilled by {row.sender} (N11's warehouse), not by the seller"
    return None


def send_batch(engine: Engine, client: N11Client, slug: str, line_ids: list[str], summary: ApprovalSummary) -> None:
    """Claim the lines no one has claimed, send them in one call and record N11's answer per line."""
    attempt = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(update(actions).where(_waiting(slug), actions.c.order_line_id.in_(line_ids))
                     .values(attempt_id=attempt, sent_at=utcnow()))
        claimed = conn.execute(select(actions.c.order_line_id).where(
            actions.c.store == slug, actions.c.action == APPROVE, actions.c.attempt_id == attempt)).scalars().all()
    if not claimed:
        return  # an overlapping run claimed them first
    outcome: dict[str, tuple[str, str | None]]
    try:
        results = client.approve_lines(claimed)
    except N11AuthError:
        _release(engine, slug, attempt)  # N11 refused the credentials, so it took nothing: leave them waiting
        raise
    except N11RequestRefused as exc:
        outcome = {line: (FAILED, f"N11 refused the whole call: {exc}") for line in claimed}
    except (N11Unavailable, N11BadResponse) as exc:
        log.error("store %r: %d order line(s) sent without a usable answer: %s", slug, len(claimed), exc)
        outcome = {line: (UNKNOWN, f"{exc}. Settled by the line's status after {SETTLE}") for line in claimed}
    else:
        outcome = _per_line(claimed, results)
        _settle_refusals(engine, client, slug, outcome)
    summary.calls += 1
    summary.sent += len(claimed)
    with engine.begin() as conn:
        _record(conn, slug, attempt, outcome, utcnow())
    accepted = [line for line, (result, _) in outcome.items() if result == ACCEPTED]
    in_transaction(engine, lambda conn: mark_picking(conn, slug, accepted))
    for result, reason in outcome.values():
        setattr(summary, result, getattr(summary, result) + 1)
        if result == FAILED:
            log.warning("store %r: N11 did not approve a line: %s", slug, reason)


def _per_line(claimed: list[str], results: list[dict]) -> dict[str, tuple[str, str | None]]:
    by_line = {str(item["lineId"]): item for item in results}
    outcome: dict[str, tuple[str, str | None]] = {}
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


def _settle_refusals(engine: Engine, client: N11Client, slug: str,
                     outcome: dict[str, tuple[str, str | None]]) -> None:
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
    statuses, _ = _look_up(client, slug, numbers, "check a refused approval")
    for line in refused:
        if statuses.get(line) in APPROVED:
            outcome[line] = (ACCEPTED, f"N11 answered: {outcome[line][1]}; N11 shows the line {statuses[line]}")


def _record(conn: Connection, slug: str, attempt: str, outcome: dict[str, tuple[str, str | None]],
            now: datetime) -> None:
    """Write each line's result under the attempt that claimed it."""
    for line, (result, reason) in outcome.items():
        conn.execute(update(actions).where(
            actions.c.store == slug, actions.c.order_line_id == line, actions.c.action == APPROVE,
            actions.c.attempt_id == attempt).values(result=result, reason=reason, answered_at=now))


def _release(engine: Engine, slug: str, attempt: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(actions).where(actions.c.store == slug, actions.c.attempt_id == attempt,
                                           actions.c.result.is_(None)).values(attempt_id=None, sent_at=None))


def settle_unknown(engine: Engine, client: N11Client, slug: str, now: datetime) -> tuple[int, int]:
    """Decide the sends without a usable answer from the line's status; returns (settled, sent again).

    The shop's extraction decides when it shows the line past Created. Otherwise the order is looked up on N11:
    a line still Created there was not taken, and its row waits to be sent again.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            select(actions.c.order_line_id, actions.c.attempt_id, actions.c.sent_at, lines.c.order_number,
                   lines.c.status)
            .select_from(actions.outerjoin(lines, and_(lines.c.store == actions.c.store,
                                                       lines.c.order_line_id == actions.c.order_line_id)))
            .where(actions.c.store == slug, actions.c.action == APPROVE, actions.c.sent_at < now - SETTLE,
                   or_(actions.c.result == UNKNOWN, actions.c.result.is_(None)))).all()
    statuses = {row.order_line_id: row.status for row in rows if row.status not in (None, CREATED)}
    to_look_up = sorted({row.order_number for row in rows
                         if row.order_line_id not in statuses and row.order_number is not None})
    found, looked_up = _look_up(client, slug, to_look_up, "settle an unknown approval")
    statuses.update(found)
    settled = resent = 0
    with engine.begin() as conn:
        for row in rows:
            status = statuses.get(row.order_line_id)
            if status is None and row.order_number not in looked_up:
                continue  # not decidable yet: wait for the extraction or a later run's look-up
            settled += 1
            resent += _settle(conn, slug, row, status, now)
    return settled, resent


def _look_up(client: N11Client, slug: str, numbers: Iterable[str], why: str) -> tuple[dict[str, str], set[str]]:
    """The live lines' statuses of at most ``MAX_LOOKUPS`` orders as N11 shows them now, and the orders it
    answered for; an order N11 did not answer for is logged and left out (credential refusals pass)."""
    statuses: dict[str, str] = {}
    looked_up: set[str] = set()
    for number in sorted(numbers)[:MAX_LOOKUPS]:
        try:
            statuses.update(_line_statuses(client, number))
        except N11AuthError:
            raise
        except N11Error as exc:
            log.warning("store %r: could not look up order %s to %s: %s", slug, number, why, exc)
        else:
            looked_up.add(number)
    return statuses, looked_up


def _line_statuses(client: N11Client, order_number: str) -> dict[str, str]:
    """The status of each live line of an order, as N11 shows it now."""
    found = {}
    for package in client.order_packages(order_number):
        package_status = normalise_status(package.get("shipmentPackageStatus"))
        if package_status == UNPACKED:
            continue
        for line in package.get("lines") or []:
            found[str(line.get("orderLineId"))] = normalise_status(line.get("orderItemLineItemStatusName")) \
                or package_status
    return found


def _settle(conn: Connection, slug: str, row, status: str | None, now: datetime) -> int:
    """Write one unknown outcome's decision; 1 when the row goes back to waiting (N11 did not take it)."""
    sent = f"{row.sent_at:%Y-%m-%d %H:%M:%S} UTC"
    key = and_(actions.c.store == slug, actions.c.order_line_id == row.order_line_id, actions.c.action == APPROVE,
               actions.c.attempt_id == row.attempt_id)
    if status == CREATED:
        conn.execute(update(actions).where(key).values(
            attempt_id=None, sent_at=None, answered_at=None, result=None,
            reason=f"the send at {sent} got no usable answer and N11 still showed the line {CREATED} at "
                   f"{now:%Y-%m-%d %H:%M:%S} UTC: sent again"))
        return 1
    if status in APPROVED:
        values = {"result": ACCEPTED, "reason": f"the send at {sent} got no usable answer; N11 later showed the "
                                                f"line {status}"}
        mark_picking(conn, slug, [row.order_line_id])
    else:
        shown = f"the line {status}" if status else "no such line in the order"
        values = {"result": FAILED, "reason": f"the send at {sent} got no usable answer; N11 later showed {shown}: "
                                              "not sent again"}
    conn.execute(update(actions).where(key).values(answered_at=now, **values))
    return 0


def _waiting(slug: str):
    """Approve rows nobody has claimed or answered: the only rows a send may claim."""
    return and_(actions.c.store == slug, actions.c.action == APPROVE, actions.c.sent_at.is_(None),
                actions.c.result.is_(None))
