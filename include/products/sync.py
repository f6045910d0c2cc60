"""A products run, step by step: links -> plan -> push -> collect -> summary.

The DAG runs each step as its own task (``include.tasks.products``); ``sync_products`` runs them in one process
for the demo and for tests that need no Airflow.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import simplejson
from sqlalchemy import Connection, Engine, delete

from include.clock import utcnow
from include.products import baseline, diff, links, push, results
from include.products.groups import ENDPOINTS, GROUPS, PRODUCT_CREATE, covered_groups
from include.products.source import read_linked, source_table
from include.registry import StoreConfig
from include.tables import n11_product_sync_errors
from n11.client import MAX_SKUS_PER_TASK, N11Client

log = logging.getLogger(__name__)
LOCAL = "local"  # the task id of local errors
LISTED_ERRORS = 20  # failed SKUs listed under the summary line
SAMPLE_ENTRIES = 5  # entries a dry run shows per endpoint


@dataclass(frozen=True)
class RunOptions:
    """A run's options from its conf: ``{"full_resync": true}``, ``{"dry_run": true}``."""

    full_resync: bool = False
    dry_run: bool = False

    @classmethod
    def from_conf(cls, conf: dict[str, Any] | None) -> RunOptions:
        """Refuse anything but the two booleans: a mistyped ``dry_run`` must not turn into a real push."""
        conf = conf or {}
        known = ("full_resync", "dry_run")
        unknown = sorted(set(conf) - set(known))
        if unknown:
            raise ValueError(f"unknown run option(s) {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
        for key in known:
            if key in conf and not isinstance(conf[key], bool):
                raise ValueError(f"run option {key!r} must be true or false, got {conf[key]!r}")
        return cls(**conf)


def plan_run(engine: Engine, store: StoreConfig, run_id: str, options: RunOptions) -> tuple[dict, list[push.BatchRef]]:
    """Diff the shop against the baseline; save the batches (unless a dry run). Returns (counts, batches)."""
    covered = covered_groups(store.update_type)
    columns = [column for group in covered for column in group.columns]
    with engine.connect() as conn:
        shop = read_linked(conn, source_table(conn, store.products_source, columns), store.slug)
        base = baseline.read(conn, store.slug, covered)
    plan = diff.plan(shop, base, covered, options.full_resync)
    counts = plan.counts()
    log.info("store %r plan (%s%s): %s", store.slug, store.update_type,
             ", full resync" if options.full_resync else "", _plan_line(counts))
    if options.dry_run:
        _log_dry_run(store.slug, plan)
        return counts, []
    with engine.begin() as conn:
        _record_local_errors(conn, store.slug, run_id, plan)
        refs = push.save(conn, store.slug, run_id, plan.entries)
    return counts, refs


def _plan_line(counts: dict) -> str:
    sending = ", ".join(f"{group} {n}" for group, n in counts["sending"].items())
    held = sum(counts["held_back"].values())
    return (f"{counts['considered']} updatable linked SKUs; sending {sending}; "
            f"{counts['local_errors']} local error(s); {held} held back (same payload N11 failed last time)")


def _log_dry_run(slug: str, plan: diff.Plan) -> None:
    for endpoint, entries in plan.entries.items():
        calls = -(-len(entries) // MAX_SKUS_PER_TASK)
        log.info("store %r dry run: would send %d SKU(s) to %s in %d call(s)%s", slug, len(entries), endpoint,
                 calls, f", e.g. {push.dumps(entries[:SAMPLE_ENTRIES])}" if entries else "")
    for row in plan.errors.head(LISTED_ERRORS).itertuples():
        log.info("store %r dry run: local error %s [%s]: %s", slug, row.stock_code, row.group, row.rule)
    if len(plan.errors) > LISTED_ERRORS:
        log.info("store %r dry run: ... and %d more local errors", slug, len(plan.errors) - LISTED_ERRORS)


def _record_local_errors(conn: Connection, store: str, run_id: str, plan: diff.Plan) -> None:
    """Replace the store's local errors with this run's: a fixed row stops being reported."""
    errors = n11_product_sync_errors
    conn.execute(delete(errors).where(errors.c.store == store, errors.c.task_id == LOCAL))
    if plan.errors.empty:
        return
    now = utcnow()
    rows = [{"store": store, "stock_code": code, "task_id": LOCAL, "run_id": run_id, "kind": LOCAL,
             "endpoint": None, "groups": ",".join(dict.fromkeys(found.group)),
             "reasons": simplejson.dumps(list(found.rule), ensure_ascii=False), "payload_hash": None,
             "recorded_at": now}
            for code, found in plan.errors.groupby("stock_code", sort=True)]
    conn.execute(errors.insert(), rows)


def summary(engine: Engine, store: StoreConfig, run_id: str, link_counts: dict, plan_counts: dict,
            dry_run: bool) -> tuple[list[str], results.Totals]:
    """The run's summary line, then the SKUs N11 refused or the rules held back, with the reasons; and the
    totals the line reports."""
    with engine.connect() as conn:
        done = results.totals(conn, store.slug, run_id)
        errors, error_count = results.run_errors(conn, store.slug, run_id, LISTED_ERRORS)
    changed = ", ".join(f"{group} {n}" for group, n in plan_counts["sending"].items())
    outcome = "dry run: nothing sent" if dry_run else _outcome(done)
    line = (f"store {store.slug!r} products ({store.update_type}): linked {link_counts['linked']}, "
            f"unlinked {link_counts['unlinked']}, not updatable {link_counts['not_updatable']}; "
            f"changed {changed}; local errors {plan_counts['local_errors']}, "
            f"held back {sum(plan_counts['held_back'].values())}; {outcome}")
    return [line, *_error_lines(errors, error_count, run_id)], done


def _outcome(done: results.Totals) -> str:
    calls = ", ".join(f"{endpoint} {done.calls.get(endpoint, 0)}" for endpoint in ENDPOINTS)
    calls += f", {PRODUCT_CREATE} {done.calls[PRODUCT_CREATE]}" if PRODUCT_CREATE in done.calls else ""
    return (f"calls {calls}; succeeded {done.succeeded}, failed {done.failed}, rejected {done.rejected}"
            + (f", no result {done.no_result}" if done.no_result else "")
            + (f", not sent {done.unsent}" if done.unsent else ""))


def _error_lines(errors: list, count: int, run_id: str) -> list[str]:
    """The refused or held-back SKUs with their reasons, at most LISTED_ERRORS of them."""
    lines = []
    for row in errors:
        task = "" if row.kind == LOCAL else f" (N11 task {row.task_id})"
        lines.append(f"  {row.stock_code} [{row.groups}] {row.kind}{task}: {'; '.join(simplejson.loads(row.reasons))}")
    if count > len(errors):
        lines.append(f"  ... and {count - len(errors)} more (table n11_product_sync_errors, run {run_id})")
    return lines


def run_report(engine: Engine, store: StoreConfig, run_id: str) -> list[str]:
    """What a finished run pushed per field group and what N11 refused, read back from the shop database."""
    with engine.connect() as conn:
        done = results.totals(conn, store.slug, run_id)
        pushed = results.sent_groups(conn, store.slug, run_id)
        errors, error_count = results.run_errors(conn, store.slug, run_id, LISTED_ERRORS)
    groups = ", ".join(f"{group.name} {pushed[group.name]}" for group in GROUPS)
    return [f"products run {run_id}: pushed {groups} SKU(s); {_outcome(done)}",
            *_error_lines(errors, error_count, run_id)]


def sync_products(engine: Engine, client: N11Client, store: StoreConfig, run_id: str,
                  options: RunOptions = RunOptions(), poll_seconds: float = 5.0, timeout: float = 3600.0) -> list[str]:
    """One whole run in this process; returns the summary lines (also logged)."""
    link_counts = links.refresh(engine, client, store).as_dict()
    plan_counts, refs = plan_run(engine, store, run_id, options)
    push.send_all(engine, client, store.slug, run_id, refs)
    deadline = time.monotonic() + timeout
    while not results.collect(engine, client, store.slug, run_id):
        if time.monotonic() > deadline:
            raise TimeoutError(f"store {store.slug!r}: N11 did not finish the run's tasks within {timeout:.0f}s")
        time.sleep(poll_seconds)
    lines, _ = summary(engine, store, run_id, link_counts, plan_counts, options.dry_run)
    log.info("\n".join(lines))
    return lines
