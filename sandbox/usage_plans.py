"""A marketplace's usage plans as the sandbox sellers enforce them: a token bucket per operation
(rate per second, burst), every answered call's time kept and every refusal counted, for tests to
assert on. Each seller answers a refusal with its own provider's 429 body."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bucket:
    tokens: float
    at: float


def spend(
    plan: tuple[float, int],
    operation: str,
    *,
    now: float,
    buckets: dict[str, Bucket],
    calls: dict[str, list[float]],
    throttled: dict[str, int],
) -> bool:
    """Spend one request of the operation's plan at `now`; False (and counted) when it allows none."""
    rate, burst = plan
    bucket = buckets.setdefault(operation, Bucket(float(burst), now))
    bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
    bucket.at = now
    if bucket.tokens < 1.0:
        throttled[operation] = throttled.get(operation, 0) + 1
        return False
    bucket.tokens -= 1.0
    calls.setdefault(operation, []).append(now)
    return True
