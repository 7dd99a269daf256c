"""The PostgreSQL token bucket keeps two replicas together within a marketplace's rate: however many
calls race for one bucket at one moment, only its burst get through, and time restores its rate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from chassis.ratelimit import Limit, try_take
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def replicas(servers: infra.Servers) -> AsyncIterator[list[asyncpg.Pool]]:
    """Two pools on one service database: two replicas of a service."""
    pools = [
        await db.open_database(
            server_url=servers.database_url,
            service="chassis_test",
            migrations_dir=Path(__file__).parent / "migrations",
            min_size=1,
            max_size=8,
        )
        for _ in range(2)
    ]
    yield pools
    for p in pools:
        await p.close()


async def test_two_replicas_racing_for_one_bucket_get_only_its_burst(replicas: list[asyncpg.Pool]) -> None:
    bucket = unique("amazon:acct:patchListingsItem")
    limit = Limit(rate=5.0, burst=5)
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    async def one(pool: asyncpg.Pool, now: datetime) -> bool:
        async with pool.acquire() as conn:
            return (await try_take(conn, bucket, limit, now=now)).taken

    first = await asyncio.gather(*(one(replicas[i % 2], at) for i in range(40)))
    assert sum(first) == 5, "one burst between both replicas"
    later = at + timedelta(seconds=1)  # a second restores five tokens at 5/s
    second = await asyncio.gather(*(one(replicas[i % 2], later) for i in range(40)))
    assert sum(second) == 5


async def test_a_replica_with_a_clock_behind_takes_no_token_the_bucket_has_not_restored(
    replicas: list[asyncpg.Pool],
) -> None:
    bucket = unique("amazon:acct:getOrders")
    limit = Limit(rate=0.0167, burst=1)
    at = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    async with replicas[0].acquire() as conn:
        assert (await try_take(conn, bucket, limit, now=at)).taken
    async with replicas[1].acquire() as conn:
        behind = await try_take(conn, bucket, limit, now=at - timedelta(seconds=30))
    assert not behind.taken and behind.wait_s == pytest.approx(1 / 0.0167)
