"""The shop database tables, defined once with SQLAlchemy Core for SQLite, PostgreSQL and MySQL/MariaDB.

Conventions: every table has a ``store`` column (the registry slug); N11 ids are strings (their widths grow);
money is an exact decimal; times are naive UTC with millisecond precision (MySQL's DATETIME keeps whole
seconds unless told otherwise).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, Numeric, String, Table, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

metadata = MetaData()  # the tables this project owns, created if missing
source_metadata = MetaData()  # the shop's side: a real shop brings its own view

UtcDateTime = DateTime().with_variant(mysql.DATETIME(fsp=3), "mysql", "mariadb")
Money = Numeric(14, 2)
Rate = Numeric(7, 2)


class ExactString(TypeDecorator):
    """A string compared byte for byte on every database.

    MariaDB's and MySQL's default collations ignore case and trailing spaces, so there ``sku-1`` and ``SKU-1 ``
    would be one key and a look-up of one would find the other. A binary no-pad collation makes them compare as
    SQLite and PostgreSQL do.
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine:
        if dialect.name in ("mysql", "mariadb"):
            collation = "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"
            return dialect.type_descriptor(mysql.VARCHAR(self.impl.length, collation=collation))
        return dialect.type_descriptor(self.impl)


StockCode = ExactString(100)  # the seller's SKU: the join key between the shop and N11


def _store() -> Column:
    return Column("store", String(64), primary_key=True)


n11_stores = Table(
    "n11_stores", metadata,
    _store(),
    Column("name", String(255), nullable=False),
    Column("store_url", String(500)),
    Column("active", Boolean, nullable=False),
    Column("order_sync", Boolean, nullable=False),
    Column("product_sync", Boolean, nullable=False),
    Column("update_type", String(32), nullable=False),
    Column("api_status", String(32)),
    Column("api_message", String(500)),
    Column("api_checked_at", UtcDateTime),
    Column("settings_updated_at", UtcDateTime, nullable=False),
    # when N11's order answers last contradicted the date filter asked for (include/orders/follow.py)
    Column("order_filter_contradicted_at", UtcDateTime),
    # the end of the last orders run that loaded its windows: the next run loads from here (include/orders/run.py)
    Column("orders_loaded_to", UtcDateTime),
    # the same for the return claims (include/returns/run.py)
    Column("returns_loaded_to", UtcDateTime),
)

def _address(kind: str) -> list[Column]:
    """A postal address in full, as N11 sends ``shippingAddress`` and ``billingAddress``."""
    return [Column(f"{kind}_full_name", String(255)), Column(f"{kind}_address", String(500)),
            Column(f"{kind}_neighborhood", String(100)), Column(f"{kind}_district", String(100)),
            Column(f"{kind}_city", String(100)), Column(f"{kind}_postal_code", String(20)),
            Column(f"{kind}_gsm", String(32))]


# One row per N11 order: who ordered, where it goes, how it is invoiced; status, cargo and amounts from its live
# packages and lines (include/orders/load.py; docs/OPERATIONS.md "Reading the orders").
n11_orders = Table(
    "n11_orders", metadata,
    _store(),
    Column("order_number", String(32), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("customer_id", String(40)),
    Column("customer_name", String(255)),
    Column("customer_email", String(255)),
    Column("billing_city", String(100)),
    Column("shipping_city", String(100)),
    Column("total_amount", Money),
    Column("total_discount_amount", Money),
    Column("invoice_total", Money),
    Column("cargo_provider", String(100)),
    Column("cargo_tracking_number", String(100)),
    Column("created_at", UtcDateTime),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    *(column for column in _address("shipping") if column.name != "shipping_city"),
    *(column for column in _address("billing") if column.name != "billing_city"),
    Column("delivery_address_type", String(32)),  # KTN, EASYPOINT, PUP: shipping goes to a pick-up point
    Column("invoice_type", String(16)),
    Column("tc_id", String(16)),
    Column("tax_id", String(16)),
    Column("tax_office", String(255)),
    Column("agreed_delivery_date", UtcDateTime),
    Column("cargo_tracking_link", String(500)),
    Column("shipment_method", String(32)),
    Column("sender", String(16)),  # SELLER, or N11 when N11's warehouse fulfils it
)

# One row per shipment package; a package N11 sends without an id is keyed "<orderNumber>-<its smallest
# orderLineId>" (include/orders/transform.py ``package_key``).
n11_order_packages = Table(
    "n11_order_packages", metadata,
    _store(),
    Column("package_id", String(40), primary_key=True),
    Column("order_number", String(32), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    # lastModifiedDate x 10 + the status's step: a status change N11 stamps with the same millisecond is newer
    Column("revision", BigInteger, nullable=False),
    Column("cargo_provider", String(100)),
    Column("cargo_tracking_number", String(100)),
    Column("cargo_tracking_link", String(500)),
    Column("shipment_method", String(32)),
    Column("sender", String(16)),
    Column("line_ids", Text, nullable=False),  # its orderLineIds, comma-separated: who holds a line live
    Column("created_at", UtcDateTime),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("followed_at", UtcDateTime),  # last direct look-up of an open package (include/orders/follow.py)
)

n11_order_lines = Table(
    "n11_order_lines", metadata,
    _store(),
    Column("order_line_id", String(40), primary_key=True),
    Column("order_number", String(32), nullable=False, index=True),
    Column("package_id", String(40)),
    Column("status", String(32), nullable=False),
    Column("stock_code", StockCode, index=True),
    Column("product_id", String(40)),
    Column("product_name", String(500)),
    Column("quantity", Integer, nullable=False),
    Column("price", Money),
    Column("seller_discount", Money),
    Column("seller_coupon_discount", Money),
    Column("mall_discount", Money),
    Column("total_seller_discount_price", Money),
    Column("seller_invoice_amount", Money),
    Column("vat_rate", Rate),
    Column("commission_rate", Rate),
    Column("last_modified", UtcDateTime, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
)


def _sent_once() -> list[Column]:
    """How a row the shop asks the DAG to send to N11 is sent once: the send that claimed it, when, N11's answer."""
    return [Column("attempt_id", String(36)),  # the send that claimed the row
            Column("sent_at", UtcDateTime),
            Column("answered_at", UtcDateTime),
            Column("result", String(16), index=True),  # NULL: waiting or being sent; accepted, failed, refused, unknown
            Column("reason", Text)]  # N11's reason (Turkish, as N11 wrote it) or why the DAG refused or could not tell


# What the shop asks N11 to do with an order line: ``approve`` (Created to Picking; include/orders/approve.py) or
# ``cancel`` (items it cannot supply, with ``quantity`` and ``cancel_reason``; include/orders/cancel.py). Inserted by
# the shop, or by the orders DAG itself while the store's auto_approve_orders is on (requested_by "auto"). The DAG
# sets ``attempt_id`` and ``sent_at`` in a committed transaction before the call, so a line is sent at most once
# whatever retries, overlaps or crashes happen; ``result`` is then N11's per-line answer (accepted, failed) or the
# DAG's own (refused: never sent; unknown: sent without a usable answer, settled later by looking the order up).
n11_order_actions = Table(
    "n11_order_actions", metadata,
    _store(),
    Column("order_line_id", String(40), primary_key=True),
    Column("action", ExactString(32), primary_key=True),  # exact: "Approve " is not "approve" on MariaDB either
    Column("requested_by", String(64)),
    Column("requested_at", UtcDateTime),  # the DAG fills it when the shop left it empty
    *_sent_once(),
    Column("quantity", Integer),  # cancel: how many items of the line; NULL: all of them
    Column("cancel_reason", Integer),  # cancel: N11's reason id, 61 out of stock (NULL), 62, 63, 64, 65
)

# --- after the sale ------------------------------------------------------------------------------------------

# The shop's invoice link of an order, for N11 (SellerInvoiceService.SaveLinkSellerInvoice): the shop writes
# ``invoice_url`` (and ``invoice_number``/``invoice_date``, which N11 needs for micro-export orders). The DAG sends a
# URL once: ``sent_url`` is the URL the row's result is about, sent (``sent_at`` set before the call, in a committed
# claim under ``attempt_id``) or refused before sending (``sent_at`` empty); a row is sent again only when the shop
# changes ``invoice_url``. ``result``: accepted, failed (N11's reason), refused (not sent), unknown (no usable answer).
InvoiceUrl = ExactString(4000)  # N11 takes at most 2048 characters: a longer one is stored and refused with a reason
n11_order_invoices = Table(
    "n11_order_invoices", metadata,
    _store(),
    Column("order_number", String(32), primary_key=True),
    Column("invoice_url", InvoiceUrl, nullable=False),
    Column("invoice_number", String(64)),
    Column("invoice_date", UtcDateTime),
    Column("requested_at", UtcDateTime),  # the DAG fills it when the shop left it empty
    Column("sent_url", InvoiceUrl),
    *_sent_once(),
)

# N11's return claims (ReturnService.ClaimReturnList), one per returned product line of an order, loaded by every
# run for its interval and read again until final (include/returns/). N11 sends no orderLineId nor stockCode: they
# are the shop's order line matched on order_number + product_id (NULL while nothing matches). N11's dates are
# Istanbul days. ``revision`` (the newest of them as days x 10 + the status's step) keeps a row from moving back to
# an older answer. The buyer's name, e-mail and phone are here and nowhere else.
n11_returns = Table(
    "n11_returns", metadata,
    _store(),
    Column("claim_id", String(40), primary_key=True),
    Column("order_number", String(32), nullable=False, index=True),
    Column("product_id", String(40)),
    Column("sku_id", String(40)),
    Column("product_name", String(500)),
    Column("order_line_id", String(40)),
    Column("stock_code", StockCode),
    Column("quantity", Integer),
    Column("unit_price", Money),
    Column("final_price", Money),
    Column("reason_type", String(255)),
    Column("reason_description", Text),
    Column("status", String(32), nullable=False, index=True),
    Column("executer", String(32)),
    Column("sender", String(16)),
    Column("requested_at", Date),
    Column("pending_at", Date),
    Column("pended_at", Date),
    Column("approved_at", Date),
    Column("denied_at", Date),
    Column("cancelled_at", Date),
    Column("paid_at", Date),
    Column("cargo_company", String(100)),  # the buyer's return shipment
    Column("cargo_tracking_number", String(100)),
    Column("seller_cargo_company", String(100)),  # the product sent back to the buyer (a denied claim)
    Column("seller_tracking_number", String(100)),
    Column("buyer_name", String(255)),
    Column("buyer_email", String(255)),
    Column("buyer_phone", String(32)),
    Column("revision", BigInteger, nullable=False),
    Column("last_modified", Date, nullable=False),  # the newest of N11's dates of the claim
    Column("last_seen", UtcDateTime, nullable=False),  # when a run last read it from N11
    Column("loaded_at", UtcDateTime, nullable=False),  # when its N11 fields were last written
)

# The shop's decision on a return claim: ``approve``, or ``deny`` with one of N11's ``deny_reason_id``s and a
# ``note``. Sent once, as n11_order_actions: ``attempt_id`` and ``sent_at`` set in a committed transaction before the
# call; ``result`` accepted, failed, refused or unknown, with the reason.
n11_return_actions = Table(
    "n11_return_actions", metadata,
    _store(),
    Column("claim_id", String(40), primary_key=True),
    Column("action", ExactString(32), primary_key=True),
    Column("deny_reason_id", String(20)),
    Column("note", Text),
    Column("requested_by", String(64)),
    Column("requested_at", UtcDateTime),
    *_sent_once(),
)

# N11's reasons for denying a return claim (ReturnService.ClaimReturnDenyReasonTypes): N11's, as the categories are,
# so keyed by N11's id alone; refreshed at most daily, when a deny waits.
n11_return_deny_reasons = Table(
    "n11_return_deny_reasons", metadata,
    Column("reason_id", String(20), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("refreshed_at", UtcDateTime, nullable=False),
)

# The shop's products as the sync reads them. A real shop points the store setting ``products_source`` at a
# view over its own schema; this default table is what the demo and the tests fill.
n11_product_source = Table(
    "n11_product_source", source_metadata,
    Column("stock_code", StockCode, primary_key=True),
    Column("title", String(500)),
    Column("description", Text),
    Column("list_price", Money),
    Column("sale_price", Money),
    Column("currency", String(3)),
    Column("quantity", Integer),
    Column("vat_rate", Integer),
    Column("preparing_day", Integer),
    Column("shipment_template", String(100)),
    Column("status", String(16)),
    # For products to be created on N11 (all optional: a source without them only updates linked products).
    Column("n11_category_id", String(20)),  # an N11 leaf category id: makes an unlinked SKU a creation candidate
    Column("brand", String(255)),  # goes as N11's attribute "Marka"
    Column("barcode", String(64)),
    Column("image_urls", Text),  # a JSON array of https URLs, in display order
    Column("attributes", Text),  # a JSON object, N11 attribute name -> value, e.g. {"Renk": "Siyah"}
    Column("product_main_id", String(100)),  # shared by the variants of one product
)

# --- products --------------------------------------------------------------------------------------------

LongText = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")  # MySQL's TEXT stops at 64 KB
Digest = String(32)  # an md5 hex digest: a fingerprint, never a secret

# The shop SKUs that exist on N11, as the last full scan of N11's product listing found them.
n11_product_links = Table(
    "n11_product_links", metadata,
    _store(),
    Column("stock_code", StockCode, primary_key=True),
    Column("n11_product_id", String(40), nullable=False),
    Column("n11_status", String(32)),
    Column("sale_status", String(32)),
    Column("catalog_id", String(40)),
    Column("refreshed_at", UtcDateTime, nullable=False),
    # N11's live stock and price as the scan saw them: what the diff compares the shop's stock and price with.
    Column("n11_quantity", Integer),
    Column("n11_list_price", Money),
    Column("n11_sale_price", Money),
    Column("n11_currency", String(3)),
)

# Per SKU and field group, the values N11 last confirmed: the diff's baseline for the listing and content groups
# (stock and price are compared with the live values in n11_product_links). A group the update type does not
# cover (or a SKU N11 does not let us update) follows N11's values from the scan instead, so a group that
# becomes covered is compared with what N11 shows. ``<group>_failed_hash`` fingerprints the payload N11 last
# failed for that group: it is not sent again unchanged.
n11_product_sync_state = Table(
    "n11_product_sync_state", metadata,
    _store(),
    Column("stock_code", StockCode, primary_key=True),
    Column("quantity", Integer),
    Column("list_price", Money),
    Column("sale_price", Money),
    Column("currency", String(3)),
    Column("description", LongText),
    Column("vat_rate", Integer),
    Column("preparing_day", Integer),
    Column("shipment_template", String(100)),
    Column("status", String(16)),
    Column("stock_failed_hash", Digest),
    Column("price_failed_hash", Digest),
    Column("info_failed_hash", Digest),
    Column("stock_updated_at", UtcDateTime),
    Column("price_updated_at", UtcDateTime),
    Column("info_updated_at", UtcDateTime),
    Column("content_failed_hash", Digest),
    Column("content_updated_at", UtcDateTime),
)

# Refused SKUs with N11's reasons (Turkish, as N11 wrote them). task_id is N11's task id, or "local" for a shop
# row that breaks N11's payload rules and was not sent (one row per SKU, replaced on every run).
n11_product_sync_errors = Table(
    "n11_product_sync_errors", metadata,
    _store(),
    Column("stock_code", StockCode, primary_key=True),
    Column("task_id", String(40), primary_key=True),
    Column("run_id", String(250), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # local, fail, reject, no_result
    Column("endpoint", String(32)),
    Column("groups", String(32), nullable=False),
    Column("reasons", Text, nullable=False),  # a JSON list of strings
    Column("payload_hash", Digest),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# Internal: each write batch of a run, saved before it is sent, with N11's task id stored the moment the receipt
# arrives. A retried push task finds the id and does not send again (N11 writes are not idempotent, and N11 has
# no way to look a task up by its content); the results step reads the payload to know what each SKU was sent.
n11_product_push_batches = Table(
    "n11_product_push_batches", metadata,
    _store(),
    Column("run_id", String(250), primary_key=True),
    Column("endpoint", String(32), primary_key=True),
    Column("batch_no", Integer, primary_key=True, autoincrement=False),
    Column("payload", LongText, nullable=False),  # the JSON list of SKU entries
    Column("payload_hash", Digest, nullable=False),
    Column("sku_count", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempted_at", UtcDateTime),  # set before sending: a try that dies mid-call leaves it
    Column("task_id", String(40)),
    Column("receipt_status", String(16)),
    Column("receipt_reasons", Text),
    Column("finished_at", UtcDateTime),  # when N11's per-SKU results were recorded
    Column("result_status", String(16)),
    Column("succeeded", Integer),
    Column("failed", Integer),
    Column("rejected", Integer),
)

# --- product creation ---------------------------------------------------------------------------------------

# N11's category tree (GET /cdn/categories), the same for every seller, refreshed at most daily. A category's
# attributes are fetched when a creation candidate needs them and their copy is older than a day.
n11_categories = Table(
    "n11_categories", metadata,
    Column("category_id", String(20), primary_key=True),
    Column("parent_id", String(20)),
    Column("name", String(255), nullable=False),
    Column("path", String(1000), nullable=False),  # "Elektronik > Ses ve Görüntü > Kulaklık"
    Column("is_leaf", Boolean, nullable=False),
    Column("refreshed_at", UtcDateTime, nullable=False),
    Column("attributes_refreshed_at", UtcDateTime),  # None: never fetched
)

# Each category's attributes (GET /cdn/category/{id}/attribute), with N11's value list.
n11_category_attributes = Table(
    "n11_category_attributes", metadata,
    Column("category_id", String(20), primary_key=True),
    Column("attribute_id", String(20), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("mandatory", Boolean, nullable=False),
    Column("variant", Boolean, nullable=False),
    Column("custom_value", Boolean, nullable=False),  # N11 takes a value outside its list
    Column("attribute_values", LongText, nullable=False),  # a JSON list of {"id": .., "value": ..}
)

# What product-create did with each shop SKU sent to it: ``created``, or ``failed``/``rejected``/``no_result``
# with the fingerprint of the payload, so the same payload is not sent again; a changed row is.
n11_product_creations = Table(
    "n11_product_creations", metadata,
    _store(),
    Column("stock_code", StockCode, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("payload_hash", Digest, nullable=False),
    Column("task_id", String(40)),
    Column("run_id", String(250), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
)

# One products run of a store at a time, whatever started it: the run holding this row until ``expires_at``.
# Taken by the run's first task, renewed by each later one, deleted by its last (also when the run fails).
n11_product_run_lock = Table(
    "n11_product_run_lock", metadata,
    _store(),
    Column("run_id", String(250), nullable=False),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# When a store's problem was last announced (include/notifications.py): at most one alert per store and problem
# per hour, whichever worker fails.
n11_notifications = Table(
    "n11_notifications", metadata,
    _store(),
    Column("problem", String(191), primary_key=True),
    Column("notified_at", UtcDateTime, nullable=False),
)
