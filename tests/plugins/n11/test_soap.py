"""The SOAP client over real HTTP, against the sandbox and against scripted hostile servers: the envelope, N11's
failures in an HTTP 200, faults, HTML pages and cut answers, XML that could expand or reach out, size and depth
bounds, redirects, retries of reads and never-blind writes, paging that lies, and the secret in no message."""

from __future__ import annotations

import logging
import math
import time
from datetime import date

import pytest

from devtools.sandbox import FaultConfig, N11Sandbox, SandboxState
from devtools.sandbox import claims as sandbox_claims
from n11.errors import N11AuthError, N11BadResponse, N11Error, N11PagingError, N11RequestRefused, N11Unavailable
from n11.soap import CLAIM_RETURN_LIST, MAX_ANSWER_BYTES, RETURN_SERVICE, N11SoapClient
from tests.helpers.common import TEST_KEY, TEST_SECRET
from tests.helpers.figures import record
from tests.helpers.hostile import Answer, HostileServer, Received
from tests.helpers.orders import FAST, month_account
from tests.helpers.returns import claims_of, operations, soap_for

MONTH = (date(2026, 9, 1), date(2026, 10, 1))
XML = {"Content-Type": "text/xml;charset=UTF-8"}
SECRET_SPELLINGS = (TEST_SECRET,)


@pytest.fixture
def n11():
    """A sandbox over a month of orders and their return claims."""
    with N11Sandbox(SandboxState([month_account()])).start() as sandbox:
        yield sandbox


def envelope(inner: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope '
            'xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>'
            f"{inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>").encode()


def answer(operation: str, inner: str = "", status: str = "success", code: str = "", message: str = "") -> bytes:
    result = f"<status>{status}</status>" + (f"<errorCode>{code}</errorCode><errorMessage>{message}</errorMessage>"
                                              if code else "")
    return envelope(f'<ns3:{operation}Response xmlns:ns3="http://www.n11.com/ws/schemas"><result>{result}</result>'
                    f"{inner}</ns3:{operation}Response>")


def claims_page(ids: list[int], current: int, total: int, pages: int, size: int = 20) -> bytes:
    rows = "".join(f"<claimReturn><claimReturnId>{i}</claimReturnId><status>APPROVED</status>"
                   "<orderNumber>1000000000001</orderNumber><requestDate>01/09/2026</requestDate></claimReturn>"
                   for i in ids)
    return answer("ClaimReturnList", f"<claimReturnList>{rows}</claimReturnList><pagingData><currentPage>{current}"
                  f"</currentPage><pageSize>{size}</pageSize><totalCount>{total}</totalCount><pageCount>{pages}"
                  "</pageCount></pagingData>")


def scripted(*bodies: bytes, status: int = 200) -> HostileServer:
    """A server answering the n-th request with the n-th body (the last one again after the end)."""
    def script(request: Received) -> Answer:
        return Answer(status, bodies[min(len(server.received), len(bodies)) - 1], XML)
    server = HostileServer(script)
    return server


def client_of(server: HostileServer, secret: str = TEST_SECRET, **settings) -> N11SoapClient:
    return N11SoapClient.connect(TEST_KEY, secret, server.url, FAST.__class__(**{**FAST.__dict__, **settings}))


def read_all(client: N11SoapClient, start: date = MONTH[0], end: date = MONTH[1], **kwargs) -> list[dict]:
    return [claim for page in client.claim_returns(start, end, **kwargs) for claim in page]


# --- against the sandbox ---------------------------------------------------------------------------------

def test_claims_come_twenty_a_page_for_the_istanbul_days_asked_every_status_and_sender(n11):
    expected = [c["claimReturnId"] for c in claims_of(n11.state.account(TEST_KEY))
                if date(2026, 9, 10) <= c["requestDate"] <= date(2026, 9, 30)]
    assert len(expected) > 20 and {c["sender"] for c in claims_of(n11.state.account(TEST_KEY))} == {"SELLER", "N11"}

    found = read_all(soap_for(n11), date(2026, 9, 10), date(2026, 9, 30))

    assert [claim["claimReturnId"] for claim in found] == expected
    calls = operations(n11, "ClaimReturnList")
    assert len(calls) == math.ceil(len(expected) / 20)
    assert [call["pagingData"]["currentPage"] for call in calls] == [str(n) for n in range(len(calls))]
    assert {(c["searchData"]["status"], c["searchData"]["sender"]) for c in calls} == {("ALL", "ALL")}
    assert calls[0]["searchData"]["period"] == {"startDate": "10/09/2026", "endDate": "30/09/2026"}
    assert "searchInfoType" not in calls[0]["searchData"]


def test_a_claim_arrives_with_n11s_fields_as_texts(n11):
    claim = read_all(soap_for(n11))[0]
    assert {"claimReturnId", "status", "orderNumber", "productId", "quantity", "unitPrice", "finalPrice",
            "requestDate", "returnReasonType", "buyerName", "buyerEmail", "buyerPhone"} <= set(claim)
    assert all(isinstance(value, str) for value in claim.values())


def test_the_claims_of_one_order_are_asked_by_its_number(n11):
    wanted = claims_of(n11.state.account(TEST_KEY))[3]
    found = read_all(soap_for(n11), order_number=wanted["orderNumber"])
    assert wanted["claimReturnId"] in {claim["claimReturnId"] for claim in found}
    assert {claim["orderNumber"] for claim in found} == {wanted["orderNumber"]}
    (call,) = operations(n11, "ClaimReturnList")
    assert (call["searchData"]["searchInfoType"], call["searchData"]["searchQuery"]) == ("ORDERID",
                                                                                          wanted["orderNumber"])


@pytest.mark.parametrize("shape", ["repeated", "wsdl"])
def test_deny_reasons_are_read_in_productions_shape_and_the_wsdls(shape):
    with N11Sandbox(SandboxState([month_account()], soap_list_shape=shape)).start() as sandbox:
        reasons = soap_for(sandbox).deny_reasons()
    assert reasons == [{"id": reason_id, "value": text} for reason_id, text in sandbox_claims.DENY_REASONS]


def test_approving_and_denying_move_the_claims_on_n11(n11):
    account = n11.state.account(TEST_KEY)
    first, second = (claim["claimReturnId"] for claim in claims_of(account, *sandbox_claims.OPEN)[:2])
    client = soap_for(n11)
    client.approve_claim(first)
    client.deny_claim(second, "3", "Gönderilen ürün bu değil & seri numarası farklı")
    assert account.claims[first]["status"] == "APPROVED"
    assert account.claims[second]["status"] == "DENIED"
    assert account.claims[second]["_deny"] == {"reason": "3", "note": "Gönderilen ürün bu değil & seri numarası farklı"}


def test_a_failure_in_an_http_200_names_n11s_error_code_and_message_and_is_not_retried(n11):
    decided = claims_of(n11.state.account(TEST_KEY), "APPROVED")[0]["claimReturnId"]
    with pytest.raises(N11RequestRefused) as err:
        soap_for(n11).approve_claim(decided)
    assert "ReturnService.ClaimReturnApprove" in str(err.value)
    assert "claimReturn.status.invalid: İade talebi APPROVED durumunda, onaylanamaz." in str(err.value)
    assert err.value.n11_message.startswith("claimReturn.status.invalid")
    assert len(operations(n11, "ClaimReturnApprove")) == 1


def test_a_wrong_secret_is_an_auth_error_at_the_first_call(n11):
    with pytest.raises(N11AuthError, match="SELLER_API.authenticationFailed"):
        read_all(soap_for(n11, secret="wrong-secret"))
    assert len(n11.requests) == 1 and n11.requests[0].has_secret


def test_the_invoice_link_reaches_n11_with_its_ampersands(n11):
    order = n11.state.account(TEST_KEY).packages[0]["orderNumber"]
    url = "https://e-arsiv.example.com/fatura.pdf?no=ABC2026&t=9f&x=<1>"
    soap_for(n11).save_invoice_link(order, url, "ABC2026000000001")
    assert n11.state.account(TEST_KEY).invoice_links[order]["url"] == url
    assert operations(n11, "SaveLinkSellerInvoice")[0]["invoiceNumber"] == "ABC2026000000001"


@pytest.mark.parametrize("url", ["http://fatura.example.com/1.pdf", "https://x.example/" + "a" * 2040, "https:///x"],
                         ids=["http", "2058 characters", "no host"])
def test_an_invoice_link_n11_would_not_take_is_a_programming_error_before_any_call(n11, url):
    with pytest.raises(ValueError, match="invoice link of order 1"):
        soap_for(n11).save_invoice_link("1", url)
    assert n11.requests == []


def test_reads_are_retried_through_429_500_and_503_until_complete(n11):
    expected = read_all(soap_for(n11))
    n11.clear_log()
    n11.faults = FaultConfig(rate=0.5, kinds=("429", "500", "503", "reset"), seed=3)
    assert read_all(soap_for(n11, settings=FAST.__class__(**{**FAST.__dict__, "max_attempts": 12}))) == expected
    assert len({r.fault for r in n11.requests} - {None}) >= 3  # the read met three kinds of failure


def test_a_cut_answer_of_a_read_is_retried_then_a_clear_error_naming_the_operation(n11):
    n11.faults = FaultConfig(rate=1.0, kinds=("truncated",))
    with pytest.raises(N11BadResponse, match=r"ReturnService.ClaimReturnList kept failing .*not SOAP"):
        read_all(soap_for(n11))
    assert len(n11.requests) == FAST.max_attempts


@pytest.mark.parametrize("fault", ["truncated", "502", "504", "reset"])
def test_a_write_without_a_usable_answer_is_an_unknown_outcome_and_is_not_sent_again(n11, fault):
    claim = claims_of(n11.state.account(TEST_KEY), *sandbox_claims.OPEN)[0]["claimReturnId"]
    n11.faults = FaultConfig(rate=1.0, kinds=(fault,))
    with pytest.raises(N11Unavailable, match="ReturnService.ClaimReturnApprove.*not sent again blindly"):
        soap_for(n11).approve_claim(claim)
    assert len(n11.requests) == 1


def test_a_request_that_is_no_soap_envelope_gets_a_client_fault_from_the_sandbox(n11):
    import requests
    answered = requests.post(n11.url + RETURN_SERVICE, data=b"<not-soap/>", timeout=5)
    assert answered.status_code == 500 and b"<faultcode>SOAP-ENV:Client</faultcode>" in answered.content


# --- against scripted servers ------------------------------------------------------------------------------

def test_the_envelope_carries_the_credentials_in_its_body_only():
    with scripted(answer("SaveLinkSellerInvoice")) as server:
        client_of(server).save_invoice_link("1000000000123", "https://f.example.com/a.pdf?x=1&y=2")
    (request,) = server.received
    assert request.path == "/ws/SellerInvoiceService" and request.method == "POST"
    assert request.headers["content-type"] == "text/xml; charset=utf-8" and request.headers["soapaction"] == '""'
    assert "appsecret" not in request.headers and "appkey" not in request.headers
    body = request.body.decode()
    assert body.startswith('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                           'xmlns:sch="http://www.n11.com/ws/schemas">')
    assert (f"<sch:SaveLinkSellerInvoiceRequest><auth><appKey>{TEST_KEY}</appKey><appSecret>{TEST_SECRET}"
            "</appSecret></auth><url>https://f.example.com/a.pdf?x=1&amp;y=2</url><orderNumber>1000000000123"
            "</orderNumber></sch:SaveLinkSellerInvoiceRequest>") in body


@pytest.mark.parametrize("status", [429, 503])
def test_a_write_n11_certainly_did_not_take_is_sent_again(status):
    def script(request: Received) -> Answer:
        refused = len(server.received) <= 2
        return Answer(status if refused else 200, b"<html>busy</html>" if refused else answer("ClaimReturnApprove"),
                      XML)
    server = HostileServer(script)
    with server:
        client_of(server, max_attempts=3).approve_claim("1")
    assert len(server.received) == 3


def test_throttling_in_an_http_200_is_retried_even_for_a_write():
    with scripted(answer("ClaimReturnApprove", status="failure", code="maxCallLimit.reached", message="Limit"),
                  answer("ClaimReturnApprove")) as server:
        client_of(server).approve_claim("1")
    assert len(server.received) == 2


@pytest.mark.parametrize("fault, error, calls", [("SOAP-ENV:Server", N11Unavailable, FAST.max_attempts),
                                                 ("SOAP-ENV:Client", N11RequestRefused, 1)])
def test_a_soap_fault_is_a_clear_error_naming_the_service_and_operation(fault, error, calls):
    body = envelope(f"<SOAP-ENV:Fault><faultcode>{fault}</faultcode><faultstring>java.lang.NullPointerException"
                    "</faultstring></SOAP-ENV:Fault>")
    with scripted(body, status=500) as server, pytest.raises(error) as err:
        client_of(server).deny_reasons()
    assert "ReturnService.ClaimReturnDenyReasonTypes" in str(err.value)
    assert f"{fault} java.lang.NullPointerException" in str(err.value)
    assert len(server.received) == calls


def test_an_html_page_in_an_http_200_is_a_clear_error_naming_the_operation():
    page = b"<html><head><title>Bakim</title></head><body><h1>Sistem bakimda</h1></body></html>"
    with scripted(page) as server, pytest.raises(N11BadResponse) as err:
        client_of(server).deny_reasons()
    assert "ReturnService.ClaimReturnDenyReasonTypes" in str(err.value) and "Sistem bakimda" in str(err.value)
    assert "not SOAP" in str(err.value)


def test_an_answer_without_a_result_status_is_refused():
    body = answer("ClaimReturnDenyReasonTypes").replace(b"<status>success</status>", b"")
    with scripted(body) as server, pytest.raises(N11BadResponse, match="without a result status of success or failure"):
        client_of(server).deny_reasons()


BOMB = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>')
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("prolog", [BOMB, EXTERNAL, b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/d">'],
                         ids=["entity expansion", "external entity", "external DTD"])
def test_xml_declaring_a_dtd_or_entities_is_refused_unread_and_not_retried(prolog):
    body = prolog + answer("ClaimReturnDenyReasonTypes", "<denyReasonTypeDataList><id>1</id><value>&lol3;&x;"
                                                         "</value></denyReasonTypeDataList>").split(b"?>", 1)[1]
    with scripted(body) as server, pytest.raises(N11BadResponse, match="declares a DTD or entities") as err:
        client_of(server).deny_reasons()
    assert len(server.received) == 1
    assert "root:" not in str(err.value) and "lollol" not in str(err.value)


def test_an_answer_over_the_size_bound_is_refused_unread_and_not_retried():
    huge = answer("ClaimReturnDenyReasonTypes", "<x>" + "a" * MAX_ANSWER_BYTES + "</x>")
    with scripted(huge) as server, pytest.raises(N11BadResponse, match=f"more than {MAX_ANSWER_BYTES} bytes"):
        client_of(server).deny_reasons()
    assert len(server.received) == 1


def test_xml_nested_deeper_than_the_bound_is_refused():
    deep = answer("ClaimReturnDenyReasonTypes", "<a>" * 200 + "</a>" * 200)
    with scripted(deep) as server, pytest.raises(N11BadResponse, match="nested more than 32 levels"):
        client_of(server).deny_reasons()


@pytest.mark.parametrize("status", [301, 307, 308])
def test_a_redirect_is_not_followed_and_the_body_with_the_secret_never_reaches_the_other_host(status):
    with HostileServer(lambda request: Answer(200, answer("ClaimReturnApprove"), XML)) as elsewhere:
        location = elsewhere.url.replace("127.0.0.1", "localhost")
        with HostileServer(lambda request: Answer(status, b"", {"Location": location + request.path})) as n11:
            with pytest.raises(N11BadResponse, match=f"ClaimReturnApprove answered HTTP {status}, a redirect"):
                client_of(n11).approve_claim("1")
            assert elsewhere.received == [] and len(n11.received) == 1


def test_plain_http_to_another_host_is_refused_before_any_call():
    with pytest.raises(ValueError, match="only over https"):
        N11SoapClient.connect(TEST_KEY, TEST_SECRET, "http://203.0.113.5")


def test_a_trickling_answer_ends_at_the_calls_deadline():
    server = HostileServer(lambda request: Answer(200, answer("ClaimReturnDenyReasonTypes"), XML, trickle=0.2))
    with server:
        start = time.monotonic()
        with pytest.raises(N11Unavailable, match="no complete answer within 1 s"):
            client_of(server, call_timeout=1.0, max_attempts=1).deny_reasons()
        assert time.monotonic() - start < 5


def _echoing(where: str):
    """A server quoting the request body (with the secret in it) back: in a failure, a fault or a page."""
    def script(request: Received) -> Answer:
        body = request.body.decode()
        sent = body[body.index("<auth>"):].replace("<", "[").replace(">", "]")  # the secret within the first words
        body = {"failure": answer("ClaimReturnApprove", status="failure", code="X", message=sent),
                "fault": envelope(f"<SOAP-ENV:Fault><faultcode>SOAP-ENV:Client</faultcode><faultstring>{sent}"
                                  "</faultstring></SOAP-ENV:Fault>"),
                "page": f"<html><body>Bad request: {sent}</body></html>".encode()}[where]
        return Answer(500 if where == "fault" else 400 if where == "page" else 200, body, XML)
    return script


@pytest.mark.parametrize("where", ["failure", "fault", "page"])
def test_an_answer_quoting_the_request_never_puts_the_secret_into_a_message_or_log(where, caplog):
    caplog.set_level(logging.DEBUG)
    with HostileServer(_echoing(where)) as server, pytest.raises(N11Error) as err:
        client = client_of(server)
        client.approve_claim("1")
    texts = (str(err.value), repr(err.value), err.value.n11_message or "", repr(client), caplog.text)
    assert not any(TEST_SECRET in text for text in texts)
    assert "[secret removed]" in str(err.value)


# --- paging that lies --------------------------------------------------------------------------------------

def test_an_honest_empty_answer_is_one_call_however_it_counts_its_pages():
    for pages in (0, 1):
        body = answer("ClaimReturnList", "<claimReturnList/><pagingData><currentPage>0</currentPage><pageSize>20"
                      f"</pageSize><totalCount>0</totalCount><pageCount>{pages}</pageCount></pagingData>")
        with scripted(body) as server:
            assert read_all(client_of(server)) == []
        assert len(server.received) == 1


def test_a_short_last_page_ends_the_read():
    with scripted(claims_page(list(range(1, 21)), 0, 25, 2), claims_page(list(range(21, 26)), 1, 25, 2)) as server:
        assert [claim["claimReturnId"] for claim in read_all(client_of(server))] == [str(i) for i in range(1, 26)]
    assert len(server.received) == 2


@pytest.mark.parametrize("pages, problem", [
    ([claims_page(list(range(1, 21)), 0, 60, 3), claims_page(list(range(1, 21)), 1, 60, 3)],
     "with the rows of page 0 again"),
    ([claims_page(list(range(1, 21)), 0, 60, 3), claims_page(list(range(21, 41)), 0, 60, 3)], "says it is page 0"),
    ([claims_page(list(range(1, 21)), 0, 60, 3), claims_page([], 1, 60, 3)], "is empty before the announced end"),
    ([claims_page(list(range(1, 21)), 0, 25, 9)], "announces totalPages 9, but totalElements 25"),
    ([claims_page(list(range(1, 22)), 0, 60, 3)], "holds 21 rows in a page of size 20"),
    ([claims_page(list(range(1, 21)), 0, 10**9, 10**8, )], "more than the 2000 pages"),
], ids=["repeats a page", "answers another page", "empty before the end", "more pages than rows",
        "more rows than the page size", "pages without end"])
def test_pages_that_would_loop_skip_or_repeat_claims_are_refused(pages, problem):
    with scripted(*pages) as server, pytest.raises(N11PagingError, match=problem) as err:
        read_all(client_of(server))
    assert CLAIM_RETURN_LIST.label in str(err.value)
    assert len(server.received) <= 2


def test_a_count_that_is_no_count_is_refused_naming_the_field():
    body = claims_page([1], 0, 1, 1).replace(b"<pageCount>1</pageCount>", b"<pageCount>-1</pageCount>")
    with scripted(body) as server, pytest.raises(N11BadResponse, match="pageCount='-1', not a whole number"):
        read_all(client_of(server))


# --- speed -------------------------------------------------------------------------------------------------

def test_a_page_of_twenty_claims_parses_in_about_a_millisecond(n11):
    client = soap_for(n11)
    list(client.claim_returns(*MONTH))  # the sandbox's page, as the client received it, is parsed again below
    import requests
    raw = requests.post(n11.url + RETURN_SERVICE, data=_list_request(), timeout=5)
    assert raw.content.count(b"<claimReturn>") == 20
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        page = client._claims_page(0, client._read(CLAIM_RETURN_LIST, raw))
    seconds = (time.perf_counter() - start) / runs
    assert len(page.content) == 20 and seconds < 0.005
    record("SOAP parse: a page of 20 claims", bytes=len(raw.content), milliseconds=round(seconds * 1000, 3))


def _list_request() -> bytes:
    return ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:sch="http://www.n11.com/ws/schemas"><soapenv:Body><sch:ClaimReturnListRequest><auth>'
            f"<appKey>{TEST_KEY}</appKey><appSecret>{TEST_SECRET}</appSecret></auth><searchData><status>ALL"
            "</status><sender>ALL</sender></searchData><pagingData><currentPage>0</currentPage></pagingData>"
            "</sch:ClaimReturnListRequest></soapenv:Body></soapenv:Envelope>").encode()


def test_a_claim_without_fields_is_refused_without_quoting_the_answer():
    body = claims_page([1], 0, 2, 1).replace(b"</claimReturnList>", b"<claimReturn>Ayse Yilmaz 05551234567"
                                             b"</claimReturn></claimReturnList>")
    with scripted(body) as server, pytest.raises(N11BadResponse, match="a claimReturn that has no fields") as err:
        read_all(client_of(server))
    assert "Ayse" not in str(err.value) and "0555" not in str(err.value)
