"""Sending: a run's SKU entries in batches of at most 1000, saved before sending and sent at most once.

N11's writes are not idempotent and N11 cannot look a task up by content, so each batch is saved with the run,
marked as attempted right before the call, and given N11's task id the moment the receipt arrives. A retried
push finds the task id and sends nothing; a batch attempted without a receipt (the answer was lost, or the
worker died mid-call) is not sent again blindly: its SKUs keep their baseline, so the next run sends them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

import simplejson
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from include.clock import utcnow
from include.products.groups import PRICE_STOCK, PRODUCT_CREATE, PRODUCT_UPDATE
from include.products.values import payload_hash
from include.tables import n11_product_push_batches
from n11.client import MAX_SKUS_PER_TASK, N11Client
from n11.errors import N11BadResponse, N11RequestRefused, N11Unavailable

log = logging.getLogger(__name__)
batches = n11_product_push_batches
RETAIN_DAYS = 30


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


def save(conn: Connection, store: str, run_id: str, entries: dict[str, list[dict]]) -> list[BatchRef]:
    """Save the run's batches; batches of this run and these endpoints never attempted are replaced (the run was
    planned again).

    Batches whose results were recorded more than RETAIN_DAYS ago are dropped: their payloads served their turn.
    """
    now = utcnow()
    conn.execute(delete(batches).where(batches.c.store == store,
                                       batches.c.finished_at < now - timedelta(days=RETAIN_DAYS)))
    run = (batches.c.store == store) & (batches.c.run_id == run_id)
    conn.execute(delete(batches).where(run, batches.c.endpoint.in_(list(entries)), batches.c.attempted_at.is_(None)))
    refs = []
    for endpoint, skus in entries.items():
        last = conn.execute(select(func.max(batches.c.batch_no)).where(run, batches.c.endpoint == endpoint))
        first = (last.scalar() or 0) + 1
        for number, start in enumerate(range(0, len(skus), MAX_SKUS_PER_TASK), start=first):
            chunk = skus[start:start + MAX_SKUS_PER_TASK]
            conn.execute(insert(batches).values(
                store=store, run_id=run_id, endpoint=endpoint, batch_no=number, payload=dumps(chunk),
                payload_hash=payload_hash(chunk), sku_count=len(chunk), created_at=now))
            refs.append(BatchRef(endpoint, number))
    return refs


def send(engine: Engine, client: N11Client, store: str, run_id: str, ref: BatchRef) -> str | None:
    """Send one batch unless it has been sent; returns N11's task id (the recorded one on a retry)."""
    key = ((batches.c.store == store) & (batches.c.run_id == run_id) & (batches.c.endpoint == ref.endpoint)
           & (batches.c.batch_no == ref.batch_no))
    with engine.begin() as conn:
        batch = conn.execute(select(batches).where(key)).one()
        if batch.task_id is not None:
            log.info("%s was sent already as N11 task %s; not sending it again", ref, batch.task_id)
            return batch.task_id
        if batch.attempted_at is not None:
            raise OutcomeUnknown(f"{ref} was sent at {batch.attempted_at:%Y-%m-%d %H:%M:%S} UTC without a receipt "
                                 "coming back, so N11 may have it; it is not sent again blindly. Its SKUs keep "
                                 "their baseline, so the next run sends them again.")
        conn.execute(update(batches).where(key).values(attempted_at=utcnow()))
    submit = {PRICE_STOCK: client.update_price_stock, PRODUCT_UPDATE: client.update_products,
              PRODUCT_CREATE: client.create_products}[ref.endpoint]
    try:
        receipt = submit(loads(batch.payload))
    except (N11Unavailable, N11BadResponse) as exc:
        raise OutcomeUnknown(f"{ref}: {exc}. It is not sent again in this run; its SKUs keep their baseline, "
                             "so the next run sends them again.") from None
    task_id = None if receipt.get("id") is None else str(receipt["id"])
    with engine.begin() as conn:
        conn.execute(update(batches).where(key).values(
            task_id=task_id, receipt_status=receipt["status"],
            receipt_reasons=simplejson.dumps(receipt.get("reasons") or [], ensure_ascii=False)))
    log.info("%s: %d SKUs sent, N11 task %s %s", ref, batch.sku_count, task_id, receipt["status"])
    return task_id


def send_all(engine: Engine, client: N11Client, store: str, run_id: str, refs: list[BatchRef]) -> list[str | None]:
    """Send the batches in order; returns N11's task ids. Refused credentials stop at once.

    A batch N11 refused, or whose outcome is unknown, is logged and left without a task id (the run's summary
    counts its SKUs as not sent), so the batches after it still go out.
    """
    task_ids = []
    for ref in refs:
        try:
            task_ids.append(send(engine, client, store, run_id, ref))
        except (OutcomeUnknown, N11RequestRefused) as exc:
            log.error("store %r: %s", store, exc)
            task_ids.append(None)
    return task_ids
