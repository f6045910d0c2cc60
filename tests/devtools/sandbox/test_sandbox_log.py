"""The request log: every request in order, with what tests assert on, and never the secret."""

from decimal import Decimal

from devtools.sandbox import DEMO_API_KEY, DEMO_API_SECRET

PRODUCTS = "/ms/product-query"
PRICE_STOCK = "/ms/product/tasks/price-stock-update"


def test_requests_are_logged_in_order_without_the_secret(api, api_for, sandbox):
    api.get(PRODUCTS, page=0, size=1)
    body = {
        "payload": {
            "integrator": "t",
            "skus": [
                {"stockCode": "SKU-00001", "listPrice": Decimal("99.90"), "salePrice": Decimal("89.90")}
            ],
        }
    }
    api.post(PRICE_STOCK, body)
    api_for(appkey=DEMO_API_KEY).get(PRODUCTS)
    first, write, keyless = sandbox.requests
    assert (first.method, first.path, first.query, first.body, first.status) == (
        "GET",
        PRODUCTS,
        {"page": "0", "size": "1"},
        None,
        200,
    )
    assert first.has_secret and first.api_key == DEMO_API_KEY and first.fault is None
    assert write.body == body and str(write.body["payload"]["skus"][0]["salePrice"]) == "89.90"
    assert not keyless.has_secret and keyless.status == 500
    assert DEMO_API_SECRET not in repr(sandbox.requests)


def test_calls_filters_on_method_and_exact_path_and_clear_log_empties(api, sandbox):
    api.get(PRODUCTS, size=1)
    api.get(PRODUCTS + "/other")
    assert [record.path for record in sandbox.calls("get", PRODUCTS)] == [PRODUCTS]
    assert sandbox.calls("POST", PRODUCTS) == []
    sandbox.clear_log()
    assert sandbox.requests == []
