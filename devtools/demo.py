"""`make demo`: the demo store's DAGs run through Airflow against the local N11 sandbox, all on SQLite.

Starts the sandbox (seeded Turkish demo data: a few hundred products, a month of orders and return claims),
prepares an Airflow home in `.airflow/` (SQLite metadata, the demo store's connections as environment variables,
the shop database `.airflow/shop.db` with its product source filled and what the shop asks after the sale: one
item cancelled, one return approved, one invoice link), runs `airflow dags test` for the demo store's DAGs and
prints what happened. Airflow's own output goes to `.airflow/demo-<dag>.log`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
from sqlalchemy import Engine, RowMapping, create_engine, func, insert, select

from devtools.sandbox import (
    DEMO_API_KEY,
    DEMO_API_SECRET,
    Account,
    N11Sandbox,
    SandboxState,
    generate_account,
    new_shop_products,
    shop_products,
)
from devtools.sandbox.claims import file_claim
from devtools.sandbox.rules import canonical_status
from include.clock import to_ms, utcnow
from include.products import results
from include.products import run as steps
from include.registry import TIMEZONE, load_registry
from include.settings import StoreConfig
from include.tables import (
    metadata,
    n11_categories,
    n11_order_actions,
    n11_order_invoices,
    n11_order_lines,
    n11_order_packages,
    n11_orders,
    n11_product_creations,
    n11_product_source,
    n11_product_sync_errors,
    n11_return_actions,
    n11_returns,
    n11_stores,
    source_metadata,
)

ROOT = Path(__file__).resolve().parents[1]
# The Airflow home of `make demo` and `make airflow`: `.airflow/` unless N11_AIRFLOW_HOME names another, so that
# two local Airflows (two developers, two checkouts) keep apart.
HOME = Path(os.environ.get("N11_AIRFLOW_HOME") or ROOT / ".airflow").resolve()
SHOP_DB = HOME / "shop.db"
SLUG = "demo"


def base_env(home: Path | None = None) -> dict[str, str]:
    """Airflow on SQLite in an Airflow home (the demo's, ``HOME``, by default), reading this project's DAGs."""
    home = home or HOME
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # standalone runs `airflow`
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
    }


def n11_connection(sandbox_url: str, api_key: str = DEMO_API_KEY, api_secret: str = DEMO_API_SECRET) -> dict:
    """A store's N11 connection to a sandbox account (the demo account by default)."""
    return {"conn_type": "n11", "host": sandbox_url, "login": api_key, "password": api_secret}


def demo_connections(sandbox_url: str) -> dict[str, dict]:
    """The demo store's connections: N11 (the sandbox's demo account) and the SQLite shop database."""
    return {"n11_demo": n11_connection(sandbox_url), "shop_db": {"conn_type": "sqlite", "host": str(SHOP_DB)}}


def airflow_env(sandbox_url: str) -> dict[str, str]:
    """The environment of the demo's `airflow dags test` runs: connections as environment variables."""
    conns = {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(c) for cid, c in demo_connections(sandbox_url).items()}
    return {**base_env(), **conns}


def airflow(env: dict[str, str], *args: str, log: Path | None = None) -> int:
    """Run the `airflow` CLI of this Python; output appended to `log` (or discarded)."""
    command = [sys.executable, "-m", "airflow", *args]
    with open(log or os.devnull, "a", encoding="utf-8") as out:
        return subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def demo_account(api_key: str = DEMO_API_KEY, api_secret: str = DEMO_API_SECRET) -> Account:
    """The sandbox's demo account with a month of orders up to the coming full hour (the same products and orders
    under any key)."""
    return generate_account(api_key=api_key, api_secret=api_secret,
                            end=datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))


def fresh_shop_db(sandbox: N11Sandbox) -> tuple[Engine, int]:
    """An empty shop database with its product table filled, as a real shop's view would show it.

    The sandbox's data is generated anew at every start: a shop database kept from an earlier one would mix
    two data sets. Returns the engine and the number of products.
    """
    SHOP_DB.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{SHOP_DB}")
    return engine, fill_product_source(engine, sandbox.state.account(DEMO_API_KEY))


def fill_product_source(engine: Engine, account: Account) -> int:
    """The shop's product table as a real shop's view would show it for the account's products, and a few new
    ones; returns the number of products."""
    source_metadata.create_all(engine)
    taken = account.products[min(account.products)]["barcode"]  # one new product N11 will refuse
    listed, new = shop_products(account), new_shop_products(taken_barcode=taken)
    with engine.begin() as conn:
        for rows in (listed, new):  # one statement per row shape: the new products carry the creation columns
            conn.execute(insert(n11_product_source), rows)
    return len(listed) + len(new)


@dataclass(frozen=True)
class AfterSale:
    """What the demo shop asks N11 after the sale, before the orders run."""

    cancelled_line: str  # one item of a line N11 shows Picking: the shop cannot supply it
    order_number: str  # the order of that line
    claim_id: str  # a buyer's return claim the shop approves
    invoiced_order: str  # an order the shop gives its invoice link


def ask_after_sale(sandbox: N11Sandbox, engine: Engine, interval_end: datetime) -> AfterSale:
    """The shop's rows for one cancel, one return decision and one invoice link among the orders and claims of the
    interval that ends at ``interval_end`` (the day the orders run loads)."""
    account = sandbox.state.account(DEMO_API_KEY)
    start, end = to_ms(interval_end - timedelta(days=1)), to_ms(interval_end)
    with account.lock:
        day = [p for p in account.packages if start <= p["lastModifiedDate"] < end and not p.get("_parent")
               and p["_sender"] == "SELLER"]
        picking = next((p for p in day if canonical_status(p["shipmentPackageStatus"]) in ("Created", "Picking")
                        and sum(line["quantity"] for line in p["lines"]) > 1), None)
        shipped = [p for p in day if canonical_status(p["shipmentPackageStatus"]) in ("Shipped", "Delivered")]
    if picking is None or not shipped:
        raise SystemExit("make demo: the sandbox's orders of the day have no open package of several items or no "
                         "shipped one to show the after-sale with (its generator changed?)")
    # N11 shows the first order Picking (the shop approved it), the second delivered, and its buyer asks to return
    # an item of it the same day.
    account.set_package_status(picking["orderNumber"], "Picking", picking["lastModifiedDate"])
    returned, invoiced = shipped[0], shipped[-1]
    account.set_package_status(returned["orderNumber"], "Delivered", returned["lastModifiedDate"])
    claim = file_claim(account, returned["orderNumber"], (interval_end - timedelta(days=1)).date())
    asked = AfterSale(str(picking["lines"][0]["orderLineId"]), picking["orderNumber"], claim["claimReturnId"],
                      invoiced["orderNumber"])
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(n11_order_actions).values(store=SLUG, order_line_id=asked.cancelled_line,
                                                      action="cancel", quantity=1, cancel_reason=61,
                                                      requested_by="demo back office"))
        conn.execute(insert(n11_return_actions).values(store=SLUG, claim_id=asked.claim_id, action="approve",
                                                       requested_by="demo back office"))
        conn.execute(insert(n11_order_invoices).values(
            store=SLUG, order_number=asked.invoiced_order,
            invoice_url=f"https://fatura.demo-magaza.com.tr/e-arsiv/{asked.invoiced_order}.pdf"))
    return asked


def last_complete_day() -> pendulum.DateTime:
    """End of yesterday's data interval in Istanbul time: `airflow dags test` runs the interval ending here."""
    return pendulum.now(TIMEZONE).start_of("day")


def report(engine: Engine, interval_end: datetime) -> None:
    with engine.connect() as conn:
        store = conn.execute(select(n11_stores).where(n11_stores.c.store == SLUG)).mappings().one_or_none()
        orders = conn.scalar(select(func.count()).select_from(n11_orders).where(n11_orders.c.store == SLUG))
        lines = conn.scalar(select(func.count()).select_from(n11_order_lines)
                            .where(n11_order_lines.c.store == SLUG))
    if store is None:
        print(f"The demo store was not recorded: see the logs in {HOME}")
        return
    print(f"\nStore {store['name']!r} ({store['store_url']})")
    print(f"  settings: active={store['active']} order_sync={store['order_sync']} "
          f"product_sync={store['product_sync']} update_type={store['update_type']}")
    print(f"  N11 credential check: {store['api_status']} ({store['api_message']}) at {store['api_checked_at']} UTC")
    print(f"  orders in the shop database: {orders} orders, {lines} lines "
          f"(interval ending {interval_end.isoformat()})")


def report_order(engine: Engine) -> None:
    """One order as a shop ships and invoices it, read back from the shop database alone: the one with the most
    packages (a split or a partial cancel, when the day has one)."""
    packages, orders = n11_order_packages, n11_orders
    with engine.connect() as conn:
        number = conn.scalar(select(packages.c.order_number).where(packages.c.store == SLUG)
                             .group_by(packages.c.order_number)
                             .order_by(func.count().desc(), packages.c.order_number).limit(1))
        if number is None:
            return
        order = conn.execute(select(orders).where(orders.c.store == SLUG, orders.c.order_number == number)) \
            .mappings().one()
        found = conn.execute(select(packages).where(packages.c.store == SLUG, packages.c.order_number == number)
                             .order_by(packages.c.package_id)).mappings().all()
        lines = conn.execute(select(n11_order_lines).where(n11_order_lines.c.store == SLUG,
                                                           n11_order_lines.c.order_number == number)
                             .order_by(n11_order_lines.c.order_line_id)).mappings().all()
    print(f"\n  order {number}: {order['status']}, invoice total {order['invoice_total']} TL, sender "
          f"{order['sender']}, agreed delivery {order['agreed_delivery_date']:%Y-%m-%d}")
    print(f"    buyer    {order['customer_name']} <{order['customer_email']}>")
    for kind in ("shipping", "billing"):
        print(f"    {kind:<8} {order[f'{kind}_full_name'] or '(pick-up point)'}, {order[f'{kind}_address']}, "
              f"{order[f'{kind}_neighborhood']}, {order[f'{kind}_district']}/{order[f'{kind}_city']} "
              f"{order[f'{kind}_postal_code']}, gsm {order[f'{kind}_gsm']}")
    invoice = (f"company, tax id {order['tax_id']} ({order['tax_office']})" if order["invoice_type"] == "2"
               else f"person, TC {order['tc_id']}")
    print(f"    invoice  {invoice}")
    for package in found:
        print(f"    package {package['package_id']}: {package['status']}, {package['cargo_provider']} "
              f"{package['cargo_tracking_number']}")
        for line in (line for line in lines if line["package_id"] == package["package_id"]):
            print(f"      line {line['order_line_id']} {line['status']:<10} {line['quantity']} x "
                  f"{line['stock_code']} {line['product_name']} = {line['seller_invoice_amount']} TL")


def report_after_sale(engine: Engine, asked: AfterSale) -> None:
    """The cancel, the return claims and the invoice link as the shop database holds them after the run."""
    with engine.connect() as conn:
        cancel = conn.execute(select(n11_order_actions).where(
            n11_order_actions.c.store == SLUG, n11_order_actions.c.action == "cancel")).mappings().one()
        parts = conn.execute(select(n11_order_lines.c.status, func.sum(n11_order_lines.c.quantity))
                             .where(n11_order_lines.c.store == SLUG,
                                    n11_order_lines.c.order_number == asked.order_number)
                             .group_by(n11_order_lines.c.status).order_by(n11_order_lines.c.status)).all()
        claims = conn.scalar(select(func.count()).select_from(n11_returns).where(n11_returns.c.store == SLUG))
        claim = conn.execute(select(n11_returns).where(n11_returns.c.store == SLUG,
                                                       n11_returns.c.claim_id == asked.claim_id)).mappings().first()
        decision = conn.execute(select(n11_return_actions).where(n11_return_actions.c.store == SLUG)).mappings().one()
        invoice = conn.execute(select(n11_order_invoices).where(n11_order_invoices.c.store == SLUG)).mappings().one()
    print("\n  after the sale:")
    print(f"    cancel of 1 item of line {asked.cancelled_line} (order {asked.order_number}): {answer(cancel)}; the "
          "order's items now: " + ", ".join(f"{quantity} {status}" for status, quantity in parts))
    print(f"    return claims in n11_returns: {claims}")
    loaded = (f"order {claim['order_number']}, line {claim['order_line_id'] or '?'} {claim['stock_code'] or ''}): "
              f"{claim['reason_type']}" if claim is not None else "): not loaded")
    print(f"    claim {asked.claim_id} ({loaded}; the shop's approval: {answer(decision)}")
    print(f"    invoice link of order {asked.invoiced_order}: {answer(invoice)}, {invoice['invoice_url']}")


def answer(row: RowMapping) -> str:
    """A row the shop asked N11 for, as the shop database holds it after the run: N11's answer, or not sent."""
    if row["result"] is None:
        return "not sent (see the orders run's log)"
    return f"{row['result']} ({row['reason'] or ('N11 took it' if row['result'] == 'accepted' else 'no reason')})"


def report_products(engine: Engine, store: StoreConfig, since: datetime) -> None:
    """What the products run pushed per field group and what N11 refused (the shop database keeps both)."""
    with engine.connect() as conn:
        run_id = results.last_run(conn, store.slug, since)
    if run_id is None:
        print("  products: nothing to push (the shop agrees with what N11 last confirmed)")
        return
    for line in steps.run_report(engine, store, run_id):
        print(f"  {line}")


def report_new_products(engine: Engine, store: StoreConfig, since: datetime) -> None:
    """The shop's new products the run listed on N11 (or held back): title, N11 category and N11's answer."""
    source, errors, created = n11_product_source, n11_product_sync_errors, n11_product_creations
    with engine.connect() as conn:
        rows = conn.execute(
            select(source.c.stock_code, source.c.title, n11_categories.c.path, created.c.status, errors.c.reasons)
            .join(n11_categories, n11_categories.c.category_id == source.c.n11_category_id, isouter=True)
            .join(created, (created.c.stock_code == source.c.stock_code) & (created.c.store == store.slug)
                  & (created.c.recorded_at >= since), isouter=True)
            .join(errors, (errors.c.stock_code == source.c.stock_code) & (errors.c.store == store.slug)
                  & (errors.c.endpoint == "product-create") & (errors.c.recorded_at >= since), isouter=True)
            .where(source.c.n11_category_id.is_not(None)).order_by(source.c.stock_code)).all()
    if not rows:
        return
    print("  new products listed on N11 (category, then N11's answer):")
    for row in rows:
        print(f"    {row.stock_code} {row.title!r} in {row.path or '?'}: {_answer(row.status, row.reasons)}")


def _answer(status: str | None, reasons: str | None) -> str:
    said = "; ".join(json.loads(reasons)) if reasons else ""
    if status == "created":
        return "created, waiting for N11's approval"
    if status is None:
        return f"not sent, the shop row breaks a rule: {said}" if said else "not sent"
    return f"N11 refused it: {said}"


def main() -> int:
    HOME.mkdir(exist_ok=True)
    store = next(s for s in load_registry().stores if s.slug == SLUG)
    with N11Sandbox(SandboxState([demo_account()])).start() as sandbox:
        print(f"N11 sandbox at {sandbox.url} (demo account {DEMO_API_KEY!r})")
        env = airflow_env(sandbox.url)
        if airflow(env, "db", "migrate", log=HOME / "demo-db-migrate.log"):
            print(f"airflow db migrate failed: see {HOME / 'demo-db-migrate.log'}")
            return 1
        engine, products = fresh_shop_db(sandbox)
        print(f"Shop database {os.path.relpath(SHOP_DB)}: n11_product_source filled with {products} products")
        interval_end = last_complete_day()
        asked = ask_after_sale(sandbox, engine, interval_end)
        started = utcnow()
        failed = []
        for dag_id, date in ((store.orders_dag_id, interval_end), (store.products_dag_id, pendulum.now("UTC"))):
            log = HOME / f"demo-{dag_id}.log"
            log.unlink(missing_ok=True)
            print(f"Running {dag_id} through Airflow (airflow dags test; log: {os.path.relpath(log)}) ...",
                  flush=True)
            if airflow(env, "dags", "test", dag_id, date.isoformat(), log=log):
                failed.append(dag_id)
        report(engine, interval_end)
        report_order(engine)
        report_after_sale(engine, asked)
        report_products(engine, store, started)
        report_new_products(engine, store, started)
        for dag_id in failed:
            print(f"  {dag_id} FAILED: see {HOME / f'demo-{dag_id}.log'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
