"""POST /ws/returnService/ and /ws/SellerInvoiceService: return claims consistent with the account's orders, listed
20 a page with N11's filters, the deny reasons in both list shapes, approvals and denials, invoice links, and
N11's failures (HTTP 200, result failure), faults and outages; the request log keeps no secret."""

from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
import requests

from devtools.sandbox import DEMO_API_KEY, DEMO_API_SECRET, FaultConfig, claims, rules
from devtools.sandbox.data import DAY_MS

RETURNS, INVOICES = "/ws/returnService/", "/ws/SellerInvoiceService"


def call(sandbox, path: str, operation: str, fields: str = "", secret: str = DEMO_API_SECRET):
    """Send one envelope; the HTTP status and the answer's body element (its children by local name)."""
    body = (f'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:sch="http://www.n11.com/ws/schemas"><soapenv:Header/><soapenv:Body><sch:{operation}Request>'
            f"<auth><appKey>{DEMO_API_KEY}</appKey><appSecret>{secret}</appSecret></auth>{fields}"
            f"</sch:{operation}Request></soapenv:Body></soapenv:Envelope>")
    answer = requests.post(sandbox.url + path, data=body.encode(), headers={"Content-Type": "text/xml"}, timeout=10)
    root = ElementTree.fromstring(answer.content)
    return answer.status_code, root.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]


def text(element, path: str) -> str | None:
    found = element.find(path)
    return found.text if found is not None else None


def listing(sandbox, search: str = "<status>ALL</status><sender>ALL</sender>", page: int = 0):
    status, answer = call(sandbox, RETURNS, "ClaimReturnList",
                          f"<searchData>{search}</searchData><pagingData><currentPage>{page}</currentPage></pagingData>")
    assert status == 200 and text(answer, "result/status") == "success"
    return [{child.tag: child.text for child in claim} for claim in answer.iter("claimReturn")], \
        {child.tag: int(child.text) for child in answer.find("pagingData")}


def every_claim(sandbox, search: str = "<status>ALL</status><sender>ALL</sender>") -> list[dict]:
    found, page = [], 0
    while True:
        rows, paging = listing(sandbox, search, page)
        found += rows
        page += 1
        if page >= paging["pageCount"]:
            return found


def day(value: str) -> date:
    d, m, y = value.split("/")
    return date(int(y), int(m), int(d))


def test_claims_belong_to_delivered_lines_of_the_accounts_orders_with_the_orders_buyer(account):
    assert len(account.claims) > 40
    for claim in account.claims.values():
        package = next(p for p in account.packages if p["orderNumber"] == claim["orderNumber"]
                       and rules.canonical_status(p["shipmentPackageStatus"]) == "Delivered" and not p.get("_parent")
                       and any(str(line["productId"]) == claim["productId"] for line in p["lines"]))
        line = next(line for line in package["lines"] if str(line["productId"]) == claim["productId"])
        assert 1 <= claim["quantity"] <= line["quantity"] and claim["unitPrice"] == line["price"]
        assert claim["buyerName"] in (package["customerfullName"], package["billingAddress"]["fullName"])
        assert claim["buyerEmail"] == package["customerEmail"]
        delivered = package["lastModifiedDate"] // DAY_MS * DAY_MS - DAY_MS
        assert claim["requestDate"] >= date.fromtimestamp(delivered / 1000)
        if claim["status"] in claims.DATED:  # the date of the status it reached
            assert claim[claims.DATED[claim["status"]]] >= claim["requestDate"]
    assert {claim["status"] for claim in account.claims.values()} >= {"REQUESTED", "APPROVAL_WAITING", "APPROVED",
                                                                      "DENIED", "CANCELLED"}


def test_the_listing_pages_twenty_at_a_time_in_request_order(sandbox, account):
    first, paging = listing(sandbox)
    second, _ = listing(sandbox, page=1)
    assert len(first) == len(second) == 20
    assert paging == {"currentPage": 0, "pageSize": 20, "totalCount": len(account.claims),
                      "pageCount": -(-len(account.claims) // 20)}
    found = every_claim(sandbox)
    assert [c["claimReturnId"] for c in found] == [c["claimReturnId"] for c in sorted(
        account.claims.values(), key=lambda c: (c["requestDate"], int(c["claimReturnId"])))]
    assert listing(sandbox, page=paging["pageCount"])[0] == []


def test_a_claim_goes_on_the_wire_with_its_dates_as_istanbul_days_and_its_buyer(sandbox, account):
    claim = next(c for c in account.claims.values() if c["status"] == "APPROVED")
    wired = next(c for c in every_claim(sandbox) if c["claimReturnId"] == claim["claimReturnId"])
    assert wired["requestDate"] == claim["requestDate"].strftime("%d/%m/%Y")
    assert wired["approvedDate"] == claim["approvedDate"].strftime("%d/%m/%Y")
    assert (wired["buyerName"], wired["buyerPhone"]) == (claim["buyerName"], claim["buyerPhone"])
    assert wired["finalPrice"] == f"{claim['finalPrice']:f}" and "_updated" not in wired


def test_status_sender_and_search_filter_as_n11_documents_them(sandbox, account):
    requested = {c["claimReturnId"] for c in account.claims.values()
                 if c["status"] == "REQUESTED" and c["sender"] == "SELLER"}
    assert {c["claimReturnId"] for c in every_claim(sandbox, "")} == requested  # left out: REQUESTED, SELLER
    assert {c["claimReturnId"] for c in every_claim(sandbox, "<status>BOGUS</status>")} == requested
    n11 = {c["claimReturnId"] for c in account.claims.values() if c["sender"] == "N11"}
    assert {c["claimReturnId"] for c in every_claim(sandbox, "<status>ALL</status><sender>N11</sender>")} == n11
    one = next(iter(account.claims.values()))
    found = every_claim(sandbox, f"<status>ALL</status><sender>ALL</sender><searchInfoType>ORDERID</searchInfoType>"
                                 f"<searchQuery>{one['orderNumber']}</searchQuery>")
    assert {c["orderNumber"] for c in found} == {one["orderNumber"]} and one["claimReturnId"] in {
        c["claimReturnId"] for c in found}


@pytest.mark.parametrize("reading", ["requested", "updated"])
def test_the_period_filters_the_request_date_or_the_last_change(start_sandbox, reading):
    sandbox = start_sandbox(claim_period_filter=reading)
    account = sandbox.state.account(DEMO_API_KEY)
    changed = next(c for c in account.claims.values() if c["_updated"] > c["requestDate"])
    period = changed["_updated"]
    found = every_claim(sandbox, "<status>ALL</status><sender>ALL</sender><period><startDate>"
                        f"{period:%d/%m/%Y}</startDate><endDate>{period:%d/%m/%Y}</endDate></period>")
    key = "_updated" if reading == "updated" else "requestDate"
    assert {c["claimReturnId"] for c in found} == {c["claimReturnId"] for c in account.claims.values()
                                                   if c[key] == period}
    assert (changed["claimReturnId"] in {c["claimReturnId"] for c in found}) == (reading == "updated")


def test_a_period_that_is_no_day_is_a_failure_in_an_http_200(sandbox):
    status, answer = call(sandbox, RETURNS, "ClaimReturnList",
                          "<searchData><period><startDate>2026-10-01</startDate></period></searchData>")
    assert status == 200 and text(answer, "result/status") == "failure"
    assert text(answer, "result/errorCode") == "validation.period.invalid"


@pytest.mark.parametrize("shape", ["repeated", "wsdl"])
def test_deny_reasons_come_in_productions_shape_or_the_wsdls(start_sandbox, shape):
    status, answer = call(start_sandbox(soap_list_shape=shape), RETURNS, "ClaimReturnDenyReasonTypes")
    lists = answer.findall("denyReasonTypeDataList")
    if shape == "repeated":
        assert [(text(e, "id"), text(e, "value")) for e in lists] == list(claims.DENY_REASONS)
    else:
        (single,) = lists
        assert [(text(e, "id"), text(e, "value")) for e in single.findall("denyReasonTypeData")] == \
            list(claims.DENY_REASONS)


def test_approving_and_denying_decide_an_open_claim_today(sandbox, account):
    first, second = [c for c in account.claims.values() if c["status"] in claims.OPEN][:2]
    assert call(sandbox, RETURNS, "ClaimReturnApprove",
                f"<claimReturnId>{first['claimReturnId']}</claimReturnId>")[1].find("result/status").text == "success"
    status, answer = call(sandbox, RETURNS, "ClaimReturnDeny", f"<claimReturnId>{second['claimReturnId']}"
                          "</claimReturnId><denyReasonId>2</denyReasonId><denyReasonNote>Eksik</denyReasonNote>")
    assert text(answer, "result/status") == "success"
    assert (first["status"], first["approvedDate"]) == ("APPROVED", claims.today())
    assert (second["status"], second["deniedDate"], second["_deny"]) == ("DENIED", claims.today(),
                                                                          {"reason": "2", "note": "Eksik"})
    assert second["sellerTrackingNumber"]  # the product goes back to the buyer


@pytest.mark.parametrize("operation, fields, code", [
    ("ClaimReturnApprove", "<claimReturnId>1</claimReturnId>", "claimReturn.notFound"),
    ("ClaimReturnDeny", "<claimReturnId>{open}</claimReturnId><denyReasonId>99</denyReasonId>",
     "claimReturn.denyReason.invalid"),
    ("ClaimReturnApprove", "<claimReturnId>{final}</claimReturnId>", "claimReturn.status.invalid"),
    ("ClaimReturnDeny", "<claimReturnId>{final}</claimReturnId><denyReasonId>1</denyReasonId>",
     "claimReturn.status.invalid"),
])
def test_a_decision_n11_cannot_take_is_a_failure_in_an_http_200_and_changes_nothing(sandbox, account, operation,
                                                                                     fields, code):
    open_claim = next(c for c in account.claims.values() if c["status"] in claims.OPEN)
    final = next(c for c in account.claims.values() if c["status"] == "CANCELLED")
    before = {key: dict(claim) for key, claim in account.claims.items()}
    status, answer = call(sandbox, RETURNS, operation, fields.format(open=open_claim["claimReturnId"],
                                                                     final=final["claimReturnId"]))
    assert (status, text(answer, "result/status"), text(answer, "result/errorCode")) == (200, "failure", code)
    assert account.claims == before


def test_a_test_moves_a_claim_as_n11_would_and_the_listing_shows_it(sandbox, account):
    claim = next(c for c in account.claims.values() if c["status"] == "APPROVAL_WAITING")
    later = claim["requestDate"] + timedelta(days=4)
    claims.move(claim, "MANUAL_REFUND", later)
    wired = next(c for c in every_claim(sandbox) if c["claimReturnId"] == claim["claimReturnId"])
    assert (wired["status"], wired["paymentDate"]) == ("MANUAL_REFUND", later.strftime("%d/%m/%Y"))
    with pytest.raises(ValueError, match="not one of"):
        claims.move(claim, "RETURNED", later)


def test_an_invoice_link_is_recorded_for_an_order_of_the_account(sandbox, account):
    order = account.packages[0]["orderNumber"]
    status, answer = call(sandbox, INVOICES, "SaveLinkSellerInvoice",
                          "<url>https://fatura.example.com/f.pdf?a=1&amp;b=2</url>"
                          f"<orderNumber>{order}</orderNumber><invoiceNumber>ABC1</invoiceNumber>")
    assert (status, text(answer, "result/status")) == (200, "success")
    assert account.invoice_links[order] == {"url": "https://fatura.example.com/f.pdf?a=1&b=2", "invoiceNumber": "ABC1",
                                            "invoiceDateTime": None}


@pytest.mark.parametrize("url, order, code", [
    ("http://fatura.example.com/f.pdf", None, "sellerInvoice.url.invalid"),
    ("https://fatura.example.com/" + "f" * 2030, None, "sellerInvoice.url.invalid"),
    ("https://fatura.example.com/f.pdf", "1", "sellerInvoice.order.notFound"),
])
def test_an_invoice_link_n11_would_not_take_is_a_failure_in_an_http_200(sandbox, account, url, order, code):
    order = order or account.packages[0]["orderNumber"]
    status, answer = call(sandbox, INVOICES, "SaveLinkSellerInvoice",
                          f"<url>{url}</url><orderNumber>{order}</orderNumber>")
    assert (status, text(answer, "result/errorCode")) == (200, code) and account.invoice_links == {}


@pytest.mark.parametrize("path, operation", [(RETURNS, "ClaimReturnList"), (INVOICES, "SaveLinkSellerInvoice")])
def test_a_wrong_secret_is_an_authentication_failure_in_an_http_200(sandbox, path, operation):
    status, answer = call(sandbox, path, operation, secret="wrong")
    assert answer.tag == f"{{http://www.n11.com/ws/schemas}}{operation}Response"
    assert (status, text(answer, "result/status"), text(answer, "result/errorCode")) == (
        200, "failure", "SELLER_API.authenticationFailed")


@pytest.mark.parametrize("body", [b"", b"{}", b"<Envelope/>", b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'])
def test_a_body_that_is_no_soap_envelope_is_a_client_fault(sandbox, body):
    answer = requests.post(sandbox.url + RETURNS, data=body, timeout=10)
    assert answer.status_code == 500 and b"<faultcode>SOAP-ENV:Client</faultcode>" in answer.content


def test_an_operation_the_service_does_not_have_is_a_fault_and_no_wsdl_is_served(sandbox):
    status, answer = call(sandbox, RETURNS, "OrderItemReject")
    assert status == 500 and "No endpoint mapping found for OrderItemRejectRequest" in text(answer, "faultstring")
    assert requests.get(sandbox.url + RETURNS + "returnService.wsdl", timeout=10).status_code == 503


def test_faults_strike_the_soap_paths_as_the_rest_ones(sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("503",), paths=("/ws/",))
    answer = requests.post(sandbox.url + RETURNS, data=b"<x/>", timeout=10)
    assert answer.status_code == 503 and b"nginx" in answer.content


def test_the_request_log_keeps_the_operation_and_fields_but_never_the_secret(sandbox):
    call(sandbox, RETURNS, "ClaimReturnApprove", "<claimReturnId>1</claimReturnId>")
    (record,) = sandbox.requests
    assert record.body == {"operation": "ClaimReturnApprove", "claimReturnId": "1"}
    assert record.has_secret and record.api_key == DEMO_API_KEY and DEMO_API_SECRET not in repr(record)
