"""A products run, step by step: the functions the products DAG's tasks call, in this order.

``start`` (take the store's run lock, collect every outstanding N11 task of earlier runs) -> ``plan`` (scan N11
for links and live values, diff, save the batches) -> ``push`` (send them) -> ``collect`` (poked until N11 has
finished the run's tasks; the summary) -> ``finish`` (release the lock, also after a failure). Each step takes
the lock again, so a step of a run that lost it (expired, taken by another run) stops before it writes.
Steps return counts only: what Airflow keeps as XCom stays small.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
import simplejson
from sqlalchemy import Connection, Engine, delete

from include.clock import utcnow
from include.products import create, creations, diff, links, push, results, rules, run_lock
from include.products.groups import ENDPOINTS, GROUPS, PRODUCT_CREATE, covered_groups
from include.products.source import read_plan_rows, source_table, stock_codes
from include.products.values import payload_hash
from include.settings import StoreConfig, listed
from include.tables import n11_product_sync_errors
from n11.client import MAX_SKUS_PER_TASK, N11Client

log = logging.getLogger(__name__)
LOCAL = "local"  # the task id of local errors
LISTED_ERRORS = 20  # failed (or held-back) SKUs listed under the summary line
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


def start(engine: Engine, client: N11Client, store: StoreConfig, run_id: str) -> dict:
    """Take the store's run lock (``run_lock.RunLocked`` if another run holds it), then record every finished
    N11 task of earlier runs, so the plan starts from everything N11 has answered."""
    run_lock.take(engine, store.slug, run_id)
    done = results.collect(engine, client, store.slug)
    if not done:
        log.info("store %r: some earlier N11 tasks are still queued; their results are recorded when they finish, "
                 "and the scan shows N11's values meanwhile", store.slug)
    return {"earlier_tasks_finished": done}


def plan(engine: Engine, client: N11Client, store: StoreConfig, run_id: str, options: RunOptions) -> dict:
    """Scan N11 (links and live values), then diff and save the batches. Returns the counts of both."""
    run_lock.take(engine, store.slug, run_id)
    link_counts = links.refresh(engine, client, store)
    plan_counts = plan_run(engine, store, run_id, options)[0]
    return {"links": link_counts.as_dict(), "plan": plan_counts, "dry_run": options.dry_run}


def push_run(engine: Engine, client: N11Client, store: StoreConfig, run_id: str) -> dict:
    """Send the run's unsent batches, each at most once; returns how many went out and how many were refused."""
    run_lock.take(engine, store.slug, run_id)
    with engine.connect() as conn:  # new products are sent by their own step (include.products.create)
        refs = [ref for ref in push.unsent(conn, store.slug, run_id) if ref.endpoint != PRODUCT_CREATE]
    task_ids = push.send_all(engine, client, store.slug, run_id, refs)
    sent = sum(task_id is not None for task_id in task_ids)
    log.info("store %r push: %d batch(es) with N11, %d not sent", store.slug, sent, len(task_ids) - sent)
    return {"batches": len(task_ids), "with_n11": sent}


def create_run(engine: Engine, client: N11Client, store: StoreConfig, run_id: str, options: RunOptions) -> dict:
    """List the shop's new products on N11 (``include.products.create``): plan them after the scan and send their
    batches, each at most once; returns the plan's counts and how many batches N11 took."""
    run_lock.take(engine, store.slug, run_id)
    counts, refs = create.plan_creation(engine, client, store, run_id, options.dry_run)
    task_ids = push.send_all(engine, client, store.slug, run_id, refs)
    return {**counts, "batches": len(refs), "taken": sum(task_id is not None for task_id in task_ids)}


def collect(engine: Engine, client: N11Client, store: StoreConfig, run_id: str,
            planned: dict) -> tuple[bool, list[str], results.Totals | None]:
    """One poke: record every finished N11 task of the store; when none of the run's is left, the summary."""
    run_lock.take(engine, store.slug, run_id)
    if not results.collect(engine, client, store.slug, run_id):
        return False, [], None
    lines, done = summary(engine, store, run_id, planned["links"], planned["plan"], planned["dry_run"])
    with engine.connect() as conn:
        lines += creations.report(conn, store.slug, run_id, LISTED_ERRORS)
    log.info("\n".join(lines))
    return True, lines, done


def finish(engine: Engine, store: StoreConfig, run_id: str) -> bool:
    """Release the store's run lock if this run holds it."""
    return run_lock.release(engine, store.slug, run_id)


def plan_run(engine: Engine, store: StoreConfig, run_id: str, options: RunOptions) -> tuple[dict, list[push.BatchRef]]:
    """Diff the shop against N11 and the baseline; save the batches (unless a dry run). Returns (counts, batches)."""
    covered = covered_groups(store.update_type)
    columns = [column for group in covered for column in group.columns]
    with engine.connect() as conn:
        source = source_table(conn, store.products_source, columns)
        refused = _refused_codes(stock_codes(conn, source)[0])
        plan = diff.plan(read_plan_rows(conn, source, store.slug, covered), covered, options.full_resync,
                         store, refused)
    counts = plan.counts()
    log.info("store %r plan (%s%s): %s", store.slug, store.update_type,
             ", full resync" if options.full_resync else "", _plan_line(counts))
    if plan.held_codes:
        log.info("store %r: held back, as N11 failed the same payload last time: %s", store.slug,
                 listed(sorted(set(plan.held_codes)), first=LISTED_ERRORS, width=rules.MAX_STOCK_CODE))
    if options.dry_run:
        _log_dry_run(store.slug, plan)
        return counts, []
    with engine.begin() as conn:
        _record_local_errors(conn, store.slug, run_id, plan)
        refs = push.save(conn, store.slug, run_id, plan.entries)
    return counts, refs


def _refused_codes(codes: list[str]) -> pd.DataFrame:
    """Local errors of stock codes that cannot be planned: listed twice, or too long for N11 and the tables."""
    found = [frame for frame in (rules.repeated_codes(codes), rules.overlong_codes(codes)) if len(frame)]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=rules.COLUMNS)


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


def _record_local_errors(conn: Connection, slug: str, run_id: str, plan: diff.Plan) -> None:
    """Replace the store's local errors with this run's: a fixed row stops being reported."""
    errors = n11_product_sync_errors
    conn.execute(delete(errors).where(errors.c.store == slug, errors.c.task_id == LOCAL))
    if plan.errors.empty:
        return
    now = utcnow()
    rows = [{"store": slug, "stock_code": recordable(code), "task_id": LOCAL, "run_id": run_id, "kind": LOCAL,
             "endpoint": None, "groups": ",".join(dict.fromkeys(found.group)),
             "reasons": simplejson.dumps(list(found.rule), ensure_ascii=False), "payload_hash": None,
             "recorded_at": now}
            for code, found in plan.errors.groupby("stock_code", sort=True)]
    conn.execute(errors.insert(), rows)


def recordable(code: str) -> str:
    """A stock code as the errors table can key it: one too long is cut, with a fingerprint of the whole."""
    if len(code) <= rules.MAX_STOCK_CODE:
        return code
    return f"{code[:rules.MAX_STOCK_CODE - 9]}~{payload_hash(code)[:8]}"


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
