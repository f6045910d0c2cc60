"""The N11 client against the sandbox over real HTTP: auth, paging, retries, rate limit, typed errors."""

from __future__ import annotations

import json
import socket
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus, urlencode

import pytest

from devtools.sandbox import FaultConfig, N11Sandbox
from n11.client import (
    PRICE_STOCK_UPDATE,
    PRODUCT_QUERY,
    SHIPMENT_PACKAGES,
    SPLIT_BY_QUANTITY,
    CancelledItem,
    ClientSettings,
    N11Client,
)
from n11.errors import (
    SCRUBBED,
    WITHHELD,
    N11AuthError,
    N11BadResponse,
    N11Error,
    N11OrderServiceClosed,
    N11RequestRefused,
    N11Unavailable,
)
from tests.conftest import TEST_KEY, TEST_SECRET, make_state
from tests.helpers.client import FAST, client_for
from tests.helpers.hostile import Answer, HostileServer, Received, json_answer


def all_rows(pages) -> list[dict]:
    return [row for page in pages for row in page]


# --- credentials ------------------------------------------------------------------------------------------

def test_good_credentials_give_the_product_count(sandbox):
    assert client_for(sandbox).check_credentials() == len(sandbox.state.account(TEST_KEY).products)
    client_for(sandbox).check_order_service()


def test_wrong_secret_on_ms_is_an_auth_error_without_retries(sandbox):
    with pytest.raises(N11AuthError) as err:
        client_for(sandbox, secret="wrong-secret").check_credentials()
    assert err.value.status == 401
    assert "SellerApiUserUnauthorizedException" in str(err.value)
    assert len(sandbox.calls("GET", PRODUCT_QUERY)) == 1


def test_wrong_secret_on_rest_is_an_auth_error_in_both_dialects():
    for style, status in (("403", 403), ("400", 400)):
        with N11Sandbox(make_state(rest_auth_style=style)).start() as sandbox:
            with pytest.raises(N11AuthError) as err:
                all_rows(client_for(sandbox, secret="wrong-secret").iter_shipment_packages(status="Created"))
            assert err.value.status == status
            assert len(sandbox.calls("GET", SHIPMENT_PACKAGES)) == 1


def test_a_closed_order_service_is_told_apart_from_wrong_credentials(sandbox):
    sandbox.state.account(TEST_KEY).order_service_open = False
    client = client_for(sandbox)
    assert client.check_credentials() > 0
    with pytest.raises(N11OrderServiceClosed, match="open the order service"):
        client.check_order_service()


def test_a_missing_secret_says_the_configuration_is_incomplete(sandbox):
    with pytest.raises(N11AuthError, match="credential header is missing") as err:
        client_for(sandbox, secret="").check_credentials()
    assert err.value.status == 500
    assert sandbox.requests[-1].has_secret is False


def test_no_error_message_or_repr_contains_the_secret(sandbox):
    client = client_for(sandbox)
    assert TEST_SECRET not in repr(client)
    sandbox.faults = FaultConfig(rate=1.0, kinds=("500",))
    with pytest.raises(N11Unavailable) as err:
        client.check_credentials()
    assert TEST_SECRET not in str(err.value) and TEST_SECRET not in repr(err.value)


# --- paging -----------------------------------------------------------------------------------------------

def test_product_pages_are_read_to_the_end(sandbox):
    products = sandbox.state.account(TEST_KEY).products
    rows = all_rows(client_for(sandbox).iter_products(page_size=7))
    assert sorted(r["stockCode"] for r in rows) == sorted(products)
    assert len(sandbox.calls("GET", PRODUCT_QUERY)) == -(-len(products) // 7)


def test_shipment_pages_are_read_to_the_end(sandbox):
    account = sandbox.state.account(TEST_KEY)
    created = [p for p in account.packages if p["shipmentPackageStatus"].strip().lower() == "created"]
    rows = all_rows(client_for(sandbox).iter_shipment_packages(status="Created", page_size=2))
    assert sorted(r["id"] for r in rows) == sorted(p["id"] for p in created)
    assert len(sandbox.calls("GET", SHIPMENT_PACKAGES)) == max(1, -(-len(created) // 2))


def test_an_orders_packages_come_by_its_number_whatever_their_dates_and_sender(sandbox):
    account = sandbox.state.account(TEST_KEY)
    package = next(p for p in account.packages if p["_sender"] == "SELLER")
    found = client_for(sandbox).order_packages(package["orderNumber"])
    assert [p["id"] for p in found] == [p["id"] for p in account.packages if p["orderNumber"] == package["orderNumber"]]
    (call,) = sandbox.calls("GET", SHIPMENT_PACKAGES)
    assert call.query["orderNumber"] == package["orderNumber"] and call.query["sender"] == "ALL"
    assert not {"startDate", "endDate", "orderByField"} & set(call.query)
    assert client_for(sandbox).order_packages(package["orderNumber"], "N11") == []


def test_a_bad_parameter_is_refused_at_once(sandbox):
    with pytest.raises(N11RequestRefused, match="ConstraintViolationException"):
        all_rows(client_for(sandbox).iter_products(page_size=300))
    assert len(sandbox.calls("GET", PRODUCT_QUERY)) == 1


# --- retries and rate -------------------------------------------------------------------------------------

def test_429_and_500_answers_are_retried_until_the_answer_is_complete(sandbox):
    expected = all_rows(client_for(sandbox).iter_products(page_size=10))
    sandbox.clear_log()
    sandbox.faults = FaultConfig(rate=0.5, kinds=("429", "500", "503"), seed=1)
    rows = all_rows(client_for(sandbox, max_attempts=10).iter_products(page_size=10))
    assert rows == expected
    faults = {r.fault for r in sandbox.requests if r.fault}
    assert {"429", "500"} <= faults


def test_resets_and_timeouts_of_reads_are_retried(sandbox):
    sandbox.faults = FaultConfig(rate=0.5, kinds=("reset", "slow"), slow_seconds=1.5, seed=1)
    client = client_for(sandbox, max_attempts=10)
    for _ in range(4):
        assert client.check_credentials() > 0
    assert {"reset", "slow"} <= {r.fault for r in sandbox.requests}


def test_retries_are_bounded_and_end_in_a_clear_error(sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("503",))
    with pytest.raises(N11Unavailable, match="kept failing after retries: HTTP 503"):
        client_for(sandbox, max_attempts=3).check_credentials()
    assert len(sandbox.calls("GET", PRODUCT_QUERY)) == 3


def test_a_truncated_answer_ends_as_a_bad_response(sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("truncated",))
    with pytest.raises(N11BadResponse, match="not JSON"):
        client_for(sandbox, max_attempts=2).check_credentials()


def test_the_rate_limiter_holds_its_rate(sandbox):
    client = client_for(sandbox, requests_per_minute=1200)  # one request every 50 ms
    start = time.monotonic()
    for _ in range(21):
        client.check_credentials()
    assert time.monotonic() - start >= 20 * 0.05


class _RetryAfterOnce(BaseHTTPRequestHandler):
    """Answers 429 with Retry-After: 1 first, then 200: the smallest server that shows the header is obeyed."""

    calls = 0

    def do_GET(self):
        type(self).calls += 1
        first = type(self).calls == 1
        body = b'{"totalElements": 3}'
        self.send_response(429 if first else 200)
        if first:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_retry_after_is_honoured():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RetryAfterOnce)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = N11Client(TEST_KEY, TEST_SECRET, f"http://127.0.0.1:{server.server_port}",
                           ClientSettings(backoff_seconds=0.01, backoff_max_seconds=5))
        start = time.monotonic()
        assert client.check_credentials() == 3
        assert time.monotonic() - start >= 1.0
    finally:
        server.shutdown()


# --- writes -----------------------------------------------------------------------------------------------

def test_prices_leave_with_exactly_two_decimals_and_the_task_is_polled_to_its_result(sandbox):
    client = client_for(sandbox)
    code = next(c for c, p in sandbox.state.account(TEST_KEY).products.items() if p["status"] == "Active")
    product = sandbox.state.account(TEST_KEY).products[code]
    list_price = Decimal(str(product["listPrice"])).quantize(Decimal("0.01"))
    receipt = client.update_price_stock([{"stockCode": code, "listPrice": list_price, "salePrice": list_price,
                                          "quantity": 5}])
    assert receipt["status"] == "IN_QUEUE"
    first = client.get_task_details(receipt["id"])
    assert first["status"] == "IN_QUEUE" and first["items"] == []
    done = client.get_task_details(receipt["id"])
    assert done["status"] == "PROCESSED"
    assert [(i["itemCode"], i["status"]) for i in done["items"]] == [(code, "SUCCESS")]


def test_a_refused_payload_comes_back_as_a_reject_receipt(sandbox):
    receipt = client_for(sandbox).update_price_stock([{"stockCode": "SKU-00001", "listPrice": Decimal("10.005"),
                                                       "salePrice": Decimal("10.00")}])
    assert receipt["status"] == "REJECT" and receipt["reasons"]


def test_task_results_are_read_across_pages(sandbox):
    client = client_for(sandbox)
    codes = sorted(sandbox.state.account(TEST_KEY).products)[:25]
    receipt = client.update_price_stock([{"stockCode": c, "quantity": 3} for c in codes])
    client.get_task_details(receipt["id"])
    details = client.get_task_details(receipt["id"], page_size=10)
    assert sorted(i["itemCode"] for i in details["items"]) == codes


def test_a_write_is_not_sent_twice_when_its_outcome_is_unknown(sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("500",), paths=("/ms/product/tasks",))
    with pytest.raises(N11Unavailable, match="not sent again blindly"):
        client_for(sandbox).update_price_stock([{"stockCode": "SKU-00001", "quantity": 1}])
    assert len(sandbox.calls("POST", "/ms/product/tasks/price-stock-update")) == 1


def test_a_throttled_write_is_retried(sandbox):
    sandbox.faults = FaultConfig(rate=0.5, kinds=("429",), paths=("/ms/product/tasks",), seed=2)
    receipt = client_for(sandbox, max_attempts=10).update_price_stock([{"stockCode": "SKU-00001", "quantity": 1}])
    assert receipt["status"] == "IN_QUEUE"
    calls = sandbox.calls("POST", "/ms/product/tasks/price-stock-update")
    assert [c.status for c in calls].count(200) == 1


def test_a_write_takes_one_to_a_thousand_skus(sandbox):
    with pytest.raises(ValueError, match="1 to 1000 SKUs"):
        client_for(sandbox).update_price_stock([{"stockCode": f"S{i}", "quantity": 1} for i in range(1001)])


# --- the secret goes only to the configured host ----------------------------------------------------------

def _recorder() -> HostileServer:
    """Another host: answers like N11 would, and records whatever reaches it."""
    return HostileServer(lambda request: json_answer({"content": [], "totalElements": 0, "totalPages": 0,
                                                      "last": True, "id": 1, "status": "IN_QUEUE"}))


def _redirecting(status: int, elsewhere: HostileServer) -> HostileServer:
    # "localhost" is another host name than the client's 127.0.0.1, as requests sees hosts
    location = elsewhere.url.replace("127.0.0.1", "localhost")
    return HostileServer(lambda request: Answer(status, b"", {"Location": location + request.path}))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed_and_the_secret_never_reaches_the_other_host(status):
    with _recorder() as elsewhere, _redirecting(status, elsewhere) as n11:
        with pytest.raises(N11BadResponse) as err:
            N11Client(TEST_KEY, TEST_SECRET, n11.url, FAST).check_credentials()
        assert elsewhere.received == []
        assert len(n11.received) == 1  # a redirect is not retried
    message = str(err.value)
    assert f"HTTP {status}" in message and PRODUCT_QUERY in message and "localhost" in message
    assert "Check the connection's API base URL" in message


def test_a_307_on_a_write_sends_neither_the_body_nor_the_secret_again():
    with _recorder() as elsewhere, _redirecting(307, elsewhere) as n11:
        with pytest.raises(N11BadResponse, match="HTTP 307, a redirect to 'localhost"):
            N11Client(TEST_KEY, TEST_SECRET, n11.url, FAST).update_price_stock([{"stockCode": "S1", "quantity": 1}])
        assert elsewhere.received == []
        assert [r.path for r in n11.received] == [PRICE_STOCK_UPDATE]


def test_plain_http_to_another_host_is_refused_before_any_connection(monkeypatch):
    attempts = []
    monkeypatch.setattr(socket, "create_connection", lambda *args, **kwargs: attempts.append(args))
    with pytest.raises(ValueError, match=r"'http://203\.0\.113\.5' is refused: .* only over https") as err:
        N11Client(TEST_KEY, TEST_SECRET, "http://203.0.113.5", FAST)
    assert "use https://203.0.113.5" in str(err.value)
    assert attempts == []


@pytest.mark.parametrize("url", ["https://203.0.113.5", "https://api.n11.com/", "http://127.0.0.1:9",
                                 "http://127.8.0.1:9", "http://localhost:9", "http://[::1]:9"])
def test_https_anywhere_and_plain_http_to_this_machine_are_accepted(url):
    assert N11Client(TEST_KEY, TEST_SECRET, url, FAST).base_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["ftp://api.n11.com", "api.n11.com", "https://user:pw@api.n11.com", "https://"])
def test_a_base_url_that_is_no_http_address_is_refused(url):
    with pytest.raises(ValueError, match="N11 API base URL"):
        N11Client(TEST_KEY, TEST_SECRET, url, FAST)


def _echo(status: int, shape: str):
    """A server answering with the request headers it received, in one of the shapes an echo takes."""
    def answer(request: Received) -> Answer:
        headers = {"appsecret": request.headers["appsecret"], **request.headers}  # first, so no cut hides it
        body = {"json": json.dumps({"message": f"bad request, headers: {headers}"}),
                "text": f"<html><body>Bad request. Received: {headers}</body></html>",
                "escaped": json.dumps({"message": json.dumps(headers)}),
                "url-encoded": f"rejected {urlencode(headers)}"}[shape]
        return Answer(status, body.encode(), {"Content-Type": "text/html"})
    return answer


@pytest.mark.parametrize("status", [200, 400, 401, 500])
@pytest.mark.parametrize("shape", ["json", "text", "escaped", "url-encoded"])
def test_an_answer_echoing_the_request_headers_never_puts_the_secret_into_the_error(status, shape):
    secret = 'se/cr"et +1-Zq81'  # JSON, URLs and repr spell it differently
    with HostileServer(_echo(status, shape)) as server, pytest.raises(N11Error) as err:
        N11Client(TEST_KEY, secret, server.url, FAST).check_credentials()
    texts = (str(err.value), repr(err.value), err.value.n11_message or "")
    assert not any(spelling in text for text in texts
                   for spelling in (secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)))
    assert SCRUBBED in str(err.value) or WITHHELD in str(err.value)  # the echo did reach the message


def test_a_missing_field_quoting_the_answer_leaves_the_secret_out():
    server = HostileServer(lambda request: json_answer({"echo": {"appsecret": request.headers["appsecret"]}}))
    with server, pytest.raises(N11BadResponse, match="without 'totalElements'") as err:
        N11Client(TEST_KEY, TEST_SECRET, server.url, FAST).check_credentials()
    assert TEST_SECRET not in str(err.value) and "[secret removed]" in str(err.value)


# --- answers that cannot be read as numbers ---------------------------------------------------------------

def test_json_nested_100000_deep_is_a_bad_response_naming_the_endpoint():
    deep = b"[" * 100_000 + b"]" * 100_000
    with HostileServer(lambda request: Answer(200, deep, {"Content-Type": "application/json"})) as server:
        with pytest.raises(N11BadResponse, match=f"GET {PRODUCT_QUERY} answered JSON nested too deeply"):
            N11Client(TEST_KEY, TEST_SECRET, server.url, FAST).check_credentials()
        assert len(server.received) == 1


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused_naming_the_endpoint(constant):
    body = f'{{"content": [{{"id": 1, "totalAmount": {constant}}}], "totalPages": 1}}'.encode()
    server = HostileServer(lambda request: Answer(200, body, {"Content-Type": "application/json"}))
    with server, pytest.raises(N11BadResponse, match=f"{SHIPMENT_PACKAGES} answered {constant} where a number"):
        N11Client(TEST_KEY, TEST_SECRET, server.url, FAST).shipment_packages_page(0, status="Created")


# --- splitting a package by quantity (cancelling what cannot be supplied) ------------------------------------

def picking_line(sandbox, quantity: int = 3) -> dict:
    """The first line of a seller package in Picking, holding ``quantity`` items."""
    line = next(p["lines"][0] for p in sandbox.state.account(TEST_KEY).packages
                if p["shipmentPackageStatus"] == "Picking" and p["_sender"] == "SELLER")
    line["quantity"] = quantity
    return line


def test_a_split_with_a_cancel_sends_n11s_body_and_answers_the_new_lines_with_ids_as_strings(sandbox):
    line = picking_line(sandbox)
    line_id = str(line["orderLineId"])

    answer = client_for(sandbox).split_package_by_quantity([{line_id: 2}], [CancelledItem(line_id, 1, 62)])

    [call] = sandbox.calls("POST", SPLIT_BY_QUANTITY)
    assert call.body == {"splitPackages": [{"packageDetails": [{"orderLineId": int(line_id), "quantities": 2}]}],
                         "cancelledItems": [{"orderLineId": int(line_id), "quantity": 1, "cancelReasonId": 62}]}
    [item] = answer["items"]
    assert answer["message"] == "success" and item["quantity"] == 2 and item["stockCode"] == line["stockCode"]
    assert all(isinstance(item[key], str) for key in ("orderNumber", "packageId", "orderLineId"))
    assert item["orderLineId"] != line_id


def test_a_split_answer_without_the_opt_in_list_has_no_items(sandbox):
    sandbox.state.account(TEST_KEY).split_items_listed = False
    line_id = str(picking_line(sandbox)["orderLineId"])
    answer = client_for(sandbox).split_package_by_quantity([{line_id: 1}], [CancelledItem(line_id, 2)])
    assert answer == {"message": "success", "items": None}


def test_a_split_n11_refuses_is_a_refused_request_with_n11s_words_sent_once(sandbox):
    line_id = str(picking_line(sandbox, 1)["orderLineId"])
    with pytest.raises(N11RequestRefused, match="sipariş edilen miktarı \\(1\\) aşamaz") as err:
        client_for(sandbox).split_package_by_quantity([{line_id: 1}], [CancelledItem(line_id, 1)])
    assert err.value.status == 400 and len(sandbox.calls("POST", SPLIT_BY_QUANTITY)) == 1


@pytest.mark.parametrize(("fault", "error"), [("500", N11Unavailable), ("502", N11Unavailable),
                                              ("reset", N11Unavailable), ("truncated", N11BadResponse)])
def test_a_split_whose_outcome_is_unknown_is_not_sent_again(sandbox, fault, error):
    line_id = str(picking_line(sandbox)["orderLineId"])
    sandbox.faults = FaultConfig(rate=1.0, kinds=(fault,), paths=(SPLIT_BY_QUANTITY,))
    with pytest.raises(error, match=SPLIT_BY_QUANTITY):
        client_for(sandbox).split_package_by_quantity([{line_id: 2}], [CancelledItem(line_id, 1)])
    assert len(sandbox.calls("POST", SPLIT_BY_QUANTITY)) == 1


@pytest.mark.parametrize(("answer", "error", "words"), [
    ({"code": 400, "status": "failure", "errorMessage": "Paket bulunamadı"}, N11RequestRefused, "Paket bulunamadı"),
    ({"code": 500, "message": "?"}, N11BadResponse, "with code 500"),
    ([], N11BadResponse, "not a JSON object"),
    ({"code": 200, "splitPackageOrderItems": [{"orderLineId": 5}]}, N11BadResponse, "with their quantities"),
    ({"code": 200, "splitPackageOrderItems": {"orderLineId": 5, "quantity": 1}}, N11BadResponse, "not a list"),
], ids=["failure with http 200", "another code", "a list", "an item without quantity", "items not a list"])
def test_a_split_answer_that_says_failure_or_cannot_be_read_is_an_error_naming_the_endpoint(answer, error, words):
    with HostileServer(lambda request: json_answer(answer)) as server:
        with pytest.raises(error, match=words) as err:
            N11Client(TEST_KEY, TEST_SECRET, server.url, FAST).split_package_by_quantity(
                [{"11": 1}], [CancelledItem("11", 1)])
        assert len(server.received) == 1
    assert SPLIT_BY_QUANTITY in str(err.value)


@pytest.mark.parametrize(("split", "cancelled", "words"), [
    ([], [CancelledItem("11", 1)], "at least one new package"),
    ([{}], [], "at least one new package"),
    ([{"11": 0}], [], "at least 1"),
    ([{"11": 1}], [CancelledItem("11", 1, 66)], "not N11's"),
])
def test_a_split_n11_could_not_take_is_a_programming_error_and_sends_nothing(sandbox, split, cancelled, words):
    with pytest.raises(ValueError, match=words):
        client_for(sandbox).split_package_by_quantity(split, cancelled)
    assert sandbox.calls("POST", SPLIT_BY_QUANTITY) == []
