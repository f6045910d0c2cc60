"""The shop's invoice links to N11 (SellerInvoiceService.SaveLinkSellerInvoice), each URL sent once.

The shop writes one ``n11_order_invoices`` row per order: ``invoice_url`` (and ``invoice_number`` and
``invoice_date``, which N11 needs for micro-export orders). A URL is claimed before its call (``sent_url``,
``attempt_id`` and ``sent_at`` set in a committed transaction), so retries, overlapping runs and crashes cannot send
it twice; the row is sent again only when the shop changes ``invoice_url``. N11's answer becomes ``result``
(accepted, or failed with N11's reason). Refused before sending, with the reason (and ``sent_url`` set to the URL
refused, ``sent_at`` left empty): a URL N11 would not take (not https, longer than 2048 characters, spaces) and
an order the shop does not hold for this store. A send without a usable answer is ``unknown`` and is not sent
again by itself: N11 has no call to read a link back, so the operator checks N11's panel and clears ``sent_url``
to send it again (docs/OPERATIONS.md, "Invoice links"). A send whose worker died mid-call becomes ``unknown`` the
same way once ``SETTLE`` has passed.

No public source shows SaveLinkSellerInvoice working on production.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, exists, or_, select, update

from include.clock import utcnow
from include.sends import ACCEPTED, FAILED, REFUSED, UNKNOWN, SendSummary
from include.settings import StoreConfig
from include.tables import n11_order_invoices, n11_orders
from n11.errors import N11AuthError, N11BadResponse, N11RequestRefused, N11Unavailable
from n11.soap import N11SoapClient, invoice_url_problem

log = logging.getLogger(__name__)
invoices, orders = n11_order_invoices, n11_orders
MAX_SENDS = 500  # links sent per run, one call each; the rest wait for the next run
SETTLE = timedelta(minutes=15)  # a claimed send without an answer after this long belongs to a worker that died


@dataclass
class InvoiceLinksSummary(SendSummary):
    """What one run did with the shop's invoice links (counts only)."""

    lost: int = 0  # sends of earlier runs that never got an answer: now unknown

    def idle_reason(self) -> str | None:
        if self.sent or self.refused or self.lost:
            return None
        return f"store {self.store!r}: no new or changed invoice link waits in n11_order_invoices"

    def log_line(self) -> str:
        return f"store {self.store!r}, invoice links: {self.told()}; earlier sends without an answer {self.lost}"


def send_invoice_links(engine: Engine, soap: N11SoapClient, store: StoreConfig) -> InvoiceLinksSummary:
    """Refuse the links N11 would not take, then send each new or changed one, one call each."""
    slug = store.slug
    summary = InvoiceLinksSummary(slug)
    with engine.begin() as conn:
        summary.lost = mark_lost(conn, slug, utcnow())
        summary.refused = refuse_bad_rows(conn, slug, utcnow())
    with engine.connect() as conn:
        waiting = conn.execute(select(invoices.c.order_number, invoices.c.invoice_url, invoices.c.invoice_number,
                                      invoices.c.invoice_date).where(_waiting(slug))
                               .order_by(invoices.c.requested_at, invoices.c.order_number)).all()
    for row in waiting[:MAX_SENDS]:
        send_one(engine, soap, slug, row, summary)
    return summary


def refuse_bad_rows(conn: Connection, slug: str, now: datetime) -> int:
    """Refuse the waiting links that must not be sent, each with its reason; fill a missing requested_at."""
    conn.execute(update(invoices).where(invoices.c.store == slug, invoices.c.requested_at.is_(None))
                 .values(requested_at=now))
    held = exists().where(orders.c.store == invoices.c.store, orders.c.order_number == invoices.c.order_number)
    rows = conn.execute(select(invoices.c.order_number, invoices.c.invoice_url, held.label("held"))
                        .where(_waiting(slug))).all()
    refused = 0
    for row in rows:
        reason = invoice_url_problem(row.invoice_url) or (
            None if row.held else f"no order {row.order_number} of store {slug!r} in n11_orders")
        if reason is None:
            continue
        log.warning("store %r: the invoice link of order %s is refused without sending: %s", slug, row.order_number,
                    reason)
        refused += conn.execute(update(invoices).where(
            _waiting(slug), invoices.c.order_number == row.order_number, invoices.c.invoice_url == row.invoice_url,
        ).values(sent_url=row.invoice_url, attempt_id=None, sent_at=None, result=REFUSED, reason=reason,
                 answered_at=now)).rowcount
    return refused


def mark_lost(conn: Connection, slug: str, now: datetime) -> int:
    """Turn the sends claimed more than ``SETTLE`` ago that never got an answer into ``unknown``."""
    lost = conn.execute(select(invoices.c.order_number, invoices.c.sent_at).where(
        invoices.c.store == slug, invoices.c.sent_at < now - SETTLE, invoices.c.result.is_(None))).all()
    for row in lost:
        log.error("store %r: the invoice link of order %s was sent at %s UTC and never answered", slug,
                  row.order_number, f"{row.sent_at:%Y-%m-%d %H:%M:%S}")
        conn.execute(update(invoices).where(
            invoices.c.store == slug, invoices.c.order_number == row.order_number, invoices.c.sent_at == row.sent_at,
            invoices.c.result.is_(None)).values(
            result=UNKNOWN, answered_at=now,
            reason=f"sent at {row.sent_at:%Y-%m-%d %H:%M:%S} UTC without an answer (the run stopped mid-call). Not "
                   "sent again by itself: check the order in N11's panel, and clear sent_url to send the link again"))
    return len(lost)


def send_one(engine: Engine, soap: N11SoapClient, slug: str, row, summary: InvoiceLinksSummary) -> None:
    """Claim one order's link (as long as the shop has not changed it meanwhile), send it, record N11's answer."""
    attempt = uuid.uuid4().hex
    key = and_(invoices.c.store == slug, invoices.c.order_number == row.order_number)
    with engine.begin() as conn:
        if not conn.execute(update(invoices).where(key, _waiting(slug), invoices.c.invoice_url == row.invoice_url)
                            .values(sent_url=row.invoice_url, attempt_id=attempt, sent_at=utcnow(), result=None,
                                    reason=None, answered_at=None)).rowcount:
            return  # an overlapping run claimed it, or the shop changed it: the next run sends the new one
    when = row.invoice_date.replace(tzinfo=UTC) if row.invoice_date else None
    try:
        soap.save_invoice_link(row.order_number, row.invoice_url, row.invoice_number, when)
    except N11AuthError:
        with engine.begin() as conn:  # N11 refused the credentials, so it took nothing: leave it waiting
            conn.execute(update(invoices).where(key, invoices.c.attempt_id == attempt)
                         .values(sent_url=None, attempt_id=None, sent_at=None))
        raise
    except N11RequestRefused as exc:
        result, reason = FAILED, exc.n11_message or str(exc)
        log.warning("store %r: N11 did not take the invoice link of order %s: %s", slug, row.order_number, reason)
    except (N11Unavailable, N11BadResponse) as exc:
        log.error("store %r: the invoice link of order %s was sent without a usable answer: %s", slug,
                  row.order_number, exc)
        result, reason = UNKNOWN, (f"{exc}. Not sent again by itself: check the order in N11's panel, and clear "
                                   "sent_url to send the link again")
    else:
        result, reason = ACCEPTED, "N11 answered success"
    with engine.begin() as conn:
        conn.execute(update(invoices).where(key, invoices.c.attempt_id == attempt)
                     .values(result=result, reason=reason, answered_at=utcnow()))
    summary.tally(result)


def _waiting(slug: str):
    """Links N11 has not been given yet: never sent, or changed by the shop since."""
    return and_(invoices.c.store == slug,
                or_(invoices.c.sent_url.is_(None), invoices.c.sent_url != invoices.c.invoice_url))
