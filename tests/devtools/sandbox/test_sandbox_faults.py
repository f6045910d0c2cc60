"""Injected faults: each kind, when it strikes relative to processing, path filters and reproducibility."""

import json
import time

import pytest
import requests

from devtools.sandbox import FaultConfig

PRODUCTS = "/ms/product-query"
SHIPMENTS = "/rest/delivery/v1/shipmentPackages"
PRICE_STOCK = "/ms/product/tasks/price-stock-update"
DETAILS = "/ms/product/task-details/page-query"
STOCK_ONLY = {"payload": {"integrator": "t", "skus": [{"stockCode": "SKU-00001", "quantity": 4}]}}


def test_429_carries_retry_after_on_about_half(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("429",))
    answers = [api.get(PRODUCTS) for _ in range(20)]
    assert {answer.status_code for answer in answers} == {429}
    with_header = [answer for answer in answers if "Retry-After" in answer.headers]
    assert 3 <= len(with_header) <= 17 and {answer.headers["Retry-After"] for answer in with_header} == {"1"}


def test_500_is_json_without_a_bad_parameter_name(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("500",))
    answer = api.get(PRODUCTS)
    assert answer.status_code == 500 and answer.json()["@type"] == "InternalServerError"


def test_503_is_an_html_page(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("503",))
    answer = api.get(SHIPMENTS)
    assert answer.status_code == 503 and answer.headers["Content-Type"].startswith("text/html")


def test_slow_answers_normally_after_a_delay(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("slow",), slow_seconds=0.3)
    started = time.monotonic()
    answer = api.get(PRODUCTS, size=1)
    assert answer.status_code == 200 and time.monotonic() - started >= 0.3
    assert sandbox.requests[-1].fault == "slow"


def test_reset_closes_the_connection_without_an_answer(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("reset",))
    with pytest.raises(requests.ConnectionError):
        api.get(PRODUCTS)
    assert (sandbox.requests[-1].status, sandbox.requests[-1].fault) == (0, "reset")
    sandbox.faults.rate = 0.0
    assert api.get(PRODUCTS).status_code == 200


def test_truncated_is_200_with_half_the_body_after_the_work_is_done(api, sandbox):
    whole = api.get(PRODUCTS, size=5).content
    sandbox.faults = FaultConfig(rate=1.0, kinds=("truncated",))
    cut = api.get(PRODUCTS, size=5)
    assert cut.status_code == 200 and cut.content == whole[: len(whole) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert api.post(PRICE_STOCK, STOCK_ONLY).status_code == 200
    sandbox.faults.rate = 0.0
    details = api.post(DETAILS, {"taskId": 1000, "pageable": {"page": 0, "size": 10}})
    assert details.status_code == 200  # the cut write still created its task


def test_a_faulted_write_creates_no_task(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("500", "503", "429"))
    assert {api.post(PRICE_STOCK, STOCK_ONLY).status_code for _ in range(6)} <= {500, 503, 429}
    sandbox.faults.rate = 0.0
    assert api.post(PRICE_STOCK, STOCK_ONLY).json()["id"] == 1000


def test_faults_only_strike_the_chosen_paths(api, sandbox):
    sandbox.faults = FaultConfig(rate=1.0, kinds=("500",), paths=("/ms/",))
    assert api.get(SHIPMENTS, size=1).status_code == 200
    assert api.get(PRODUCTS, size=1).status_code == 500


def test_fault_draws_are_reproducible(start_sandbox, connect):
    runs = []
    for _ in range(2):
        sandbox = start_sandbox()
        sandbox.faults = FaultConfig(rate=0.5, kinds=("429", "500", "503"), seed=11)
        api = connect(sandbox)
        runs.append([api.get(PRODUCTS, size=1).status_code for _ in range(12)])
    assert runs[0] == runs[1] and len(set(runs[0])) > 1


def test_unknown_fault_kind_is_refused():
    with pytest.raises(ValueError):
        FaultConfig(kinds=("teapot",))
