"""What the shop asks the DAG to send to N11 once (an order action, a return decision, an invoice link): the results
a row ends with, and a run's counts of them. Each row is claimed before its call (``tables._sent_once``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ACCEPTED, FAILED, REFUSED, UNKNOWN = "accepted", "failed", "refused", "unknown"


def counts_of(summary: Any) -> dict[str, int]:
    """A run summary's counts (its whole-number fields), as the task returns them: no text, no personal data."""
    return {key: value for key, value in asdict(summary).items() if isinstance(value, int)
            and not isinstance(value, bool)}


@dataclass
class SendSummary:
    """A run's sends of one store, for its log line and return value: counts only, never a buyer's data."""

    store: str
    refused: int = 0  # refused without sending
    sent: int = 0
    accepted: int = 0
    failed: int = 0
    unknown: int = 0

    def tally(self, result: str) -> None:
        """Count one send and its result."""
        self.sent += 1
        setattr(self, result, getattr(self, result) + 1)

    def told(self) -> str:
        """The sends as the log line tells them."""
        return (f"sent {self.sent}, accepted {self.accepted}, failed {self.failed}, outcome unknown {self.unknown}; "
                f"refused without sending {self.refused}")

    def counts(self) -> dict[str, int]:
        return counts_of(self)
