"""Effectively-once consumption: inbox + effect + outgoing events in one transaction per batch.

A batch is applied in one transaction; if any message fails, each is retried alone (bounded, with
backoff) and a message that still fails goes to dlq.<service>. A lost database or broker is not a bad
message: it is waited out, however long it takes, and nothing is dead-lettered for it (ADR 70). The
Kafka offset is committed by the caller only after this returns, i.e. after the database commit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
import structlog
from aiokafka.errors import KafkaError, KafkaTimeoutError
from prometheus_client import Counter, Gauge, Histogram
from pydantic import ValidationError

from chassis import faults
from chassis.db import Conn
from chassis.logging import describe_error, get_logger, personal_values, scrub
from chassis.outbox import OutboxRow, outbox_row, write_rows
from chassis.telemetry import consume_span, trace_id_of
from contracts._base import Event
from contracts.envelope import H_TRACEPARENT, Envelope, header

log = get_logger(__name__)

Emit = Callable[[Event], Awaitable[Any]]
"""Emit an event inside the caller's transaction (`HandlerContext.emit`, or `Service.emit` bound to a
connection); handlers and the helpers they call take one of these."""

CONSUMED = Counter(
    "dabba_events_consumed_total", "Events by outcome", ["topic", "outcome"]
)  # applied | duplicate | dead_lettered | invalid
BATCH_SECONDS = Histogram("dabba_consume_batch_seconds", "Time to apply one consumed batch")

_ID_NAMESPACE = uuid.UUID("6f1c9a52-0d1e-4c53-9a53-5d2b0a7f3e11")

OUTAGE = Gauge(
    "dabba_consumer_outage", "1 while the consumer waits for its database or broker to come back", ["service"]
)
OUTAGE_RETRIES = Counter(
    "dabba_consumer_outage_retries_total",
    "Tries repeated because the database or broker was unreachable",
    ["service"],
)

T = TypeVar("T")
E = TypeVar("E", bound=Event)
E_contra = TypeVar("E_contra", bound=Event, contravariant=True)


class Record(Protocol):
    """The parts of a Kafka record the consumer reads (aiokafka's ConsumerRecord fits)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


@dataclass(slots=True)
class Incoming:
    """One consumed record, with its envelope when it had one."""

    record: Record
    event_id: str
    envelope: Envelope | None
    traceparent: str | None
    order_id: str | None = None
    """The event's order, once it is read (for the batch's log line)."""


@dataclass(slots=True)
class Transaction:
    """One consumer transaction (a batch, or one retried event) and what its handlers share."""

    conn: Conn
    service: str
    shared: dict[str, Any] = field(default_factory=dict)
    pending: list[OutboxRow] = field(default_factory=list)
    wrote: bool = False
    """Whether it wrote outbox rows: once it commits, the relay is woken (ADR 531)."""

    async def emit(self, event: Event) -> str:
        """Publish an event when (and only if) this transaction commits; returns its event id.

        Rows are written to the outbox in one statement just before the commit (flush)."""
        event_id, row = outbox_row(event, source=self.service)
        self.pending.append(row)
        return event_id

    async def flush(self) -> None:
        """Write the events emitted so far to the outbox."""
        rows, self.pending = self.pending, []
        await write_rows(self.conn, rows)
        self.wrote = self.wrote or bool(rows)


@dataclass(slots=True)
class HandlerContext:
    """What a handler gets besides the event: the transaction's connection and a way to emit."""

    tx: Transaction
    incoming: Incoming
    log: Any
    deps: Any = None
    """What the service included its handlers with (settings, adapters): read it through the
    registry, `Handlers.deps(ctx)`, which knows its type."""

    @property
    def conn(self) -> Conn:
        """The connection of the consumer's transaction."""
        return self.tx.conn

    @property
    def shared(self) -> dict[str, Any]:
        """State shared by every handler call in this transaction (e.g. SKUs to announce once)."""
        return self.tx.shared

    @property
    def event_id(self) -> str:
        """The id of the event being applied (its ce_id)."""
        return self.incoming.event_id

    async def emit(self, event: Event) -> str:
        """Publish an event when (and only if) this transaction commits; returns its event id."""
        return await self.tx.emit(event)


BeforeCommit = Callable[[Transaction], Awaitable[None]]
"""Runs once per consumer transaction after its events are applied, e.g. to coalesce output."""

AfterCommit = Callable[[Transaction], None]
"""Runs once a consumer transaction has committed, with what its handlers shared: e.g. to wake a
job for work they queued. It must not fail or wait; the committed work stands either way."""


class Handler(Protocol[E_contra]):
    """Applies one event inside the consumer's transaction."""

    async def __call__(self, ctx: HandlerContext, event: E_contra, /) -> None: ...


InvalidHandler = Callable[[HandlerContext, bytes, ValidationError], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Subscription(Generic[E]):
    """How one topic is handled: its model, the handler, and what to do with an invalid payload."""

    model: type[E]
    handler: Handler[E]
    on_invalid: InvalidHandler | None = None
    deps: Any = None


class Poison(Exception):
    """A message that can never be applied (unreadable, wrong type): dead-lettered without retry."""


DeadLetter = Callable[[Record, str], Awaitable[None]]

_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # connection refused or reset, host unreachable, and TimeoutError (a pool acquire)
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, and "connection was closed in the middle"
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutting down, starting up, cancelled
    asyncpg.exceptions.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.exceptions.TransactionRollbackError,  # class 40: deadlock, serialization failure
    asyncpg.exceptions.ReadOnlySQLTransactionError,  # a failover that still points at a standby
)


def is_outage(exc: BaseException) -> bool:
    """Whether an error says the database or the broker is unreachable (wait, never dead-letter)
    rather than that the message is bad. A Poison message is never an outage."""
    if isinstance(exc, Poison):
        return False
    if isinstance(exc, KafkaTimeoutError):
        return True  # no broker answered in time (aiokafka does not flag it retriable)
    if isinstance(exc, KafkaError):
        return bool(exc.retriable)
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc)  # "connection is closed"; other interface errors are our bugs
    return isinstance(exc, _OUTAGE_ERRORS)


def outage_backoff(tries: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait before the next try of an outage: doubling from base_s, at most cap_s."""
    return min(cap_s, base_s * float(2 ** min(tries - 1, 30)))


def event_id_of(record: Record, envelope: Envelope | None) -> str:
    """The CloudEvents id, or for a record without one a stable id from its position."""
    if envelope is not None:
        return envelope.id
    return str(uuid.uuid5(_ID_NAMESPACE, f"{record.topic}/{record.partition}/{record.offset}"))


def read_envelope(record: Record) -> Envelope | None:
    """The envelope, None when the producer sent no CloudEvents headers (a third-party adapter)."""
    if not any(k == "ce_id" for k, _ in record.headers):
        return None
    try:
        return Envelope.from_headers(record.headers)
    except ValueError as exc:
        raise Poison(describe_error(exc)) from exc


class Consumer:
    """Applies batches of records for one service through its registered subscriptions."""

    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        subscriptions: dict[str, Subscription[Any]],
        dead_letter: DeadLetter,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        outage_backoff_max_s: float = 5.0,
        before_commit: Sequence[BeforeCommit] = (),
        after_commit: Sequence[AfterCommit] = (),
        outbox_written: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self._outbox_written = outbox_written
        self._pool = pool
        self._subs = subscriptions
        self._dead_letter = dead_letter
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_s
        self._outage_backoff_max = outage_backoff_max_s
        self._before_commit = tuple(before_commit)
        self._after_commit = tuple(after_commit)
        self._waiting = 0  # batches (one per concurrent subscriber) waiting out an outage
        self.outage_retries = 0

    @property
    def ready(self) -> bool:
        """False while any batch waits for the database or the broker to come back (/readyz)."""
        return self._waiting == 0

    async def apply_batch(self, records: Sequence[Record]) -> None:
        """Apply records in order; returns once every one is applied, a duplicate, or dead-lettered."""
        started = time.perf_counter()
        ready: list[Incoming] = []
        for record in records:
            try:
                envelope = read_envelope(record)
                self._check_type(record, envelope)
            except Poison as exc:
                await self._to_dlq(record, str(exc))
                continue
            ready.append(
                Incoming(
                    record=record,
                    event_id=event_id_of(record, envelope),
                    envelope=envelope,
                    traceparent=header(record.headers, H_TRACEPARENT),
                )
            )
        if ready:
            try:
                await self._through_outages(lambda: self._apply_together(ready))
            except Exception as exc:
                # The exception's text may quote any of the batch's customers.
                seen = frozenset().union(*(personal_values(i.record.value) for i in ready))
                error = scrub(describe_error(exc), seen)
                log.warning("batch failed, applying one by one", size=len(ready), error=error)
                for incoming in ready:
                    await self._apply_alone(incoming)
            await faults.freeze_if_armed("consumer.after_commit", lambda: _mentions(ready))
        BATCH_SECONDS.observe(time.perf_counter() - started)

    async def _apply_together(self, ready: Sequence[Incoming]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            tx = Transaction(conn=conn, service=self.service)
            fresh = await self._claim(conn, ready)
            applied: dict[str, int] = {}
            for incoming in ready:
                if incoming.event_id in fresh:
                    fresh.discard(incoming.event_id)  # two copies of one event in a batch: apply one
                    kind = await self._apply(tx, incoming)
                    applied[kind] = applied.get(kind, 0) + 1
                else:
                    CONSUMED.labels(incoming.record.topic, "duplicate").inc()
            await self._finish(tx)
            await faults.freeze_if_armed("consumer.before_commit", lambda: _mentions(ready))
        await self._committed(tx)
        # One line per batch, not per event (ADR 451): each event's line is at debug level. The
        # batch's orders and traces are on it, so a service's log is still searched by either.
        log.info(
            "batch applied",
            events=len(ready),
            applied=applied,
            order_ids=list(dict.fromkeys(i.order_id for i in ready if i.order_id)),
            trace_ids=list(dict.fromkeys(t for i in ready if (t := trace_id_of(i.traceparent)))),
        )

    async def _through_outages(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt`; while it fails because the database or broker is unreachable, wait
        (doubling, capped) and run it again, for as long as it takes. Other errors propagate."""
        tries = 0
        try:
            while True:
                try:
                    return await attempt()
                except Exception as exc:
                    if not await self._outage(exc):
                        raise
                    tries += 1
                    if tries == 1:
                        self._waiting += 1
                        OUTAGE.labels(self.service).set(1)
                    self.outage_retries += 1
                    OUTAGE_RETRIES.labels(self.service).inc()
                    delay = outage_backoff(tries, base_s=self._backoff, cap_s=self._outage_backoff_max)
                    log.warning("database or broker unreachable, waiting", tries=tries, error=repr(exc))
                    await asyncio.sleep(delay)
        finally:
            if tries:
                self._waiting -= 1
                if self._waiting == 0:
                    OUTAGE.labels(self.service).set(0)
                    log.info("database and broker reachable again", tries=tries)

    async def _outage(self, exc: Exception) -> bool:
        """An outage error, or any error (not Poison) while the database does not answer: a handler
        may have wrapped the connection error in one of its own."""
        if is_outage(exc):
            return True
        if isinstance(exc, Poison):
            return False
        try:
            answer = await asyncio.wait_for(self._pool.fetchval("SELECT 1"), timeout=5)
        except Exception:
            return True
        return bool(answer != 1)

    def _check_type(self, record: Record, envelope: Envelope | None) -> None:
        sub = self._subs.get(record.topic)
        if sub is None:
            raise Poison(f"no handler for topic {record.topic!r}")
        if envelope is not None and envelope.type != sub.model.ce_type():
            raise Poison(f"ce_type {envelope.type!r} does not belong on topic {record.topic!r}")

    async def _claim(self, conn: Conn, batch: Sequence[Incoming]) -> set[str]:
        """Insert the batch's ids into the inbox; the ids that were new are the ones to apply.

        The same statement marks the transaction quiet: its outbox rows send no NOTIFY, since a
        notifying commit is serialised with every other one on the server (ADR 531). And it lets the
        transaction's statements run on generic plans instead of planning each execution (ADR 547)."""
        rows = await conn.fetch(
            """WITH quiet AS (SELECT set_config('dabba.outbox_quiet', 'on', true),
                                    set_config('plan_cache_mode', 'auto', true))
               INSERT INTO inbox (event_id, topic)
               SELECT u.event_id, u.topic FROM unnest($1::text[], $2::text[]) AS u(event_id, topic), quiet
               ON CONFLICT (event_id) DO NOTHING
               RETURNING event_id""",
            [i.event_id for i in batch],
            [i.record.topic for i in batch],
        )
        return {r["event_id"] for r in rows}

    async def _finish(self, tx: Transaction) -> None:
        for hook in self._before_commit:
            await hook(tx)
        await tx.flush()

    async def _apply(self, tx: Transaction, incoming: Incoming) -> str:
        """Apply one event; returns the name of its model (or "invalid")."""
        record = incoming.record
        sub = self._subs[record.topic]
        event: Event | None = None
        invalid: ValidationError | None = None
        try:
            event = sub.model.model_validate_json(record.value or b"")
        except ValidationError as exc:
            if sub.on_invalid is None:
                raise Poison(f"invalid {sub.model.__name__}: {describe_error(exc)}") from exc
            invalid = exc
        context = {"event_id": incoming.event_id, "topic": record.topic}
        if (order_id := getattr(event, "order_id", None)) is not None:
            context["order_id"] = incoming.order_id = order_id
        elif incoming.envelope is not None and incoming.envelope.subject:
            context["subject"] = incoming.envelope.subject
        with (
            consume_span(
                f"{record.topic} process",
                traceparent=incoming.traceparent,
                **{"messaging.destination": record.topic, "messaging.message.id": incoming.event_id},
            ),
            structlog.contextvars.bound_contextvars(**context),
        ):
            ctx = HandlerContext(tx=tx, incoming=incoming, log=log, deps=sub.deps)
            if event is None:
                assert sub.on_invalid is not None and invalid is not None
                await sub.on_invalid(ctx, record.value or b"", invalid)
                CONSUMED.labels(record.topic, "invalid").inc()
                return "invalid"
            await sub.handler(ctx, event)
            CONSUMED.labels(record.topic, "applied").inc()
            log.debug("event applied", type=sub.model.__name__)
            return sub.model.__name__

    async def _apply_alone(self, incoming: Incoming) -> None:
        """One message in its own transaction, retried with backoff, then dead-lettered."""
        error = ""
        for attempt in range(1, self._max_attempts + 1):
            try:
                await self._through_outages(lambda: self._apply_one(incoming))
                return
            except Poison as exc:
                error = str(exc)
                break
            except Exception as exc:
                error = scrub(describe_error(exc), personal_values(incoming.record.value))
                log.warning("event failed", event_id=incoming.event_id, attempt=attempt, error=error)
                if attempt < self._max_attempts:
                    await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        await self._to_dlq(incoming.record, error)

    async def _apply_one(self, incoming: Incoming) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if not await self._claim(conn, [incoming]):
                CONSUMED.labels(incoming.record.topic, "duplicate").inc()
                return
            tx = Transaction(conn=conn, service=self.service)
            kind = await self._apply(tx, incoming)
            await self._finish(tx)
        await self._committed(tx)
        log.info("event applied alone", event_id=incoming.event_id, type=kind)

    async def _committed(self, tx: Transaction) -> None:
        """After a commit: the after-commit hooks, then, if it wrote outbox rows, wake the relay, as
        the commit did not (ADR 531). If that fails, the relay's poll finds the rows; the events
        are committed either way."""
        for hook in self._after_commit:
            try:
                hook(tx)
            except Exception as exc:
                log.warning(
                    "after-commit hook failed", hook=getattr(hook, "__name__", repr(hook)), error=repr(exc)
                )
        if not tx.wrote or self._outbox_written is None:
            return
        try:
            await self._outbox_written()
        except Exception as exc:
            log.warning("could not wake the outbox relay; it polls", error=repr(exc))

    async def _to_dlq(self, record: Record, error: str) -> None:
        # A Poison raised by a handler is free text too: it may quote the customer's name.
        error = scrub(error, personal_values(record.value))
        # A broker that is down now must not turn into a lost record: wait until the DLQ takes it.
        await self._through_outages(lambda: self._dead_letter(record, error))
        CONSUMED.labels(record.topic, "dead_lettered").inc()
        log.error(
            "event dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error[:500],
        )


def _mentions(batch: Sequence[Incoming]) -> list[str]:
    """What a fault point may match on: each record's key and value as text."""
    return [
        (i.record.key or b"").decode(errors="replace")
        + " "
        + (i.record.value or b"").decode(errors="replace")
        for i in batch
    ]
