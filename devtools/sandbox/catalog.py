"""N11's catalogue side in the sandbox: each leaf category's attributes, and what product-create does per SKU.

Attributes carry N11's flags (mandatory, variant, custom value allowed) and value lists; a value's id is its
attribute id times 1000 plus its place in the list. ``new_shop_products`` makes shop rows that are not on N11
yet, ready to be created (and a few a shop would get wrong), for the demo.
"""

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from devtools.sandbox import rules, vocabulary
from devtools.sandbox.errors import ApiError
from devtools.sandbox.vocabulary import CATEGORY_TREE


@dataclass(frozen=True)
class Attribute:
    id: int
    name: str
    values: tuple[str, ...]
    custom: bool = False  # N11 takes a value outside the list
    variant: bool = False

    def value_id(self, value: str) -> int:
        return self.id * 1000 + self.values.index(value) + 1


MARKA = Attribute(1, "Marka", (*vocabulary.BRANDS, "Karaca", "Taç", "English Home", "Philips", "JBL", "Xiaomi"),
                  custom=True)
RENK = Attribute(2, "Renk", (*vocabulary.COLOURS, "Mavi", "Turuncu", "Mor", "Kahverengi"), variant=True)
BEDEN = Attribute(3, "Beden", ("XS", "S", "M", "L", "XL", "XXL"), variant=True)
NUMARA = Attribute(4, "Numara", tuple(str(size) for size in range(36, 47)), variant=True)
BOYUT = Attribute(5, "Boyut", ("Tek Kişilik", "Çift Kişilik", "King Size"), variant=True)
GARANTI = Attribute(6, "Garanti Süresi", ("Garantisiz", "6 Ay", "1 Yıl", "2 Yıl", "3 Yıl"))
MATERYAL = Attribute(7, "Materyal", ("Pamuk", "Polyester", "Keten", "Deri", "Silikon", "Granit", "Porselen",
                                     "Bambu"), custom=True)
BAGLANTI = Attribute(8, "Bağlantı Türü", ("Kablolu", "Bluetooth", "Kablosuz (2.4 GHz)"))
HACIM = Attribute(9, "Hacim", ("30 ml", "50 ml", "100 ml", "150 ml"), custom=True)
YAZAR = Attribute(10, "Yazar", ("Sabahattin Ali", "Yaşar Kemal", "Orhan Pamuk", "Halide Edib Adıvar"), custom=True)

# leaf id -> (attribute, mandatory) pairs; Marka (the brand) is mandatory everywhere.
_ELECTRONICS = ((MARKA, True), (RENK, False), (GARANTI, True))
LEAF_ATTRIBUTES: dict[int, tuple[tuple[Attribute, bool], ...]] = {
    1101: ((MARKA, True), (RENK, False), (MATERYAL, False)),
    1102: ((MARKA, True), (GARANTI, True)),
    1201: _ELECTRONICS,
    1202: _ELECTRONICS,
    1301: ((MARKA, True), (RENK, False), (BAGLANTI, True), (GARANTI, True)),
    1302: _ELECTRONICS,
    2101: ((MARKA, True), (RENK, False), (MATERYAL, False)),
    2102: ((MARKA, True), (RENK, False), (MATERYAL, False)),
    2201: ((MARKA, True), (BOYUT, True), (MATERYAL, False)),
    2202: ((MARKA, True), (RENK, False), (MATERYAL, False)),
    3101: ((MARKA, True), (BEDEN, True), (RENK, False), (MATERYAL, False)),
    3102: ((MARKA, True), (BEDEN, True), (RENK, False), (MATERYAL, False)),
    3201: ((MARKA, True), (NUMARA, True), (RENK, False)),
    4001: ((MARKA, True), (HACIM, True)),
    4002: ((MARKA, True), (HACIM, False)),
    5001: ((MARKA, True), (RENK, False)),
    5002: ((MARKA, True), (RENK, False)),
    6001: ((MARKA, True), (YAZAR, True)),
    6002: ((MARKA, True),),
}


def _names(nodes: list[dict]) -> dict[int, tuple[str, bool]]:
    """Every category id of the tree with its name and whether it is a leaf."""
    found, stack = {}, list(nodes)
    while stack:
        node = stack.pop()
        found[node["id"]] = (node["name"], node["subCategories"] is None)
        stack.extend(node["subCategories"] or [])
    return found


CATEGORIES = _names(CATEGORY_TREE)


def categories(state: object, account: object, query: Mapping[str, str], body: object) -> list[dict]:
    """GET /cdn/categories: N11's category tree, the same for every seller."""
    return CATEGORY_TREE


def category_attributes(state: object, account: object, query: Mapping[str, str], body: object) -> dict:
    """GET /cdn/category/{categoryId}/attribute; an unknown or non-leaf id is refused as N11 does (400
    invalidInput)."""
    category_id = int(query["categoryId"])
    name, leaf = CATEGORIES.get(category_id, (None, False))
    if not leaf:
        raise ApiError("invalidInput", f"Kategori bulunamadı veya son seviye bir kategori değil: {category_id}")
    return {"id": category_id, "name": name, "categoryAttributes": [
        {"attributeId": attribute.id, "attributeName": attribute.name, "isMandatory": mandatory,
         "isVariant": attribute.variant, "isSlicer": attribute.variant, "isCustomValue": attribute.custom,
         "isN11Grouping": False,
         "attributeValues": [{"id": attribute.value_id(value), "value": value} for value in attribute.values]}
        for attribute, mandatory in LEAF_ATTRIBUTES.get(category_id, ())]}


def create_failure(products: dict[str, dict], barcodes: set[str], sku: dict) -> str | None:
    """Why N11 fails one SKU of an accepted product-create task (item FAIL), or None when it creates it.

    ``barcodes``: the barcodes of the account's products."""
    if sku["stockCode"] in products:
        return f"Bu stok kodu ile kayıtlı bir ürün zaten var: {sku['stockCode']}."
    if sku.get("barcode") and sku["barcode"] in barcodes:
        return f"Bu barkod başka bir ürüne ait: {sku['barcode']}."
    name, leaf = CATEGORIES.get(sku["categoryId"], (None, False))
    if not leaf:
        return f"Kategori bulunamadı veya son seviye bir kategori değil: {sku['categoryId']}."
    wanted = dict(LEAF_ATTRIBUTES.get(sku["categoryId"], ()))
    by_id = {attribute.id: attribute for attribute in wanted}
    sent = {entry.get("id"): entry for entry in sku["attributes"] if isinstance(entry, dict)}
    for attribute, mandatory in wanted.items():
        if mandatory and attribute.id not in sent:
            return f"Zorunlu özellik eksik: {attribute.name}."
    for attribute_id, entry in sent.items():
        attribute = by_id.get(attribute_id)
        if attribute is None:
            return f"{name} kategorisinde {attribute_id} numaralı bir özellik yok."
        if entry.get("valueId") is not None:
            if not any(attribute.value_id(value) == entry["valueId"] for value in attribute.values):
                return f"Geçersiz özellik değeri: {attribute.name} = {entry['valueId']}."
        elif not attribute.custom:
            return f"{attribute.name} özelliği için serbest değer girilemez."
        elif not str(entry.get("customValue") or "").strip():
            return f"{attribute.name} özelliği için değer boş olamaz."
    return None


def new_product(sku: dict, n11_id: int) -> dict:
    """The product N11 makes of a created SKU: waiting for N11's approval, not on sale yet."""
    attributes = []
    for entry in sku["attributes"]:
        attribute = next(a for a, _ in LEAF_ATTRIBUTES[sku["categoryId"]] if a.id == entry["id"])
        value = (attribute.values[entry["valueId"] - attribute.id * 1000 - 1] if entry.get("valueId") is not None
                 else entry["customValue"])
        attributes.append({"id": attribute.id, "attributeName": attribute.name, "valueId": entry.get("valueId"),
                           "customValue": value})
    return {
        "n11ProductId": n11_id, "stockCode": sku["stockCode"], "title": sku["title"],
        "description": sku["description"], "categoryId": sku["categoryId"],
        "productMainId": sku.get("productMainId"), "status": "InApproval",
        "saleStatus": rules.sale_status("InApproval", sku["quantity"]), "preparingDay": sku["preparingDay"],
        "shipmentTemplate": sku["shipmentTemplate"], "maxPurchaseQuantity": sku.get("maxPurchaseQuantity"),
        "catalogId": None, "barcode": sku.get("barcode"), "currencyType": sku["currencyType"],
        "salePrice": sku["salePrice"], "listPrice": sku["listPrice"], "quantity": sku["quantity"],
        "attributes": attributes, "imageUrls": [image["url"] for image in sku["images"]],
        "vatRate": sku["vatRate"],
    }


# (leaf, noun, price, vat, attributes) of the products the demo shop lists anew
_NEW_KINDS = (
    (1301, "Kablosuz Kulak İçi Bluetooth Kulaklık", 899, 20,
     {"Renk": "Siyah", "Bağlantı Türü": "Bluetooth", "Garanti Süresi": "2 Yıl"}),
    (1302, "Su Geçirmez Taşınabilir Hoparlör", 1299, 20, {"Renk": "MAVİ", "Garanti Süresi": "2 yıl "}),
    (3102, "Oversize Basic Pamuklu Tişört", 249, 10, {"Beden": "M", "Renk": "beyaz", "Materyal": "Pamuk"}),
    (2102, "El Yapımı Seramik Kahve Kupası", 189, 20, {"Renk": "Bej", "Materyal": "Seramik"}),
    (4001, "Odunsu Amber Eau de Parfum", 1499, 20, {"Hacim": "100 ml"}),
    (6002, "Antep Fıstığı Kavrulmuş Tuzlu 500 g", 459, 1, {}),
)


def new_shop_products(seed: int = 42, taken_barcode: str | None = None) -> list[dict]:
    """Shop rows of products not on N11, with their N11 category and attributes: most are ready to be created;
    one has a colour N11 does not list, one a category with subcategories, one a short title and, when
    ``taken_barcode`` is given, one the barcode of a product already on N11 (N11 fails it)."""
    rng = random.Random(seed)
    rows = []
    for number, (category, noun, price, vat, attributes) in enumerate(_NEW_KINDS, start=1):
        brand = rng.choice(vocabulary.BRANDS)
        rows.append(_new_row(rng, f"NEW-{number:04d}", f"{brand} {noun}", category, brand, price, vat, attributes))
    rows += [
        _new_row(rng, "NEW-0101", "Nazar Silikon Telefon Kılıfı", 1101, "Nazar", 149, 20, {"Renk": "Turkuaz"}),
        _new_row(rng, "NEW-0102", "Toros Kablosuz Şarj Standı 15W", 1100, "Toros", 599, 20, {}),
        _new_row(rng, "NEW-0103", "Kupa Seti", 2102, "Lale", 99, 20, {}),
    ]
    if taken_barcode:
        rows.append(_new_row(rng, "NEW-0104", "Vadi Hafif Organik Pamuk Tişört", 3102, "Vadi", 199, 10,
                             {"Beden": "L"}, barcode=taken_barcode))
    return rows


def _new_row(rng: random.Random, code: str, title: str, category: int, brand: str, price: int, vat: int,
             attributes: dict[str, str], barcode: str | None = None) -> dict:
    return {
        "stock_code": code, "title": title,
        "description": f"<p><strong>{title}</strong></p><p>{rng.choice(vocabulary.DESCRIPTION_SENTENCES)}</p>",
        "list_price": Decimal(f"{price}.90"), "sale_price": Decimal(f"{price}.90"), "currency": "TL",
        "quantity": rng.randint(5, 120), "vat_rate": vat, "preparing_day": rng.randint(1, 3),
        "shipment_template": rng.choice(vocabulary.SHIPMENT_TEMPLATES), "status": "Active",
        "n11_category_id": str(category), "brand": brand, "barcode": barcode,
        "image_urls": json.dumps([f"https://images.example.com/n11-demo/{code.lower()}-{n}.jpg" for n in (1, 2)]),
        "attributes": json.dumps(attributes, ensure_ascii=False), "product_main_id": f"PM-{code}",
    }

