"""Seeded demo data: a seller account with Turkish products, a month of orders and their return claims, and the shop
side to match.

Everything is drawn from one random.Random(seed), so (seed, end, counts) fix the data exactly.
"""

import copy
import random
from datetime import UTC, datetime
from decimal import Decimal

from devtools.sandbox import claims, rules, vocabulary
from devtools.sandbox.accounts import Account
from devtools.sandbox.vocabulary import ProductKind

DEMO_API_KEY = "demo-appkey"
DEMO_API_SECRET = "demo-appsecret"

DAY_MS = 24 * rules.HOUR_MS
ZERO = Decimal("0.00")
PRODUCT_STATUS_WEIGHTS = {
    "Active": 85,
    "Suspended": 7,
    "InApproval": 3,
    "CatalogRejected": 3,
    "Prohibited": 2,
}
CATALOGUE_SHARE = 0.10
N11_SENDER_SHARE = 0.10
SPLIT_SHARE = 0.06  # of the orders with two or more lines
QUANTITY_SPLIT_SHARE = 0.15  # of the orders with a line of two or more items
NULL_ID_SHARE = 0.01  # of the packages never split: N11 can send a package without an id
PICKUP_SHARE = 0.05
PICKUP_TYPES = ("KTN", "EASYPOINT", "PUP")
STRAY_STATUS_SHARE = 0.03
SHOP_ONLY_SKUS = 20
# The statuses an order passes through after Created to reach its final status.
STATUS_PATHS = {
    "Created": (),
    "Picking": ("Picking",),
    "Shipped": ("Picking", "Shipped"),
    "Delivered": ("Picking", "Shipped", "Delivered"),
    "Cancelled": ("Cancelled",),
    "UnSupplied": ("Picking", "UnSupplied"),
}
STRAY_SPELLINGS = {
    "Created": "created ",
    "Picking": " Picking",
    "Shipped": " shipped",
    "Delivered": "DELIVERED ",
    "Cancelled": "CANCELLED",
    "UnSupplied": "Unsupplied",
}
ASCII = str.maketrans("çğıöşüÇĞİÖŞÜ", "cgiosuCGIOSU")


def generate_account(
    seed: int = 42,
    *,
    api_key: str = DEMO_API_KEY,
    api_secret: str = DEMO_API_SECRET,
    products: int = 300,
    days: int = 30,
    end: datetime | None = None,
    packages_per_day: int = 12,
) -> Account:
    """A seller account with `products` SKUs and about `packages_per_day` packages a day in [end - days, end), and
    return claims for some lines of its delivered packages.

    `end` defaults to now (UTC) rounded down to the hour; pass a fixed one for reproducible data.
    """
    if end is None:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    elif end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    rng = random.Random(seed)
    account = Account(api_key, api_secret, products=_products(rng, products))
    _add_orders(rng, account, int(end.timestamp() * 1000), days, packages_per_day)
    # a stream of their own: the products and orders of a seed stay what they were before claims existed
    claims.add_claims(account, random.Random(f"claims-{seed}"), int(end.timestamp() * 1000))
    return account


def _title(rng: random.Random, kind: ProductKind, brand: str) -> str:
    return f"{brand} {rng.choice(vocabulary.ADJECTIVES)} {kind.noun}"


def _description(rng: random.Random, title: str) -> str:
    return (
        f"<p><strong>{title}</strong></p><p>{' '.join(rng.sample(vocabulary.DESCRIPTION_SENTENCES, 3))}</p>"
    )


def _list_price(rng: random.Random, kind: ProductKind) -> Decimal:
    return Decimal(f"{rng.randint(*kind.prices)}.90")


def _barcode(rng: random.Random) -> str:
    """An EAN-13 with Turkey's 869 prefix and a valid check digit."""
    digits = "869" + "".join(str(rng.randrange(10)) for _ in range(9))
    weighted = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(digits))
    return digits + str(-weighted % 10)


def _products(rng: random.Random, count: int) -> dict[str, dict]:
    """Products in groups of variants (one productMainId, one SKU per colour or size)."""
    products: dict[str, dict] = {}
    n11_id = 540_000_000 + rng.randrange(100_000)
    while len(products) < count:
        kind = rng.choice(vocabulary.PRODUCT_KINDS)
        brand = rng.choice(vocabulary.BRANDS)
        title = _title(rng, kind, brand)
        main_id = f"PM-{len(products) + 1:05d}"
        values = rng.sample(kind.values, rng.randint(1, min(3, len(kind.values)))) if kind.values else [None]
        list_price = _list_price(rng, kind)
        for value in values[: count - len(products)]:
            n11_id += rng.randint(1, 5000)
            stock_code = f"SKU-{len(products) + 1:05d}"
            products[stock_code] = _product(
                rng,
                kind,
                brand,
                f"{title} {value}" if value else title,
                value,
                stock_code,
                n11_id,
                main_id,
                list_price,
            )
    return products


def _product(
    rng: random.Random,
    kind: ProductKind,
    brand: str,
    title: str,
    value: str | None,
    stock_code: str,
    n11_id: int,
    main_id: str,
    list_price: Decimal,
) -> dict:
    status = rng.choices(tuple(PRODUCT_STATUS_WEIGHTS), tuple(PRODUCT_STATUS_WEIGHTS.values()))[0]
    quantity = 0 if rng.random() < 0.08 else rng.randint(1, 500)
    discount = rng.choice(("1.00", "1.00", "0.95", "0.90", "0.85", "0.80"))
    attributes = [{"id": 1, "attributeName": "Marka", "valueId": None, "customValue": brand}]
    if value:
        attributes.append({"id": 2, "attributeName": kind.variant, "valueId": None, "customValue": value})
    return {
        "n11ProductId": n11_id,
        "stockCode": stock_code,
        "title": title,
        "description": _description(rng, title),
        "categoryId": kind.category_id,
        "productMainId": main_id,
        "status": status,
        "saleStatus": rules.sale_status(status, quantity),
        "preparingDay": rng.randint(1, 5),
        "shipmentTemplate": rng.choice(vocabulary.SHIPMENT_TEMPLATES),
        "maxPurchaseQuantity": rng.choice((None, None, None, 5, 10)),
        "catalogId": rng.randint(10_000_000, 99_999_999) if rng.random() < CATALOGUE_SHARE else None,
        "barcode": _barcode(rng),
        "currencyType": "TL",
        "salePrice": (list_price * Decimal(discount)).quantize(rules.CENT),
        "listPrice": list_price,
        "quantity": quantity,
        "attributes": attributes,
        "imageUrls": [
            f"https://images.example.com/n11-demo/{stock_code.lower()}-{number}.jpg"
            for number in range(1, rng.randint(1, 4) + 1)
        ],
        "vatRate": kind.vat_rate,
    }


def _customer(rng: random.Random, number: int) -> dict:
    """A buyer with a home address; about one in ten invoices a company."""
    first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
    city = rng.choice(tuple(vocabulary.CITIES))
    plate, districts = vocabulary.CITIES[city]
    district = rng.choice(tuple(districts))
    neighbourhood = rng.choice(districts[district])
    home = {
        "fullName": f"{first} {last}",
        "address": f"{neighbourhood} Mah. {rng.choice(vocabulary.STREETS)} No:{rng.randint(1, 120)}"
        f" D:{rng.randint(1, 20)}",
        "city": city,
        "district": district,
        "neighborhood": neighbourhood,
        "postalCode": f"{plate:02d}{rng.randint(0, 999):03d}",
        "gsm": f"05{rng.randint(300_000_000, 559_999_999)}",
        "tcId": str(rng.randrange(10**10, 10**11)),
        "taxId": None,
        "taxHouse": None,
        "invoiceType": 1,
    }
    billing = home
    if rng.random() < 0.10:
        billing = home | {
            "fullName": f"{last} {rng.choice(vocabulary.COMPANY_SUFFIXES)}",
            "tcId": None,
            "taxId": str(rng.randrange(10**9, 10**10)),
            "taxHouse": f"{district} Vergi Dairesi",
            "invoiceType": 2,
        }
    return {
        "id": 70_000_000 + number * 17 + rng.randrange(17),
        "name": home["fullName"],
        "email": f"{first}.{last}{rng.randint(1, 99)}@example.com".translate(ASCII).lower(),
        "home": home,
        "billing": billing,
    }


def _pickup_point(rng: random.Random, customer: dict) -> dict:
    """A pick-up point near the buyer: N11 sends its address with no fullName (the point's name is in the
    address line); the buyer is only in the billing address."""
    home = customer["home"]
    return home | {
        "fullName": None,
        "address": f"{home['neighborhood']} {rng.choice(vocabulary.PICKUP_SHOPS)} Teslim Noktası, "
        f"{home['neighborhood']} Mah. {rng.choice(vocabulary.STREETS)} No:{rng.randint(1, 120)}",
        "gsm": None,
        "tcId": None,
    }


def _line(rng: random.Random, product: dict, line_id: int) -> dict:
    quantity = rng.choices((1, 2, 3), (80, 15, 5))[0]
    gross = product["salePrice"] * quantity
    seller_discount = (
        (gross * Decimal(rng.choice(("0.05", "0.10")))).quantize(rules.CENT) if rng.random() < 0.15 else ZERO
    )
    coupon = Decimal("25.00") if gross > 250 and rng.random() < 0.05 else ZERO
    line = {
        "orderLineId": line_id,
        "productId": product["n11ProductId"],
        "productName": product["title"],
        "stockCode": product["stockCode"],
        "quantity": quantity,
        "price": product["salePrice"],
        "sellerDiscount": seller_discount,
        "sellerCouponDiscount": coupon,
        "totalSellerDiscountPrice": seller_discount + coupon,
        "mallDiscount": (gross * Decimal("0.05")).quantize(rules.CENT) if rng.random() < 0.05 else ZERO,
        "sellerInvoiceAmount": ZERO,
        "vatRate": product["vatRate"],
        "commissionRate": Decimal(rng.choice(vocabulary.COMMISSION_RATES)),
        "orderItemLineItemStatusName": "Created",
        "variantAttributes": [
            {"name": attribute["attributeName"], "value": attribute["customValue"]}
            for attribute in product["attributes"][1:]
        ],
    }
    line["sellerInvoiceAmount"] = rules.line_amount(line)
    return line


def _package(
    rng: random.Random, package_id: int, order_number: str, created_ms: int, customer: dict, lines: list[dict]
) -> dict:
    pickup = rng.random() < PICKUP_SHARE
    tracking = str(rng.randrange(10**11, 10**12))
    return {
        "id": package_id,
        "orderNumber": order_number,
        "shipmentPackageStatus": "Created",
        "customerId": customer["id"],
        "customerfullName": None if pickup else customer["name"],
        "customerEmail": customer["email"],
        "billingAddress": customer["home"] if pickup else customer["billing"],
        "shippingAddress": _pickup_point(rng, customer) if pickup else customer["home"],
        "deliveryAddressType": rng.choice(PICKUP_TYPES) if pickup else None,
        "shipmentMethod": 1,
        "cargoProviderName": rng.choice(vocabulary.CARRIERS),
        "cargoTrackingNumber": tracking,
        "cargoTrackingLink": f"https://kargotakip.example.com/{tracking}",
        **rules.package_totals(lines),
        "lastModifiedDate": created_ms,
        "agreedDeliveryDate": created_ms + rng.randint(1, 5) * DAY_MS,
        "packageHistories": [{"createdDate": created_ms, "status": "Created"}],
        "lines": lines,
        "_sender": "N11" if rng.random() < N11_SENDER_SHARE else "SELLER",
        "_created": created_ms,
    }


def _final_status(rng: random.Random, age_ms: int) -> str:
    """Young orders are still open, old ones mostly delivered."""
    if age_ms < DAY_MS:
        return rng.choices(("Created", "Picking", "Cancelled"), (60, 35, 5))[0]
    if age_ms < 4 * DAY_MS:
        return rng.choices(("Picking", "Shipped", "Cancelled", "UnSupplied"), (25, 65, 5, 5))[0]
    return rng.choices(("Delivered", "Shipped", "Cancelled", "UnSupplied"), (78, 8, 9, 5))[0]


def _later(rng: random.Random, moment_ms: int, end_ms: int) -> int:
    return min(moment_ms + rng.randrange(rules.HOUR_MS, 30 * rules.HOUR_MS), max(moment_ms, end_ms - 1))


def _add_orders(rng: random.Random, account: Account, end_ms: int, days: int, per_day: int) -> None:
    """Create the packages in Created state, then split some and move each through its statuses."""
    sellable = [
        product for product in account.products.values() if product["status"] in rules.UPDATABLE_STATUSES
    ]
    if not sellable:
        return
    customers = [_customer(rng, number) for number in range(max(1, per_day * days // 3))]
    created = sorted(rng.randrange(end_ms - days * DAY_MS, end_ms) for _ in range(per_day * days))
    switch = len(created) * 3 // 5  # order numbers grew from 12 to 13 digits: the later orders have 13
    package_base = rng.randrange(300_000_000, 400_000_000)
    line_id = 880_000_000 + rng.randrange(1_000_000)
    for index, created_ms in enumerate(created):
        lines = []
        for product in rng.sample(
            sellable, min(len(sellable), rng.choices((1, 2, 3, 4), (55, 25, 12, 8))[0])
        ):
            line_id += rng.randint(1, 9)
            lines.append(_line(rng, product, line_id))
        order_number = str(10**12 + (index - switch) * 37 + rng.randrange(37))
        account.add_package(
            _package(
                rng,
                package_base + index * 11 + rng.randrange(11),
                order_number,
                created_ms,
                rng.choice(customers),
                lines,
            )
        )
    for package in list(account.packages):
        moment = package["_created"]
        path = STATUS_PATHS[_final_status(rng, end_ms - moment)]
        reading = rng.choice(("unpacked", "cancelled"))
        several = [line for line in package["lines"] if line["quantity"] > 1]
        if len(package["lines"]) > 1 and rng.random() < SPLIT_SHARE:
            moment = _later(rng, moment, end_ms)
            account.split_package(package["id"], moment, reading)
        elif several and rng.random() < QUANTITY_SPLIT_SHARE:
            moment = _later(rng, moment, end_ms)
            account.split_by_quantity(package["id"], several[0]["orderLineId"], 1, moment, reading)
        elif rng.random() < NULL_ID_SHARE:
            package["id"] = None
        for status in path:
            moment = _later(rng, moment, end_ms)
            account.set_package_status(package["orderNumber"], status, moment)
        if rng.random() < STRAY_STATUS_SHARE:
            for live in account.package(package["orderNumber"]):
                status = rules.canonical_status(live["shipmentPackageStatus"])
                if status != rules.UNPACKED:
                    live["shipmentPackageStatus"] = STRAY_SPELLINGS[status]


def shop_products(account: Account, seed: int = 42) -> list[dict]:
    """The shop's side (rows of n11_product_source): mostly N11's values, some changed, plus shop-only SKUs.

    About 10% of the SKUs differ in stock, 5% in price and 3% in description, so a sync has work to do.
    """
    rng = random.Random(seed)
    with account.lock:
        products = [copy.deepcopy(account.products[code]) for code in sorted(account.products)]
    rows = [_shop_row(rng, product) for product in products]
    for number in range(1, SHOP_ONLY_SKUS + 1):
        kind = rng.choice(vocabulary.PRODUCT_KINDS)
        title = _title(rng, kind, rng.choice(vocabulary.BRANDS))
        price = _list_price(rng, kind)
        rows.append(
            {
                "stock_code": f"SHOP-{number:04d}",
                "title": title,
                "description": _description(rng, title),
                "list_price": price,
                "sale_price": price,
                "currency": "TL",
                "quantity": rng.randint(0, 200),
                "vat_rate": kind.vat_rate,
                "preparing_day": rng.randint(1, 5),
                "shipment_template": rng.choice(vocabulary.SHIPMENT_TEMPLATES),
                "status": "Active",
            }
        )
    return rows


def _shop_row(rng: random.Random, product: dict) -> dict:
    row = {
        "stock_code": product["stockCode"],
        "title": product["title"],
        "description": product["description"],
        "list_price": product["listPrice"].quantize(rules.CENT),
        "sale_price": product["salePrice"].quantize(rules.CENT),
        "currency": product["currencyType"],
        "quantity": product["quantity"],
        "vat_rate": product["vatRate"],
        "preparing_day": product["preparingDay"],
        "shipment_template": product["shipmentTemplate"],
        "status": "Suspended" if product["status"] == "Suspended" else "Active",
    }
    if rng.random() < 0.10:
        quantity = rng.randint(0, 200)
        row["quantity"] = quantity + 1 if quantity == row["quantity"] else quantity
    if rng.random() < 0.05:
        factor = Decimal(rng.choice(("0.90", "0.95", "1.05", "1.10")))  # scaling both keeps list >= sale
        row["list_price"] = (row["list_price"] * factor).quantize(rules.CENT)
        row["sale_price"] = (row["sale_price"] * factor).quantize(rules.CENT)
    if rng.random() < 0.03:
        row["description"] += "<p>Yeni sezon ürünüdür.</p>"
    return row
