"""How the suite is cut down where cases repeat what others show (``make test``'s five minutes)."""

from __future__ import annotations

import pytest

from tests.helpers.databases import SERVERS


def first_case_per_server(items: list[pytest.Item], config: pytest.Config) -> None:
    """A test marked ``one_case_per_server`` runs every case on SQLite and its first case on each server: its cases
    differ in N11's data, which the servers read and write the same way as SQLite; one case shows that they do."""
    seen: set[tuple[str, str]] = set()
    kept, dropped = [], []
    for item in items:
        server = item.callspec.params.get("shop_conn") if hasattr(item, "callspec") else None
        key = (item.nodeid.split("[")[0], server)
        if item.get_closest_marker("one_case_per_server") and server in SERVERS and key in seen:
            dropped.append(item)
        else:
            seen.add(key)
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
