"""A database or broker outage while a consumer applies events: it waits, however long, and then
applies every event exactly once; nothing is dead-lettered for an outage, only bad events are.

The database "goes away" through a proxy in front of the real PostgreSQL server (live connections
reset, new ones refused), which is what a server restart or a failover looks like to the consumer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError

from chassis import db
from chassis.consumer import Consumer, HandlerContext, Subscription
from contracts import Envelope, StockChanged
from tests import infra
from tests.helpers import unique, wait_until
from tests.proxy import CuttableProxy

pytestmark = pytest.mark.integration

SERVICE = "chassis_test"
MAX_ATTEMPTS = 3


class FakeRecord:
    """A consumed record as aiokafka hands it over."""

    def __init__(self, event: StockChanged, offset: int, envelope: Envelope | None = None) -> None:
        envelope = envelope or Envelope.for_event(event, source="tests")
        self.topic = event.TOPIC
        self.partition = 0
        self.offset = offset
        self.key: bytes | None = event.sku.encode()
        self.value: bytes | None = event.model_dump_json().encode()
        self.headers = envelope.to_headers()


def events(sku: str, n: int) -> list[FakeRecord]:
    return [
        FakeRecord(StockChanged(sku=sku, available_total=i, by_warehouse={"BOM1": i}), i) for i in range(n)
    ]


@pytest.fixture
async def proxy(servers: infra.Servers) -> AsyncIterator[CuttableProxy]:
    await db.open_database(  # migrated through the real server, then closed
        server_url=servers.database_url,
        service=SERVICE,
        migrations_dir=Path(__file__).parent / "migrations",
        min_size=1,
        max_size=1,
    )
    target = urlsplit(servers.database_url)
    p = CuttableProxy(target.hostname or "127.0.0.1", target.port or 5432)
    await p.start()
    yield p
    await p.cut()


@pytest.fixture
async def pool(servers: infra.Servers, proxy: CuttableProxy) -> AsyncIterator[asyncpg.Pool]:
    target = urlsplit(servers.database_url)
    via_proxy = db.with_database(
        servers.database_url.replace(f"{target.hostname}:{target.port}", f"127.0.0.1:{proxy.port}"),
        db.database_name(SERVICE),
    )
    p = await asyncpg.create_pool(via_proxy, min_size=1, max_size=4, init=db.register_json_codec)
    assert p is not None
    yield p
    await p.close()


class Harness:
    """A consumer over the proxied pool whose handler can cut the database at a chosen moment."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.dead: list[tuple[int, str]] = []
        self.calls: list[int] = []
        self.before_insert: Callable[[StockChanged, int], Awaitable[None]] | None = None
        self.dlq_failures = 0

        async def handler(ctx: HandlerContext, event: StockChanged) -> None:
            self.calls.append(event.available_total)
            if self.before_insert is not None:
                await self.before_insert(event, self.calls.count(event.available_total))
            if "POISON" in event.sku and event.available_total == 1:
                raise RuntimeError("this event can never apply")
            await ctx.conn.execute(
                "INSERT INTO applied (event_id, sku) VALUES ($1, $2)", ctx.event_id, event.sku
            )

        async def dead_letter(record: FakeRecord, error: str) -> None:  # type: ignore[override]
            if self.dlq_failures:
                self.dlq_failures -= 1
                raise KafkaConnectionError("broker unreachable")
            self.dead.append((record.offset, error))

        self.consumer = Consumer(
            service=SERVICE,
            pool=pool,
            subscriptions={StockChanged.TOPIC: Subscription(StockChanged, handler)},
            dead_letter=dead_letter,  # type: ignore[arg-type]
            max_attempts=MAX_ATTEMPTS,
            retry_backoff_s=0.01,
            outage_backoff_max_s=0.05,
        )


async def outage_retries_reach(consumer: Consumer, n: int) -> None:
    """Wait until the consumer has retried n times for the outage (well past its DLQ bound)."""

    async def reached() -> bool | None:
        return True if consumer.outage_retries >= n else None

    await wait_until(reached, what=f"{n} tries through the outage", every=0.01)


async def applied_per_event(servers: infra.Servers, sku: str) -> dict[str, int]:
    conn = await asyncpg.connect(db.with_database(servers.database_url, db.database_name(SERVICE)))
    try:
        rows = await conn.fetch("SELECT event_id, count(*) AS n FROM applied WHERE sku = $1 GROUP BY 1", sku)
    finally:
        await conn.close()
    return {r["event_id"]: r["n"] for r in rows}


def ids(records: list[FakeRecord]) -> set[str]:
    return {dict(r.headers)["ce_id"].decode() for r in records}


async def test_a_database_lost_mid_batch_is_waited_out_and_every_event_applies_once(
    servers: infra.Servers, proxy: CuttableProxy, pool: asyncpg.Pool
) -> None:
    sku = unique("SKU-OUTAGE")
    batch = events(sku, 10)
    harness = Harness(pool)

    async def cut_at_the_fourth_event(event: StockChanged, nth_call: int) -> None:
        if event.available_total == 3 and nth_call == 1:
            await proxy.cut()

    harness.before_insert = cut_at_the_fourth_event
    applying = asyncio.create_task(harness.consumer.apply_batch(batch))
    await outage_retries_reach(harness.consumer, MAX_ATTEMPTS * 3)
    assert not harness.consumer.ready, "readiness says the consumer is waiting"
    assert not applying.done(), "the batch is not given up (its offset is not committed)"
    await proxy.restore()
    await asyncio.wait_for(applying, timeout=30)

    assert harness.dead == [], "nothing is dead-lettered for an outage"
    assert await applied_per_event(servers, sku) == dict.fromkeys(ids(batch), 1)
    assert harness.consumer.ready


async def test_during_an_outage_only_the_bad_event_is_dead_lettered(
    servers: infra.Servers, proxy: CuttableProxy, pool: asyncpg.Pool
) -> None:
    sku = unique("SKU-POISON-OUTAGE")
    batch = events(sku, 4)  # the event at offset 1 can never apply
    harness = Harness(pool)

    async def cut_while_retrying_alone(event: StockChanged, nth_call: int) -> None:
        if event.available_total == 2 and nth_call == 1:  # alone: the batch failed at offset 1
            await proxy.cut()

    harness.before_insert = cut_while_retrying_alone
    applying = asyncio.create_task(harness.consumer.apply_batch(batch))
    await outage_retries_reach(harness.consumer, MAX_ATTEMPTS * 3)
    await proxy.restore()
    await asyncio.wait_for(applying, timeout=30)

    assert [offset for offset, _ in harness.dead] == [1]
    assert "can never apply" in harness.dead[0][1]
    assert harness.calls.count(1) == 1 + MAX_ATTEMPTS, "the bad event: in the batch, then its bounded tries"
    good = ids([r for r in batch if r.offset != 1])
    assert await applied_per_event(servers, sku) == dict.fromkeys(good, 1)


async def test_a_broker_outage_does_not_lose_a_dead_letter(
    servers: infra.Servers, proxy: CuttableProxy, pool: asyncpg.Pool
) -> None:
    sku = unique("SKU-POISON-BROKER")
    harness = Harness(pool)
    harness.dlq_failures = 5
    await asyncio.wait_for(harness.consumer.apply_batch(events(sku, 3)), timeout=30)
    assert [offset for offset, _ in harness.dead] == [1], "sent once the broker took it"
    assert harness.consumer.outage_retries == 5


async def test_two_copies_of_one_event_in_one_batch_apply_once(
    servers: infra.Servers, proxy: CuttableProxy, pool: asyncpg.Pool
) -> None:
    sku = unique("SKU-TWICE")
    event = StockChanged(sku=sku, available_total=7, by_warehouse={"BOM1": 7})
    envelope = Envelope.for_event(event, source="tests")
    first, second = FakeRecord(event, 10, envelope), FakeRecord(event, 11, envelope)
    harness = Harness(pool)
    await harness.consumer.apply_batch([first, second])
    assert await applied_per_event(servers, sku) == {envelope.id: 1}
