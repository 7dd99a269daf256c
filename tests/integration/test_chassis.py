"""The chassis against the real PostgreSQL server and Kafka broker: outbox order, inbox, retries, DLQ."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
import asyncpg
import pytest
import structlog.testing
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream.kafka.annotations import KafkaMessage

from chassis import db
from chassis.consumer import Consumer, HandlerContext, Subscription
from chassis.kafka import OffsetCommitter, ensure_topics, make_broker, publish_raw, send_to_dlq
from chassis.outbox import SET_ASIDE, OutboxRelay, emit, outbox_row, write_rows
from chassis.service import _the_message
from contracts import Envelope, StockChanged
from tests import infra
from tests.conftest import Tap, body_has
from tests.helpers import unique, wait_until

pytestmark = pytest.mark.integration

SERVICE = "chassis_test"


@dataclass
class FakeRecord:
    """A consumed record as aiokafka hands it over."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def record_of(event: StockChanged, offset: int, traceparent: str | None = None) -> FakeRecord:
    envelope = Envelope.for_event(event, source="tests", traceparent=traceparent)
    return FakeRecord(
        event.TOPIC, 0, offset, event.sku.encode(), event.model_dump_json().encode(), envelope.to_headers()
    )


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service=SERVICE,
        migrations_dir=Path(__file__).parent / "migrations",
        min_size=1,
        max_size=4,
    )
    yield p
    await p.close()


async def one_connection_pool(servers: infra.Servers) -> asyncpg.Pool:
    """A pool of the test service that holds one connection: every acquire gets the same one."""
    return await db.open_database(
        server_url=servers.database_url,
        service=SERVICE,
        migrations_dir=Path(__file__).parent / "migrations",
        min_size=1,
        max_size=1,
    )


async def no_dead_letters(record: FakeRecord, error: str) -> None:
    raise AssertionError(error)


def consumer_of(pool: asyncpg.Pool, handler: Any, **options: Any) -> Consumer:
    """A consumer of stock changes with one handler; a message that reaches the DLQ fails the test."""
    return Consumer(
        service=SERVICE,
        pool=pool,
        subscriptions={StockChanged.TOPIC: Subscription(StockChanged, handler)},
        dead_letter=no_dead_letters,  # type: ignore[arg-type]
        **options,
    )


def consumer_for(pool: asyncpg.Pool, dead: list[tuple[FakeRecord, str]], attempts: list[str]) -> Consumer:
    async def handler(ctx: HandlerContext, event: StockChanged) -> None:
        attempts.append(event.sku)
        if "POISON" in event.sku:
            raise RuntimeError(f"cannot apply {event.sku}")
        await ctx.conn.execute("INSERT INTO applied (event_id, sku) VALUES ($1, $2)", ctx.event_id, event.sku)

    async def dead_letter(record: FakeRecord, error: str) -> None:  # type: ignore[override]
        dead.append((record, error))

    return Consumer(
        service=SERVICE,
        pool=pool,
        subscriptions={StockChanged.TOPIC: Subscription(StockChanged, handler)},
        dead_letter=dead_letter,  # type: ignore[arg-type]
        max_attempts=3,
        retry_backoff_s=0.01,
    )


async def applied(pool: asyncpg.Pool, sku: str) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM applied WHERE sku = $1", sku))


async def test_a_redelivered_batch_is_applied_once(pool: asyncpg.Pool) -> None:
    sku = unique("SKU")
    batch = [
        record_of(StockChanged(sku=sku, available_total=i, by_warehouse={"BOM1": i}), i) for i in range(5)
    ]
    consumer = consumer_for(pool, [], [])
    await consumer.apply_batch(batch)
    await consumer.apply_batch(batch)
    await consumer.apply_batch(batch[2:3])
    assert await applied(pool, sku) == 5


async def test_a_batch_writes_one_log_line_not_one_per_event(pool: asyncpg.Pool) -> None:
    """ADR 451: each event's line is at debug level; the batch's one line counts what it applied."""
    sku, trace = unique("SKU"), "4bf92f3577b34da6a3ce929d0e0e4736"
    batch = [
        record_of(
            StockChanged(sku=sku, available_total=i, by_warehouse={"BOM1": i}),
            i,
            traceparent=f"00-{trace}-00f067aa0ba902b{i}-01" if i < 2 else None,
        )
        for i in range(5)
    ]
    with structlog.testing.capture_logs() as logs:
        await consumer_for(pool, [], []).apply_batch([*batch, batch[0]])
    info = [line for line in logs if line["log_level"] != "debug"]
    assert info == [
        {
            "event": "batch applied",
            "events": 6,
            "applied": {"StockChanged": 5},
            "order_ids": [],
            "trace_ids": [trace],
            "log_level": "info",
        }
    ]
    assert await applied(pool, sku) == 5


async def test_one_failing_event_is_retried_then_dead_lettered_and_the_rest_still_apply(
    pool: asyncpg.Pool,
) -> None:
    good, bad = unique("SKU"), unique("SKU-POISON")
    dead: list[tuple[FakeRecord, str]] = []
    attempts: list[str] = []
    batch = [
        record_of(StockChanged(sku=good, available_total=1, by_warehouse={}), 1),
        record_of(StockChanged(sku=bad, available_total=1, by_warehouse={}), 2),
        record_of(StockChanged(sku=good, available_total=2, by_warehouse={}), 3),
    ]
    await consumer_for(pool, dead, attempts).apply_batch(batch)
    assert await applied(pool, good) == 2
    assert await applied(pool, bad) == 0
    assert attempts.count(bad) == 1 + 3, "once in the batch, then three tries alone"
    assert [r.offset for r, _ in dead] == [2]
    assert "cannot apply" in dead[0][1]


async def test_unreadable_and_mistyped_messages_go_to_the_dlq_without_retries(pool: asyncpg.Pool) -> None:
    dead: list[tuple[FakeRecord, str]] = []
    attempts: list[str] = []
    good = StockChanged(sku=unique("SKU"), available_total=1, by_warehouse={})
    not_json = record_of(good, 1)
    not_json.value = b"{not json"
    wrong_type = record_of(good, 2)
    wrong_type.headers = [
        (k, b"dabba.orders.placed.v1" if k == "ce_type" else v) for k, v in wrong_type.headers
    ]
    await consumer_for(pool, dead, attempts).apply_batch([not_json, wrong_type, record_of(good, 3)])
    assert sorted(r.offset for r, _ in dead) == [1, 2]
    assert any("does not belong" in e for _, e in dead)
    assert attempts == [good.sku], "poison is not retried; the good event applies"


async def test_dead_letters_carry_where_they_came_from(servers: infra.Servers, tap: Tap) -> None:
    broker = make_broker(servers.kafka, client_id="tests")
    await broker.connect()
    sku = unique("SKU-DLQ")
    try:
        await send_to_dlq(
            broker,
            "routing",
            record_of(StockChanged(sku=sku, available_total=0, by_warehouse={}), 41),
            "boom",
        )  # type: ignore[arg-type]
    finally:
        await broker.stop()
    [dead] = await tap.wait_for("dlq.routing", body_has(sku=sku))
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq_original_topic"] == "inventory.stock_changed.v1"
    assert headers["dlq_original_partition"] == "0"
    assert headers["dlq_original_offset"] == "41"
    assert headers["dlq_error"] == "boom"
    assert headers["ce_type"] == "dabba.inventory.stock_changed.v1", "the original envelope is kept"


async def test_the_relay_publishes_in_commit_order_and_deletes_only_after_the_ack(
    servers: infra.Servers, pool: asyncpg.Pool, tap: Tap
) -> None:
    sku = unique("SKU-RELAY")
    for start in range(0, 60, 6):
        async with pool.acquire() as conn, conn.transaction():
            for i in range(start, start + 6):
                await emit(
                    conn, StockChanged(sku=sku, available_total=i, by_warehouse={"BOM1": i}), source=SERVICE
                )

    broker = make_broker(servers.kafka, client_id="tests")
    await broker.connect()
    relay = OutboxRelay(
        pool=pool,
        dsn=db.with_database(servers.database_url, db.database_name(SERVICE)),
        publish=lambda t, v, k, h: publish_raw(broker, t, v, k, h),
        batch_size=7,
    )
    relay.start()
    try:
        records = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=60)
        assert [json.loads(r.value)["available_total"] for r in records] == list(range(60))
        for _ in range(50):
            left = await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", sku)
            if left == 0:
                break
            await asyncio.sleep(0.1)
        assert left == 0
    finally:
        await relay.stop()
        await broker.stop()


async def test_a_2_mib_row_is_set_aside_with_an_alert_and_the_rows_around_it_flow(
    servers: infra.Servers, pool: asyncpg.Pool, tap: Tap
) -> None:
    """One event over the broker's size limit must not wedge the relay: it is moved to
    outbox_set_aside with its error, and the events before and after it are published in order."""
    sku = unique("SKU-POISON")
    async with pool.acquire() as conn, conn.transaction():
        await emit(conn, StockChanged(sku=sku, available_total=1, by_warehouse={"BOM1": 1}), source=SERVICE)
        _, row = outbox_row(
            StockChanged(sku=sku, available_total=2, by_warehouse={"BOM1": 2}), source=SERVICE
        )
        topic, key, headers, _ = row
        await write_rows(conn, [(topic, key, headers, b'{"sku": "' + b"x" * (2 * 2**20) + b'"}')])
        await emit(conn, StockChanged(sku=sku, available_total=3, by_warehouse={"BOM1": 3}), source=SERVICE)
    alerts_before = SET_ASIDE.labels(topic)._value.get()

    broker = make_broker(servers.kafka, client_id="tests")
    await broker.connect()
    relay = OutboxRelay(
        pool=pool,
        dsn=db.with_database(servers.database_url, db.database_name(SERVICE)),
        publish=lambda t, v, k, h: publish_raw(broker, t, v, k, h),
    )
    relay.start()
    try:
        records = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=2)
        assert [json.loads(r.value)["available_total"] for r in records] == [1, 3]

        async def set_aside() -> list[asyncpg.Record] | None:
            sql = "SELECT topic, error, length(payload) AS size FROM outbox_set_aside WHERE key = $1"
            return list(await pool.fetch(sql, sku)) or None

        aside = await wait_until(set_aside, what="the big row set aside")
        assert [(r["topic"], r["size"] > 2 * 2**20) for r in aside] == [(topic, True)]
        assert "MessageSizeTooLarge" in aside[0]["error"]
        assert SET_ASIDE.labels(topic)._value.get() == alerts_before + 1, "the alert's metric moved"
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", sku) == 0
    finally:
        await relay.stop()
        await broker.stop()


async def _plans_of_seven_runs(conn: asyncpg.Connection | Any) -> tuple[int, int]:
    """(generic, custom): the plans PostgreSQL used for seven runs of one keyed lookup."""
    await conn.execute("PREPARE plan_probe(text) AS SELECT id FROM applied WHERE sku = $1")
    try:
        for _ in range(7):
            await conn.execute("EXECUTE plan_probe('PROBE')")
        row = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'plan_probe'"
        )
    finally:
        await conn.execute("DEALLOCATE plan_probe")
    return int(row["generic_plans"]), int(row["custom_plans"])


async def test_a_consumer_transaction_keeps_generic_plans_and_the_pool_plans_each_run(
    servers: infra.Servers,
) -> None:
    """ADR 547: inside a consumer's transaction a statement runs on a generic plan once it has run a
    few times; outside one, and after it on the same connection, each run is planned again."""
    one = await one_connection_pool(servers)
    inside: list[tuple[int, int]] = []

    async def handler(ctx: HandlerContext, event: StockChanged) -> None:
        inside.append(await _plans_of_seven_runs(ctx.conn))

    consumer = consumer_of(one, handler)
    try:
        async with one.acquire() as conn:
            assert await _plans_of_seven_runs(conn) == (0, 7)
        event = StockChanged(sku=unique("SKU"), available_total=1, by_warehouse={"BOM1": 1})
        await consumer.apply_batch([record_of(event, 0)])
        generic, custom = inside[0]
        assert generic > 0 and custom + generic == 7, inside
        async with one.acquire() as conn:  # the same connection: the pool holds one
            assert await _plans_of_seven_runs(conn) == (0, 7)
    finally:
        await one.close()


async def test_a_connection_back_in_the_pool_costs_no_reset_round_trip(servers: infra.Servers) -> None:
    """ADR 450: releasing a connection sends nothing to the server (asyncpg's default sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` every time)."""
    one = await one_connection_pool(servers)
    sent: list[str] = []
    try:
        async with one.acquire() as conn:
            conn.add_query_logger(lambda logged: sent.append(logged.query))
            await conn.fetchval("SELECT 1")
        async with one.acquire() as conn:  # the same connection: the pool holds one
            await conn.fetchval("SELECT 2")
            await asyncio.sleep(0)  # query loggers are called soon after, not inline
            assert sent == ["SELECT 1", "SELECT 2"]
    finally:
        await one.close()


class PublishedRecords:
    """A relay's publish that keeps each record and acknowledges it at once (no broker needed)."""

    def __init__(self) -> None:
        self.values: list[dict[str, object]] = []

    async def __call__(self, topic: str, value: bytes, key: bytes | None, headers: dict[str, str]) -> object:
        self.values.append(json.loads(value))
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked

    def totals(self, sku: str) -> list[object]:
        return [v["available_total"] for v in self.values if v["sku"] == sku]


async def _emit_committed(pool: asyncpg.Pool, sku: str, total: int) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await emit(
            conn, StockChanged(sku=sku, available_total=total, by_warehouse={"BOM1": total}), source=SERVICE
        )


async def _open_transaction(dsn: str) -> tuple[asyncpg.Connection, asyncpg.transaction.Transaction]:
    """A connection holding a transaction that has taken its id and writes nothing more."""
    conn = await asyncpg.connect(dsn)
    tx = conn.transaction()
    await tx.start()
    await conn.fetchval("SELECT pg_current_xact_id()")
    return conn, tx


async def test_a_transaction_in_another_database_does_not_hold_the_relay_back_but_one_in_its_own_does(
    servers: infra.Servers, pool: asyncpg.Pool
) -> None:
    """The relay's barrier (ADR 1) counts only transactions that can write its outbox: those of
    its own database. Another service's long batch on the same server must not stop it (ADR 460)."""
    sku = unique("SKU-BARRIER")
    own_dsn = db.with_database(servers.database_url, db.database_name(SERVICE))
    published = PublishedRecords()
    relay = OutboxRelay(pool=pool, dsn=own_dsn, publish=published)
    elsewhere, elsewhere_tx = await _open_transaction(servers.database_url)
    try:
        await _emit_committed(pool, sku, 1)
        while await relay.relay_once():
            pass
        assert published.totals(sku) == [1], "a transaction in another database held the row back"

        own, own_tx = await _open_transaction(own_dsn)
        try:
            await _emit_committed(pool, sku, 2)
            while await relay.relay_once():
                pass
            assert published.totals(sku) == [1], "a row passed an older running transaction of its database"
        finally:
            await own_tx.commit()
            await own.close()
        while await relay.relay_once():
            pass
        assert published.totals(sku) == [1, 2]
    finally:
        await elsewhere_tx.rollback()
        await elsewhere.close()


async def test_rows_held_back_by_a_transaction_that_writes_no_event_go_out_without_a_notify(
    servers: infra.Servers, pool: asyncpg.Pool
) -> None:
    """The holder commits no outbox row, so no NOTIFY follows; the relay, told to poll only once an
    hour, must still look again on its own while committed rows wait behind the barrier."""
    sku = unique("SKU-HELD")
    own_dsn = db.with_database(servers.database_url, db.database_name(SERVICE))
    published = PublishedRecords()
    relay = OutboxRelay(pool=pool, dsn=own_dsn, publish=published, poll_interval_s=3600)
    saw_held = asyncio.Event()
    looks = relay._relay

    async def looking(conn: db.Conn) -> tuple[int, bool]:
        sent, held = await looks(conn)
        if held:
            saw_held.set()
        return sent, held

    relay._relay = looking  # type: ignore[method-assign]
    holder, holder_tx = await _open_transaction(own_dsn)
    relay.start()
    try:
        await _emit_committed(pool, sku, 1)  # its NOTIFY wakes the relay, which finds the row held
        await asyncio.wait_for(saw_held.wait(), timeout=30)
        await holder_tx.commit()
        await wait_until(lambda: _some(published.totals(sku)), what="the held row published")
        assert published.totals(sku) == [1]
    finally:
        await relay.stop()
        await holder.close()


async def _some(values: list[object]) -> list[object] | None:
    return values or None


async def test_a_consumer_commit_sends_no_notify_and_wakes_the_relay_itself(
    servers: infra.Servers, pool: asyncpg.Pool
) -> None:
    """ADR 531: PostgreSQL serialises every notifying commit on the server, so a consumer's
    transaction is quiet and wakes the relay after it commits; any other writer still notifies."""
    sku = unique("SKU-QUIET")
    heard: list[str] = []
    woken: list[bool] = []
    listener = await asyncpg.connect(db.with_database(servers.database_url, db.database_name(SERVICE)))
    await listener.add_listener("outbox", lambda *args: heard.append(str(args[-1])))

    async def handler(ctx: HandlerContext, event: StockChanged) -> None:
        await ctx.emit(StockChanged(sku=f"{event.sku}-OUT", available_total=1, by_warehouse={"BOM1": 1}))

    async def written() -> None:
        woken.append(True)

    consumer = consumer_of(pool, handler, outbox_written=written)
    batch = [record_of(StockChanged(sku=sku, available_total=1, by_warehouse={}), 0)]
    try:
        await consumer.apply_batch(batch)
        assert woken == [True], "the consumer wakes the relay once its transaction has committed"
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM outbox WHERE convert_from(payload, 'UTF8') LIKE $1", f"%{sku}-OUT%"
            )
            == 1
        )
        await _emit_committed(pool, sku, 2)  # an API call's or a sweep's write: it notifies
        # The listening session is sent what was committed before its own next statement ends.
        await listener.fetchval("SELECT 1")
        assert len(heard) == 1, "only the write outside a consumer notified; the consumer's commit sent none"
        await consumer.apply_batch(batch)
        assert woken == [True], "a redelivered batch writes nothing, so wakes nothing"
    finally:
        await listener.close()
        await pool.execute("DELETE FROM outbox WHERE convert_from(payload, 'UTF8') LIKE $1", f"%{sku}%")


@dataclass
class Batch:
    """What the chassis hands the committer: a faststream batch message's parts."""

    raw_message: tuple[object, ...]
    consumer: object
    committed: object = None


async def test_offsets_are_committed_once_per_interval_and_a_crash_replays_only_into_the_inbox(
    servers: infra.Servers, pool: asyncpg.Pool
) -> None:
    """ADR 540: three applied batches, one commit of the first two, then a crash before the
    interval is up. The group's next reader starts after the committed batches, gets the third
    again, and the inbox applies nothing twice."""
    topic, group, sku = unique("test.offsets"), unique("offsets"), unique("SKU")
    await ensure_topics(servers.kafka, {topic: 1})
    producer = AIOKafkaProducer(bootstrap_servers=servers.kafka)
    await producer.start()
    try:
        for i in range(6):
            event = StockChanged(sku=sku, available_total=i, by_warehouse={"BOM1": i})
            envelope = Envelope.for_event(event, source="tests")
            await producer.send_and_wait(
                topic, event.model_dump_json().encode(), key=sku.encode(), headers=envelope.to_headers()
            )
    finally:
        await producer.stop()
    handler = consumer_for(pool, [], [])
    handler._subs = {topic: handler._subs[StockChanged.TOPIC]}

    async def reader() -> AIOKafkaConsumer:
        kafka = AIOKafkaConsumer(
            topic,
            bootstrap_servers=servers.kafka,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await kafka.start()
        return kafka

    async def next_batch(kafka: AIOKafkaConsumer, size: int) -> tuple[object, ...]:
        got: list[object] = []
        async with asyncio.timeout(30):
            while len(got) < size:
                for records in (await kafka.getmany(timeout_ms=500, max_records=size - len(got))).values():
                    got.extend(records)
        return tuple(got)

    first = await reader()
    committer = OffsetCommitter(3600)  # the interval is not up within the test: commits are the flushes
    try:
        for number in range(3):
            batch = await next_batch(first, 2)
            await handler.apply_batch(batch)  # type: ignore[arg-type]
            await committer.applied(Batch(batch, first))
            if number == 1:
                await committer.flush()
        assert committer.requests == 1, "two batches, one OffsetCommit request"
        assert await first.committed(TopicPartition(topic, 0)) == 4
    finally:
        await first.stop()  # a crash: the third batch's offsets were never committed

    second = await reader()
    try:
        replayed = await next_batch(second, 2)
        assert [r.offset for r in replayed] == [4, 5]  # type: ignore[attr-defined]
        await handler.apply_batch(replayed)  # type: ignore[arg-type]
    finally:
        await second.stop()
    assert await applied(pool, sku) == 6, "each of the six events applied once"


async def test_a_batch_handler_gets_its_message_without_a_worker_thread(
    servers: infra.Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ADR 542: the broker injects nothing, so FastDepends does not resolve `KafkaMessage` with a
    synchronous function run in a worker thread once per batch; the chassis's decoder hands the
    message itself to the handler."""
    hops: list[object] = []
    real_run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await real_run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    topic = unique("test.handler")
    await ensure_topics(servers.kafka, {topic: 1})
    broker = make_broker(servers.kafka, client_id="tests")
    got: list[KafkaMessage] = []
    arrived = asyncio.Event()

    @broker.subscriber(
        topic, group_id=unique("handler"), batch=True, auto_offset_reset="earliest", decoder=_the_message
    )
    async def on_batch(message: KafkaMessage) -> None:
        got.append(message)
        arrived.set()

    await broker.start()
    try:
        await broker.publish(b"{}", topic, key=b"k")
        async with asyncio.timeout(30):
            await arrived.wait()
    finally:
        await broker.stop()
    assert [r.value for r in got[0].raw_message] == [b"{}"], "the handler's argument is the batch's message"
    assert hops == [], "no worker-thread hop per batch"


async def test_after_commit_hooks_see_what_the_handlers_shared_once_it_is_committed(
    pool: asyncpg.Pool,
) -> None:
    """A handler notes work for a job in the transaction's shared state, and each hook sees it once
    the batch has committed (its connection is back in the pool by then). A failing hook does not
    fail the batch, and a replayed batch applies nothing and shares nothing."""
    sku = unique("SKU-HOOK")
    seen: list[tuple[object, int]] = []

    async def handler(ctx: HandlerContext, event: StockChanged) -> None:
        await ctx.conn.execute("INSERT INTO applied (event_id, sku) VALUES ($1, $2)", ctx.event_id, event.sku)
        ctx.shared["work"] = event.sku

    def note(tx: Any) -> None:
        seen.append((tx.shared.get("work"), len(seen)))

    def broken(tx: Any) -> None:
        raise RuntimeError("a hook's own failure")

    def released(tx: Any) -> None:
        with pytest.raises(asyncpg.InterfaceError, match="released back to the pool"):
            tx.conn.is_in_transaction()
        seen.append(("released", len(seen)))

    consumer = consumer_of(pool, handler, after_commit=[broken, note, released])
    batch = [record_of(StockChanged(sku=sku, available_total=1, by_warehouse={}), 0)]
    await consumer.apply_batch(batch)
    assert seen == [(sku, 0), ("released", 1)], "each hook ran once, after the commit, with what was shared"
    assert await applied(pool, sku) == 1, "the batch stands although a hook failed"
    await consumer.apply_batch(batch)
    assert seen[-2] == (None, 2), "a replayed batch shares nothing: its event is a duplicate"
