"""The product service's listing (/ms/product-query): the seller's products, filtered and paged as N11 does."""

import copy
from collections.abc import Mapping
from typing import Any

from devtools.sandbox import paging, rules
from devtools.sandbox.accounts import Account
from devtools.sandbox.errors import ApiError
from devtools.sandbox.state import SandboxState


def product_query(state: SandboxState, account: Account, query: Mapping[str, str], body: Any) -> dict:
    """GET /ms/product-query: filtered products in n11ProductId order, as a Spring page."""
    page = paging.int_param(query, "page", 0)
    size = paging.int_param(query, "size", paging.DEFAULT_PAGE_SIZE)
    if page < 0 or not 1 <= size <= rules.MAX_PRODUCT_PAGE:
        raise ApiError(
            "ConstraintViolationException",
            f"page must be >= 0, size in 1..{rules.MAX_PRODUCT_PAGE} (page={page}, size={size})",
        )
    for name, enum, allowed in (
        ("saleStatus", "SaleStatus", rules.SALE_STATUSES),
        ("productStatus", "ProductStatus", rules.PRODUCT_STATUSES),
    ):
        if query.get(name) and query[name] not in allowed:
            raise ApiError(
                "IllegalArgumentException", f"No enum constant com.n11.product.{enum}.{query[name]}"
            )
    # Every product belongs to the seller, so the sender filter narrows nothing here.
    wanted = {
        column: query[name]
        for name, column in (
            ("id", "n11ProductId"),
            ("productMainId", "productMainId"),
            ("stockCode", "stockCode"),
            ("saleStatus", "saleStatus"),
            ("productStatus", "status"),
        )
        if query.get(name)
    }
    with account.lock:
        rows = sorted(
            (
                row
                for row in account.products.values()
                if all(str(row[column]) == value for column, value in wanted.items())
            ),
            key=lambda row: row["n11ProductId"],
        )
        content, total_pages = paging.page_of(rows, page, size, state.repeat_page_edge, state.empty_pages)
        content = copy.deepcopy(content)
    return {
        "content": content,
        "totalElements": len(rows),
        "totalPages": total_pages,
        "number": page,
        "numberOfElements": len(content),
        "size": size,
        "first": page == 0,
        "last": page >= total_pages - 1,
        "empty": not content,
    }
