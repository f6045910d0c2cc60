"""Why an orders run stopped: each error's message names the store, the window or batch, and what failed."""


class OrderLoadError(Exception):
    """An orders run stopped; the message names the store, the window and what failed."""


class BadOrderData(OrderLoadError):
    """N11 sent a package the shop cannot take: retrying cannot help until N11's answer changes."""


class OrderFetchError(OrderLoadError):
    """N11 did not answer a page usably, even after the client's retries."""
