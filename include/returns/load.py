"""Return claims into ``n11_returns``: a read's rows in one transaction, then each unmatched claim matched to the
shop's order line.

A claim is written when it is new, or when its ``revision`` (its newest day, then its status's step) is newer
than the stored one, or equal with other values (a tracking number N11 added the same day); an answer older than
the stored row changes nothing, so a rerun, an overlap or a late answer never moves a row back. ``last_seen``
notes every claim read. N11 sends no order line: a claim's line is the shop's line of the same order and product,
the live one first (Delivered ahead of the rest, then the lowest id), matched as soon as the shop holds the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, select, update

from include.orders.status import NOT_COUNTED
from include.returns.errors import BadClaimData
from include.returns.transform import DATES, TEXTS, BadClaim, claim_row
from include.shop_db import in_transaction
from include.tables import n11_order_lines, n11_returns
from include.upsert import upsert

returns, lines = n11_returns, n11_order_lines
COMPARED = ("status", "quantity", "unit_price", "final_price", *TEXTS, *DATES)  # what N11 says of a claim
_CHUNK = 500


@dataclass
class ClaimCounts:
    """Claims new, updated, unchanged, and older than the stored row (left as they are)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0

    def __add__(self, other: ClaimCounts) -> ClaimCounts:
        return ClaimCounts(*(a + b for a, b in zip(asdict(self).values(), asdict(other).values(), strict=True)))


def load_claims(engine: Engine, slug: str, claims: Sequence[dict], where: str, now: datetime) -> ClaimCounts:
    """Turn N11's claims into rows (a bad one stops the load, naming the store, ``where`` and the claim) and write
    them in one transaction."""
    try:
        rows = [claim_row(slug, claim, now) for claim in claims]
    except BadClaim as exc:
        raise BadClaimData(f"store {slug!r}, {where}: {exc}; nothing of it was written") from None
    return in_transaction(engine, lambda conn: write_claims(conn, slug, rows, now))


def write_claims(conn: Connection, slug: str, rows: Sequence[dict], now: datetime) -> ClaimCounts:
    """Write the new and newer rows, note every claim as seen, then match the store's unmatched claims."""
    newest: dict[str, dict] = {}
    for row in rows:  # a claim twice in one read (pages shifting): its newest reading
        if row["claim_id"] not in newest or newest[row["claim_id"]]["revision"] <= row["revision"]:
            newest[row["claim_id"]] = row
    counts = ClaimCounts()
    written, ties = [], []
    stored = _stored(conn, slug, sorted(newest))
    for claim_id, row in sorted(newest.items()):
        old = stored.get(claim_id)
        if old is None:
            counts.new += 1
            written.append(row)
        elif row["revision"] < old["revision"]:
            counts.older += 1
        elif all(row[name] == old[name] for name in COMPARED):
            counts.unchanged += 1
        else:
            counts.updated += 1
            (written if row["revision"] > old["revision"] else ties).append(row)
    upsert(conn, returns, written, version="revision")
    for row in ties:  # the same revision with other values: N11's latest reading
        conn.execute(update(returns).where(returns.c.store == slug, returns.c.claim_id == row["claim_id"],
                                           returns.c.revision == row["revision"]).values(row))
    ids = sorted(newest)
    for start in range(0, len(ids), _CHUNK):
        conn.execute(update(returns).where(returns.c.store == slug, returns.c.claim_id.in_(ids[start:start + _CHUNK]))
                     .values(last_seen=now))
    match_lines(conn, slug)
    return counts


def _stored(conn: Connection, slug: str, claim_ids: list[str]) -> dict[str, dict]:
    found = {}
    columns = [returns.c.claim_id, returns.c.revision, *(returns.c[name] for name in COMPARED)]
    for start in range(0, len(claim_ids), _CHUNK):
        query = select(*columns).where(returns.c.store == slug,
                                       returns.c.claim_id.in_(claim_ids[start:start + _CHUNK]))
        found |= {row["claim_id"]: dict(row) for row in conn.execute(query).mappings()}
    return found


def match_lines(conn: Connection, slug: str) -> int:
    """Give each of the store's claims without an order line the shop's line of its order and product; returns
    how many were matched."""
    query = (select(returns.c.claim_id, lines.c.order_line_id, lines.c.stock_code, lines.c.status)
             .join(lines, and_(lines.c.store == returns.c.store, lines.c.order_number == returns.c.order_number,
                               lines.c.product_id == returns.c.product_id))
             .where(returns.c.store == slug, returns.c.order_line_id.is_(None)))
    best: dict[str, tuple] = {}
    for row in conn.execute(query):
        rank = (row.status in NOT_COUNTED, row.status != "Delivered", len(row.order_line_id), row.order_line_id)
        if row.claim_id not in best or rank < best[row.claim_id][0]:
            best[row.claim_id] = (rank, row.order_line_id, row.stock_code)
    for claim_id, (_, line_id, stock_code) in best.items():
        conn.execute(update(returns).where(returns.c.store == slug, returns.c.claim_id == claim_id)
                     .values(order_line_id=line_id, stock_code=stock_code))
    return len(best)
