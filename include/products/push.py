"""Sending: a run's SKU entries in batches of at most 1000, saved before sending and sent at most once.

N11's writes are not idempotent and N11 cannot look a task up by content, so each batch is saved with the run,
marked as attempted right before the call, and given N11's task id the moment the receipt arrives. A retried
push finds the task id and sends nothing. A batch attempted without a receipt (a 502/504, a cut connection, or
the worker died mid-call) has an unknown outcome: it is not sent again blindly; the next run's scan shows what
N11 has, and the diff sends what still differs.

A batch holds entries of one kind only (the same field groups), so each group is confirmed on its own. A batch
N11 refuses whole (``REJECT``) is split in halves and the halves sent, until the refused SKUs are alone in their
batches and recorded as refused; the others go through.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import simplejson
from sqlalchemy import ColumnElement, Connection, Engine, delete, func, insert, select, update

from include.clock import utcnow
from include.products.groups import PRICE_STOCK, PRODUCT_CREATE, PRODUCT_UPDATE, groups_of
from include.products.values import payload_hash
from include.tables import n11_product_push_batches
from n11.client import MAX_SKUS_PER_TASK, N11Client
from n11.errors import N11BadResponse, N11RequestRefused, N11Unavailable

log = logging.getLogger(__name__)
batches = n11_product_push_batches
RETAIN_DAYS = 30
MAX_SPLIT_SENDS = 200  # halves of refused batches sent per run: bounds the calls when N11 refuses everything
SPLIT = "SPLIT"  # result_status of a refused batch whose halves were sent instead


class OutcomeUnknown(Exception):
    """A batch may have reached N11 without a receipt; it is not sent again in this run."""


@dataclass(frozen=True)
class BatchRef:
    endpoint: str
    batch_no: int

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.endpoint} batch {self.batch_no}"


def dumps(entries: list[dict]) -> str:
    """The wire form of SKU entries: Decimals keep their two decimals (10.00 stays 10.00)."""
    return simplejson.dumps(entries, use_decimal=True, ensure_ascii=False)


def loads(payload: str) -> list[dict]:
    return simplejson.loads(payload, use_decimal=True)


def save(conn: Connection, slug: str, run_id: str, entries: dict[str, list[dict]]) -> list[BatchRef]:
    """Save the run's batches; batches of this run and these endpoints never attempted are replaced (the run was
    planned again).

    Batches whose results were recorded more than RETAIN_DAYS ago are dropped: their payloads served their turn.
    """
    now = utcnow()
    conn.execute(delete(batches).where(batches.c.store == slug,
                                       batches.c.finished_at < now - timedelta(days=RETAIN_DAYS)))
    run = (batches.c.store == slug) & (batches.c.run_id == run_id)
    conn.execute(delete(batches).where(run, batches.c.endpoint.in_(list(entries)), batches.c.attempted_at.is_(None)))
    refs = []
    for endpoint, skus in entries.items():
        for kind in _kinds(skus):
            for start in range(0, len(kind), MAX_SKUS_PER_TASK):
                refs.append(_insert(conn, slug, run_id, endpoint, kind[start:start + MAX_SKUS_PER_TASK], now))
    return refs


def _kinds(entries: list[dict]) -> list[list[dict]]:
    """The entries split by the field groups they carry, in order of first appearance."""
    kinds: dict[tuple, list[dict]] = {}
    for entry in entries:
        kinds.setdefault(tuple(group.name for group in groups_of(entry)), []).append(entry)
    return list(kinds.values())


def _insert(conn: Connection, slug: str, run_id: str, endpoint: str, skus: list[dict], now: datetime) -> BatchRef:
    """Save one batch under the run's next number for its endpoint."""
    run = (batches.c.store == slug) & (batches.c.run_id == run_id) & (batches.c.endpoint == endpoint)
    number = (conn.execute(select(func.max(batches.c.batch_no)).where(run)).scalar() or 0) + 1
    conn.execute(insert(batches).values(
        store=slug, run_id=run_id, endpoint=endpoint, batch_no=number, payload=dumps(skus),
        payload_hash=payload_hash(skus), sku_count=len(skus), created_at=now))
    return BatchRef(endpoint, number)


def unsent(conn: Connection, slug: str, run_id: str) -> list[BatchRef]:
    """The run's batches never attempted, in the order they were saved."""
    rows = conn.execute(select(batches.c.endpoint, batches.c.batch_no).where(
        batches.c.store == slug, batches.c.run_id == run_id, batches.c.attempted_at.is_(None))
        .order_by(batches.c.created_at, batches.c.endpoint, batches.c.batch_no)).all()
    return [BatchRef(row.endpoint, row.batch_no) for row in rows]


def _key(slug: str, run_id: str, ref: BatchRef) -> ColumnElement[bool]:
    return ((batches.c.store == slug) & (batches.c.run_id == run_id) & (batches.c.endpoint == ref.endpoint)
            & (batches.c.batch_no == ref.batch_no))


def send(engine: Engine, client: N11Client, slug: str, run_id: str, ref: BatchRef) -> str | None:
    """Send one batch unless it has been sent; returns N11's task id (the recorded one on a retry)."""
    key = _key(slug, run_id, ref)
    with engine.begin() as conn:
        batch = conn.execute(select(batches).where(key)).one()
        if batch.task_id is not None:
            log.info("%s was sent already as N11 task %s; not sending it again", ref, batch.task_id)
            return batch.task_id
        if batch.attempted_at is not None:
            raise OutcomeUnknown(f"{ref} was sent at {batch.attempted_at:%Y-%m-%d %H:%M:%S} UTC without a receipt "
                                 "coming back, so N11 may have it; it is not sent again blindly. The next run's "
                                 "scan shows what N11 has and sends what still differs.")
        conn.execute(update(batches).where(key).values(attempted_at=utcnow()))
    submit = {PRICE_STOCK: client.update_price_stock, PRODUCT_UPDATE: client.update_products,
              PRODUCT_CREATE: client.create_products}[ref.endpoint]
    try:
        receipt = submit(loads(batch.payload))
    except (N11Unavailable, N11BadResponse) as exc:
        raise OutcomeUnknown(f"{ref}: {exc}. It is not sent again in this run; the next run's scan shows what "
                             "N11 has and sends what still differs.") from None
    task_id = None if receipt.get("id") is None else str(receipt["id"])
    with engine.begin() as conn:
        conn.execute(update(batches).where(key).values(
            task_id=task_id, receipt_status=receipt["status"],
            receipt_reasons=simplejson.dumps(receipt.get("reasons") or [], ensure_ascii=False)))
    log.info("%s: %d SKUs sent, N11 task %s %s", ref, batch.sku_count, task_id, receipt["status"])
    return task_id


def send_all(engine: Engine, client: N11Client, slug: str, run_id: str,
             refs: list[BatchRef] | None = None) -> list[str | None]:
    """Send the batches (by default every unsent one of the run) in order; returns N11's task ids.

    Refused credentials stop at once. A batch whose outcome is unknown, or that N11 refused as a request, is
    logged and left without a task id (the run's summary counts its SKUs as not sent), so the batches after it
    still go out. A batch N11 answers with REJECT is split and its halves sent (``split``).
    """
    if refs is None:
        with engine.connect() as conn:
            refs = unsent(conn, slug, run_id)
    queue, task_ids = list(refs), []
    while queue:
        ref = queue.pop(0)
        try:
            task_ids.append(send(engine, client, slug, run_id, ref))
        except (OutcomeUnknown, N11RequestRefused) as exc:
            log.error("store %r: %s", slug, exc)
            task_ids.append(None)
            continue
        queue[:0] = split(engine, slug, run_id, ref)
    return task_ids


def split(engine: Engine, slug: str, run_id: str, ref: BatchRef, reasons: list[str] | None = None) -> list[BatchRef]:
    """If N11 refused the batch whole (in its receipt, or in its task's result: ``reasons``), it holds more than
    one SKU and the run has sent fewer than ``MAX_SPLIT_SENDS`` halves: save its halves as new batches of the run
    and close it (``SPLIT``: its SKUs get their results from the halves). Returns the halves (or nothing)."""
    key = _key(slug, run_id, ref)
    with engine.begin() as conn:
        batch = conn.execute(select(batches).where(key)).one()
        if reasons is None and batch.receipt_status != "REJECT" or batch.sku_count < 2 \
                or batch.finished_at is not None or 2 * _splits(conn, slug, run_id) >= MAX_SPLIT_SENDS:
            return []
        skus = loads(batch.payload)
        now = utcnow()
        half = len(skus) // 2
        halves = [_insert(conn, slug, run_id, ref.endpoint, part, now) for part in (skus[:half], skus[half:])]
        conn.execute(update(batches).where(key).values(finished_at=now, result_status=SPLIT))
    log.warning("store %r: N11 refused %s whole (%s); sending its %d SKUs again in two halves to find the refused "
                "ones", slug, ref, "; ".join(reasons) if reasons is not None else batch.receipt_reasons,
                batch.sku_count)
    return halves


def _splits(conn: Connection, slug: str, run_id: str) -> int:
    """How many of the run's batches were split: the run's own count, whichever task split them."""
    return conn.scalar(select(func.count()).select_from(batches).where(
        batches.c.store == slug, batches.c.run_id == run_id, batches.c.result_status == SPLIT))
