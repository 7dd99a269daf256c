"""Rate limits of outside APIs as token buckets in PostgreSQL, shared by every replica (ADR 140).

A provider's limit (Amazon's getOrders: 0.0167 requests/s, burst 20) is data: a ``Limit``. Each call
first takes a token from its bucket under the row's lock, so two replicas together never call faster
than the provider allows; the time comes from the database (one clock for every replica) unless a
test passes its own. ``refill`` is the whole decision, pure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from chassis.db import Conn


@dataclass(frozen=True, slots=True)
class Limit:
    """A documented rate limit: ``rate`` requests a second restored, at most ``burst`` at once."""

    rate: float
    burst: int


@dataclass(frozen=True, slots=True)
class Taken:
    """What one try found: whether a token was taken, else how long until one is there."""

    taken: bool
    wait_s: float
    tokens: float


def refill(tokens: float, *, elapsed_s: float, limit: Limit) -> float:
    """Tokens in a bucket after ``elapsed_s`` seconds: restored at ``rate``, never above ``burst``
    (a clock that went backwards restores nothing)."""
    return min(float(limit.burst), tokens + max(elapsed_s, 0.0) * limit.rate)


def take_one(tokens: float, *, elapsed_s: float, limit: Limit) -> Taken:
    """Take one token if the refilled bucket holds one; else the wait until it will."""
    now_tokens = refill(tokens, elapsed_s=elapsed_s, limit=limit)
    if now_tokens >= 1.0:
        return Taken(True, 0.0, now_tokens - 1.0)
    return Taken(False, (1.0 - now_tokens) / limit.rate, now_tokens)


def take_up_to(tokens: float, *, elapsed_s: float, limit: Limit, wanted: int) -> tuple[int, float]:
    """How many of ``wanted`` calls may start now from the refilled bucket, and the tokens left."""
    now_tokens = refill(tokens, elapsed_s=elapsed_s, limit=limit)
    granted = max(0, min(wanted, int(now_tokens)))
    return granted, now_tokens - granted


async def _bucket_at(
    conn: Conn, bucket: str, limit: Limit, now: datetime | None
) -> tuple[datetime, float, float]:
    """Lock ``bucket`` (created full) in the caller's transaction: the moment, its tokens and the
    seconds since it was last written."""
    at = now or await conn.fetchval("SELECT clock_timestamp()")
    await conn.execute(
        """INSERT INTO rate_buckets (bucket, tokens, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (bucket) DO NOTHING""",
        bucket,
        float(limit.burst),
        at,
    )
    row = await conn.fetchrow(
        "SELECT tokens, updated_at FROM rate_buckets WHERE bucket = $1 FOR UPDATE", bucket
    )
    assert row is not None
    # A row written later than ``at`` by a replica whose transaction began after ours: no time has
    # passed for us, and the row keeps the later moment.
    return at, row["tokens"], (at - row["updated_at"]).total_seconds()


async def _store(conn: Conn, bucket: str, tokens: float, at: datetime) -> None:
    await conn.execute(
        "UPDATE rate_buckets SET tokens = $2, updated_at = greatest(updated_at, $3) WHERE bucket = $1",
        bucket,
        tokens,
        at,
    )


async def try_take(conn: Conn, bucket: str, limit: Limit, *, now: datetime | None = None) -> Taken:
    """One try at a token from ``bucket`` (created full); commits on its own transaction."""
    async with conn.transaction():
        at, tokens, elapsed = await _bucket_at(conn, bucket, limit, now)
        result = take_one(tokens, elapsed_s=elapsed, limit=limit)
        await _store(conn, bucket, result.tokens, at)
    return result


async def take_many(
    conn: Conn, bucket: str, limit: Limit, wanted: int, *, now: datetime | None = None
) -> int:
    """Take up to ``wanted`` tokens from ``bucket`` at once (a dispatcher's round of sends); how many
    were taken, none waited for. Commits on its own transaction."""
    if wanted <= 0:
        return 0
    async with conn.transaction():
        at, tokens, elapsed = await _bucket_at(conn, bucket, limit, now)
        granted, left = take_up_to(tokens, elapsed_s=elapsed, limit=limit, wanted=wanted)
        await _store(conn, bucket, left, at)
    return granted


async def give_back(conn: Conn, bucket: str, limit: Limit, unused: int) -> None:
    """Return tokens taken for calls that were not made (fewer were due than taken for)."""
    if unused > 0:
        await conn.execute(
            "UPDATE rate_buckets SET tokens = least($3::float8, tokens + $2) WHERE bucket = $1",
            bucket,
            float(unused),
            float(limit.burst),
        )


class RateLimited(Exception):
    """No token within the longest wait a caller accepts: try the whole job again later."""

    def __init__(self, bucket: str, wait_s: float) -> None:
        super().__init__(f"{bucket}: rate limit, next request allowed in {wait_s:.1f} s")
        self.wait_s = wait_s


class RateLimiter:
    """Takes tokens for calls to outside APIs, waiting for one when the wait is short.

    ``max_wait_s`` bounds the wait: a longer one raises RateLimited, so a job that would stall for a
    minute (Amazon's getOrders after its burst) gives its turn back and tries on its next run."""

    def __init__(self, pool: Callable[[], asyncpg.Pool], *, max_wait_s: float = 5.0) -> None:
        self._pool = pool
        self.max_wait_s = max_wait_s

    async def acquire(self, bucket: str, limit: Limit) -> None:
        """Return once a token is taken; RateLimited when the next is further than max_wait_s."""
        waited = 0.0
        while True:
            async with self._pool().acquire() as conn:
                result = await try_take(conn, bucket, limit)
            if result.taken:
                return
            if waited + result.wait_s > self.max_wait_s:
                raise RateLimited(bucket, result.wait_s)
            await asyncio.sleep(result.wait_s)
            waited += result.wait_s
