"""Field groups: the units N11 updates together, and which update type covers which.

A group is compared, sent and confirmed as a whole: stock (``quantity``), price (list and sale price with the
currency, which N11 wants together) and product info. Columns are named as in the shop's products source.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_STOCK = "price-stock-update"
PRODUCT_UPDATE = "product-update"
ENDPOINTS = (PRICE_STOCK, PRODUCT_UPDATE)
PRODUCT_CREATE = "product-create"  # new products (include.products.create): batched and sent like the updates
UPDATABLE_STATUSES = ("Active", "Suspended")  # N11 accepts updates only for products in these states


@dataclass(frozen=True, eq=False)  # the three groups are singletons, compared and hashed by identity
class Group:
    name: str
    endpoint: str
    fields: dict[str, str]  # shop column -> N11 field, in payload order

    @property
    def columns(self) -> list[str]:
        return list(self.fields)


STOCK = Group("stock", PRICE_STOCK, {"quantity": "quantity"})
PRICE = Group("price", PRICE_STOCK, {"list_price": "listPrice", "sale_price": "salePrice", "currency": "currencyType"})
INFO = Group("info", PRODUCT_UPDATE, {
    "description": "description", "vat_rate": "vatRate", "preparing_day": "preparingDay",
    "shipment_template": "shipmentTemplate", "status": "status",
})
GROUPS = (STOCK, PRICE, INFO)

COVERED = {
    "all": (STOCK, PRICE, INFO),
    "product_info": (INFO,),
    "price": (PRICE,),
    "stock": (STOCK,),
    "stock_and_price": (STOCK, PRICE),
}

# Every N11 field a group may send, keyed back to its shop column: N11's product rows use the same names.
N11_FIELDS = {column: field for group in GROUPS for column, field in group.fields.items()}


def covered_groups(update_type: str) -> tuple[Group, ...]:
    """The groups an update type sends; the registry has validated the name."""
    return COVERED[update_type]


def groups_of(entry: dict) -> list[Group]:
    """The groups a SKU entry of a payload carries (a group's fields always travel together)."""
    return [group for group in GROUPS if next(iter(group.fields.values())) in entry]
