"""GET /ms/product-query: Spring paging, its 250 limit, enum checks, filters and exact prices."""

import re
from decimal import Decimal

import pytest

from devtools.sandbox import wire

PRODUCTS = "/ms/product-query"


def test_pages_to_the_end_in_product_id_order(api):
    rows, page = [], 0
    while True:
        answer = wire.loads(api.get(PRODUCTS, page=page, size=250).content)
        if not answer["content"]:
            break
        assert answer["number"] == page and answer["first"] == (page == 0)
        rows += answer["content"]
        page += 1
    assert page == 2 == answer["totalPages"]
    assert answer["empty"] and answer["last"] and answer["numberOfElements"] == 0
    assert len(rows) == answer["totalElements"] == 300
    ids = [row["n11ProductId"] for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == 300


def test_default_page_size_is_20(api):
    answer = api.get(PRODUCTS).json()
    assert answer["size"] == 20 and answer["numberOfElements"] == 20 and answer["totalPages"] == 15


@pytest.mark.parametrize("params", [{"size": 251}, {"size": 0}, {"page": -1}])
def test_out_of_range_paging_is_500_constraint_violation(api, params):
    answer = api.get(PRODUCTS, **params)
    assert answer.status_code == 500
    assert answer.json()["@type"] == "ConstraintViolationException"


@pytest.mark.parametrize("params", [{"saleStatus": "Selling"}, {"productStatus": "active"}, {"page": "x"}])
def test_bad_enum_or_number_is_500_illegal_argument(api, params):
    answer = api.get(PRODUCTS, **params)
    assert answer.status_code == 500
    assert answer.json()["@type"] == "IllegalArgumentException"


def test_filters(api, account):
    [row] = api.get(PRODUCTS, stockCode="SKU-00003").json()["content"]
    assert row["stockCode"] == "SKU-00003"
    suspended = api.get(PRODUCTS, productStatus="Suspended", size=250).json()
    expected = [p for p in account.products.values() if p["status"] == "Suspended"]
    assert suspended["totalElements"] == len(expected) > 0
    assert {row["saleStatus"] for row in suspended["content"]} == {"Sale_Closed"}
    main_id = account.products["SKU-00001"]["productMainId"]
    variants = api.get(PRODUCTS, productMainId=main_id).json()["content"]
    assert "SKU-00001" in {row["stockCode"] for row in variants}
    by_id = api.get(PRODUCTS, id=row["n11ProductId"]).json()["content"]
    assert [found["stockCode"] for found in by_id] == ["SKU-00003"]
    assert api.get(PRODUCTS, stockCode="NOPE").json()["content"] == []


def test_prices_are_json_numbers_with_two_decimals(api, account):
    answer = api.get(PRODUCTS, size=50)
    assert re.search(r'"salePrice": \d+\.\d\d[,}]', answer.text)
    for row in wire.loads(answer.content)["content"]:
        for name in ("salePrice", "listPrice"):
            assert isinstance(row[name], Decimal) and row[name].as_tuple().exponent == -2
        assert row["salePrice"] == account.products[row["stockCode"]]["salePrice"]
