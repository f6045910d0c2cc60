"""N11's answers: each sent batch's per-SKU results, read across all pages and recorded once.

``SUCCESS`` moves the SKU's baseline to the values sent, for the groups sent. ``FAIL`` keeps the baseline,
remembers the failed payload per group (so it is not sent again unchanged) and records N11's reasons. A
``REJECT`` of a one-SKU batch (``push`` splits refused batches down to their refused SKUs) is recorded like a
``FAIL``; a larger batch N11 refuses whole in its task's result (its receipt said IN_QUEUE) is split and its
halves sent, as the push does for a refused receipt. A batch's results are written in one transaction with its
``finished_at``, so reading them again (a retried or rescheduled poll) changes nothing.

Every outstanding task of the store is collected, not only the run's own: a run whose sensor timed out or
whose worker died leaves tasks that the next run records before it plans. A task N11 never finishes within
``ABANDON_AFTER`` is given up (``ABANDONED``): the scan shows what N11 made of it.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import simplejson
from sqlalchemy import Connection, Engine, Row, func, select, union_all, update

from include.clock import utcnow
from include.products import baseline, creations
from include.products.groups import PRODUCT_CREATE, Group, groups_of
from include.products.push import SPLIT, BatchRef, batches, loads, send_all, split
from include.products.values import canonical, part_hash, payload_hash
from include.tables import n11_product_sync_errors
from include.upsert import upsert
from n11.client import N11Client

log = logging.getLogger(__name__)
errors = n11_product_sync_errors
FINISHED = ("PROCESSED", "REJECT")
NO_RESULT = "N11 listed no result for this SKU in the processed task"
ABANDONED = "ABANDONED"
ABANDON_AFTER = timedelta(days=1)


@dataclass
class Totals:
    """A run's outcome across its batches."""

    calls: dict[str, int]  # endpoint -> tasks N11 took
    succeeded: int = 0
    failed: int = 0
    rejected: int = 0
    no_result: int = 0
    unsent: int = 0  # SKUs of batches without a task id: never sent, refused, or outcome unknown


def collect(engine: Engine, client: N11Client, slug: str, run_id: str | None = None) -> bool:
    """Record the results of every finished task of the store; True when none of ``run_id``'s (or, without a
    run, none at all) is left waiting."""
    with engine.connect() as conn:
        waiting = conn.execute(select(batches).where(
            batches.c.store == slug, batches.c.task_id.is_not(None), batches.c.finished_at.is_(None))
            .order_by(batches.c.created_at, batches.c.endpoint, batches.c.batch_no)).all()
    left = 0
    for batch in waiting:
        if batch.receipt_status == "REJECT":
            details = {"status": "REJECT", "reasons": simplejson.loads(batch.receipt_reasons or "[]"), "items": []}
        else:
            details = client.get_task_details(int(batch.task_id))
        if details["status"] not in FINISHED:
            if utcnow() - (batch.attempted_at or batch.created_at) > ABANDON_AFTER:
                details = {"status": ABANDONED, "items": []}
            else:
                left += run_id in (None, batch.run_id)
                continue
        if details["status"] == "REJECT" and batch.receipt_status != "REJECT" and batch.run_id == run_id \
                and _resent_in_halves(engine, client, slug, batch, details.get("reasons") or []):
            left += 1
            continue
        with engine.begin() as conn:
            record(conn, slug, batch, details)
    if left:
        log.info("N11 is still processing %d of the %d waiting task(s)", left, len(waiting))
    return not left


def _resent_in_halves(engine: Engine, client: N11Client, slug: str, batch: Row, reasons: list[str]) -> bool:
    """A batch of this run N11 took but then refused whole while processing it: split and send its halves, as the
    push does for a refused receipt, so one refused SKU does not hold back the others. False when it is not split
    (a single SKU, the run's budget of halves spent). A batch of an earlier run is recorded as refused instead:
    its values may be stale, and the next diff sends what is still wanted."""
    halves = split(engine, slug, batch.run_id, BatchRef(batch.endpoint, batch.batch_no), [str(r) for r in reasons])
    send_all(engine, client, slug, batch.run_id, halves)
    return bool(halves)


def record(conn: Connection, slug: str, batch: Row, details: dict) -> None:
    """Write one finished task's results: baseline moves, failed payloads, error rows, the batch's counts."""
    if batch.endpoint == PRODUCT_CREATE:  # new products have no baseline yet: their own record
        creations.record(conn, slug, batch, details)
        return
    entries = loads(batch.payload)
    now = utcnow()
    counts = {"succeeded": 0, "failed": 0, "rejected": 0}
    if details["status"] == ABANDONED:
        log.warning("store %r: N11 task %s (%s batch %s of run %s) never finished; given up, the scan shows what N11 "
                    "has", slug, batch.task_id, batch.endpoint, batch.batch_no, batch.run_id)
    elif details["status"] == "REJECT":
        reasons = details.get("reasons") or ["N11 refused the whole task without giving a reason"]
        _errors(conn, slug, batch, entries, "reject", {e["stockCode"]: reasons for e in entries}, now)
        if len(entries) == 1:  # isolated by splitting: this payload is refused, not the batch around it
            _remember_failures(conn, slug, entries)
        counts["rejected"] = len(entries)
    else:
        items = {item.get("itemCode"): item for item in details["items"]}
        by_status: dict[str, list[dict]] = defaultdict(list)
        for entry in entries:
            by_status[(items.get(entry["stockCode"]) or {}).get("status", "NO_RESULT")].append(entry)
        failed = [e for status, sent in by_status.items() if status not in ("SUCCESS", "NO_RESULT") for e in sent]
        _confirm(conn, slug, by_status["SUCCESS"], now)
        _remember_failures(conn, slug, failed)
        _errors(conn, slug, batch, failed, "fail",
                {e["stockCode"]: items[e["stockCode"]].get("reasons") or [] for e in failed}, now)
        _errors(conn, slug, batch, by_status["NO_RESULT"], "no_result",
                {e["stockCode"]: [NO_RESULT] for e in by_status["NO_RESULT"]}, now)
        counts.update(succeeded=len(by_status["SUCCESS"]), failed=len(failed))
    conn.execute(update(batches).where(
        batches.c.store == slug, batches.c.run_id == batch.run_id, batches.c.endpoint == batch.endpoint,
        batches.c.batch_no == batch.batch_no).values(finished_at=now, result_status=details["status"], **counts))


def _by_group(entries: list[dict]) -> dict[Group, list[dict]]:
    found: dict[Group, list[dict]] = defaultdict(list)
    for entry in entries:
        for group in groups_of(entry):
            found[group].append(entry)
    return found


def _confirm(conn: Connection, slug: str, entries: list[dict], now: datetime) -> None:
    """Move the baseline of each sent group to the values N11 confirmed."""
    for group, sent in _by_group(entries).items():
        values = pd.DataFrame.from_records([[e[f] for f in group.fields.values()] for e in sent],
                                           columns=group.columns, index=[e["stockCode"] for e in sent])
        baseline.write(conn, slug, (group,), canonical(values), now)


def _remember_failures(conn: Connection, slug: str, entries: list[dict]) -> None:
    for group, sent in _by_group(entries).items():
        baseline.mark_failed(conn, slug, group, {e["stockCode"]: part_hash(group, e) for e in sent})


def _errors(conn: Connection, slug: str, batch: Row, entries: list[dict], kind: str,
            reasons: dict[str, list[str]], now: datetime) -> None:
    upsert(conn, errors, [
        {"store": slug, "stock_code": e["stockCode"], "task_id": batch.task_id, "run_id": batch.run_id,
         "kind": kind, "endpoint": batch.endpoint, "groups": ",".join(g.name for g in groups_of(e)),
         "reasons": simplejson.dumps(reasons[e["stockCode"]], ensure_ascii=False),
         "payload_hash": payload_hash(e), "recorded_at": now}
        for e in entries])


def totals(conn: Connection, slug: str, run_id: str) -> Totals:
    """The run's outcome, summed over its batches."""
    rows = conn.execute(select(batches.c.endpoint, batches.c.task_id, batches.c.finished_at, batches.c.sku_count,
                               batches.c.succeeded, batches.c.failed, batches.c.rejected)
                        .where(batches.c.store == slug, batches.c.run_id == run_id,
                               func.coalesce(batches.c.result_status, "") != SPLIT)).all()
    found = Totals(calls={})
    for row in rows:
        if row.task_id is None:
            found.unsent += row.sku_count
            continue
        found.calls[row.endpoint] = found.calls.get(row.endpoint, 0) + 1
        if row.finished_at is None:  # still with N11
            continue
        found.succeeded += row.succeeded
        found.failed += row.failed
        found.rejected += row.rejected
        found.no_result += row.sku_count - row.succeeded - row.failed - row.rejected
    return found


def run_errors(conn: Connection, slug: str, run_id: str, limit: int) -> tuple[list[Row], int]:
    """Up to ``limit`` of the run's error rows (N11's first, then local ones) and how many there are."""
    where = (errors.c.store == slug) & (errors.c.run_id == run_id)
    count = conn.execute(select(func.count()).select_from(errors).where(where)).scalar_one()
    rows = conn.execute(select(errors).where(where).order_by((errors.c.kind == "local"), errors.c.stock_code)
                        .limit(limit)).all()
    return rows, count



def sent_groups(conn: Connection, slug: str, run_id: str) -> Counter[str]:
    """SKUs per field group in the run's update batches that N11 took."""
    payloads = conn.execute(select(batches.c.payload).where(
        batches.c.store == slug, batches.c.run_id == run_id, batches.c.task_id.is_not(None),
        batches.c.endpoint != PRODUCT_CREATE, func.coalesce(batches.c.result_status, "") != SPLIT)).scalars()
    return Counter(group.name for payload in payloads for entry in loads(payload) for group in groups_of(entry))


def last_run(conn: Connection, slug: str, since: datetime) -> str | None:
    """The newest run since ``since`` that sent a batch or recorded an error (None: nothing to send)."""
    runs = [select(batches.c.run_id, batches.c.created_at.label("at")).where(
                batches.c.store == slug, batches.c.created_at >= since),
            select(errors.c.run_id, errors.c.recorded_at.label("at")).where(
                errors.c.store == slug, errors.c.recorded_at >= since)]
    newest = union_all(*runs).subquery()
    return conn.execute(select(newest.c.run_id).order_by(newest.c.at.desc()).limit(1)).scalar()
