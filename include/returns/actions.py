"""The shop's decisions on return claims back to N11 (ClaimReturnApprove, ClaimReturnDeny), each sent at most once.

Everything goes through ``n11_return_actions``, one row per claim and action, written by the shop: ``approve``, or
``deny`` with one of N11's ``deny_reason_id``s (``reasons.py`` keeps them) and a ``note``. A row is claimed
(``attempt_id`` and ``sent_at`` set, committed) before its call, and only rows never claimed can be claimed, so
retries, overlapping runs and crashes cannot send a decision twice. N11's answer becomes ``result``: accepted, or
failed with N11's reason; a failed row is never sent again unless the shop clears it.

Refused before sending, with the reason: an action other than approve or deny; a claim the shop does not hold for
this store (``n11_returns``); a claim N11 already shows final in another way; a second decision for a claim that
has one waiting, in flight or taken; a deny without a reason, or with a reason N11 does not list. A claim N11
already shows decided as asked is accepted without sending.

A send without a usable answer (timeout, 5xx, a worker that died mid-call) is ``unknown``: it is settled, not
resent. Once ``SETTLE`` has passed, the claim's status on N11 decides, as the last load shows it when it was read
after the send, or else as a look-up of its order shows it: the status asked for means accepted, another final
status failed, a claim still open means N11 did not take it, and the row waits to be sent again.

No public source shows ClaimReturnApprove or ClaimReturnDeny working on production: N11 documents them, and the
first real answers will tell (docs/OPERATIONS.md, "Returns").
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, select, update

from include.clock import ISTANBUL, utcnow
from include.returns.errors import ReturnsLoadError
from include.returns.fetch import Period, fetch_order
from include.returns.load import load_claims
from include.returns.reasons import deny_reasons
from include.returns.transform import FINAL
from include.sends import ACCEPTED, FAILED, REFUSED, UNKNOWN, SendSummary
from include.settings import StoreConfig
from include.tables import n11_return_actions, n11_returns
from n11.errors import N11AuthError, N11BadResponse, N11RequestRefused, N11Unavailable
from n11.soap import N11SoapClient

log = logging.getLogger(__name__)
actions, returns = n11_return_actions, n11_returns

APPROVE, DENY = "approve", "deny"
DECIDED = {APPROVE: "APPROVED", DENY: "DENIED"}  # the claim's status once N11 took the action
SETTLE = timedelta(minutes=15)  # as order approval: the client's retry budget, and time for N11 to show it
MAX_SENDS = 200  # decisions sent per run: one call each; the rest wait for the next run
MAX_LOOKUPS = 50  # orders looked up per run to settle unknown outcomes


@dataclass
class ReturnActionsSummary(SendSummary):
    """What one run did with the shop's return decisions (counts only, no personal data)."""

    reached: int = 0  # N11 already showed the claim decided as asked: accepted without sending
    settled: int = 0  # unknown outcomes decided by the claim's status
    resent: int = 0  # of those, claims N11 still showed open: waiting to be sent again

    def idle_reason(self) -> str | None:
        """Why the run had nothing to do, or None when it did something."""
        if self.sent or self.refused or self.reached or self.settled:
            return None
        return f"store {self.store!r}: no return decision waits in n11_return_actions"

    def log_line(self) -> str:
        return (f"store {self.store!r}, return decisions: {self.told()}; already decided on N11 {self.reached}; "
                f"earlier unknown outcomes settled {self.settled} (to send again {self.resent})")


def send_return_actions(engine: Engine, soap: N11SoapClient, store: StoreConfig) -> ReturnActionsSummary:
    """Accept what N11 shows done, refuse bad rows, settle unknown outcomes, then send what waits, one call each."""
    slug = store.slug
    summary = ReturnActionsSummary(slug)
    with engine.begin() as conn:
        summary.reached = accept_reached(conn, slug, utcnow())
        summary.refused = refuse_bad_rows(conn, slug, utcnow())
    summary.settled, summary.resent = settle_unknown(engine, soap, store, utcnow())
    with engine.connect() as conn:
        waiting = conn.execute(select(actions.c.claim_id, actions.c.action, actions.c.deny_reason_id,
                                      actions.c.note).where(_waiting(slug))
                               .order_by(actions.c.requested_at, actions.c.claim_id, actions.c.action)).all()
    wanted = {row.deny_reason_id for row in waiting if row.action == DENY}
    if wanted:
        known = deny_reasons(engine, soap, wanted, utcnow())
        summary.refused += refuse_unknown_reasons(engine, slug, set(wanted) - set(known), sorted(known))
        waiting = [row for row in waiting if row.action != DENY or row.deny_reason_id in known]
    for row in waiting[:MAX_SENDS]:
        send_one(engine, soap, slug, row, summary)
    return summary


def accept_reached(conn: Connection, slug: str, now: datetime) -> int:
    """Accept, without sending, the waiting rows whose claim N11 already shows decided as asked."""
    rows = conn.execute(select(actions.c.claim_id, actions.c.action, returns.c.status)
                        .select_from(actions.join(returns, _of_claim()))
                        .where(_waiting(slug), returns.c.status.in_(tuple(DECIDED.values())))).all()
    reached = [row for row in rows if DECIDED.get(row.action) == row.status]
    for row in reached:
        conn.execute(update(actions).where(_waiting(slug), actions.c.claim_id == row.claim_id,
                                           actions.c.action == row.action).values(
            result=ACCEPTED, answered_at=now,
            reason=f"N11 already shows the claim {row.status} (decided before this run): not sent"))
    return len(reached)


def refuse_bad_rows(conn: Connection, slug: str, now: datetime) -> int:
    """Refuse the waiting rows that must not be sent, each with its reason; fill a missing requested_at."""
    conn.execute(update(actions).where(actions.c.store == slug, actions.c.requested_at.is_(None))
                 .values(requested_at=now))
    rows = conn.execute(
        select(actions.c.claim_id, actions.c.action, actions.c.deny_reason_id, actions.c.requested_at,
               actions.c.sent_at, actions.c.result, returns.c.status)
        .select_from(actions.outerjoin(returns, _of_claim()))
        .where(actions.c.store == slug, actions.c.result.is_(None) | actions.c.result.in_((ACCEPTED, UNKNOWN)))
        .order_by(actions.c.requested_at, actions.c.action)).all()
    unknown = [row.claim_id for row in rows if row.status is None]
    elsewhere = dict(conn.execute(select(returns.c.claim_id, returns.c.store).where(
        returns.c.store != slug, returns.c.claim_id.in_(unknown))).all()) if unknown else {}
    # a claim's decision already on its way (being sent, taken, or without an answer) holds it; then the first waiting
    holders = {row.claim_id: row.action for row in rows if row.sent_at is not None or row.result is not None}
    refused = 0
    for row in rows:
        if row.sent_at is not None or row.result is not None:
            continue
        reason = _refusal(slug, row, elsewhere.get(row.claim_id), holders.get(row.claim_id))
        if reason is None:
            holders[row.claim_id] = row.action
        else:
            refused += _refuse(conn, slug, row.claim_id, row.action, reason, now)
    return refused


def _refusal(slug: str, row, other_store: str | None, holder: str | None) -> str | None:
    if row.action not in DECIDED:
        return f"unknown action {row.action!r}: the actions are {APPROVE!r} and {DENY!r}"
    if other_store is not None:
        return f"the return claim belongs to store {other_store!r}, not {slug!r}"
    if row.status is None:
        return f"no return claim {row.claim_id} of store {slug!r} in n11_returns"
    if holder is not None:
        return f"the claim has a {holder!r} row already (waiting, being sent or taken): one decision per claim"
    if row.status in FINAL:
        return f"N11 shows the claim {row.status} (as last loaded): it can no longer be {row.action}d"
    if row.action == DENY and not (row.deny_reason_id or "").strip():
        return "a deny needs deny_reason_id, one of N11's reasons (n11_return_deny_reasons lists them)"
    return None


def refuse_unknown_reasons(engine: Engine, slug: str, unknown: set[str], known: list[str]) -> int:
    """Refuse the waiting denies whose reason N11 does not list."""
    refused = 0
    with engine.begin() as conn:
        for reason_id in sorted(unknown):
            rows = conn.execute(select(actions.c.claim_id).where(_waiting(slug), actions.c.action == DENY,
                                                                 actions.c.deny_reason_id == reason_id)).scalars()
            for claim_id in rows.all():
                refused += _refuse(conn, slug, claim_id, DENY, f"deny_reason_id {reason_id!r} is not one of N11's "
                                   f"deny reasons ({', '.join(known) or 'N11 listed none'}; "
                                   "n11_return_deny_reasons names them)", utcnow())
    return refused


def _refuse(conn: Connection, slug: str, claim_id: str, action: str, reason: str, now: datetime) -> int:
    log.warning("store %r: return claim %s, action %r refused without sending: %s", slug, claim_id, action, reason)
    return conn.execute(update(actions).where(_waiting(slug), actions.c.claim_id == claim_id,
                                              actions.c.action == action)
                        .values(result=REFUSED, reason=reason, answered_at=now)).rowcount


def send_one(engine: Engine, soap: N11SoapClient, slug: str, row, summary: ReturnActionsSummary) -> None:
    """Claim one decision, send it and record N11's answer."""
    attempt = uuid.uuid4().hex
    key = and_(actions.c.store == slug, actions.c.claim_id == row.claim_id, actions.c.action == row.action)
    with engine.begin() as conn:
        if not conn.execute(update(actions).where(key, actions.c.sent_at.is_(None), actions.c.result.is_(None))
                            .values(attempt_id=attempt, sent_at=utcnow())).rowcount:
            return  # an overlapping run claimed it first
    try:
        if row.action == APPROVE:
            soap.approve_claim(row.claim_id)
        else:
            soap.deny_claim(row.claim_id, row.deny_reason_id.strip(), row.note)
    except N11AuthError:
        with engine.begin() as conn:  # N11 refused the credentials, so it took nothing: leave it waiting
            conn.execute(update(actions).where(key, actions.c.attempt_id == attempt)
                         .values(attempt_id=None, sent_at=None))
        raise
    except N11RequestRefused as exc:
        result, reason = FAILED, exc.n11_message or str(exc)
        log.warning("store %r: N11 did not %s return claim %s: %s", slug, row.action, row.claim_id, reason)
    except (N11Unavailable, N11BadResponse) as exc:
        log.error("store %r: return claim %s, %s sent without a usable answer: %s", slug, row.claim_id, row.action,
                  exc)
        result, reason = UNKNOWN, f"{exc}. Settled by the claim's status on N11 after {SETTLE}"
    else:
        result, reason = ACCEPTED, "N11 answered success"
    with engine.begin() as conn:
        conn.execute(update(actions).where(key, actions.c.attempt_id == attempt)
                     .values(result=result, reason=reason, answered_at=utcnow()))
    summary.tally(result)


def settle_unknown(engine: Engine, soap: N11SoapClient, store: StoreConfig, now: datetime) -> tuple[int, int]:
    """Decide the sends without a usable answer from the claim's status; returns (settled, to send again).

    The shop's copy decides when it is telling (``_decidable``); otherwise the claim's order is looked up on N11 (at
    most ``MAX_LOOKUPS`` orders), which loads its claims, and then it decides.
    """
    slug = store.slug
    due = and_(actions.c.store == slug, actions.c.action.in_(tuple(DECIDED)), actions.c.sent_at < now - SETTLE,
               actions.c.result.is_(None) | (actions.c.result == UNKNOWN))
    query = (select(actions.c.claim_id, actions.c.action, actions.c.attempt_id, actions.c.sent_at,
                    returns.c.order_number, returns.c.status, returns.c.last_seen, returns.c.requested_at)
             .select_from(actions.join(returns, _of_claim())).where(due))
    with engine.connect() as conn:
        unsettled = [row for row in conn.execute(query).all() if not _decidable(row)]
    looked_up = set()
    today = datetime.now(ISTANBUL).date()
    for number in sorted({row.order_number for row in unsettled})[:MAX_LOOKUPS]:
        first = min(row.requested_at or today for row in unsettled if row.order_number == number)
        try:
            claims = fetch_order(soap, store, number, Period(first - timedelta(days=1), today))
            load_claims(engine, slug, claims, f"return claims of order {number}", utcnow())
        except ReturnsLoadError as exc:
            log.warning("store %r: could not look up order %s to settle a return decision: %s", slug, number, exc)
        else:
            looked_up.add(number)
    settled = resent = 0
    with engine.begin() as conn:
        for row in conn.execute(query).all():
            if _decidable(row):
                status = row.status
            elif row.order_number in looked_up:
                status = None  # its order was looked up and N11 did not list the claim
            else:
                continue  # not decidable yet: a later run looks it up
            settled += 1
            resent += _settle(conn, slug, row, status, now)
    return settled, resent


def _decidable(row) -> bool:
    """Whether the shop's copy of the claim tells what became of a send: read after it, and either final, or still
    open long enough after it (``SETTLE``) for N11 to have shown a decision it took."""
    return row.last_seen > row.sent_at and (row.status in FINAL or row.last_seen >= row.sent_at + SETTLE)


def _settle(conn: Connection, slug: str, row, status: str | None, now: datetime) -> int:
    """Write one unknown outcome's decision; 1 when the row goes back to waiting (N11 did not take it)."""
    sent = f"{row.sent_at:%Y-%m-%d %H:%M:%S} UTC"
    key = and_(actions.c.store == slug, actions.c.claim_id == row.claim_id, actions.c.action == row.action,
               actions.c.attempt_id == row.attempt_id)
    if status is not None and status not in FINAL:
        conn.execute(update(actions).where(key).values(
            attempt_id=None, sent_at=None, answered_at=None, result=None,
            reason=f"the send at {sent} got no usable answer and N11 still showed the claim {status} at "
                   f"{now:%Y-%m-%d %H:%M:%S} UTC: to be sent again"))
        return 1
    if status == DECIDED[row.action]:
        values = {"result": ACCEPTED, "reason": f"the send at {sent} got no usable answer; N11 later showed the "
                                                f"claim {status}"}
    else:
        shown = f"the claim {status}" if status else "no such claim when its order was looked up"
        values = {"result": FAILED, "reason": f"the send at {sent} got no usable answer; N11 later showed {shown}: "
                                              "not sent again"}
    conn.execute(update(actions).where(key).values(answered_at=now, **values))
    return 0


def _of_claim():
    return and_(returns.c.store == actions.c.store, returns.c.claim_id == actions.c.claim_id)


def _waiting(slug: str):
    """Rows nobody has claimed or answered: the only rows a send may claim."""
    return and_(actions.c.store == slug, actions.c.sent_at.is_(None), actions.c.result.is_(None))
