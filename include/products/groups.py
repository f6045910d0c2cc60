"""Field groups: the units N11 updates together, which update type covers which, and what each is compared with.

A group is compared, sent and confirmed as a whole, in batches of its own: a refused price never holds the
stock back, nor refused content the status. Stock (``quantity``) and price (list and sale price with the
currency, which N11 wants together) go to ``price-stock-update``, where a field left out is not changed; the
listing fields (status, preparing days, shipment template, VAT) and the content (description) go to
``product-update``. N11 refuses content changes of catalogue products but takes their listing fields.

What a group is compared with: stock and price with N11's **live** values from the same run's scan (so any
drift, whatever caused it, is put right by the next run); listing and content with the **baseline**, the values
N11 last confirmed, because N11 rewrites descriptions and does not echo every listing field reliably.
Columns are named as in the shop's products source.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICE_STOCK = "price-stock-update"
PRODUCT_UPDATE = "product-update"
ENDPOINTS = (PRICE_STOCK, PRODUCT_UPDATE)
PRODUCT_CREATE = "product-create"  # new products (include.products.create): batched and sent like the updates
UPDATABLE_STATUSES = ("Active", "Suspended")  # N11 accepts updates only for products in these states


@dataclass(frozen=True, eq=False)  # the groups are singletons, compared and hashed by identity
class Group:
    name: str
    endpoint: str
    fields: dict[str, str]  # shop column -> N11 field, in payload order
    live: bool  # compared with N11's live values from the scan (else with the confirmed baseline)

    @property
    def columns(self) -> list[str]:
        return list(self.fields)


STOCK = Group("stock", PRICE_STOCK, {"quantity": "quantity"}, live=True)
PRICE = Group("price", PRICE_STOCK, {"list_price": "listPrice", "sale_price": "salePrice",
                                     "currency": "currencyType"}, live=True)
INFO = Group("info", PRODUCT_UPDATE, {"status": "status", "preparing_day": "preparingDay",
                                      "shipment_template": "shipmentTemplate", "vat_rate": "vatRate"}, live=False)
CONTENT = Group("content", PRODUCT_UPDATE, {"description": "description"}, live=False)
GROUPS = (STOCK, PRICE, INFO, CONTENT)
LIVE_GROUPS = tuple(group for group in GROUPS if group.live)
BASELINE_GROUPS = tuple(group for group in GROUPS if not group.live)

COVERED = {
    "all": GROUPS,
    "product_info": (INFO, CONTENT),
    "price": (PRICE,),
    "stock": (STOCK,),
    "stock_and_price": (STOCK, PRICE),
}

# Every N11 field a group may send, keyed back to its shop column: N11's product rows use the same names.
N11_FIELDS = {column: field for group in GROUPS for column, field in group.fields.items()}
# The live values the scan keeps in n11_product_links, under these column names.
LIVE_COLUMNS = {column: f"n11_{column}" for group in LIVE_GROUPS for column in group.columns}


def covered_groups(update_type: str) -> tuple[Group, ...]:
    """The groups an update type sends; the registry has validated the name."""
    return COVERED[update_type]


def groups_of(entry: dict) -> list[Group]:
    """The groups a SKU entry of a payload carries (a group's fields always travel together)."""
    return [group for group in GROUPS if next(iter(group.fields.values())) in entry]
