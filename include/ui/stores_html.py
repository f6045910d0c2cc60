"""The stores page as HTML: one table row per store, every value escaped, times in the UI's time zone.

Plain server-rendered HTML (no script beyond sending a run link to the whole window): it shows inside Airflow's
navigation as an iframe, and a link to a run opens Airflow's own run page, not a second UI inside the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

from include.settings import StoreConfig
from include.store_overview import ShopView
from include.ui.last_runs import LastRun

SENT = (("sent", "sent"), ("accepted", "accepted"), ("failed", "failed"), ("unknown", "outcome unknown"),
        ("refused", "refused without sending"))
# What a person reads of each counting task's return value: per part (None: the value itself, else one of its
# keys), a label and the counts it names. A part whose counts are all zero is left out.
COUNTS = {
    "load_orders": ((None, "orders", (("orders_new", "new"), ("orders_updated", "updated"),
                                      ("orders_unchanged", "unchanged"))),),
    "send_order_actions": (("approvals", "approvals", SENT), ("cancels", "cancels", SENT),
                           ("invoices", "invoice links", SENT)),
    "sync_returns": (("claims", "return claims", (("new", "new"), ("updated", "updated"), ("open", "open"),
                                                  ("unmatched", "without their order line"))),
                     ("decisions", "return decisions", SENT)),
    "collect_results": ((None, "SKUs", (("succeeded", "succeeded"), ("failed", "failed"), ("rejected", "rejected"),
                                        ("no_result", "no result"))),),
}

STYLE = """
body{font-family:system-ui,sans-serif;font-size:14px;margin:16px;color:#1a202c}
h1{font-size:20px;margin:0 0 4px}
p.lead{color:#4a5568;margin:0 0 12px}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #e2e8f0;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f7fafc;position:sticky;top:0}
.on{color:#276749;font-weight:600}.off{color:#9b2c2c;font-weight:600}
.state-success{color:#276749}.state-failed{color:#9b2c2c}.state-running,.state-queued{color:#2b6cb0}
.muted{color:#718096}.problem{color:#9b2c2c}
ul{margin:2px 0;padding-left:16px}
details summary{cursor:pointer;color:#4a5568}
pre{white-space:pre-wrap;margin:2px 0;font-size:12px}
"""

# A run link leaves the iframe: Airflow's sandbox lets the frame run scripts on its own origin but not navigate
# the window itself, so the click is made in the window's document.
SCRIPT = """
document.addEventListener('click', function (event) {
  var link = event.target.closest('a[data-top]');
  if (!link || window.top === window) return;
  event.preventDefault();
  var top = window.top.document.createElement('a');
  top.href = link.href;
  window.top.document.body.appendChild(top);
  top.click();
});
"""


@dataclass
class StoreRow:
    """One store on the page: its registry entry, what its shop database says (or why it could not be read), and
    its DAGs' last runs."""

    store: StoreConfig
    shop: ShopView | None
    shop_error: str | None = None
    orders: LastRun | None = None
    products: LastRun | None = None


def render_page(rows: list[StoreRow], problems: list[str], timezone: str, base_path: str,
                now: datetime) -> str:
    """The whole page; ``base_path`` is Airflow's URL path ("" at the root), for links to runs."""
    zone = ZoneInfo(timezone)
    body = "".join(_row(row, zone, base_path) for row in rows)
    notes = "".join(f'<p class="problem">{escape(problem)}</p>' for problem in problems)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>N11 stores</title>'
            f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>"
            f"<h1>N11 stores</h1><p class=\"lead\">{len(rows)} store(s); times in {escape(timezone)}; "
            f"read at {_when(now, zone)}. Switch a store with its Variable <code>n11_store_&lt;slug&gt;</code>; "
            f"a change shows here after the store's next run.</p>{notes}"
            "<table><thead><tr><th>Store</th><th>Status</th><th>Orders</th><th>Products</th><th>API</th>"
            "<th>Last orders run</th><th>Last products run</th><th>Open order actions</th><th>Last alert</th>"
            f"</tr></thead><tbody>{body}</tbody></table></body></html>")


def _row(row: StoreRow, zone: ZoneInfo, base_path: str) -> str:
    store, shop = row.store, row.shop
    name = f'<b>{escape(store.name)}</b><br><span class="muted">{escape(store.slug)}</span>'
    if shop is None:
        return (f'<tr data-store="{escape(store.slug)}"><td>{name}</td><td colspan="3" class="problem">'
                f"{escape(row.shop_error or '')}</td><td></td>"
                f"<td>{_run(row.orders, zone, base_path)}</td><td>{_run(row.products, zone, base_path)}</td>"
                "<td></td><td></td></tr>")
    recorded = shop.recorded
    active = shop.active if recorded else store.active
    source = "" if recorded else '<br><span class="muted">registry (no run yet)</span>'
    status = _switch(active, "active", "passive") + source
    orders = _switch(shop.order_sync if recorded else store.order_sync, "on", "off")
    products = _switch(shop.product_sync if recorded else store.product_sync, "on", "off")
    if recorded and shop.update_type:
        products += f'<br><span class="muted">{escape(shop.update_type)}</span>'
    api = (f"{escape(shop.api_status)}<br><span class=\"muted\">checked {_when(shop.api_checked_at, zone)}</span>"
           if shop.api_status else '<span class="muted">not checked yet</span>')
    return (f'<tr data-store="{escape(store.slug)}"><td>{name}</td><td>{status}</td><td>{orders}</td>'
            f"<td>{products}</td><td>{api}</td><td>{_run(row.orders, zone, base_path)}</td>"
            f"<td>{_run(row.products, zone, base_path)}{_refusals(shop, row.products, base_path)}</td>"
            f"<td>{_actions(shop, zone)}</td><td>{_alert(shop, zone)}</td></tr>")


def _switch(value: bool | None, on: str, off: str) -> str:
    return f'<span class="on">{on}</span>' if value else f'<span class="off">{off}</span>'


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    """A time as the UI shows it; the shop's times are naive UTC."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _link(run: LastRun, base_path: str, text: str) -> str:
    return f'<a data-top href="{escape(base_path)}/{escape(run.url)}">{text}</a>'


def _run(run: LastRun | None, zone: ZoneInfo, base_path: str) -> str:
    if run is None:
        return '<span class="muted">no run yet</span>'
    state = f'<span class="state-{escape(run.state)}">{escape(run.state)}</span>'
    counts = "".join(f"<li>{line}</li>" for task, values in run.counts.items() if task in COUNTS
                     for line in _counts(task, values))
    note = (f"<details><summary>note</summary><pre>{escape(run.note)}</pre></details>" if run.note else "")
    return (f"{_link(run, base_path, state)} {_when(run.run_after, zone)}"
            + (f"<ul>{counts}</ul>" if counts else "") + note)


def _counts(task: str, values: dict) -> list[str]:
    """The task's count lines: each part's label and counts, a part of nothing but zeros left out."""
    lines = []
    for part, label, names in COUNTS[task]:
        found = values if part is None else values.get(part) or {}
        if part is None or any(found.get(key) for key, _ in names):
            lines.append(f"{label}: " + ", ".join(f"{text} {escape(str(found.get(key, 0)))}" for key, text in names))
    return lines


def _refusals(shop: ShopView, run: LastRun | None, base_path: str) -> str:
    if not shop.refused or run is None:
        return ""
    items = "".join(f"<li>{_link(run, base_path, escape(refusal.stock_code))} "
                    f'<span class="muted">{escape(refusal.kind)}: {escape("; ".join(refusal.reasons))}</span></li>'
                    for refusal in shop.refusals)
    more = shop.refused - len(shop.refusals)
    more_item = f'<li class="muted">... and {more} more</li>' if more > 0 else ""
    return f'<div class="refused">refused SKUs: {shop.refused}<ul>{items}{more_item}</ul></div>'


def _actions(shop: ShopView, zone: ZoneInfo) -> str:
    if not shop.open_actions:
        return '<span class="muted">none</span>'
    return (f"{shop.open_actions}<br><span class=\"muted\">oldest requested "
            f"{_when(shop.oldest_open_action, zone)}</span>")


def _alert(shop: ShopView, zone: ZoneInfo) -> str:
    if not shop.last_alert:
        return '<span class="muted">none</span>'
    return f'<span class="problem">{escape(shop.last_alert)}</span><br><span class="muted">' \
           f"{_when(shop.last_alert_at, zone)}</span>"
