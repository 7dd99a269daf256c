"""Transactional outbox: events are rows written with the state change, published by a relay.

The relay publishes in transaction order, deletes rows only after the broker acknowledged them, wakes
on LISTEN/NOTIFY (and, while rows wait behind an older transaction, after a few ms), and after a
crash simply publishes again what is left (consumers' inboxes dedupe).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg
from aiokafka.errors import MessageSizeTooLargeError
from prometheus_client import Counter, Gauge

from chassis import faults
from chassis.db import STATEMENT_LIFETIME_S, Conn, register_json_codec
from chassis.logging import get_logger
from chassis.telemetry import current_traceparent
from contracts._base import Event
from contracts.envelope import H_ID, Envelope

log = get_logger(__name__)

PUBLISHED = Counter("dabba_outbox_published_total", "Outbox events acknowledged by Kafka", ["topic"])
PENDING = Gauge("dabba_outbox_pending", "Outbox rows read but not yet acknowledged")
SET_ASIDE = Counter(
    "dabba_outbox_set_aside_total",
    "Outbox rows the broker can never take, moved to outbox_set_aside (alert on any increase)",
    ["topic"],
)

POISON = (MessageSizeTooLargeError,)
"""Errors that say the record itself can never be published, unlike an outage, which is waited out."""

_RELAY_LOCK = 7_211_002

Publish = Callable[[str, bytes, bytes | None, dict[str, str]], Awaitable[Any]]
"""Send one record (topic, value, key, headers); returns an awaitable that resolves on broker ack."""


OutboxRow = tuple[str, str, dict[str, str], bytes]
"""(topic, key, headers, payload) of one outgoing event."""

Written = list[tuple[str, str]]
"""(topic, event id) of each event written to the outbox, in order."""

_written: ContextVar[Written | None] = ContextVar("dabba_outbox_written", default=None)


@contextmanager
def noting_written() -> Iterator[Written]:
    """Note every event this task (and the tasks it starts) writes to the outbox while inside: an HTTP
    request names them to its caller, who can wait for them to reach a read model (ADR 545)."""
    written: Written = []
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


def outbox_row(event: Event, *, source: str) -> tuple[str, OutboxRow]:
    """An event's id and outbox row, with an envelope made now that carries the current trace."""
    traceparent, tracestate = current_traceparent()
    envelope = Envelope.for_event(event, source=source, traceparent=traceparent, tracestate=tracestate)
    headers = {k: v.decode() for k, v in envelope.to_headers()}
    return envelope.id, (
        event.TOPIC,
        event.partition_key(),
        headers,
        event.model_dump_json().encode(),
    )


def noting_nothing() -> None:
    """Stop noting in the current context: for a task that writes for many callers."""
    _written.set(None)


async def write_rows(conn: Conn, rows: Sequence[OutboxRow]) -> None:
    """Insert outbox rows in one statement, keeping their order (ids follow the list)."""
    if not rows:
        return
    topics, keys, headers, payloads = zip(*rows, strict=True)
    if (written := _written.get()) is not None:
        written.extend((topic, h[H_ID]) for topic, h in zip(topics, headers, strict=True))
    await conn.execute(
        """INSERT INTO outbox (topic, key, headers, payload)
           SELECT topic, key, headers, payload
             FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::bytea[])
                  WITH ORDINALITY AS r(topic, key, headers, payload, n)
            ORDER BY n""",
        list(topics),
        list(keys),
        list(headers),
        list(payloads),
    )


async def emit(conn: Conn, event: Event, *, source: str) -> str:
    """Write one event to the outbox inside the caller's transaction; returns its event id."""
    event_id, row = outbox_row(event, source=source)
    await write_rows(conn, [row])
    return event_id


async def emit_many(conn: Conn, events: Sequence[Event], *, source: str) -> list[str]:
    """Write events to the outbox in one statement inside the caller's transaction, in this order."""
    made = [outbox_row(event, source=source) for event in events]
    await write_rows(conn, [row for _, row in made])
    return [event_id for event_id, _ in made]


_FETCH = """
WITH elsewhere AS (
    -- Transactions running in the server's other databases: none can ever write this outbox.
    SELECT backend_xid::text::bigint AS xid
      FROM pg_stat_activity
     WHERE backend_xid IS NOT NULL
       AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database())
), barrier AS (
    -- The oldest transaction of this database the snapshot sees running (pg_snapshot_xmin, but
    -- blind to the other databases), or the snapshot's xmax when none is.
    SELECT coalesce(
               (SELECT min(x) FROM pg_snapshot_xip(s) AS x
                 WHERE x::text::bigint % 4294967296 NOT IN (SELECT xid FROM elsewhere)),
               pg_snapshot_xmax(s)
           ) AS txid
      FROM pg_current_snapshot() AS s
)
SELECT batch.*,
       -- Committed rows the barrier holds back: worth a short wait, not the poll interval. Read
       -- from the index's end: the planner cannot know the barrier, and an EXISTS scanned the table.
       (SELECT txid FROM outbox WHERE txid >= (SELECT txid FROM barrier) ORDER BY txid LIMIT 1)
           IS NOT NULL AS held
  FROM (SELECT 1) AS one
  LEFT JOIN LATERAL (
        SELECT id, topic, key, headers, payload, created_at
          FROM outbox
         WHERE txid < (SELECT txid FROM barrier)
         ORDER BY txid, id
         LIMIT {limit}
       ) AS batch ON true
"""
"""The next rows in order, each with `held`; one row of NULLs (and `held`) when none is ready. The
batch size is written in (`{limit}`), not bound: a generic plan cannot see a bound LIMIT."""


class OutboxRelay:
    """Publishes one service's outbox to Kafka; one active relay per database (advisory lock)."""

    def __init__(
        self,
        *,
        pool: asyncpg.Pool,
        dsn: str,
        publish: Publish,
        batch_size: int = 1000,
        poll_interval_s: float = 1.0,
        held_retry_s: float = 0.005,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._publish = publish
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._held_retry_s = held_retry_s
        self._fetch = _FETCH.format(limit=int(batch_size))
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.is_leader = False

    def wake(self) -> None:
        """Look at the outbox now: this process committed rows without a NOTIFY (ADR 531)."""
        self._wake.set()

    @property
    def running(self) -> bool:
        """Whether the relay loop is alive (leading or standing by)."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Run the relay in the background."""
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Finish the batch under way and stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                self._task.cancel()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self._lead()
            except Exception as exc:  # the relay must outlive broker and database outages
                log.warning("outbox relay failed, retrying", error=repr(exc))
                await asyncio.sleep(1)

    async def _lead(self) -> None:
        listener = await asyncpg.connect(self._dsn)
        reader: asyncpg.Connection | None = None
        try:
            while not self._stopping:
                if await listener.fetchval("SELECT pg_try_advisory_lock($1)", _RELAY_LOCK):
                    break
                await asyncio.sleep(2)  # another instance relays; stand by
            else:
                return  # stopped while standing by: it never held the lock
            self.is_leader = True
            await listener.add_listener("outbox", lambda *_: self._wake.set())
            # The lock lives as long as this session: once it ends, another replica may lead, so stop
            # at once instead of relaying beside it (ADR 471).
            listener.add_termination_listener(lambda _conn: self._wake.set())
            # The leader reads and deletes rows on a session of its own, not the lock's: a lock lost
            # between a batch's ack and its delete must not take the delete with it. That session
            # plans its two statements once (plan_cache_mode auto), where a pool connection plans each
            # run (ADR 547): the read is the relay's one costly statement to plan, and runs after
            # every commit.
            reader = await asyncpg.connect(
                self._dsn,
                server_settings={"plan_cache_mode": "auto"},
                max_cached_statement_lifetime=STATEMENT_LIFETIME_S,  # a plan made on an empty outbox
            )
            await register_json_codec(reader)
            log.info("outbox relay leading")
            held_waits = 0
            while not self._stopping:
                if listener.is_closed():
                    raise ConnectionError("outbox relay: the session holding the relay lock has ended")
                # Cleared before reading, so a NOTIFY that arrives while a batch is read or
                # published wakes the next wait instead of being lost with the clear.
                self._wake.clear()
                sent, held = await self._relay(reader)
                if sent >= self._batch_size:
                    held_waits = 0
                    continue  # a full batch: more are ready
                # Rows committed after the read sent a NOTIFY, which wakes the wait at once.
                held_waits = held_waits + 1 if held else 0
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self._next_wait(held_waits))
                except TimeoutError:
                    pass
        finally:
            self.is_leader = False
            if reader is not None:
                await reader.close()
            await listener.close()

    def _next_wait(self, held_waits: int) -> float:
        """How long to sleep when nothing could be published: the poll interval, or while committed
        rows wait behind an older transaction (the xmin barrier), a short wait that doubles. That
        transaction may be in another database of the server, whose commit sends us no NOTIFY."""
        if not held_waits:
            return self._poll_interval_s
        return min(self._poll_interval_s, self._held_retry_s * 2.0 ** min(held_waits - 1, 16))

    async def relay_once(self) -> int:
        """Publish the next batch in order and delete it once every record is acknowledged; returns
        how many rows it published.

        A row the broker can never take (too large) is moved to ``outbox_set_aside`` with its error
        and an alert, so one bad row does not wedge every row behind it (ADR 115).
        """
        async with self._pool.acquire() as conn:
            sent, _held = await self._relay(conn)
        return sent

    async def _relay(self, conn: Conn) -> tuple[int, bool]:
        """`relay_once` on a connection, and whether committed rows were held back by the barrier at
        the read. Two statements when rows are ready (the read, the delete), one when none is."""
        found = await conn.fetch(self._fetch)
        held = bool(found[0]["held"])
        rows = [r for r in found if r["id"] is not None]
        if not rows:
            return 0, held
        PENDING.set(len(rows))
        acks: list[tuple[asyncpg.Record, Any]] = []
        poison: list[tuple[asyncpg.Record, BaseException]] = []
        for r in rows:
            try:
                ack = await self._publish(
                    r["topic"],
                    bytes(r["payload"]),
                    r["key"].encode() if r["key"] is not None else None,
                    r["headers"],
                )
            except POISON as exc:
                poison.append((r, exc))
                continue
            acks.append((r, ack))
        answers = await asyncio.gather(*(ack for _, ack in acks), return_exceptions=True)
        for (r, _), answer in zip(acks, answers, strict=True):
            if isinstance(answer, POISON):
                poison.append((r, answer))
            elif isinstance(answer, BaseException):
                raise answer  # an outage: the whole batch is published again later
        await faults.freeze_if_armed(
            "outbox.after_publish", lambda: [f"{r['key']} {bytes(r['payload']).decode()}" for r in rows]
        )
        published = [r["id"] for r in rows]
        if poison:
            async with conn.transaction():
                await self._set_aside(conn, poison)
                await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", published)
        else:  # one statement is its own transaction
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", published)
        for r, _ in acks:
            PUBLISHED.labels(r["topic"]).inc()
        PENDING.set(0)
        return len(rows), held

    async def _set_aside(self, conn: Conn, poison: list[tuple[asyncpg.Record, BaseException]]) -> None:
        for r, exc in poison:
            await conn.execute(
                """INSERT INTO outbox_set_aside (id, topic, key, headers, payload, error, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING""",
                r["id"],
                r["topic"],
                r["key"],
                r["headers"],
                r["payload"],
                repr(exc)[:2000],
                r["created_at"],
            )
            SET_ASIDE.labels(r["topic"]).inc()
            log.error(
                "outbox row set aside: the broker can never take it",
                alert=True,
                outbox_id=r["id"],
                topic=r["topic"],
                bytes=len(r["payload"]),
                error=type(exc).__name__,
            )
