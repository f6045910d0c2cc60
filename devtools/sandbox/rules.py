"""N11's enums, limits and write rules as pure functions, so the account and endpoint modules just hold data."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from devtools.sandbox.wire import ISTANBUL

PRODUCT_STATUSES = (
    "Active",
    "InCatalogApproval",
    "Suspended",
    "CatalogRejected",
    "Prohibited",
    "Unlisted",
    "InApproval",
)
SALE_STATUSES = ("Before_Sale", "On_Sale", "Out_Of_Stock", "Sale_Closed")
PACKAGE_STATUSES = ("Created", "Picking", "Shipped", "Delivered", "Cancelled", "UnSupplied", "Unpacked")
UNPACKED = "Unpacked"
DEAD = ("Cancelled", "UnSupplied")
SENDERS = ("SELLER", "N11")
CANCEL_REASONS = (61, 62, 63, 64, 65)  # out of stock, defective, wrong price, force majeure, other

MAX_PRODUCT_PAGE = 250
MAX_PACKAGE_PAGE = 100
HOUR_MS = 3600 * 1000
MAX_WINDOW_MS = 15 * 24 * HOUR_MS
FIRST_SERVED_MS = int(
    datetime(2024, 11, 1, tzinfo=ISTANBUL).timestamp() * 1000
)  # older orders are never served

PRICE_STOCK_UPDATE = "price-stock-update"
PRODUCT_UPDATE = "product-update"
PRODUCT_CREATE = "product-create"
MIN_TITLE = 15
CREATE_REQUIRED = ("title", "description", "categoryId", "currencyType", "productMainId", "preparingDay",
                   "shipmentTemplate", "quantity", "images", "attributes", "salePrice", "listPrice", "vatRate")
MAX_SKUS = 1000
MAX_QUANTITY = 999_999
MAX_DESCRIPTION = 30_000
CURRENCIES = ("TL", "USD", "EUR")
VAT_RATES = (0, 1, 10, 20)
UPDATABLE_STATUSES = ("Active", "Suspended")
CREATE_ONLY_FIELDS = ("title", "categoryId", "images", "attributes")
# What of a catalogue-matched product belongs to N11's catalogue; its seller-level fields (status, preparing days,
# shipment template, VAT, stock, price) stay the seller's.
CONTENT_FIELDS = ("description",)
UPDATED_FIELDS = {
    PRICE_STOCK_UPDATE: ("listPrice", "salePrice", "quantity", "currencyType"),
    PRODUCT_UPDATE: ("status", "preparingDay", "shipmentTemplate", "currencyType", "description", "vatRate"),
}
# Fields product-update applies only with their delete flag set; without it N11 silently ignores them.
FLAGGED_FIELDS = {"productMainId": "deleteProductMainId", "maxPurchaseQuantity": "deleteMaxPurchaseQuantity"}
PRICE_FLOOR = Decimal("0.2")  # a new sale price under 20% of the current one is refused as a typo
PRICE_CEILING = 5  # and so is one over five times the current one
CENT = Decimal("0.01")
SUCCESS_REASON = "Başarıyla tamamlandı."


def canonical_status(raw: str | None) -> str | None:
    """The package status a string means, compared trimmed and case-insensitively (UnPacked is Unpacked)."""
    wanted = (raw or "").strip().casefold()
    return next((status for status in PACKAGE_STATUSES if status.casefold() == wanted), None)


def sale_status(status: str, quantity: int) -> str:
    """The saleStatus N11 derives from a product's status and stock."""
    if status == "Active":
        return "On_Sale" if quantity > 0 else "Out_Of_Stock"
    if status in ("Suspended", "Prohibited"):
        return "Sale_Closed"
    return "Before_Sale"


def line_amount(line: dict) -> Decimal:
    """What the seller invoices for a line: unit price times quantity less every discount."""
    return line["price"] * line["quantity"] - line["totalSellerDiscountPrice"] - line["mallDiscount"]


def package_totals(lines: list[dict]) -> dict[str, Decimal]:
    """A package's totalAmount (before discounts) and totalDiscountAmount, from its lines."""
    total = sum((line["price"] * line["quantity"] for line in lines), Decimal("0.00"))
    invoiced = sum((line["sellerInvoiceAmount"] for line in lines), Decimal("0.00"))
    return {"totalAmount": total, "totalDiscountAmount": total - invoiced}


def payload_skus(body: Any) -> list | None:
    """The SKU list of a write body {"payload": {"skus": [...]}}, or None when the body has none."""
    payload = body.get("payload") if isinstance(body, dict) else None
    skus = payload.get("skus") if isinstance(payload, dict) else None
    return skus if isinstance(skus, list) else None


def reject_reasons(kind: str, skus: list | None) -> list[str]:
    """Why N11 refuses a whole write body (the task answers REJECT); empty when it is accepted."""
    if not skus:
        return ["İstek gövdesi en az bir sku içeren payload.skus listesi olmalıdır."]
    if len(skus) > MAX_SKUS:
        return [f"Bir istekte en fazla {MAX_SKUS} sku gönderilebilir, {len(skus)} sku gönderildi."]
    reasons = [reason for sku in skus for reason in _sku_problems(kind, sku)]
    return list(dict.fromkeys(reasons))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _has_two_decimals(value: Any) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value.as_tuple().exponent == -2


def _sku_problems(kind: str, sku: Any) -> list[str]:
    if not isinstance(sku, dict) or not isinstance(sku.get("stockCode"), str) or not sku["stockCode"].strip():
        return ["Her sku için stockCode alanı zorunludur."]
    code = sku["stockCode"]
    problems = [f"{code}: {name} alanı null gönderilemez." for name, value in sku.items() if value is None]
    prices = {name: sku[name] for name in ("listPrice", "salePrice") if sku.get(name) is not None}
    if len(prices) == 1:
        problems.append(f"{code}: listPrice ve salePrice birlikte gönderilmelidir.")
    malformed = [name for name, value in prices.items() if not _has_two_decimals(value)]
    if malformed:
        problems.append(
            f"{code}: {', '.join(malformed)} noktalı ve iki ondalık basamaklı bir sayı olmalıdır."
        )
    elif len(prices) == 2 and prices["listPrice"] < prices["salePrice"]:
        problems.append(f"{code}: listPrice, salePrice değerinden küçük olamaz.")
    quantity = sku.get("quantity")
    if quantity is not None and not (_is_int(quantity) and 0 <= quantity <= MAX_QUANTITY):
        problems.append(f"{code}: Stok miktarı 0 ile {MAX_QUANTITY} arasında bir tam sayı olmalıdır.")
    if sku.get("currencyType") is not None and sku["currencyType"] not in CURRENCIES:
        problems.append(f"{code}: Geçersiz para birimi: {sku['currencyType']}.")
    if kind == PRODUCT_UPDATE:
        problems += _product_info_problems(code, sku)
    if kind == PRODUCT_CREATE:
        problems += _product_create_problems(code, sku)
    return problems


def _product_create_problems(code: str, sku: dict) -> list[str]:
    """A product-create SKU without a required field, with a short title, a bad VAT rate or no https image."""
    problems = [f"{code}: {name} alanı zorunludur." for name in CREATE_REQUIRED if name not in sku]
    title = sku.get("title")
    if isinstance(title, str) and len(title.strip()) < MIN_TITLE:
        problems.append(f"{code}: Ürün başlığı en az {MIN_TITLE} karakter olmalıdır.")
    vat = sku.get("vatRate")
    if vat is not None and not (_is_int(vat) and vat in VAT_RATES):
        problems.append(f"{code}: Geçersiz KDV oranı: {vat}.")
    images = sku.get("images")
    if images is not None and not (isinstance(images, list) and images and all(
            isinstance(image, dict) and str(image.get("url", "")).startswith("https://") for image in images)):
        problems.append(f"{code}: En az bir görsel gönderilmeli ve görsel adresleri https ile başlamalıdır.")
    if sku.get("attributes") is not None and not isinstance(sku["attributes"], list):
        problems.append(f"{code}: attributes bir liste olmalıdır.")
    return problems


def _product_info_problems(code: str, sku: dict) -> list[str]:
    problems = [
        f"{code}: {name} alanı yalnızca ürün oluşturulurken gönderilebilir."
        for name in CREATE_ONLY_FIELDS
        if name in sku
    ]
    if sku.get("status") is not None and sku["status"] not in UPDATABLE_STATUSES:
        problems.append(f"{code}: Geçersiz ürün durumu: {sku['status']} (Active veya Suspended olmalıdır).")
    preparing = sku.get("preparingDay")
    if preparing is not None and not (_is_int(preparing) and preparing > 0):
        problems.append(f"{code}: preparingDay 0'dan büyük bir tam sayı olmalıdır.")
    vat = sku.get("vatRate")
    if vat is not None and not (_is_int(vat) and vat in VAT_RATES):
        problems.append(f"{code}: Geçersiz KDV oranı: {vat}.")
    description = sku.get("description")
    if description is not None and not (isinstance(description, str) and len(description) <= MAX_DESCRIPTION):
        problems.append(f"{code}: Açıklama en fazla {MAX_DESCRIPTION} karakter olabilir.")
    return problems


def sku_failure(kind: str, product: dict | None, sku: dict) -> str | None:
    """Why N11 fails one SKU of an accepted task (item status FAIL), or None when it succeeds."""
    if product is None:
        return "Ürün bulunamadı."
    if product["status"] not in UPDATABLE_STATUSES:
        return f"Ürün {product['status']} durumunda olduğu için güncellenemez."
    if kind == PRODUCT_UPDATE and product["catalogId"] is not None and any(f in sku for f in CONTENT_FIELDS):
        return "Katalog ürünlerinin içeriği güncellenemez; içerik N11 kataloğuna aittir."
    if kind == PRICE_STOCK_UPDATE and "salePrice" in sku:
        floor = (product["salePrice"] * PRICE_FLOOR).quantize(CENT)
        ceiling = (product["salePrice"] * PRICE_CEILING).quantize(CENT)
        if sku["salePrice"] < floor:
            return (
                f"Ürünün fiyatında fahiş fiyat düşüklüğü tespit edildi, güncellenmedi. (Minimum {floor} TL)"
            )
        if sku["salePrice"] > ceiling:
            return f"Ürünün fiyatında fahiş fiyat artışı tespit edildi, güncellenmedi. (Maximum {ceiling} TL)"
    return None


def locked_reasons(skus: list | None, locked: set[str]) -> list[str]:
    """Why N11 refuses a whole write body for SKUs it holds locked (a reason no payload rule shows)."""
    return [f"{sku['stockCode']}: Ürün üzerinde işlem kilidi var, güncelleme yapılamaz."
            for sku in skus or [] if isinstance(sku, dict) and sku.get("stockCode") in locked]


def apply_sku(kind: str, product: dict, sku: dict) -> None:
    """Apply a succeeded SKU to its product: sent fields change, a field left out keeps its value."""
    for name in UPDATED_FIELDS[kind]:
        if name in sku:
            product[name] = sku[name]
    if kind == PRODUCT_UPDATE:
        for name, flag in FLAGGED_FIELDS.items():
            if name in sku and sku.get(flag) is True:
                product[name] = sku[name]
    product["saleStatus"] = sale_status(product["status"], product["quantity"])
