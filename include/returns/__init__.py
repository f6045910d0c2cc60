"""N11's return claims in the shop: loaded into ``n11_returns`` (``run.py``), the shop's decisions sent back
(``actions.py``, with N11's deny reasons cached by ``reasons.py``)."""
