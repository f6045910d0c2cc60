"""Links: which shop SKUs exist on N11, from a full scan of ``/ms/product-query`` (N11 has no "changed since").

Each link keeps N11's live stock and price as the scan saw them: the diff compares the shop's with them, so an
edit in N11's seller panel, a lost result or tasks processed out of order are put right by the next run. The scan
also keeps the baseline honest where nobody pushes: a SKU seen for the first time starts from N11's
current values (so the first run sends real differences, not the whole catalogue), and a group the update type
does not cover, or any group of a SKU N11 will not update, follows N11's current values. When the update type
later covers such a group, the diff compares the shop with what N11 shows (the campaign case: under ``stock``
N11's campaign price is left alone; switching to ``stock_and_price`` then sends the shop's prices).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, select

from include.clock import utcnow
from include.products import baseline
from include.products.groups import BASELINE_GROUPS, LIVE_COLUMNS, N11_FIELDS, UPDATABLE_STATUSES, Group, covered_groups
from include.products.rules import MAX_STOCK_CODE
from include.products.source import source_table, stock_codes
from include.products.values import canonical, changed, db_value, storable
from include.settings import StoreConfig
from include.tables import n11_product_links
from include.upsert import upsert
from n11.client import N11Client

log = logging.getLogger(__name__)
LINK_FIELDS = {"n11_product_id": "n11ProductId", "n11_status": "status", "sale_status": "saleStatus",
               "catalog_id": "catalogId"}


@dataclass
class LinkCounts:
    shop_skus: int = 0
    no_stock_code: int = 0  # shop rows without a stock code: they cannot be matched
    scanned: int = 0  # products N11 listed
    linked: int = 0  # shop SKUs found on N11
    unlinked: int = 0  # shop SKUs N11 does not have
    not_updatable: int = 0  # linked, but N11 accepts no update in their state (not Active or Suspended)
    seeded: int = 0  # SKUs whose baseline started from N11's values
    followed: int = 0  # group baselines moved to N11's values because nobody pushes them

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def refresh(engine: Engine, client: N11Client, store: StoreConfig) -> LinkCounts:
    """Scan N11, rewrite the store's links and bring the unpushed part of the baseline to N11's values."""
    with engine.connect() as conn:
        listed, no_code = stock_codes(conn, source_table(conn, store.products_source, ["stock_code"]))
    codes = {code for code in listed if len(code) <= MAX_STOCK_CODE}  # longer ones are local errors of the plan
    found, scanned = scan(client, codes)
    now = utcnow()
    with engine.begin() as conn:
        blocked = _blocked(conn, store.slug)
        _write_links(conn, store.slug, found, now)
        seeded, followed = _follow_n11(conn, store.slug, found, blocked, covered_groups(store.update_type), now)
        baseline.forget_unlinked(conn, store.slug)
    updatable = found.n11_status.isin(UPDATABLE_STATUSES)
    counts = LinkCounts(shop_skus=len(codes), no_stock_code=no_code, scanned=scanned, linked=len(found),
                        unlinked=len(codes) - len(found), not_updatable=int((~updatable).sum()), seeded=seeded,
                        followed=followed)
    log.info("store %r links: %d shop SKUs, %d on N11 (%d not updatable there), %d not on N11, %d rows without "
             "stock code; N11 lists %d products; baseline seeded for %d SKUs, %d group baselines follow N11",
             store.slug, counts.shop_skus, counts.linked, counts.not_updatable, counts.unlinked,
             counts.no_stock_code, counts.scanned, counts.seeded, counts.followed)
    return counts


def scan(client: N11Client, codes: set[str]) -> tuple[pd.DataFrame, int]:
    """N11's rows of the shop's SKUs, page by page into the comparable form; and how many N11 listed."""
    pages, scanned = [], 0
    for page in client.iter_products():
        scanned += len(page)
        rows = [row for row in page if row.get("stockCode") in codes]
        if rows:
            pages.append(_page_frame(rows))
    if not pages:
        return _page_frame([]), scanned
    found = pd.concat(pages)
    return found[~found.index.duplicated(keep="last")], scanned  # a product moving between pages mid-scan


def _page_frame(rows: list[dict]) -> pd.DataFrame:
    """Link columns as text (N11's ids are numbers of growing width) beside the comparable values."""
    codes = pd.Index([row["stockCode"] for row in rows], name="stock_code")
    ids = pd.DataFrame([[None if row.get(f) is None else str(row[f]) for f in LINK_FIELDS.values()] for row in rows],
                       columns=list(LINK_FIELDS), index=codes, dtype=object)
    values = pd.DataFrame.from_records([[row.get(f) for f in N11_FIELDS.values()] for row in rows],
                                       columns=list(N11_FIELDS), index=codes)
    return pd.concat([ids, storable(canonical(values))], axis=1)


def _write_links(conn: Connection, slug: str, found: pd.DataFrame, now: datetime) -> None:
    links = n11_product_links
    live = list(LIVE_COLUMNS)
    rows = [{"store": slug, "stock_code": code, **dict(zip(LINK_FIELDS, ids, strict=True)), "refreshed_at": now,
             **{LIVE_COLUMNS[c]: db_value(c, v) for c, v in zip(live, values, strict=True)}}
            for code, ids, values in zip(found.index, found[list(LINK_FIELDS)].itertuples(index=False),
                                         found[live].itertuples(index=False), strict=True)]
    upsert(conn, links, rows)
    conn.execute(delete(links).where(links.c.store == slug, links.c.refreshed_at < now))


def _blocked(conn: Connection, slug: str) -> set[str]:
    """SKUs the last scan found in a state N11 does not update (their baseline followed N11 until now)."""
    links = n11_product_links
    query = select(links.c.stock_code).where(links.c.store == slug,
                                             ~func.coalesce(links.c.n11_status, "").in_(UPDATABLE_STATUSES))
    return set(conn.execute(query).scalars())


def _follow_n11(conn: Connection, slug: str, found: pd.DataFrame, blocked: set[str], covered: tuple[Group, ...],
                now: datetime) -> tuple[int, int]:
    """Seed the baseline of new SKUs and move unpushed groups to N11's values; returns (seeded, followed).

    Only the groups compared with a baseline (listing, content): stock and price are compared with the live values.
    A SKU that N11 blocked until now (in approval, say) also takes N11's values once more: like a new SKU, it
    starts from what N11 shows, so only real differences go out once it can be updated.
    """
    base = baseline.read(conn, slug, BASELINE_GROUPS)
    new = ~found.index.isin(base.index)
    seeded = baseline.write(conn, slug, BASELINE_GROUPS, found[new], now)
    known = found[~new]
    base = base.loc[known.index]
    unpushed_sku = (~known.n11_status.isin(UPDATABLE_STATUSES) | known.index.isin(blocked)).to_numpy()
    followed = 0
    for group in BASELINE_GROUPS:
        moved = changed(known, base, group)
        if group in covered:
            moved &= unpushed_sku
        followed += baseline.write(conn, slug, (group,), known[moved], now)
    return seeded, followed
