"""The shop's invoice links to N11 against the sandbox over real HTTP, on SQLite, PostgreSQL and MariaDB: each URL
sent once and again only when the shop changes it, N11's answer recorded, links N11 would not take refused before
sending with their reason, and a lost answer never sent blind."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from devtools.sandbox import FaultConfig, N11Sandbox
from include.orders.invoices import send_invoice_links
from include.tables import n11_order_invoices, n11_orders
from n11.errors import N11AuthError
from n11.soap import N11SoapClient
from tests.helpers.common import TEST_KEY
from tests.helpers.orders import FAST, MONTH_END, MONTH_START, STORE, sync
from tests.helpers.returns import give_link, operations, rows, send_links
from tests.include.orders.conftest import account_of

URL = "https://e-arsiv.example.com/fatura/ABC2026000000123.pdf?imza=9f3a&t=1"


@pytest.fixture
def loaded(month: N11Sandbox, shop: Engine) -> Engine:
    """The shop after the month's orders were loaded; the sandbox's log starts after."""
    sync(month, shop, MONTH_START, MONTH_END)
    month.clear_log()
    return shop


def orders_held(shop: Engine) -> list[str]:
    with shop.connect() as conn:
        return sorted(conn.execute(n11_orders.select().with_only_columns(n11_orders.c.order_number)).scalars())


def links(shop: Engine, store: str = STORE.slug) -> dict:
    return rows(shop, n11_order_invoices, store)


def test_a_link_is_sent_once_and_again_only_when_the_shop_changes_it(month, loaded):
    order = orders_held(loaded)[0]
    give_link(loaded, order, URL)
    first = send_links(month, loaded)
    assert (first.sent, first.accepted, send_links(month, loaded).sent) == (1, 1, 0)
    assert account_of(month).invoice_links[order]["url"] == URL  # "&" arrived as "&"
    row = links(loaded)[order]
    assert (row["sent_url"], row["result"], row["reason"]) == (URL, "accepted", "N11 answered success")

    changed = URL.replace("123", "124")
    with loaded.begin() as conn:
        conn.execute(update(n11_order_invoices).values(invoice_url=changed))
    assert send_links(month, loaded).sent == 1 and send_links(month, loaded).sent == 0
    assert [call["url"] for call in operations(month, "SaveLinkSellerInvoice")] == [URL, changed]
    assert account_of(month).invoice_links[order]["url"] == changed


def test_the_invoice_number_and_date_go_with_the_link(month, loaded):
    order = orders_held(loaded)[1]
    give_link(loaded, order, URL, invoice_number="ABC2026000000123", invoice_date=datetime(2026, 10, 2, 9, 30))
    send_links(month, loaded)
    (call,) = operations(month, "SaveLinkSellerInvoice")
    assert call["invoiceNumber"] == "ABC2026000000123"
    assert call["invoiceDateTime"] == str(int(datetime(2026, 10, 2, 9, 30, tzinfo=UTC).timestamp() * 1000))


@pytest.mark.parametrize("url, reason", [
    ("http://e-arsiv.example.com/f.pdf", "the URL is not an https:// address; N11 takes only https links"),
    ("https://e-arsiv.example.com/" + "f" * 2030, "the URL has 2058 characters; N11 takes at most 2048"),
    ("https://e-arsiv.example.com/f 1.pdf", "the URL contains spaces or control characters"),
], ids=["http", "too long", "space"])
def test_a_link_n11_would_not_take_is_refused_before_sending_until_the_shop_fixes_it(month, loaded, url, reason):
    order = orders_held(loaded)[0]
    give_link(loaded, order, url)
    assert send_links(month, loaded).refused == 1 and send_links(month, loaded).refused == 0
    row = links(loaded)[order]
    assert (row["result"], row["reason"], row["sent_url"], row["sent_at"]) == ("refused", reason, url, None)
    assert operations(month, "SaveLinkSellerInvoice") == []

    with loaded.begin() as conn:
        conn.execute(update(n11_order_invoices).values(invoice_url=URL))
    assert send_links(month, loaded).accepted == 1


def test_a_link_for_an_order_the_shop_does_not_hold_for_this_store_is_refused(month, loaded):
    give_link(loaded, "1234567890123", URL)
    give_link(loaded, orders_held(loaded)[0], URL, store="other")
    send_links(month, loaded)
    send_links(month, loaded, dataclasses.replace(STORE, slug="other"))
    assert links(loaded)["1234567890123"]["reason"] == "no order 1234567890123 of store 'shop1' in n11_orders"
    assert links(loaded, "other")[orders_held(loaded)[0]]["result"] == "refused"
    assert operations(month, "SaveLinkSellerInvoice") == []


def test_n11_refusing_a_link_records_its_reason_and_does_not_send_it_again(month, loaded):
    order = orders_held(loaded)[0]
    give_link(loaded, order, URL)
    with account_of(month).lock:
        for package in account_of(month).packages:
            if package["orderNumber"] == order:
                package["orderNumber"] = "0" + order  # N11 no longer knows the order
    assert send_links(month, loaded).failed == 1 and send_links(month, loaded).sent == 0
    assert links(loaded)[order]["reason"] == f"sellerInvoice.order.notFound: Sipariş bulunamadı: {order}"


def test_a_lost_answer_is_not_sent_again_until_the_operator_clears_sent_url(month, loaded):
    order = orders_held(loaded)[0]
    give_link(loaded, order, URL)
    month.faults = FaultConfig(rate=1.0, kinds=("504",), paths=("/ws/",))
    assert send_links(month, loaded).unknown == 1
    month.faults = FaultConfig()
    assert send_links(month, loaded).sent == 0
    assert "clear sent_url to send the link again" in links(loaded)[order]["reason"]
    with loaded.begin() as conn:
        conn.execute(update(n11_order_invoices).values(sent_url=None))
    assert send_links(month, loaded).accepted == 1
    assert len(operations(month, "SaveLinkSellerInvoice")) == 2


def test_refused_credentials_leave_the_link_waiting(month, loaded):
    order = orders_held(loaded)[0]
    give_link(loaded, order, URL)
    with pytest.raises(N11AuthError):
        send_invoice_links(loaded, N11SoapClient.connect(TEST_KEY, "wrong", month.url, FAST), STORE)
    assert (links(loaded)[order]["sent_url"], links(loaded)[order]["sent_at"]) == (None, None)
    assert send_links(month, loaded).accepted == 1
