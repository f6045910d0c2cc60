"""The send-once machinery of ``n11_order_actions``, shared by the actions on N11's order lines (approve, cancel).

A row is sent at most once: it is claimed (``attempt_id`` and ``sent_at`` set, committed) before the call, and only
rows nobody has claimed or answered can be claimed, so retries, overlapping runs and crashes cannot send it twice.
N11's answer is recorded under the attempt that claimed it; a row that must not be sent is closed with the reason.

A send without a usable answer (timeout, 5xx, a worker that died mid-call) is ``unknown``: N11 may have taken it.
It is settled, never resent blindly: once its action's settle time has passed, the line's status decides, as the
shop's last extraction shows it, or else as a look-up of its order on N11 shows it. What a status means is the
action's ``Settling``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, or_, select, update

from include.clock import utcnow
from include.orders.status import UNPACKED, normalise_status
from include.sends import ACCEPTED, FAILED, REFUSED, UNKNOWN
from include.tables import n11_order_actions, n11_order_lines, n11_orders
from n11.client import N11Client
from n11.errors import N11AuthError, N11BadResponse, N11Error, N11RequestRefused, N11Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
actions, lines, orders = n11_order_actions, n11_order_lines, n11_orders

APPROVE, CANCEL = "approve", "cancel"
ACTIONS = (APPROVE, CANCEL)
SELLER = "SELLER"
SEND_AGAIN = "send again"  # a settling verdict: N11 did not take it, so the row waits to be sent again
GONE = "gone"  # the status of a line N11's answer for its order lists in no live package
# A claimed row gets its answer within the client's retry budget (5 minutes plus timeouts); one without an answer
# after this long belongs to a send that died. Unknown outcomes also wait this long, so N11 and the next
# extraction have caught up with the send before its line's status is read.
SETTLE = timedelta(minutes=15)
MAX_LOOKUPS = 100  # orders looked up on N11 per run to settle unknown outcomes: the rest wait for the next run

Outcome = dict[str, tuple[str, str | None]]  # order line id -> (result, reason)


def waiting(slug: str, action: str):
    """Rows of the action nobody has claimed or answered: the only rows a send may claim."""
    return and_(actions.c.store == slug, actions.c.action == action, actions.c.sent_at.is_(None),
                actions.c.result.is_(None))


def fill_requested_at(conn: Connection, slug: str, now: datetime) -> None:
    """Set ``requested_at`` where the shop left it empty: the rows are sent in the order they were asked."""
    conn.execute(update(actions).where(actions.c.store == slug, actions.c.requested_at.is_(None))
                 .values(requested_at=now))


def pending(conn: Connection, slug: str, which, *columns) -> tuple[list, dict[str, str]]:
    """The waiting rows ``which`` selects, each with its line's order number, status and its order's sender (None
    when the shop does not hold the line) and ``columns``; and, for the lines this store does not hold, the other
    store that holds each."""
    rows = conn.execute(
        select(actions.c.order_line_id, actions.c.action, lines.c.order_number, lines.c.status, orders.c.sender,
               *columns)
        .select_from(actions
                     .outerjoin(lines, and_(lines.c.store == actions.c.store,
                                            lines.c.order_line_id == actions.c.order_line_id))
                     .outerjoin(orders, and_(orders.c.store == lines.c.store,
                                             orders.c.order_number == lines.c.order_number)))
        .where(actions.c.store == slug, which, actions.c.sent_at.is_(None), actions.c.result.is_(None))
        .order_by(actions.c.requested_at, actions.c.order_line_id)).all()
    unknown = [row.order_line_id for row in rows if row.order_number is None]
    elsewhere = dict(conn.execute(select(lines.c.order_line_id, lines.c.store).where(
        lines.c.store != slug, lines.c.order_line_id.in_(unknown))).all()) if unknown else {}
    return rows, elsewhere


def line_refusal(slug: str, row, other_store: str | None) -> str | None:
    """Why a row cannot be sent whatever its action: a line this store does not hold; None when it does."""
    if other_store is not None:
        return f"the order line belongs to store {other_store!r}, not {slug!r}"
    if row.order_number is None:
        return f"no order line {row.order_line_id} of store {slug!r} in n11_order_lines"
    return None


def warehouse_refusal(row) -> str | None:
    """Why a line of an order N11's warehouse fulfils cannot be acted on by the seller; None for the seller's."""
    if row.sender is not None and row.sender != SELLER:
        return f"order {row.order_number} is fulfilled by {row.sender} (N11's warehouse), not by the seller"
    return None


def close_unsent(conn: Connection, slug: str, row, result: str, reason: str, now: datetime) -> int:
    """Give a waiting row its result without sending it (refused, or accepted because N11 shows the goal reached);
    returns 1, or 0 when another run claimed or answered it meanwhile."""
    closed = conn.execute(update(actions).where(
        actions.c.store == slug, actions.c.order_line_id == row.order_line_id, actions.c.action == row.action,
        actions.c.sent_at.is_(None), actions.c.result.is_(None),
    ).values(result=result, reason=reason, answered_at=now)).rowcount
    if result == REFUSED:
        log.warning("store %r: order line %s, action %r refused without sending: %s", slug, row.order_line_id,
                    row.action, reason)
    return closed


def claim(engine: Engine, slug: str, action: str, line_ids: list[str],
          unchanged: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[str, list[str]]:
    """Claim the waiting rows of these lines in one committed transaction; returns the attempt id and the lines
    claimed (none when an overlapping run claimed them first). With ``unchanged`` (line -> column -> value) a row
    is claimed only while it still holds the values the send was built from."""
    attempt = uuid.uuid4().hex
    with engine.begin() as conn:
        stamp = {"attempt_id": attempt, "sent_at": utcnow()}
        if unchanged is None:
            conn.execute(update(actions).where(waiting(slug, action), actions.c.order_line_id.in_(line_ids))
                         .values(stamp))
        else:
            for line in line_ids:
                same = [actions.c[column].is_not_distinct_from(value) for column, value in unchanged[line].items()]
                conn.execute(update(actions).where(waiting(slug, action), actions.c.order_line_id == line, *same)
                             .values(stamp))
        claimed = conn.execute(select(actions.c.order_line_id).where(
            actions.c.store == slug, actions.c.action == action, actions.c.attempt_id == attempt)).scalars().all()
    return attempt, list(claimed)


def release(engine: Engine, slug: str, attempt: str) -> None:
    """Unclaim an attempt's unanswered rows: N11 refused the credentials, so it took nothing."""
    with engine.begin() as conn:
        conn.execute(update(actions).where(actions.c.store == slug, actions.c.attempt_id == attempt,
                                           actions.c.result.is_(None)).values(attempt_id=None, sent_at=None))


def record(conn: Connection, slug: str, action: str, attempt: str, outcome: Outcome, now: datetime) -> None:
    """Write each line's result under the attempt that claimed it."""
    for line, (result, reason) in outcome.items():
        conn.execute(update(actions).where(
            actions.c.store == slug, actions.c.order_line_id == line, actions.c.action == action,
            actions.c.attempt_id == attempt).values(result=result, reason=reason, answered_at=now))


@dataclass
class LookUp:
    """Orders as N11 shows them now: each answered order's packages, and the status of every live line."""

    packages: dict[str, list[dict]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)

    def status(self, order_number: str, line_id: str) -> str | None:
        """The line's status in its answered order; ``GONE`` when no live package lists it, None when N11
        answered the order without any package."""
        if not self.packages.get(order_number):
            return None
        return self.statuses.get(line_id, GONE)


def look_up(client: N11Client, slug: str, numbers: Iterable[str], why: str) -> LookUp:
    """At most ``MAX_LOOKUPS`` orders as N11 shows them now; an order N11 did not answer for is logged and left
    out (credential refusals pass)."""
    found = LookUp()
    for number in sorted(numbers)[:MAX_LOOKUPS]:
        try:
            packages = client.order_packages(number)
        except N11AuthError:
            raise
        except N11Error as exc:
            log.warning("store %r: could not look up order %s to %s: %s", slug, number, why, exc)
        else:
            found.packages[number] = packages
            found.statuses.update(line_statuses(packages))
    return found


def line_statuses(packages: Iterable[dict]) -> dict[str, str]:
    """The status of each live line of an order's packages (a split parent's lines live on elsewhere)."""
    found = {}
    for package in packages:
        package_status = normalise_status(package.get("shipmentPackageStatus"))
        if package_status == UNPACKED:
            continue
        for line in package.get("lines") or []:
            found[str(line.get("orderLineId"))] = normalise_status(line.get("orderItemLineItemStatusName")) \
                or package_status
    return found


Verdict = tuple[str, str] | None  # (result or SEND_AGAIN, reason); None: not decidable yet


@dataclass(frozen=True)
class Settling:
    """How an action's unknown outcomes are decided: which statuses in the shop need a look-up on N11, what a status
    (with the send's and the decision's times, for the reason) means, and what follows an accepted one in the
    shop database, in the same transaction."""

    action: str
    look_up_when: tuple[str | None, ...]
    verdict: Callable[[str | None, str, str], Verdict]
    on_accepted: Callable[[Connection, str, list[str]], None] | None = None


@dataclass
class Settled:
    """What settling did: outcomes decided, rows put back to be sent again, and the orders looked up."""

    settled: int = 0
    resent: int = 0
    looked_up: LookUp = field(default_factory=LookUp)


def settle_unknown(engine: Engine, client: N11Client, slug: str, settling: Settling, now: datetime,
                   sent_before: datetime) -> Settled:
    """Decide the action's sends made before ``sent_before`` that have no usable answer, from their lines' status.

    The shop's extraction decides when its status is not one of ``settling.look_up_when``; otherwise the order is
    looked up on N11.
    """
    with engine.connect() as conn:
        rows = conn.execute(
            select(actions.c.order_line_id, actions.c.attempt_id, actions.c.sent_at, lines.c.order_number,
                   lines.c.status)
            .select_from(actions.outerjoin(lines, and_(lines.c.store == actions.c.store,
                                                       lines.c.order_line_id == actions.c.order_line_id)))
            .where(actions.c.store == slug, actions.c.action == settling.action, actions.c.sent_at < sent_before,
                   or_(actions.c.result == UNKNOWN, actions.c.result.is_(None)))).all()
    known = {row.order_line_id: row.status for row in rows if row.status not in settling.look_up_when}
    to_look_up = {row.order_number for row in rows if row.order_line_id not in known and row.order_number is not None}
    settled = Settled(looked_up=look_up(client, slug, to_look_up, f"settle an unknown {settling.action}"))
    with engine.begin() as conn:
        for row in rows:
            if row.order_line_id in known:
                status = known[row.order_line_id]
            elif row.order_number in settled.looked_up.packages:
                status = settled.looked_up.status(row.order_number, row.order_line_id)
            else:
                continue  # not decidable yet: wait for the extraction or a later run's look-up
            verdict = settling.verdict(status, f"{row.sent_at:%Y-%m-%d %H:%M:%S} UTC", f"{now:%Y-%m-%d %H:%M:%S} UTC")
            if verdict is None:
                continue
            settled.settled += 1
            settled.resent += _settle(conn, slug, settling, row, verdict, now)
    return settled


def _settle(conn: Connection, slug: str, settling: Settling, row, verdict: tuple[str, str], now: datetime) -> int:
    """Write one unknown outcome's decision; 1 when the row goes back to waiting (N11 did not take it)."""
    result, reason = verdict
    key = and_(actions.c.store == slug, actions.c.order_line_id == row.order_line_id,
               actions.c.action == settling.action, actions.c.attempt_id == row.attempt_id)
    if result == SEND_AGAIN:
        conn.execute(update(actions).where(key).values(attempt_id=None, sent_at=None, answered_at=None, result=None,
                                                       reason=reason))
        return 1
    if result == ACCEPTED and settling.on_accepted is not None:
        settling.on_accepted(conn, slug, [row.order_line_id])
    conn.execute(update(actions).where(key).values(answered_at=now, result=result, reason=reason))
    return 0


def send_once(engine: Engine, slug: str, attempt: str, claimed: list[str], send: Callable[[], T]) -> tuple[
        T | None, Outcome | None]:
    """Make the call for the claimed lines: ``(answer, None)``, or ``(None, outcome)`` when it gave no answer to
    read: ``failed`` when N11 refused the whole call, ``unknown`` when its outcome is lost (settled later, never
    resent blindly). A credential refusal releases the claim (N11 took nothing) and passes."""
    try:
        return send(), None
    except N11AuthError:
        release(engine, slug, attempt)
        raise
    except N11RequestRefused as exc:
        return None, {line: (FAILED, f"N11 refused the whole call: {exc}") for line in claimed}
    except (N11Unavailable, N11BadResponse) as exc:
        log.error("store %r: %d order line(s) sent without a usable answer: %s", slug, len(claimed), exc)
        return None, {line: (UNKNOWN, f"{exc}. Settled by the line's status after {SETTLE}") for line in claimed}


def tally(summary: Any, outcome: Outcome, what: str) -> None:
    """Count each line's result on the run's summary (``accepted``, ``failed``, ``unknown``); log each failure."""
    for result, reason in outcome.values():
        setattr(summary, result, getattr(summary, result) + 1)
        if result == FAILED:
            log.warning("store %r: N11 did not %s a line: %s", summary.store, what, reason)
