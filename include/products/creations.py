"""What product-create did with each SKU sent to it, in ``n11_product_creations``: so none is sent twice.

A finished product-create task is recorded here (``results.collect`` hands its batches over): ``created``, or
``failed``/``rejected``/``no_result`` with N11's reasons in ``n11_product_sync_errors`` and the fingerprint of
the payload, which is not sent again until the shop row changes it. A SKU in a batch N11 took but has not
answered is waiting; so is one whose batch got no receipt (N11 may have it), for a day: then, if the scans have
not found it on N11, it is planned again.
"""

from __future__ import annotations

from datetime import timedelta

import simplejson
from sqlalchemy import Connection, Row, select, update

from include.clock import utcnow
from include.products.groups import PRODUCT_CREATE
from include.products.push import batches, loads
from include.products.values import payload_hash
from include.tables import n11_product_creations, n11_product_sync_errors
from include.upsert import upsert

CREATED = "created"
UNKNOWN_OUTCOME_HOLD = timedelta(days=1)
NO_RESULT = "N11 listed no result for this SKU in the processed task"
_KIND = {"failed": "fail", "rejected": "reject", "no_result": "no_result"}
creations = n11_product_creations


def previous(conn: Connection, slug: str) -> dict[str, tuple[str, str]]:
    """stock code -> (status, payload hash) of every SKU product-create answered for the store."""
    rows = conn.execute(select(creations.c.stock_code, creations.c.status, creations.c.payload_hash)
                        .where(creations.c.store == slug))
    return {row.stock_code: (row.status, row.payload_hash) for row in rows}


def waiting(conn: Connection, slug: str) -> set[str]:
    """SKUs of product-create batches N11 took and has not answered, or sent without a receipt in the last day."""
    since = utcnow() - UNKNOWN_OUTCOME_HOLD
    payloads = conn.execute(select(batches.c.payload).where(
        batches.c.store == slug, batches.c.endpoint == PRODUCT_CREATE, batches.c.finished_at.is_(None),
        batches.c.task_id.is_not(None) | (batches.c.attempted_at >= since))).scalars()
    return {entry["stockCode"] for payload in payloads for entry in loads(payload)}


def record(conn: Connection, slug: str, batch: Row, details: dict) -> None:
    """Write one finished product-create task: each SKU's outcome, N11's reasons, the batch's counts."""
    entries = loads(batch.payload)
    now = utcnow()
    if details["status"] == "REJECT":
        outcomes = {e["stockCode"]: ("rejected", details["reasons"]) for e in entries}
    else:
        items = {item.get("itemCode"): item for item in details["items"]}
        outcomes = {e["stockCode"]: _outcome(items.get(e["stockCode"])) for e in entries}
    upsert(conn, creations, [{"store": slug, "stock_code": e["stockCode"], "status": outcomes[e["stockCode"]][0],
                              "payload_hash": payload_hash(e), "task_id": batch.task_id, "run_id": batch.run_id,
                              "recorded_at": now} for e in entries])
    refused = [e for e in entries if outcomes[e["stockCode"]][0] != CREATED]
    upsert(conn, n11_product_sync_errors, [
        {"store": slug, "stock_code": e["stockCode"], "task_id": batch.task_id, "run_id": batch.run_id,
         "kind": _KIND[outcomes[e["stockCode"]][0]], "endpoint": PRODUCT_CREATE, "groups": "create",
         "reasons": simplejson.dumps(outcomes[e["stockCode"]][1], ensure_ascii=False),
         "payload_hash": payload_hash(e), "recorded_at": now}
        for e in refused])
    statuses = [status for status, _ in outcomes.values()]
    conn.execute(update(batches).where(
        batches.c.store == slug, batches.c.run_id == batch.run_id, batches.c.endpoint == batch.endpoint,
        batches.c.batch_no == batch.batch_no).values(
        finished_at=now, result_status=details["status"], succeeded=statuses.count(CREATED),
        failed=statuses.count("failed"), rejected=statuses.count("rejected")))


def _outcome(item: dict | None) -> tuple[str, list[str]]:
    if item is None:
        return "no_result", [NO_RESULT]
    return (CREATED if item["status"] == "SUCCESS" else "failed"), item.get("reasons") or []


def report(conn: Connection, slug: str, run_id: str, limit: int) -> list[str]:
    """The run's product-create outcome: one line of counts, then up to ``limit`` SKUs with N11's answer."""
    rows = conn.execute(select(creations).where(creations.c.store == slug, creations.c.run_id == run_id)
                        .order_by(creations.c.stock_code)).all()
    if not rows:
        return []
    errors = n11_product_sync_errors
    reasons = dict(conn.execute(select(errors.c.stock_code, errors.c.reasons).where(
        errors.c.store == slug, errors.c.run_id == run_id, errors.c.endpoint == PRODUCT_CREATE,
        errors.c.task_id != "local")).all())
    counts = {status: sum(row.status == status for row in rows) for status in (CREATED, *_KIND)}
    lines = [f"new products: {', '.join(f'{status} {n}' for status, n in counts.items() if n)}"]
    for row in rows[:limit]:
        answer = "; ".join(simplejson.loads(reasons[row.stock_code])) if row.stock_code in reasons else "created"
        lines.append(f"  {row.stock_code} (N11 task {row.task_id}): {answer}")
    if len(rows) > limit:
        lines.append(f"  ... and {len(rows) - limit} more (table n11_product_creations, run {run_id})")
    return lines
