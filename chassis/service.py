"""One Dabba service process: its database, its Kafka consumer, its outbox relay, its HTTP API.

A service module builds a Service, registers handlers and routes, and calls run().
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import httpx_aiohttp
import uvicorn
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.middlewares import AckPolicy
from prometheus_client import Gauge

from chassis import db
from chassis.auth import parse_keys
from chassis.consumer import (
    AfterCommit,
    BeforeCommit,
    Consumer,
    Record,
    Subscription,
    is_outage,
    outage_backoff,
)
from chassis.handlers import Handlers
from chassis.http import OpsOnlyUntilStarted, create_http_app
from chassis.kafka import (
    OffsetCommitter,
    ensure_topics,
    make_broker,
    publish_raw,
    send_to_dlq,
    without_idle_sleep,
)
from chassis.logging import configure_logging, get_logger
from chassis.outbox import OutboxRelay, emit, emit_many
from chassis.settings import EXIT_UNSAFE_SETTINGS, ServiceSettings, UnsafeSettings
from chassis.telemetry import configure_tracing
from contracts._base import Event

D = TypeVar("D")
T = TypeVar("T")
Job = Callable[["Service"], Awaitable[None]]

log = get_logger(__name__)

WAITING = Gauge(
    "dabba_service_waiting",
    "1 while a starting service waits for a dependency it cannot reach yet (database, kafka)",
    ["service", "dependency"],
)


async def _the_message(message: KafkaMessage) -> KafkaMessage:
    """The "decoded body" handed to a batch handler is the message itself: records are read raw by
    the consumer, and the broker injects nothing (ADR 542)."""
    return message


def _batch_handler(
    consumer: Consumer, committer: OffsetCommitter
) -> Callable[[KafkaMessage], Awaitable[None]]:
    """A faststream batch handler of its own (one per subscriber) that hands raw records over, and
    hands the applied batch's offsets to the subscriber's committer (ADR 540)."""

    async def on_batch(message: KafkaMessage) -> None:
        await consumer.apply_batch(message.raw_message)
        await committer.applied(message)

    return on_batch


class Service:
    """Wires a service's handlers and routes to PostgreSQL, Kafka and HTTP."""

    def __init__(
        self,
        name: str,
        *,
        settings: ServiceSettings,
        migrations: Path | None = None,
        version: str = "0.1.0",
        follower: bool = False,
    ) -> None:
        """`follower`: no order's next step waits for this service (a read model, a sync to the
        stores), so its consumer takes records in batches gathered by the broker (ADR 543)."""
        self.name = name
        self.follower = follower
        self.settings = settings
        self.migrations = migrations
        self.version = version
        self._subscriptions: dict[str, Subscription[Any]] = {}
        self._routers: list[APIRouter] = []
        self._http_clients: list[httpx.AsyncClient] = []
        self._before_commit: list[BeforeCommit] = []
        self._after_commit: list[AfterCommit] = []
        self._nudges: dict[str, asyncio.Event] = {}
        self._jobs: list[tuple[str, float, Job]] = []
        self._on_start: list[Job] = []
        self._job_tasks: list[asyncio.Task[None]] = []
        self._committers: list[OffsetCommitter] = []
        self._profiler: cProfile.Profile | None = None
        self._pool: asyncpg.Pool | None = None
        self.broker: KafkaBroker | None = None
        self.consumer: Consumer | None = None
        self.relay: OutboxRelay | None = None
        self.start_failed = False

    # registration ------------------------------------------------------------------------------

    def include_handlers(self, handlers: Handlers[D], deps: D) -> None:
        """Consume these handlers' topics, each call's context carrying `deps` (settings,
        adapters); at most one handler per topic across everything included."""
        for topic, sub in handlers.bound(deps).items():
            if topic in self._subscriptions:
                raise ValueError(f"{self.name} already handles {topic}")
            self._subscriptions[topic] = sub
        self._before_commit.extend(handlers.before_commit_hooks)

    def every(self, seconds: float, *, name: str) -> Callable[[Job], Job]:
        """Run a job every `seconds` while the service runs (sweeps: expiries, SLAs, polling).

        Each process runs its own copy, so a job must be safe side by side with another replica's:
        claim rows with `FOR UPDATE SKIP LOCKED` or take an advisory lock, and emit through the
        outbox in the same transaction as the change."""

        def register(job: Job) -> Job:
            self._jobs.append((name, seconds, job))
            self._nudges[name] = asyncio.Event()
            return job

        return register

    def nudge(self, name: str) -> None:
        """Run the periodic job `name` now instead of at its next tick, e.g. for work a consumer
        has just committed; one that is running runs once more when it ends."""
        self._nudges[name].set()

    def after_commit(self, hook: AfterCommit) -> AfterCommit:
        """Run `hook` after each consumer transaction commits (e.g. to nudge a job)."""
        self._after_commit.append(hook)
        return hook

    def on_start(self, hook: Job) -> Job:
        """Run once after the database is migrated, before consuming (e.g. load reference data)."""
        self._on_start.append(hook)
        return hook

    def include_router(self, router: APIRouter) -> None:
        """Serve these HTTP routes."""
        self._routers.append(router)

    def http_client(self, *, base_url: str, timeout: float) -> httpx.AsyncClient:
        """An HTTP client for a provider adapter, pooled for the process and closed on stop.

        It is httpx's client on aiohttp's transport: the same API and mock transports, at about
        half the CPU per request (0.42 vs 0.90 ms measured against the sandbox)."""
        client: httpx.AsyncClient = httpx_aiohttp.HttpxAiohttpClient(base_url=base_url, timeout=timeout)
        self._http_clients.append(client)
        return client

    @property
    def topics(self) -> Sequence[str]:
        """The topics this service consumes."""
        return tuple(self._subscriptions)

    # runtime -----------------------------------------------------------------------------------

    @property
    def fetch_bounds(self) -> tuple[int, int]:
        """(fetch_min_bytes, fetch_max_wait_ms) of this service's consumers: a follower's broker
        gathers records for a while; any other service's hands each record over at once."""
        s = self.settings
        if self.follower:
            return s.follower_fetch_min_bytes, s.follower_fetch_max_wait_ms
        return s.consumer_fetch_min_bytes, s.consumer_fetch_max_wait_ms

    @property
    def pool(self) -> asyncpg.Pool:
        """The service database pool (after start)."""
        if self._pool is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._pool

    async def emit(self, conn: db.Conn, event: Event) -> str:
        """Write an event to the outbox within the caller's transaction."""
        return await emit(conn, event, source=self.name)

    async def emit_many(self, conn: db.Conn, events: Sequence[Event]) -> list[str]:
        """Write events to the outbox in one statement within the caller's transaction, in order."""
        return await emit_many(conn, events, source=self.name)

    async def start(self) -> None:
        """Open the database (migrating it), start the consumer, the relay and the start hooks.

        A database or broker that cannot be reached yet is waited for, as long as it takes (ADR 170):
        a service may start before them, as after a power cut or with compose's start order."""
        s = self.settings
        self._pool = await self._until_reachable(
            "database",
            lambda: db.open_database(
                server_url=s.database_url,
                service=self.name,
                migrations_dir=self.migrations,
                min_size=s.db_pool_min,
                max_size=s.db_pool_max,
                password=s.database_password,
                provision_with=s.database_admin_url(),
            ),
        )
        for hook in self._on_start:
            await hook(self)
        await self._until_reachable(
            "kafka",
            lambda: ensure_topics(
                s.kafka_bootstrap_servers,
                attempts=1,
                partitions=s.kafka_topic_partitions,
                replication_factor=s.kafka_replication_factor,
                min_insync_replicas=s.kafka_min_insync_replicas,
            ),
        )
        broker = self.broker = await self._until_reachable("kafka", self._started_broker)
        self.relay = OutboxRelay(
            pool=self.pool,
            dsn=db.service_url(s.database_url, self.name, s.database_password),
            publish=lambda topic, value, key, headers: publish_raw(broker, topic, value, key, headers),
            batch_size=s.outbox_batch_size,
            poll_interval_s=s.outbox_poll_interval_ms / 1000,
        )
        self.relay.start()
        self._job_tasks = [
            asyncio.create_task(self._run_every(name, seconds, job), name=f"{self.name}.{name}")
            for name, seconds, job in self._jobs
        ]
        log.info(
            "service started", topics=list(self._subscriptions), http_port=s.http_port, mode=s.dabba_mode
        )

    async def _outbox_written(self) -> None:
        """A consumer transaction committed outbox rows without a NOTIFY (ADR 531): the relay
        leading in this process is woken in memory; one leading elsewhere (another replica) hears
        a NOTIFY sent outside any writing transaction, which no other commit waits behind."""
        relay = self.relay
        if relay is not None and relay.is_leader:
            relay.wake()
        else:
            await self.pool.execute("SELECT pg_notify('outbox', '')")

    async def _until_reachable(self, dependency: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """Run `attempt` until it succeeds, waiting out an unreachable database or broker (doubling
        from 0.5 s to 5 s) however long it takes; any other error propagates (a bad migration)."""
        tries = 0
        try:
            while True:
                try:
                    return await attempt()
                except Exception as exc:
                    if not is_outage(exc):
                        raise
                    tries += 1
                    WAITING.labels(self.name, dependency).set(1)
                    log.warning(f"waiting for {dependency}", tries=tries, error=repr(exc))
                    await asyncio.sleep(outage_backoff(tries, base_s=0.5, cap_s=5.0))
        finally:
            WAITING.labels(self.name, dependency).set(0)

    async def _started_broker(self) -> KafkaBroker:
        """A started broker with this service's subscribers; one that fails to start is stopped, so
        the next try begins afresh."""
        s = self.settings
        broker = make_broker(s.kafka_bootstrap_servers, client_id=self.name)

        async def dead_letter(record: Record, error: str) -> None:
            await send_to_dlq(broker, self.name, record, error)

        if self._subscriptions:
            consumer = self.consumer = Consumer(
                service=self.name,
                pool=self.pool,
                subscriptions=self._subscriptions,
                dead_letter=dead_letter,
                max_attempts=s.consumer_max_attempts,
                retry_backoff_s=s.consumer_retry_backoff_ms / 1000,
                before_commit=self._before_commit,
                after_commit=self._after_commit,
                outbox_written=self._outbox_written,
            )

            # Several consumers in the group split the partitions: batches of different
            # partitions then overlap their waits (provider calls), while one key's events stay
            # on one partition, so in order.
            fetch_min_bytes, fetch_max_wait_ms = self.fetch_bounds
            self._committers = []
            for _ in range(s.consumer_concurrency):
                committer = OffsetCommitter(s.consumer_commit_interval_ms / 1000)
                self._committers.append(committer)
                subscriber = broker.subscriber(
                    *self._subscriptions,
                    group_id=self.name,
                    batch=True,
                    max_records=s.consumer_max_records,
                    batch_timeout_ms=s.consumer_batch_timeout_ms,
                    fetch_min_bytes=fetch_min_bytes,
                    fetch_max_wait_ms=fetch_max_wait_ms,
                    auto_offset_reset="earliest",
                    ack_policy=AckPolicy.NACK_ON_ERROR,
                    decoder=_the_message,
                    max_poll_interval_ms=600_000,
                    listener=committer,
                )
                subscriber(_batch_handler(consumer, committer))
                without_idle_sleep(subscriber)
        try:
            await broker.start()
        except BaseException:
            with contextlib.suppress(Exception):
                await broker.stop()
            raise
        return broker

    async def _run_every(self, name: str, seconds: float, job: Job) -> None:
        nudged = self._nudges[name]
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(nudged.wait(), seconds)
            nudged.clear()
            try:
                await job(self)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed sweep is retried next round; it must not kill the service
                log.exception("periodic job failed", job=name)

    async def stop(self) -> None:
        """Stop the jobs and consuming, let the relay finish its batch, close the pool."""
        for task in self._job_tasks:
            task.cancel()
        for task in self._job_tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for committer in self._committers:  # what was applied is not replayed by the next start
            with contextlib.suppress(Exception):
                await committer.flush()
        if self.broker is not None:
            await self.broker.stop()
        if self.relay is not None:
            await self.relay.stop()
        for client in self._http_clients:
            await client.aclose()
        if self._pool is not None:
            await self._pool.close()
        if self._profiler is not None:  # dumped here: uvicorn re-raises SIGTERM after shutdown
            self._profiler.disable()
            folder = os.environ["DABBA_PROFILE"]
            os.makedirs(folder, exist_ok=True)  # a folder named but not made must not lose the profile
            self._profiler.dump_stats(os.path.join(folder, f"{self.name}.prof"))
        log.info("service stopped")

    async def readiness(self) -> dict[str, bool]:
        """Each dependency's state, for /readyz."""
        checks = {"database": False, "kafka": False, "outbox_relay": False}
        if self._pool is not None:
            try:
                checks["database"] = await self._pool.fetchval("SELECT true") is True
            except (OSError, asyncpg.PostgresError):
                pass
        if self.broker is not None:
            checks["kafka"] = await self.broker.ping(timeout=2)
        checks["outbox_relay"] = self.relay is not None and self.relay.running
        if self.consumer is not None:
            checks["consumer"] = self.consumer.ready  # false while it waits out an outage
        return checks

    def http_app(self) -> FastAPI:
        """The ASGI app; its lifespan starts and stops the whole service."""

        @asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            # Started in the background, so /healthz and /readyz answer (503) while the service
            # waits for its database or broker; every other route answers 503 until it is started.
            starting = asyncio.create_task(self._start_serving(app), name=f"{self.name}.start")
            try:
                yield
            finally:
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
                await self.stop()

        app = create_http_app(
            title=f"Dabba {self.name}",
            version=self.version,
            lifespan=lifespan,
            readiness=self.readiness,
            api_keys=parse_keys(self.settings.api_keys),
            max_body_bytes=self.settings.http_max_body_bytes,
            max_upload_bytes=self.settings.http_max_upload_bytes,
        )
        for router in self._routers:
            app.include_router(router)
        app.add_middleware(
            OpsOnlyUntilStarted, started=lambda: getattr(app.state, "service", None) is not None
        )
        return app

    async def _start_serving(self, app: FastAPI) -> None:
        """Start, then let the routes reach the service; a start that fails for any reason but an
        outage (a bad migration, a wrong password) stops the process, which exits 1."""
        try:
            await self.start()
        except Exception:
            log.exception("service could not start")
            self.start_failed = True
            signal.raise_signal(signal.SIGTERM)  # uvicorn's graceful shutdown; run() then exits 1
            return
        app.state.service = self

    def run(self) -> None:
        """Configure logging and tracing, then serve until SIGINT/SIGTERM (graceful).

        DABBA_PROFILE=<folder> profiles the process (cProfile) into <folder>/<service>.prof on exit.
        Outside development mode it refuses to start on a development or missing secret (exit 78)."""
        try:
            self.settings.refuse_unsafe()
        except UnsafeSettings as unsafe:
            print(
                f"{self.name}: refusing to start in {self.settings.dabba_mode} mode (DABBA_MODE):\n"
                + "".join(f"  - {problem}\n" for problem in unsafe.problems)
                + "Set each one (SECURITY.md), or DABBA_MODE=development on a developer's machine.",
                file=sys.stderr,
            )
            raise SystemExit(EXIT_UNSAFE_SETTINGS) from None
        if os.environ.get("DABBA_PROFILE"):
            self._profiler = cProfile.Profile()
            self._profiler.enable()
        s = self.settings
        configure_logging(service=self.name, level=s.log_level, fmt=s.log_format)
        configure_tracing(
            service=self.name, exporter=s.otel_exporter, otlp_endpoint=s.otel_exporter_otlp_endpoint
        )
        uvicorn.run(
            self.http_app(),
            host=s.http_host,
            port=s.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
        if self.start_failed:
            raise SystemExit(1)
