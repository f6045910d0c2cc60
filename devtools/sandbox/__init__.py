"""A local fake of N11's seller API over real HTTP, with seeded Turkish demo data.

N11 offers no sandbox, so tests and the demo talk to this one; it reproduces N11's envelopes and quirks
(clamped windows, odd status spellings, split packages, asynchronous write tasks) and can inject faults.
"""

from devtools.sandbox.accounts import Account
from devtools.sandbox.catalog import new_shop_products
from devtools.sandbox.data import DEMO_API_KEY, DEMO_API_SECRET, generate_account, shop_products
from devtools.sandbox.faults import FaultConfig
from devtools.sandbox.server import N11Sandbox, RequestRecord
from devtools.sandbox.state import SandboxState

__all__ = [
    "DEMO_API_KEY",
    "DEMO_API_SECRET",
    "Account",
    "FaultConfig",
    "N11Sandbox",
    "RequestRecord",
    "SandboxState",
    "generate_account",
    "new_shop_products",
    "shop_products",
]
