"""Every N11 call has a total deadline: a server answering a byte now and then cannot hold it (real HTTP)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from n11.client import PRICE_STOCK_UPDATE, PRODUCT_QUERY, ClientSettings, N11Client
from n11.deadline import deadline
from n11.errors import N11Unavailable
from tests.conftest import TEST_KEY, TEST_SECRET
from tests.helpers.hostile import Answer, HostileServer

PRODUCTS = b'{"content": [], "totalElements": 3, "totalPages": 1, "last": true, "padding": "' + b"x" * 200 + b'"}'
# one byte every 0.2 s: the whole answer would take about a minute, and no single read waits a second
TRICKLING = dict(requests_per_minute=600_000, read_timeout=1.0, backoff_seconds=0.01, backoff_max_seconds=0.02)


def trickling(*, body_only: bool, tls_dir: Path | None = None) -> HostileServer:
    return HostileServer(lambda request: Answer(200, PRODUCTS, {"Content-Type": "application/json"}, trickle=0.2,
                                                trickle_body=body_only), tls_dir)


@pytest.mark.parametrize("body_only", [False, True], ids=["from the status line", "in the body"])
def test_a_trickling_answer_ends_the_attempt_at_call_timeout(body_only):
    with trickling(body_only=body_only) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url,
                           ClientSettings(**TRICKLING, call_timeout=1.0, max_attempts=1))
        start = time.monotonic()
        with pytest.raises(N11Unavailable, match=f"GET {PRODUCT_QUERY} .*no complete answer within 1 s"):
            client.check_credentials()
        assert time.monotonic() - start < 10  # the answer alone would take a minute


def test_the_deadline_holds_over_https_as_n11_speaks_it(tmp_path, monkeypatch):
    with trickling(body_only=False, tls_dir=tmp_path) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))  # trust the server's own certificate
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, ClientSettings(**TRICKLING, call_timeout=1.0,
                                                                             max_attempts=1))
        assert client.base_url.startswith("https://")
        start = time.monotonic()
        with pytest.raises(N11Unavailable, match="no complete answer within 1 s"):
            client.check_credentials()
        assert time.monotonic() - start < 10
        assert len(server.received) == 1  # the request did arrive: the deadline cut the TLS answer


def test_retries_of_a_trickling_server_end_within_max_retry_seconds():
    with trickling(body_only=True) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url,
                           ClientSettings(**TRICKLING, call_timeout=1.0, max_attempts=10, max_retry_seconds=2.5))
        start = time.monotonic()
        with pytest.raises(N11Unavailable, match="kept failing after retries: no complete answer within"):
            client.check_credentials()
        assert time.monotonic() - start < 12  # ten attempts of a second each would be 10 s, the answer a minute
        assert 2 <= len(server.received) <= 4  # about 2.5 s of one-second attempts, not ten


def test_a_write_cut_by_its_deadline_is_not_sent_again():
    with trickling(body_only=True) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, ClientSettings(**TRICKLING, call_timeout=1.0))
        with pytest.raises(N11Unavailable, match="within 1 s \\(call_timeout\\); N11 may or may not have taken"):
            client.update_price_stock([{"stockCode": "S1", "quantity": 1}])
        assert [r.path for r in server.received] == [PRICE_STOCK_UPDATE]


def test_an_answer_within_the_deadline_leaves_the_connection_usable():
    answer = Answer(200, PRODUCTS, {"Content-Type": "application/json"})
    with HostileServer(lambda request: answer) as server:
        client = N11Client(TEST_KEY, TEST_SECRET, server.url, ClientSettings(**TRICKLING, call_timeout=0.5))
        for _ in range(3):
            assert client.check_credentials() == 3
        time.sleep(0.7)  # past the deadline of the last call: its timer must not cut the next one
        assert client.check_credentials() == 3


def test_one_watchdog_thread_serves_every_deadline():
    for _ in range(50):
        with deadline(30):
            pass
    assert [t.name for t in threading.enumerate()].count("n11-deadlines") == 1


def test_a_short_deadline_set_while_a_long_one_waits_still_expires_on_time():
    with deadline(30) as long_one, deadline(0.1) as short_one:
        time.sleep(0.4)
        assert short_one.expired and not long_one.expired


def test_a_deadline_of_a_finished_exchange_cuts_nothing_when_it_passes():
    with deadline(0.05) as finished:
        pass
    time.sleep(0.2)
    assert not finished.expired
