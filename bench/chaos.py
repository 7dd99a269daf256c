"""Chaos soak: steady orders through the real stack while every service is SIGKILLed once, the broker
is SIGKILLed and PostgreSQL is stopped for 30 s; then exactly-once is checked from topics and databases.

`make chaos` (or `python -m bench.chaos --rate 3 --seconds 180`); see bench/README.md. Exits 1 unless
no order was lost, none duplicated, nothing dead-lettered and every order's customer was notified.
Only this checkout's own processes are touched: services by their pid files, the broker by the pid
file of deploy/local/kafka.sh (checked to be a broker of this checkout), PostgreSQL by its data folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import secrets
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from bench.run import FOLLOWED, KAFKA_PID, Observed, consumer_lag, db_checks, seed_for, start_stack
from chassis.db import database_name, with_database
from chassis.settings import ServiceSettings
from contracts import topics
from deploy.local import demo_data
from deploy.local.demo import channel_order_record, tail_consumer
from deploy.local.ports import KAFKA_PORT, export_defaults
from deploy.local.stack import ANY_HOUR, ROOT, SERVICES, Stack

PY = sys.executable
DLQ_PREFIX = "dlq."


def say(msg: str = "") -> None:
    print(f"chaos: {msg}" if msg else "", flush=True)


# --- the verdict: pure, from what the topics and the databases showed ---------------------------


@dataclass(frozen=True)
class Facts:
    """What the run saw: the orders it sent, the topics' events and the databases' rows."""

    sent: Mapping[str, int]
    """channel_order_id → units ordered, for every order the channel (this tool) had acknowledged."""
    observed: Observed
    order_rows: Mapping[str, int]
    """channel_order_id → rows in orders' database."""
    shipment_rows: Mapping[str, int]
    """order_id → rows in shipping's database."""
    whatsapp_rows: Iterable[tuple[str, str, int]]
    """(order_id, template, rows) of sent WhatsApp messages in notifications' database."""
    reserved_units: Mapping[str, int]
    """order_id → units inventory's ledger reserved for it."""
    dead_letters: Mapping[str, int]
    """dlq topic → records published to it during the run."""


@dataclass(frozen=True)
class Verdict:
    """The soak's numbers; it passes when nothing was lost, duplicated or dead-lettered and every
    order's customer heard from us."""

    placed: int
    lost: int
    stuck: int
    duplicated: dict[str, int]
    dead_lettered: int
    notified: int

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.stuck == 0
            and not any(self.duplicated.values())
            and self.dead_lettered == 0
            and self.notified == self.placed
        )

    def lines(self) -> list[str]:
        dup = sum(self.duplicated.values())
        return [
            f"placed {self.placed}  lost {self.lost}  stuck {self.stuck}  duplicated {dup}  "
            f"dead-lettered {self.dead_lettered}  notified {self.notified}/{self.placed}",
            "duplicated by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(self.duplicated.items())),
            "exactly once: " + ("OK" if self.passed else "VIOLATED"),
        ]


def judge(facts: Facts) -> Verdict:
    """Count lost, stuck, duplicated, dead-lettered and notified orders of one run."""
    o = facts.observed
    coid_to_order = {coid: oid for oid, coid in o.order_to_coid.items()}
    lost = [c for c in facts.sent if facts.order_rows.get(c, 0) == 0 and c not in o.placed]
    # Placed but never through every stage (confirmed, a shipment, a message): waiting forever.
    stuck = [
        c
        for c, oid in coid_to_order.items()
        if c in facts.sent and not (oid in o.confirmed and oid in o.shipments and oid in o.notified_at)
    ]
    stuck += [c for c in facts.sent if c in o.rejected]
    ours = set(coid_to_order.values())
    whatsapp_twice = sum(1 for oid, _, n in facts.whatsapp_rows if oid in ours and n > 1)
    duplicated = {
        "order_placed_twice": sum(1 for c, ids in o.placed.items() if c in facts.sent and len(ids) > 1),
        "order_rows": sum(1 for c, n in facts.order_rows.items() if c in facts.sent and n > 1),
        "confirmed_twice": sum(1 for oid, ids in o.confirmed.items() if oid in ours and len(ids) > 1),
        "reserved_twice": sum(1 for oid, ids in o.reservations.items() if oid in ours and len(ids) > 1),
        "reserved_units_over": sum(
            1
            for c, oid in coid_to_order.items()
            if c in facts.sent and facts.reserved_units.get(oid, 0) > facts.sent[c]
        ),
        "shipments": sum(1 for oid, ids in o.shipments.items() if oid in ours and len(ids) > 1),
        "shipment_rows": sum(1 for oid, n in facts.shipment_rows.items() if oid in ours and n > 1),
        "whatsapp_messages": sum(1 for (oid, _), ids in o.messages.items() if oid in ours and len(ids) > 1),
        "whatsapp_rows": whatsapp_twice,
    }
    notified = sum(1 for c, oid in coid_to_order.items() if c in facts.sent and oid in o.notified_at)
    return Verdict(
        placed=len(facts.sent),
        lost=len(lost),
        stuck=len(stuck),
        duplicated=duplicated,
        dead_lettered=sum(facts.dead_letters.values()),
        notified=notified,
    )


@dataclass(frozen=True)
class Fault:
    """One thing done to the stack at a time into the load."""

    at_s: float
    name: str


def schedule(services: Iterable[str], *, seconds: float) -> list[Fault]:
    """The broker early, PostgreSQL next, then each service in turn, all inside the load window."""
    names = list(services)
    faults = [Fault(seconds * 0.10, "kafka"), Fault(seconds * 0.27, "postgres")]
    first, last = seconds * 0.50, seconds * 0.92
    step = (last - first) / max(1, len(names) - 1)
    faults += [Fault(first + i * step, name) for i, name in enumerate(names)]
    return faults


# --- doing harm to this checkout's own processes ------------------------------------------------


def own_broker_pid() -> int | None:
    """The broker deploy/local/kafka.sh started for this checkout on this offset's port, if it runs."""
    try:
        pid = int(KAFKA_PID.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError, IndexError):
        return None
    config = KAFKA_PID.parent / "server.properties"
    if "kafka.Kafka" not in cmdline or str(config) not in cmdline:
        return None
    try:
        if f":{KAFKA_PORT}" not in config.read_text():
            return None
    except OSError:
        return None
    return pid


async def run_cmd(*args: str, env: Mapping[str, str] | None = None) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {out.decode(errors='replace')[-500:]}")


def wait_gone(pid: int) -> None:
    """Block until a process has exited (the broker is not our child: kafka.sh started it)."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


async def kill_broker(down_s: float) -> str:
    pid = own_broker_pid()
    if pid is None:
        raise RuntimeError("no broker of this checkout runs on this offset's port")
    os.kill(pid, signal.SIGKILL)
    await asyncio.to_thread(wait_gone, pid)
    await asyncio.sleep(down_s)
    # Recovering every partition after a SIGKILL takes minutes on a busy two-core machine.
    try:
        await run_cmd("bash", "deploy/local/kafka.sh", "start", env={"KAFKA_READY_TIMEOUT": "420"})
    except RuntimeError:
        if own_broker_pid() is None:
            raise
        return f"broker pid {pid} SIGKILLed, down {down_s:.0f}s, restarted (still recovering its logs)"
    return f"broker pid {pid} SIGKILLed, down {down_s:.0f}s, restarted"


async def stop_postgres(down_s: float) -> str:
    await run_cmd(PY, "deploy/local/postgres.py", "stop")
    await asyncio.sleep(down_s)
    await run_cmd(PY, "deploy/local/postgres.py", "start")
    return f"PostgreSQL stopped, down {down_s:.0f}s, started"


async def kill_service(supervisor: Supervisor, name: str) -> str:
    async with supervisor.lock:
        pid = supervisor.stack.running_pid(name)
        if pid is None:
            raise RuntimeError(f"{name} is not running")
        await asyncio.to_thread(supervisor.stack.kill, name)
        await asyncio.to_thread(supervisor.stack.start, name)
    return f"{name} pid {pid} SIGKILLed and restarted"


@dataclass
class Supervisor:
    """Restarts a service that exits, as compose's `restart: unless-stopped` does in production.
    A service started while the broker or the database is down waits for them (ADR 170), so any
    restart counted here is a service that died by itself: worth reading its log."""

    stack: Stack
    restarts: dict[str, int] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            async with self.lock:
                for name in self.stack.instances(SERVICES):
                    if self.stack.running_pid(name) is None:
                        await asyncio.to_thread(self.stack.start, name)
                        self.restarts[name] = self.restarts.get(name, 0) + 1
            try:
                await asyncio.wait_for(stop.wait(), 2)
            except TimeoutError:
                pass


# --- quiescence: nothing left in any outbox, no consumer group behind ----------------------------


async def outbox_rows(database_url: str) -> int:
    total = 0
    for name in SERVICES:
        try:
            conn = await asyncpg.connect(with_database(database_url, database_name(name)), timeout=5)
        except (asyncpg.InvalidCatalogNameError, OSError, asyncpg.PostgresError):
            continue
        try:
            if await conn.fetchval("SELECT to_regclass('outbox')") is not None:
                total += int(await conn.fetchval("SELECT count(*) FROM outbox"))
        finally:
            await conn.close()
    return total


# --- the run -------------------------------------------------------------------------------------


async def db_facts(settings: ServiceSettings, prefix: str, order_ids: list[str]) -> dict[str, Any]:
    """Orders' rows per channel order (lost and duplicated), and units reserved per order."""
    base = await db_checks(settings, prefix, order_ids)
    conn = await asyncpg.connect(with_database(settings.database_url, "dabba_orders"))
    try:
        rows = await conn.fetch(
            "SELECT channel_order_id, count(*) FROM orders WHERE channel_order_id LIKE $1 GROUP BY 1",
            f"{prefix}%",
        )
    finally:
        await conn.close()
    conn = await asyncpg.connect(with_database(settings.database_url, "dabba_inventory"))
    try:
        reserved = await conn.fetch(
            "SELECT reference, sum(reserved_delta) FROM stock_movements "
            "WHERE kind = 'reservation' AND reserved_delta > 0 AND reference = ANY($1::text[]) GROUP BY 1",
            order_ids,
        )
    finally:
        await conn.close()
    return base | {
        "order_rows": {r[0]: r[1] for r in rows},
        "reserved_units": {r[0]: int(r[1]) for r in reserved},
    }


async def soak(args: argparse.Namespace) -> int:
    settings = ServiceSettings()
    began = time.monotonic()
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    prefix = f"CHAOS-{run_id}-"
    stack = Stack(env={**ANY_HOUR, "RATE_WHATSAPP_PER_S": "1000"})
    if own_broker_pid() is None:
        say("no broker of this checkout on this offset: run deploy/local/up.sh first (make chaos does)")
        return 2
    say(f"run {run_id}: {args.rate:g} orders/s for {args.seconds:g}s; (re)starting the stack…")
    up = await asyncio.to_thread(start_stack, stack)
    missing = set(SERVICES) - set(up)
    if missing:
        say(f"not every service started: {', '.join(sorted(missing))}")
        return 2
    count = int(args.rate * args.seconds)
    rng = random.Random(run_id)
    orders = [
        demo_data.make_order(i, rng, channel_order_id_prefix=prefix, prepaid_only=True) for i in range(count)
    ]
    await seed_for(orders, settings)
    units = {o["channel_order_id"]: sum(line["quantity"] for line in o["lines"]) for o in orders}

    observed = Observed(prefix)
    dead_letters: dict[str, int] = defaultdict(int)
    followed = (*FOLLOWED, topics.INVENTORY_RESERVED, *topics.dlq_topics())
    consumer = await tail_consumer(settings.kafka_bootstrap_servers, followed)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        linger_ms=10,
        request_timeout_ms=30000,
    )
    await producer.start()
    acked: dict[str, int] = {}
    stop = asyncio.Event()

    async def follow() -> None:
        while not stop.is_set():
            try:
                batches = await consumer.getmany(timeout_ms=200)
            except KafkaError:
                await asyncio.sleep(0.5)
                continue
            for tp, batch in batches.items():
                for record in batch:
                    if tp.topic.startswith(DLQ_PREFIX):
                        dead_letters[tp.topic] += 1
                        continue
                    ce_id = next((v.decode() for k, v in record.headers if k == "ce_id"), None)
                    try:
                        event = json.loads(record.value or b"{}")
                    except ValueError:
                        continue
                    observed.apply(tp.topic, ce_id, record.timestamp, event)

    async def place(order: dict[str, Any]) -> None:
        # The channel adapter's duty: keep sending until the broker acknowledges the order.
        key, value, headers = channel_order_record(order)
        while True:
            try:
                await producer.send_and_wait(topics.CHANNEL_ORDERS, value, key=key, headers=headers)
                acked[order["channel_order_id"]] = units[order["channel_order_id"]]
                return
            except KafkaError:
                await asyncio.sleep(1)

    async def harm(fault: Fault, started: float) -> None:
        await asyncio.sleep(max(0.0, started + fault.at_s - time.monotonic()))
        at = time.monotonic() - started
        actions: dict[str, Callable[[], Awaitable[str]]] = {
            "kafka": lambda: kill_broker(args.broker_down),
            "postgres": lambda: stop_postgres(args.postgres_down),
        }
        try:
            what = await actions.get(fault.name, lambda: kill_service(supervisor, fault.name))()
        except RuntimeError as exc:
            what = f"{fault.name}: the fault could not be done or undone: {str(exc)[-300:]}"
        say(f"{at:6.0f}s  {what} (back at {time.monotonic() - started:.0f}s)")

    following = asyncio.create_task(follow())
    supervisor = Supervisor(stack)
    supervising = asyncio.create_task(supervisor.run(stop))
    started = time.monotonic()

    # Each fault keeps its own time: a broker that takes minutes to recover does not push the rest out.
    harming = asyncio.gather(
        *(harm(f, started) for f in schedule(stack.instances(SERVICES), seconds=args.seconds))
    )
    sending = []
    for i, order in enumerate(orders):
        await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
        sending.append(asyncio.create_task(place(order)))
        if i and i % int(args.rate * 30) == 0:
            say(
                f"{time.monotonic() - started:6.0f}s  sent {i}  placed {len(observed.placed_at)}  "
                f"confirmed {len(observed.confirmed_at)}  notified {len(observed.ours(observed.notified_at))}"
            )
    await asyncio.gather(*sending)
    await harming
    say(f"{time.monotonic() - started:6.0f}s  all {len(acked)} orders acknowledged; every fault done")

    deadline = started + args.budget
    quiet = await quiesce(settings, observed, acked, deadline, started)
    stop.set()
    await following
    await supervising
    await producer.stop()
    await consumer.stop()

    order_ids = sorted(observed.order_to_coid)
    db = await db_facts(settings, prefix, order_ids)
    verdict = judge(
        Facts(
            sent=acked,
            observed=observed,
            order_rows=db["order_rows"],
            shipment_rows=db["shipments_per_order"] or {},
            whatsapp_rows=[tuple(r) for r in db["whatsapp_per_order_template"] or []],
            reserved_units=db["reserved_units"],
            dead_letters=dead_letters,
        )
    )
    say()
    say(f"run {run_id}: {time.monotonic() - began:.0f}s in all; quiescent: {'yes' if quiet else 'NO'}")
    say(
        "supervisor restarts (a service that exited by itself): "
        + (", ".join(f"{n} {c}" for n, c in supervisor.restarts.items()) or "none")
    )
    say("dead letters by topic: " + (", ".join(f"{t} {n}" for t, n in dead_letters.items()) or "none"))
    for line in verdict.lines():
        say(line)
    return 0 if verdict.passed and quiet else 1


async def quiesce(
    settings: ServiceSettings, observed: Observed, acked: Mapping[str, int], deadline: float, started: float
) -> bool:
    """Wait until every order went all the way, every outbox is empty and no group lags behind."""
    told = time.monotonic()
    while time.monotonic() < deadline:
        done = sum(
            1
            for oid in observed.order_to_coid
            if oid in observed.confirmed and oid in observed.shipments and oid in observed.notified_at
        )
        if time.monotonic() - told > 30:
            told = time.monotonic()
            say(f"{told - started:6.0f}s  placed {len(observed.placed_at)}  all the way {done}/{len(acked)}")
        if done >= len(acked):
            try:
                pending = await outbox_rows(settings.database_url)
                lag = await consumer_lag(settings.kafka_bootstrap_servers)
            except (KafkaError, OSError, asyncpg.PostgresError) as exc:
                say(f"quiescence check failed ({exc!r}); trying again")
                pending, lag = -1, {}
            if pending == 0 and not any(lag.values()):
                say(f"{time.monotonic() - started:6.0f}s  quiescent: outboxes empty, no consumer lag")
                return True
        await asyncio.sleep(1)
    say(f"{time.monotonic() - started:6.0f}s  not quiescent before the time budget ran out")
    return False


def main() -> int:
    export_defaults()
    # The clients' own reconnect chatter during the outages we cause says nothing new.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=3, help="orders per second (default 3)")
    parser.add_argument("--seconds", type=float, default=180, help="seconds of load (default 180)")
    parser.add_argument("--broker-down", type=float, default=15, help="seconds the broker stays dead")
    parser.add_argument("--postgres-down", type=float, default=30, help="seconds PostgreSQL stays stopped")
    parser.add_argument(
        "--budget", type=float, default=600, help="seconds from the first order until all is settled (600)"
    )
    parser.add_argument("--keep-running", action="store_true", help="leave the services up afterwards")
    args = parser.parse_args()
    try:
        return asyncio.run(soak(args))
    finally:
        if not args.keep_running:
            Stack().stop_all()


if __name__ == "__main__":
    sys.exit(main())
