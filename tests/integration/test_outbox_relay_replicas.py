"""Two replicas' outbox relays over one outbox table on the real PostgreSQL and Kafka: one relays at a
time, a relay whose lock session is gone stops at once (one of the two then leads), and every row is
published once, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from chassis.kafka import make_broker, publish_raw
from chassis.outbox import OutboxRelay, emit
from contracts import StockChanged
from tests import infra
from tests.conftest import Tap, body_has
from tests.helpers import unique, wait_until

pytestmark = pytest.mark.integration

SERVICE = "relay_replicas_test"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service=SERVICE,
        migrations_dir=Path(__file__).parent / "migrations",
        min_size=1,
        max_size=4,
    )
    await p.execute("DELETE FROM outbox")
    yield p
    await p.close()


async def emit_stock(pool: asyncpg.Pool, sku: str, numbers: range) -> None:
    async with pool.acquire() as conn, conn.transaction():
        for i in numbers:
            await emit(
                conn, StockChanged(sku=sku, available_total=i, by_warehouse={"BOM1": i}), source=SERVICE
            )


def leading(relay: OutboxRelay, *, leads: bool = True) -> Callable[[], Awaitable[bool | None]]:
    """A wait_until check: the relay leads (or no longer does)."""

    async def check() -> bool | None:
        return True if relay.is_leader == leads else None

    return check


def one_leads(*relays: OutboxRelay) -> Callable[[], Awaitable[bool | None]]:
    """A wait_until check: a relay leads again (whichever took the lock first)."""

    async def check() -> bool | None:
        return True if any(r.is_leader for r in relays) else None

    return check


async def test_a_relay_that_loses_its_lock_stops_and_the_other_replica_publishes_each_row_once(
    servers: infra.Servers, pool: asyncpg.Pool, tap: Tap
) -> None:
    sku = unique("SKU-REPLICAS")
    broker = make_broker(servers.kafka, client_id="tests")
    await broker.connect()
    dsn = db.with_database(servers.database_url, db.database_name(SERVICE))
    first, second = (
        OutboxRelay(pool=pool, dsn=dsn, publish=lambda t, v, k, h: publish_raw(broker, t, v, k, h))
        for _ in range(2)
    )
    first.start()
    try:
        await wait_until(leading(first), what="the first relay to lead")
        second.start()
        await emit_stock(pool, sku, range(0, 20))
        await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=20)
        assert not second.is_leader, "one relay per database"

        # The session holding the first relay's lock ends (a network cut, an idle timeout, an operator).
        killed = await pool.fetchval(
            """SELECT pg_terminate_backend(pid) FROM pg_locks
                WHERE locktype = 'advisory' AND objid = 7211002 AND granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"""
        )
        assert killed
        await wait_until(leading(first, leads=False), what="the first relay to stop leading")
        await wait_until(one_leads(first, second), what="a relay to lead again")
        await emit_stock(pool, sku, range(20, 40))

        records = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=40)
        assert [first.is_leader, second.is_leader].count(True) == 1
        assert [json.loads(r.value)["available_total"] for r in records] == list(range(40))
    finally:
        await first.stop()
        await second.stop()
        await broker.stop()


class _Watched(OutboxRelay):
    """A relay that remembers every value its `is_leader` took, and says when it goes for the lock."""

    took: list[bool]
    entered: asyncio.Event

    async def _lead(self) -> None:
        self.__dict__.setdefault("entered", asyncio.Event()).set()
        await super()._lead()

    @property  # type: ignore[override]
    def is_leader(self) -> bool:
        return self.__dict__.get("_leads", False)

    @is_leader.setter
    def is_leader(self, value: bool) -> None:
        self.__dict__["_leads"] = value
        self.__dict__.setdefault("took", []).append(value)


async def test_a_relay_stopped_while_another_leads_never_claims_to_lead(
    servers: infra.Servers, pool: asyncpg.Pool
) -> None:
    """A second replica stopping while it stands by: it never held the lock, so it must not say it
    leads (its log said "outbox relay leading" on the way out, and woke as if it did)."""
    dsn = db.with_database(servers.database_url, db.database_name(SERVICE))

    async def publish(*_args: object) -> None:
        raise AssertionError("nothing is published here")

    first = OutboxRelay(pool=pool, dsn=dsn, publish=publish)
    first.start()
    try:
        await wait_until(leading(first), what="the first relay to lead")
        second = _Watched(pool=pool, dsn=dsn, publish=publish)
        second.entered = asyncio.Event()
        second.start()
        await asyncio.wait_for(second.entered.wait(), timeout=30)
        await second.stop()
        assert True not in second.took, second.took
        assert first.is_leader
    finally:
        await first.stop()
