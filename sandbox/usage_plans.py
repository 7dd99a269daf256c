"""A marketplace's usage plans as the sandbox sellers enforce them: a token bucket per operation
(rate per second, burst), every answered call's time kept and every refusal counted, for tests to
assert on. Each seller answers a refusal with its own provider's 429 body."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    tokens: float
    at: float


@dataclass
class UsagePlans:
    """One seller's plans, by operation: (rate per second, burst)."""

    rates: dict[str, tuple[float, int]]
    buckets: dict[str, Bucket] = field(default_factory=dict)
    calls: dict[str, list[float]] = field(default_factory=dict)
    throttled: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic

    def spend(self, operation: str) -> bool:
        """Spend one request of the operation's plan now; False (and counted) when it allows none."""
        rate, burst = self.rates[operation]
        now = self.clock()
        bucket = self.buckets.setdefault(operation, Bucket(float(burst), now))
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            self.throttled[operation] = self.throttled.get(operation, 0) + 1
            return False
        bucket.tokens -= 1.0
        self.calls.setdefault(operation, []).append(now)
        return True
