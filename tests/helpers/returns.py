"""The returns' and invoice links' test tools: SOAP clients on a sandbox, a month of orders with their return claims
loaded into the shop, the shop's decisions and links, what the sandbox was sent, and the buyers' data to look for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Engine, insert, select

from devtools.sandbox import Account, N11Sandbox
from include.clock import ISTANBUL, to_ms
from include.orders.invoices import InvoiceLinksSummary, send_invoice_links
from include.returns.actions import ReturnActionsSummary, send_return_actions
from include.returns.run import ReturnsSummary, load_returns
from include.settings import StoreConfig
from include.tables import metadata, n11_order_invoices, n11_return_actions, n11_returns
from n11.soap import INVOICE_SERVICE, RETURN_SERVICE, N11SoapClient
from n11.transport import ClientSettings
from tests.helpers.common import TEST_KEY, TEST_SECRET
from tests.helpers.orders import FAST, MONTH_END, MONTH_START, STORE, sync

T = TypeVar("T")
PERSONAL_FIELDS = ("buyerName", "buyerEmail", "buyerPhone")
# what a rerun may change: when the claim was read and written
VOLATILE = ("last_seen", "loaded_at")


def soap_for(sandbox: N11Sandbox, secret: str = TEST_SECRET, settings: ClientSettings = FAST) -> N11SoapClient:
    return N11SoapClient.connect(TEST_KEY, secret, sandbox.url, settings)


def _with_soap(sandbox: N11Sandbox, work: Callable[[N11SoapClient], T]) -> T:
    soap = soap_for(sandbox)
    try:
        return work(soap)
    finally:
        soap.close()


def load(sandbox: N11Sandbox, shop: Engine, start: datetime = MONTH_START, end: datetime = MONTH_END,
         store: StoreConfig = STORE, now: datetime | None = None) -> ReturnsSummary:
    """One returns run over [start, end) as of ``now`` (default: five minutes after the end)."""
    return _with_soap(sandbox, lambda soap: load_returns(shop, soap, store, start, end,
                                                         now=now or end + timedelta(minutes=5)))


def load_month(sandbox: N11Sandbox, shop: Engine, store: StoreConfig = STORE) -> ReturnsSummary:
    """The month's orders, then its return claims, in one run each."""
    sync(sandbox, shop, MONTH_START, MONTH_END, store)
    return load(sandbox, shop, store=store)


def decide(sandbox: N11Sandbox, shop: Engine, store: StoreConfig = STORE) -> ReturnActionsSummary:
    """One run sending the shop's return decisions."""
    return _with_soap(sandbox, lambda soap: send_return_actions(shop, soap, store))


def send_links(sandbox: N11Sandbox, shop: Engine, store: StoreConfig = STORE) -> InvoiceLinksSummary:
    """One run sending the shop's invoice links."""
    return _with_soap(sandbox, lambda soap: send_invoice_links(shop, soap, store))


def ask(shop: Engine, claim_id: str, action: str, store: str = STORE.slug, **fields) -> None:
    """What the shop does: a row in n11_return_actions (requested_at left to the DAG unless given)."""
    with shop.begin() as conn:
        conn.execute(insert(n11_return_actions), {"store": store, "claim_id": claim_id, "action": action,
                                                  "requested_by": "back office", **fields})


def give_link(shop: Engine, order_number: str, url: str, store: str = STORE.slug, **fields) -> None:
    """What the shop does: an invoice link in n11_order_invoices."""
    with shop.begin() as conn:
        conn.execute(insert(n11_order_invoices), {"store": store, "order_number": order_number,
                                                  "invoice_url": url, **fields})


def rows(shop: Engine, table=n11_returns, store: str = STORE.slug, leave_out: tuple[str, ...] = ()) -> dict:
    """A store's rows of a table by their key after the store, without ``leave_out``."""
    key = [c for c in table.primary_key.columns if c.name != "store"]
    columns = [c for c in table.columns if c.name not in ("store", *leave_out)]
    with shop.connect() as conn:
        found = conn.execute(select(*columns).where(table.c.store == store)).mappings().all()
    return {tuple(row[c.name] for c in key) if len(key) > 1 else row[key[0].name]: dict(row) for row in found}


def claims_of(account: Account, *statuses: str) -> list[dict]:
    """The account's claims (in these statuses), oldest request first."""
    with account.lock:
        found = [dict(claim) for claim in account.claims.values() if not statuses or claim["status"] in statuses]
    return sorted(found, key=lambda claim: (claim["requestDate"], int(claim["claimReturnId"])))


def operations(sandbox: N11Sandbox, name: str) -> list[dict]:
    """The logged SOAP requests of one operation (the secret is never logged)."""
    path = INVOICE_SERVICE if name == "SaveLinkSellerInvoice" else RETURN_SERVICE
    return [call.body for call in sandbox.calls("POST", path) if call.body and call.body["operation"] == name]


def personal_values(account: Account) -> set[str]:
    """Every buyer's name, e-mail and phone in the account's claims."""
    with account.lock:
        return {str(claim[field]) for claim in account.claims.values() for field in PERSONAL_FIELDS
                if claim.get(field)}


def after_sale_waiting(sandbox: N11Sandbox, shop: Engine, modified: datetime) -> dict:
    """An order N11 shows modified at ``modified`` with a buyer's claim requested that day, and the shop's approval
    of the claim and invoice link for the order waiting: an orders run over that moment sends both SOAP writes.
    Returns the claim."""
    from devtools.sandbox.claims import file_claim
    from devtools.sandbox.rules import DEAD, canonical_status

    account = sandbox.state.account(TEST_KEY)
    with account.lock:
        order = next(p["orderNumber"] for p in account.packages if not p.get("_parent") and p["lines"]
                     and canonical_status(p["shipmentPackageStatus"]) not in DEAD)
    account.set_package_status(order, "Delivered", to_ms(modified))
    claim = file_claim(account, order, modified.astimezone(ISTANBUL).date())
    metadata.create_all(shop)
    ask(shop, claim["claimReturnId"], "approve")
    give_link(shop, order, "https://fatura.example.com/e-arsiv/2026/a.pdf")
    return claim
