"""The order sync's test data and runs: wire packages, a month of sandbox orders under either reading of N11's
date filter, an N11 client without throttling, full runs (windows, then the follow-up of open orders), table
snapshots and what the shop must hold; the approval and cancel helpers (a busy account, the shop's requests, runs,
what was sent)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert, select

from devtools.sandbox import Account, N11Sandbox, generate_account
from devtools.sandbox.rules import canonical_status, line_amount, package_totals
from include.clock import from_ms, to_ms
from include.orders import approve
from include.orders.approve import approve_orders
from include.orders.cancel import CancelSummary, cancel_lines
from include.orders.run import WindowsSummary, load_orders
from include.settings import StoreConfig
from include.tables import n11_order_actions, n11_order_lines, n11_order_packages, n11_orders
from n11.client import ClientSettings, N11Client
from tests.helpers.common import TEST_KEY, TEST_SECRET

LOADED = datetime(2026, 11, 27, 12)
MODIFIED_MS = 1788220800000  # 2026-09-01 00:00 UTC


def wire_line(line_id=880000001, **fields) -> dict:
    """An order line as the client hands it over (JSON numbers arrive as floats)."""
    return {"orderLineId": line_id, "productId": 540001234, "productName": "Lale Şık Porselen Kahve Kupası",
            "stockCode": "SKU-00007", "quantity": 2, "price": 149.9, "sellerDiscount": 15.0,
            "sellerCouponDiscount": 0.0, "totalSellerDiscountPrice": 15.0, "mallDiscount": 0.0,
            "sellerInvoiceAmount": 284.8, "vatRate": 20, "commissionRate": 12.5,
            "orderItemLineItemStatusName": "Created", **fields}


BILLING = {"fullName": "Yılmaz Bilişim Ltd. Şti.", "address": "Alsancak Mah. Kıbrıs Şehitleri Cad. No:42 D:3",
           "neighborhood": "Alsancak", "district": "Konak", "city": "İzmir", "postalCode": "35220",
           "gsm": "05321234567", "tcId": None, "taxId": "9876543210", "taxHouse": "Konak Vergi Dairesi",
           "invoiceType": 2}
SHIPPING = {"fullName": "Ayşe Yılmaz", "address": "Moda Mah. Bahariye Cad. No:12 D:5", "neighborhood": "Moda",
            "district": "Kadıköy", "city": "İstanbul", "postalCode": "34710", "gsm": "05551234567",
            "tcId": "12345678901", "taxId": None, "taxHouse": None, "invoiceType": 1}


def wire_package(package_id=300000011, order_number="1000000000123", modified_ms=MODIFIED_MS,
                 status="Created", lines=None, **fields) -> dict:
    """A shipment package as the client hands it over: a company invoice for a person, one line by default."""
    return {"id": package_id, "orderNumber": order_number, "shipmentPackageStatus": status,
            "customerId": 70000123, "customerfullName": "Ayşe Yılmaz", "customerEmail": "ayse.yilmaz7@example.com",
            "billingAddress": dict(BILLING), "shippingAddress": dict(SHIPPING), "deliveryAddressType": None,
            "cargoProviderName": "Aras Kargo", "cargoTrackingNumber": "123456789012",
            "cargoTrackingLink": "https://kargotakip.example.com/123456789012", "shipmentMethod": 1,
            "sender": "SELLER", "totalAmount": 299.8, "totalDiscountAmount": 15.0, "lastModifiedDate": modified_ms,
            "agreedDeliveryDate": modified_ms + 2 * 86_400_000,
            "packageHistories": [{"createdDate": modified_ms - 3_600_000, "status": "Created"}],
            "lines": [wire_line()] if lines is None else lines, **fields}


MONTH_END = datetime(2026, 10, 1, tzinfo=UTC)
MONTH_START = MONTH_END - timedelta(days=30)
STORE = StoreConfig(slug="shop1", name="Test Mağaza", start_date=date(2026, 9, 1))
FAST = ClientSettings(requests_per_minute=600_000, max_attempts=2, backoff_seconds=0.01)


def month_account() -> Account:
    """A month of orders (a few a day) in every status, with split packages, warehouse orders, pick-up-point
    orders and stray status spellings."""
    return generate_account(seed=11, api_key=TEST_KEY, api_secret=TEST_SECRET, products=40, days=30,
                            end=MONTH_END, packages_per_day=3)


READINGS = ["modified", "created"]
READING_IDS = ["filters last modification", "filters creation"]


def account_of(sandbox: N11Sandbox) -> Account:
    return sandbox.state.account(TEST_KEY)


def sync(sandbox: N11Sandbox, shop: Engine, start: datetime, end: datetime, store: StoreConfig = STORE,
         now: datetime | None = None) -> WindowsSummary:
    """One run of the orders task over [start, end) (its windows, then the follow-up of open orders) as of
    ``now``, by default five minutes after the end, when a scheduled run starts; the windows' summary."""
    client = N11Client(TEST_KEY, TEST_SECRET, sandbox.url, FAST)
    try:
        return load_orders(shop, client, store, start, end, now=now or end + timedelta(minutes=5)).windows
    finally:
        client.close()


def sync_every(sandbox: N11Sandbox, shop: Engine, step: timedelta, store: StoreConfig,
               end: datetime = MONTH_END) -> None:
    """Consecutive runs of length ``step`` from the month's start to ``end``, as a schedule or a backfill makes
    them."""
    start = MONTH_START
    while start < end:
        sync(sandbox, shop, start, start + step, store)
        start += step


def snapshot(shop: Engine, store: str = STORE.slug, *, loaded_at: bool = False) -> dict[str, list[dict]]:
    """The three order tables of a store, keyed and sorted; without ``store`` and the follow-up's ``followed_at``,
    and without ``loaded_at`` unless asked."""
    left_out = {"store", "followed_at"} | (set() if loaded_at else {"loaded_at"})
    tables = {}
    with shop.connect() as conn:
        for table in (n11_orders, n11_order_packages, n11_order_lines):
            columns = [c for c in table.columns if c.name not in left_out]
            query = select(*columns).where(table.c.store == store).order_by(*table.primary_key.columns)
            tables[table.name] = [dict(row) for row in conn.execute(query).mappings()]
    return tables


ORDER_FIELDS = ("status", "customer_name", "sender", "shipping_address", "billing_gsm", "last_modified",
                "total_amount", "invoice_total", "total_discount_amount")
PACKAGE_FIELDS = ("order_number", "status", "sender", "last_modified")
LINE_FIELDS = ("order_number", "package_id", "status", "stock_code", "quantity", "price", "seller_invoice_amount")
ACTIVE = ("Created", "Picking", "Shipped", "Delivered")
OPEN = ACTIVE[:3]


def key_of(package: dict) -> str:
    """The shop's key of a package: its id, or ``<orderNumber>-<smallest orderLineId>`` when N11 sends none."""
    if package["id"] is not None:
        return str(package["id"])
    return f"{package['orderNumber']}-{min(int(line['orderLineId']) for line in package['lines'])}"


def served_ms(sandbox: N11Sandbox, package: dict) -> int:
    """The moment by which the sandbox's date filter serves a package: its last modification or its creation."""
    return package["lastModifiedDate" if sandbox.state.order_date_filter == "modified" else "_created"]


def expected(sandbox: N11Sandbox, start: datetime = MONTH_START, end: datetime = MONTH_END, *,
             followed: bool = True) -> dict[str, dict]:
    """What the shop must hold after loading the packages the sandbox's date filter serves for [start, end) (last
    modified or created in it, by the sandbox's reading) and, unless ``followed`` is false, the follow-up of the
    open orders they leave, worked out from what the sandbox knows and N11 does not send: which packages are split
    parents.

    The follow-up looks an open order up whole when one of its packages is answered Unpacked (a split parent
    whose children the range does not reach) or has no id, so such an order comes in its newest state.

    A line is held by the package of its order that is not a split parent and lists it (parents hold only the
    old lines of a quantity split, as Unpacked or Cancelled); a live Unpacked package (a child under the older
    reading, or a parent whose children the range does not reach) counts as Picking. The order is the least
    advanced of its live packages, else UnSupplied when all are, else Cancelled; its buyer and addresses are its
    newest package's; its amounts those of its live lines.
    """
    account = account_of(sandbox)
    with account.lock:
        packages = [copy.deepcopy(p) for p in account.packages if to_ms(start) <= served_ms(sandbox, p) < to_ms(end)]
        if followed:
            tables = _tables(packages)
            whole = {p["orderNumber"] for p in packages if tables["n11_orders"][p["orderNumber"]]["status"] in OPEN
                     and (p["id"] is None or canonical_status(p["shipmentPackageStatus"]) == "Unpacked")}
            packages += [copy.deepcopy(p) for p in account.packages
                         if p["orderNumber"] in whole and not to_ms(start) <= served_ms(sandbox, p) < to_ms(end)]
    return _tables(packages)


def _tables(packages: list[dict]) -> dict[str, dict]:
    """The three tables of ``expected`` for these packages."""
    orders: dict[str, dict] = {}
    stored_packages: dict[str, dict] = {}
    lines: dict[str, dict] = {}
    for number in sorted({p["orderNumber"] for p in packages}):
        found = sorted((p for p in packages if p["orderNumber"] == number), key=lambda p: p["lastModifiedDate"])
        order_lines = {}
        children_seen = any(not p.get("_parent") for p in found)  # else the range holds only the parent
        for package in sorted(found, key=lambda p: not p.get("_parent")):  # children last: they hold the lines
            status = canonical_status(package["shipmentPackageStatus"])
            status = "Picking" if status == "Unpacked" and not (package.get("_parent") and children_seen) else status
            stored_packages[key_of(package)] = {"order_number": number, "status": canonical_status(
                package["shipmentPackageStatus"]), "sender": package["_sender"],
                "last_modified": from_ms(package["lastModifiedDate"])}
            for line in package["lines"]:
                order_lines[str(line["orderLineId"])] = {
                    "order_number": number, "package_id": key_of(package), "status": status,
                    "stock_code": line["stockCode"], "quantity": line["quantity"], "price": line["price"],
                    "seller_invoice_amount": line["sellerInvoiceAmount"]}
        lines |= order_lines
        statuses = [line["status"] for line in order_lines.values() if line["status"] != "Unpacked"]
        active = [status for status in statuses if status in ACTIVE]
        status = (min(active, key=ACTIVE.index) if active
                  else "UnSupplied" if all(s == "UnSupplied" for s in statuses) else "Cancelled")
        live = [line for line in order_lines.values()
                if line["status"] not in ("Cancelled", "UnSupplied", "Unpacked")]
        total = sum((line["price"] * line["quantity"] for line in live), Decimal("0.00"))
        invoiced = sum((line["seller_invoice_amount"] for line in live), Decimal("0.00"))
        newest = found[-1]
        orders[number] = {
            "status": status, "customer_name": newest["customerfullName"] or newest["billingAddress"]["fullName"],
            "sender": newest["_sender"], "shipping_address": newest["shippingAddress"]["address"],
            "billing_gsm": newest["billingAddress"]["gsm"], "last_modified": from_ms(newest["lastModifiedDate"]),
            "total_amount": total, "invoice_total": invoiced, "total_discount_amount": total - invoiced}
    return {"n11_orders": orders, "n11_order_packages": stored_packages, "n11_order_lines": lines}


def stored(shop: Engine, store: str = STORE.slug) -> dict[str, dict]:
    """The shop tables in the shape of ``expected``."""
    tables = snapshot(shop, store)
    return {
        "n11_orders": {row["order_number"]: {k: row[k] for k in ORDER_FIELDS} for row in tables["n11_orders"]},
        "n11_order_packages": {row["package_id"]: {k: row[k] for k in PACKAGE_FIELDS}
                               for row in tables["n11_order_packages"]},
        "n11_order_lines": {row["order_line_id"]: {k: row[k] for k in LINE_FIELDS}
                            for row in tables["n11_order_lines"]},
    }


def add_package(account: Account, order_number: str, modified_ms: int, *, lines: int = 1, **fields) -> dict:
    """A new Delivered package of an order, modified at ``modified_ms``, with at least ``lines`` lines: a copy
    of a generated one with fresh ids."""
    with account.lock:
        template = copy.deepcopy(next(p for p in account.packages if len(p["lines"]) >= lines
                                      and canonical_status(p["shipmentPackageStatus"]) != "Unpacked"))
        next_id = max(int(p["id"]) for p in account.packages if p["id"] is not None) + 1
        next_line = max(int(line["orderLineId"]) for p in account.packages for line in p["lines"]) + 1
    for offset, line in enumerate(template["lines"]):
        line.update(orderLineId=next_line + offset, orderItemLineItemStatusName="Delivered")
    template.update({"id": next_id, "orderNumber": order_number, "lastModifiedDate": modified_ms,
                     "shipmentPackageStatus": "Delivered", "_created": modified_ms, "_sender": "SELLER",
                     "packageHistories": [{"createdDate": modified_ms, "status": "Created"}], **fields})
    account.add_package(template)
    return template


def at_once(work: Callable[[], object], times: int = 3) -> list[Exception]:
    """Run ``work`` in ``times`` threads at once, as overlapping runs do; the errors they raised."""
    errors: list[Exception] = []

    def one() -> None:
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


# --- approval ----------------------------------------------------------------------------------------------

UPDATE = "/rest/order/v1/update"


def busy_account() -> Account:
    """Two days of orders, many still Created, whose packages carry their ``sender`` on the wire."""
    account = generate_account(seed=5, api_key=TEST_KEY, api_secret=TEST_SECRET, products=40, days=2,
                               packages_per_day=30)
    for package in account.packages:
        package["sender"] = package["_sender"]
    return account


def run(n11: N11Sandbox, shop: Engine, store=STORE) -> approve.ApprovalSummary:
    """One approval run of the store."""
    with closing(N11Client(TEST_KEY, TEST_SECRET, n11.url, FAST)) as client:
        return approve_orders(shop, client, store)


def sent_lines(n11: N11Sandbox) -> list[str]:
    return [str(line["lineId"]) for call in n11.calls("PUT", UPDATE) for line in call.body["lines"]]


def request(shop: Engine, *line_ids: str, action: str = "approve", store: str = STORE.slug, **fields) -> None:
    """What the shop does: insert rows into n11_order_actions (requested_at left to the DAG), with ``fields`` such
    as a cancel's ``quantity`` and ``cancel_reason``."""
    with shop.begin() as conn:
        conn.execute(insert(n11_order_actions), [{"store": store, "order_line_id": line, "action": action,
                                                  "requested_by": "back office", **fields} for line in line_ids])


def created_seller_lines(shop: Engine) -> list[str]:
    lines, orders = n11_order_lines, n11_orders
    of_order = (orders.c.store == lines.c.store) & (orders.c.order_number == lines.c.order_number)
    with shop.connect() as conn:
        return sorted(conn.execute(select(lines.c.order_line_id).join(orders, of_order).where(
            lines.c.store == STORE.slug, lines.c.status == "Created", orders.c.sender == "SELLER")).scalars())


# --- cancels ------------------------------------------------------------------------------------------------

SPLIT = "/rest/delivery/v1/splitPackageByQuantity"


def new_order(n11: N11Sandbox, number: str, *items: int, status: str = "Picking", sender: str = "SELLER") -> dict:
    """A new order on N11: one package in ``status``, modified a minute ago, whose lines hold these items."""
    modified = int(datetime.now(UTC).timestamp() * 1000) - 60_000
    package = add_package(account_of(n11), number, modified, lines=len(items), shipmentPackageStatus=status,
                          _sender=sender, sender=sender)
    package["lines"] = package["lines"][:len(items)]
    for line, quantity in zip(package["lines"], items, strict=True):
        line.update(quantity=quantity, orderItemLineItemStatusName=status)
        line["sellerInvoiceAmount"] = line_amount(line)
    package.update(package_totals(package["lines"]))
    return package


def shop_order(shop: Engine, number: str) -> dict:
    """An order as the shop holds it: its status and totals, packages (status, tracking) and lines (package,
    status, items)."""
    with shop.connect() as conn:
        order = conn.execute(select(n11_orders.c.status, n11_orders.c.total_amount, n11_orders.c.invoice_total)
                             .where(n11_orders.c.store == STORE.slug, n11_orders.c.order_number == number)).one()
        packages = conn.execute(select(n11_order_packages.c.package_id, n11_order_packages.c.status,
                                       n11_order_packages.c.cargo_tracking_number)
                                .where(n11_order_packages.c.store == STORE.slug,
                                       n11_order_packages.c.order_number == number)).all()
        lines = conn.execute(select(n11_order_lines.c.order_line_id, n11_order_lines.c.package_id,
                                    n11_order_lines.c.status, n11_order_lines.c.quantity)
                             .where(n11_order_lines.c.store == STORE.slug,
                                    n11_order_lines.c.order_number == number)).all()
    return {"order": tuple(order), "packages": {p[0]: tuple(p[1:]) for p in packages},
            "lines": {line[0]: tuple(line[1:]) for line in lines}}


def n11_order(n11: N11Sandbox, number: str) -> dict:
    """An order that still ships something (Picking) as N11 holds it, in ``shop_order``'s shape: a split parent's
    lines Unpacked, the others under the package that lists them, the totals over the live lines."""
    packages = account_of(n11).package(number)
    lines, live = {}, []
    for package in sorted(packages, key=lambda p: not p.get("_parent")):  # children last: they hold the lines
        status = canonical_status(package["shipmentPackageStatus"])
        for line in package["lines"]:
            lines[str(line["orderLineId"])] = (str(package["id"]), status, line["quantity"])
            if not package.get("_parent") and status not in ("Cancelled", "UnSupplied"):
                live.append(line)
    total = sum((line["price"] * line["quantity"] for line in live), 0)
    invoiced = sum((line["sellerInvoiceAmount"] for line in live), 0)
    return {"order": ("Picking", total, invoiced),
            "packages": {str(p["id"]): (canonical_status(p["shipmentPackageStatus"]), p["cargoTrackingNumber"])
                         for p in packages},
            "lines": lines}


def cancel_run(n11: N11Sandbox, shop: Engine, store=STORE, secret: str = TEST_SECRET) -> CancelSummary:
    """One cancel run of the store."""
    with closing(N11Client(TEST_KEY, secret, n11.url, FAST)) as client:
        return cancel_lines(shop, client, store)


def split_bodies(n11: N11Sandbox) -> list[dict]:
    """What the cancels sent to N11, in order."""
    return [call.body for call in n11.calls("POST", SPLIT)]
