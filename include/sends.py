"""What the shop asks the DAG to send to N11 once (a return decision, an invoice link): the results a row ends
with, and a run's counts of them. Each row is claimed before its call (``tables._sent_once``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ACCEPTED, FAILED, REFUSED, UNKNOWN = "accepted", "failed", "refused", "unknown"


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
        return {key: value for key, value in asdict(self).items() if isinstance(value, int)}
