"""Injected failures: N11 promises no SLA, so clients must survive throttling, outages, resets, cut bodies."""

import random
import threading
from dataclasses import dataclass, field

FAULT_KINDS = ("429", "500", "503", "slow", "reset", "truncated", "502", "504")


@dataclass
class FaultConfig:
    """Which share of requests fails and how; draws come from random.Random(seed), so runs are reproducible.

    429/500/503/slow/reset strike before the request is processed (a faulted write creates no task);
    "truncated" strikes after it (the work is done, the answer is cut in half), and so do "502"/"504" (the work is
    done, a gateway answers that it lost the backend: N11 took the write without the client knowing). With
    ``burst`` above 1 a drawn fault also strikes the next ``burst - 1`` requests on the chosen paths, as an outage
    or throttling does.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = ("429", "500", "503", "slow")
    slow_seconds: float = 2.0
    seed: int = 0
    paths: tuple[str, ...] = ()
    burst: int = 1
    _streak: list = field(default_factory=lambda: [None, 0], init=False, repr=False, compare=False)
    _random: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if self.burst < 1:
            raise ValueError(f"burst must be at least 1, got {self.burst}")
        self._random = random.Random(self.seed)

    def draw(self, path: str) -> str | None:
        """The fault for a request on this path, or None to answer it normally."""
        if self.rate <= 0 or not self.kinds or (self.paths and not path.startswith(self.paths)):
            return None
        with self._lock:
            kind, left = self._streak
            if left:
                self._streak[1] -= 1
                return kind
            kind = self._random.choice(self.kinds) if self._random.random() < self.rate else None
            if kind is not None:
                self._streak[:] = [kind, self.burst - 1]
            return kind

    def coin(self) -> bool:
        """A fair draw from the same stream (whether a 429 carries Retry-After)."""
        with self._lock:
            return self._random.random() < 0.5
