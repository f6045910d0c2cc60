"""The one paginator, over real HTTP: every paged read ends at N11's end signal, and a page that cannot be true
ends it with ``N11PagingError`` naming the endpoint and the numbers, after a bounded number of calls."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from n11.client import PRODUCT_QUERY, SHIPMENT_PACKAGES, TASK_DETAILS, ClientSettings, N11Client
from n11.errors import N11BadResponse, N11PagingError
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.helpers.hostile import Answer, HostileServer, Received, json_answer

FAST = ClientSettings(requests_per_minute=600_000, max_attempts=1)
Script = Callable[[int], dict]


def spring(number: int, rows: int, *, elements: int | None = None, pages: int | None = None, size: int = 250,
           last: bool | None = None) -> dict:
    """A Spring page of ``rows`` rows named after the page, with whatever totals a test claims."""
    page = {"content": [{"stockCode": f"P{number}-{i}"} for i in range(rows)], "number": number, "size": size}
    claims = {"totalElements": elements, "totalPages": pages, "last": last}
    return page | {k: v for k, v in claims.items() if v is not None}


def server_of(script: Script) -> HostileServer:
    """A server answering page n of any endpoint with ``script(n)``."""
    def answer(request: Received) -> Answer:
        # GET endpoints take the page in the query, task details in the body
        number = request.query["page"] if request.method == "GET" else json.loads(request.body)["pageable"]["page"]
        return json_answer(script(int(number)))
    return HostileServer(answer)


def read(script: Script, **settings) -> tuple[list[list[dict]], int]:
    """The product pages a client reads from such a server, and how many requests it took."""
    with server_of(script) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, ClientSettings(**{**FAST.__dict__, **settings}))
        return list(client.iter_products()), len(server.received)


def refused(script: Script, **settings) -> tuple[str, int]:
    """The paging error a product read from such a server ends with, and how many requests it took."""
    with server_of(script) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, ClientSettings(**{**FAST.__dict__, **settings}))
        with pytest.raises(N11PagingError) as err:
            list(client.iter_products())
        return str(err.value), len(server.received)


# --- the end of a read ------------------------------------------------------------------------------------

@pytest.mark.parametrize("script, calls", [
    (lambda n: spring(n, 250 if n < 2 else 10, elements=510, pages=3, last=n == 2), 3),
    (lambda n: spring(n, 250 if n < 2 else 10, last=n == 2), 3),
    (lambda n: spring(n, 250 if n < 2 else 10, elements=510, pages=3), 3),
    (lambda n: spring(n, 250 if n < 2 else 10 if n == 2 else 0), 4),
], ids=["last and totalPages", "last only", "totalPages only", "an empty page"])
def test_a_read_ends_at_the_first_end_signal(script, calls):
    assert read(script) == ([script(0)["content"], script(1)["content"], script(2)["content"]], calls)


@pytest.mark.parametrize("claims", [
    {"elements": 0, "pages": 0, "last": True},
    {"elements": 0, "pages": 1, "last": True},
    {"elements": 0, "pages": 1},
    {"elements": 0, "pages": 0},
    {"last": True},
    {},
], ids=["0 pages, last", "1 page, last", "1 page", "0 pages", "last only", "no totals"])
def test_an_empty_answer_is_one_call_however_it_counts_its_pages(claims):
    assert read(lambda n: spring(n, 0, **claims)) == ([], 1)


def test_a_short_last_page_ends_the_read():
    assert read(lambda n: spring(n, 250 if n == 0 else 1, elements=251, pages=2, last=n == 1))[1] == 2


def test_an_empty_answer_announcing_two_pages_is_refused():
    message, calls = refused(lambda n: spring(n, 0, elements=0, pages=2, last=False))
    assert calls == 1
    assert "totalPages 2, but totalElements 0 in pages of 250 make 0" in message


# --- lies ---------------------------------------------------------------------------------------------------

def test_a_page_count_beyond_max_pages_is_refused_at_the_first_page():
    message, calls = refused(lambda n: spring(n, 250, elements=25_000_000_000, pages=100_000_000, last=False))
    assert calls == 1
    assert f"{PRODUCT_QUERY} page 0 announces totalPages 100000000, more than the 2000 pages" in message
    assert "max_pages" in message


def test_a_page_count_beyond_what_the_totals_allow_is_refused():
    message, calls = refused(lambda n: spring(n, 250, elements=300, pages=40, last=False))
    assert calls == 1
    assert "totalPages 40, but totalElements 300 in pages of 250 make 2" in message


def test_an_empty_page_before_the_announced_end_is_refused():
    message, calls = refused(lambda n: spring(n, 250 if n == 0 else 0, elements=750, pages=3, last=False))
    assert calls == 2
    assert f"{PRODUCT_QUERY} page 1 is empty before the announced end (totalPages 3" in message


def test_a_page_repeating_the_one_before_is_refused():
    message, calls = refused(lambda n: spring(0, 250, elements=750, pages=3, last=False))  # ignores "page"
    assert calls == 2
    assert f"{PRODUCT_QUERY} page 1 with the rows of page 0 again" in message


def test_last_false_for_ever_ends_after_max_pages():
    message, calls = refused(lambda n: spring(n, 250, last=False), max_pages=40)
    assert calls == 40
    assert f"{PRODUCT_QUERY} did not end within 40 pages" in message


def test_last_contradicting_total_pages_is_refused():
    message, calls = refused(lambda n: spring(n, 250 if n == 0 else 10, elements=260, pages=2, last=False))
    assert calls == 2
    assert "page 1 says last=false with totalPages 2" in message


def test_a_page_larger_than_its_size_is_refused():
    message, calls = refused(lambda n: spring(n, 300, elements=300, pages=2, last=False))
    assert calls == 1
    assert "holds 300 rows in a page of size 250" in message


@pytest.mark.parametrize("field, value", [("totalPages", -1), ("totalPages", "2"), ("totalElements", 1.5),
                                          ("last", "no")])
def test_a_count_that_is_no_count_is_a_bad_response_naming_the_field(field, value):
    with server_of(lambda n: spring(n, 10, elements=10, pages=1, last=True) | {field: value}) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, FAST)
        with pytest.raises(N11BadResponse, match=f"{PRODUCT_QUERY}.* with {field}="):
            list(client.iter_products())


# --- every paged endpoint goes through the same rules ---------------------------------------------------------

def test_shipment_pages_obey_the_same_rules():
    packages = {"content": [], "totalPages": 100_000_000, "page": 0, "size": 100, "pageCount": 0}
    with server_of(lambda n: packages) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, FAST)
        with pytest.raises(N11PagingError, match=f"{SHIPMENT_PACKAGES} page 0 announces totalPages 100000000"):
            client.shipment_packages_page(0, status="Created")
        with pytest.raises(N11PagingError, match=f"{SHIPMENT_PACKAGES} page 0 announces totalPages 100000000"):
            list(client.iter_shipment_packages(status="Created"))
        assert len(server.received) == 2


def test_a_queued_task_whose_details_call_an_empty_answer_one_page_is_read_as_queued():
    queued = {"taskId": 7, "status": "IN_QUEUE", "skus": spring(0, 0, elements=0, pages=1, size=100, last=True)}
    with server_of(lambda n: queued) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, FAST)
        assert client.get_task_details(7) == {"taskId": 7, "status": "IN_QUEUE", "reasons": [], "items": []}
        assert len(server.received) == 1


def test_task_detail_pages_obey_the_same_rules():
    def details(number: int) -> dict:
        return {"taskId": 7, "status": "PROCESSED", "skus": spring(0, 2, elements=6, pages=3, size=2, last=False)}

    with server_of(details) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, FAST)
        with pytest.raises(N11PagingError, match=f"{TASK_DETAILS} page 1 with the rows of page 0 again"):
            client.get_task_details(7, page_size=2)
        assert len(server.received) == 2
