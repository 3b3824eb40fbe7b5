"""Exponential back-off with jitter, for reconnecting and for retrying failed work."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float = 0.2
    maximum: float = 30.0
    factor: float = 2.0
    attempts: int = field(default=0, init=False)

    def delay_for(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based): full interval, then ±25 % jitter."""
        base = min(self.maximum, self.initial * self.factor ** max(0, attempt - 1))
        return base * random.uniform(0.75, 1.0)

    def next_delay(self) -> float:
        self.attempts += 1
        return self.delay_for(self.attempts)

    def wait(self, stop: threading.Event) -> bool:
        """Sleeps the next delay; True when `stop` was set meanwhile."""
        return stop.wait(self.next_delay())

    def reset(self) -> None:
        self.attempts = 0
