"""Why a returns run stopped: each error's message names the store, the period or order, and what failed."""


class ReturnsLoadError(Exception):
    """A returns run stopped; the message names the store, the period or order, and what failed."""


class BadClaimData(ReturnsLoadError):
    """N11 sent a claim the shop cannot take: retrying cannot help until N11's answer changes."""


class ClaimFetchError(ReturnsLoadError):
    """N11 did not answer a claims page usably, even after the client's retries."""
