"""End-to-end benchmark: N prepaid orders through the whole stack, with exactly-once checks.

`python -m bench.run --orders 5000` (or `make bench`); see bench/README.md for what each number means.
Exits 1 if an order was placed, confirmed, shipped or messaged twice, or never got there.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench import day, hot_sku, statements
from chassis.db import with_database
from chassis.settings import ServiceSettings
from contracts import topics
from deploy.local import demo_data
from deploy.local.demo import channel_order_record, tail_consumer
from deploy.local.ports import PORTS, dev_headers, export_defaults, service_of
from deploy.local.stack import ANY_HOUR, ROOT, SERVICES, Stack

RESULTS = Path(__file__).parent / "results"
KAFKA_PID = ROOT / ".local" / "kafka" / "kafka.pid"
POSTGRES_PID = ROOT / ".local" / "postgres" / "data" / "postmaster.pid"
FOLLOWED = (
    topics.ORDERS_PLACED,
    topics.ORDERS_REJECTED,
    topics.ROUTING_PLANNED,
    topics.INVENTORY_RESERVED,
    topics.ORDERS_CONFIRMED,
    topics.SHIPPING_SHIPMENT_CREATED,
    topics.NOTIFICATIONS_SENT,
)
HOPS = (
    ("placed", "orders"),
    ("planned", "routing"),
    ("reserved", "inventory"),
    ("confirmed", "orders"),
    ("shipped", "shipping"),
    ("notified", "notifications"),
)
"""An order's stages in the order they happen, with the service whose event marks each one."""
STAGE_OF = {
    topics.ORDERS_PLACED: "placed",
    topics.ROUTING_PLANNED: "planned",
    topics.INVENTORY_RESERVED: "reserved",
    topics.ORDERS_CONFIRMED: "confirmed",
    topics.SHIPPING_SHIPMENT_CREATED: "shipped",
    topics.NOTIFICATIONS_SENT: "notified",
}


def say(msg: str = "") -> None:
    print(msg, flush=True)


# --- the stack's processes: CPU and memory -------------------------------------------------------


def _pid_from(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def process_roots(stack: Stack) -> dict[str, list[int]]:
    """Root pids per group: each service (all its replicas), the sandbox, Kafka's JVM, the PostgreSQL
    postmaster."""
    groups: dict[str, list[int]] = defaultdict(list)
    for name in stack.instances():
        pid = stack.running_pid(name)
        if pid is not None:
            groups[service_of(name)].append(pid)
    for group, path in (("kafka", KAFKA_PID), ("postgres", POSTGRES_PID)):
        pid = _pid_from(path)
        if pid is not None and psutil.pid_exists(pid):
            groups[group].append(pid)
    return dict(groups)


def cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """user+sys per group: each root, the children it has reaped, and its live descendants.

    Counting reaped children keeps PostgreSQL backends that exit mid-run in the total.
    """
    totals: dict[str, float] = {}
    for group, pids in roots.items():
        total = 0.0
        for pid in pids:
            try:
                root = psutil.Process(pid)
                t = root.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
                for child in root.children(recursive=True):
                    with_child = child.cpu_times()
                    total += with_child.user + with_child.system
            except psutil.Error:
                continue
        totals[group] = total
    return totals


JIT_THREADS = ("C1 CompilerThre", "C2 CompilerThre")
"""HotSpot's JIT compiler threads as /proc names them (15 characters)."""


def jit_seconds(roots: dict[str, list[int]]) -> float:
    """user+sys of Kafka's JIT compiler threads. A broker that has run for a while has compiled its
    hot code; a fresh one spends a large share of its CPU here, so it is reported apart (bench/README.md)."""
    total = 0.0
    for pid in roots.get("kafka", []):
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                if not (task / "comm").read_text().startswith(JIT_THREADS):
                    continue
                fields = (task / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # the thread ended
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_bytes(roots: dict[str, list[int]]) -> dict[str, int]:
    """Resident memory per group (shared pages, e.g. PostgreSQL's buffers, count once per process)."""
    totals: dict[str, int] = {}
    for group, pids in roots.items():
        total = 0
        for pid in pids:
            try:
                root = psutil.Process(pid)
                for proc in (root, *root.children(recursive=True)):
                    total += proc.memory_info().rss
            except psutil.Error:
                continue
        totals[group] = total
    return totals


@dataclass
class MemorySampler:
    """Peak RSS of the whole stack and of each group, sampled every half second."""

    roots: dict[str, list[int]]
    peak_total: int = 0
    peak_by_group: dict[str, int] = field(default_factory=dict)
    samples: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sample = await asyncio.to_thread(rss_bytes, self.roots)
            self.samples += 1
            self.peak_total = max(self.peak_total, sum(sample.values()))
            for group, value in sample.items():
                self.peak_by_group[group] = max(self.peak_by_group.get(group, 0), value)
            try:
                await asyncio.wait_for(stop.wait(), 0.5)
            except TimeoutError:
                pass


# --- what came back from Kafka --------------------------------------------------------------------


@dataclass
class Observed:
    """Every followed event for this run's orders, with the broker timestamps (ms)."""

    prefix: str
    sent_at: dict[str, float] = field(default_factory=dict)
    placed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    placed_at: dict[str, float] = field(default_factory=dict)
    rejected: dict[str, list[Any]] = field(default_factory=dict)
    order_to_coid: dict[str, str] = field(default_factory=dict)
    confirmed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    confirmed_at: dict[str, float] = field(default_factory=dict)
    shipments: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    shipped_at: dict[str, float] = field(default_factory=dict)
    messages: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    notified_at: dict[str, float] = field(default_factory=dict)
    reservations: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    redeliveries: int = 0
    seen_ids: set[str] = field(default_factory=set)
    stages: dict[str, dict[str, tuple[float, float]]] = field(default_factory=lambda: defaultdict(dict))
    """stage → order id → (when the service wrote the event, when its relay published it), s."""

    def apply(self, topic: str, ce_id: str | None, ts_ms: int, event: dict[str, Any]) -> None:
        at = ts_ms / 1000
        if ce_id is not None:
            if ce_id in self.seen_ids:
                self.redeliveries += 1
                return
            self.seen_ids.add(ce_id)
        order_id = event.get("order_id")
        stage = STAGE_OF.get(topic)
        written = written_at(ce_id) if stage is not None and ce_id is not None else None
        if stage is not None and order_id and written is not None:
            self.stages[stage].setdefault(order_id, (written, at))
        if topic == topics.ORDERS_PLACED:
            coid = event.get("channel_order_id", "")
            if coid.startswith(self.prefix):
                self.placed[coid].add(order_id)
                self.placed_at.setdefault(coid, at)
                self.order_to_coid[order_id] = coid
        elif topic == topics.ORDERS_REJECTED:
            coid = event.get("channel_order_id", "")
            if coid.startswith(self.prefix):
                self.rejected[coid] = event.get("problems", [])
        elif topic == topics.ORDERS_CONFIRMED:
            if event.get("channel_order_id", "").startswith(self.prefix):
                self.confirmed[order_id].add(ce_id or "")
                self.confirmed_at.setdefault(order_id, at)
        elif topic == topics.SHIPPING_SHIPMENT_CREATED and order_id:
            self.shipments[order_id].add(event["shipment_id"])
            self.shipped_at.setdefault(order_id, at)
        elif topic == topics.INVENTORY_RESERVED and order_id:
            self.reservations[order_id].add(ce_id or "")
        elif topic == topics.NOTIFICATIONS_SENT and order_id:
            if event.get("channel") == "whatsapp":
                self.messages[(order_id, event.get("template", ""))].add(event["message_id"])
                self.notified_at.setdefault(order_id, at)

    def ours(self, by_order: dict[str, Any]) -> dict[str, Any]:
        """Only the orders of this run (shipping and notification events carry no channel id)."""
        return {o: v for o, v in by_order.items() if o in self.order_to_coid}


def written_at(ce_id: str) -> float | None:
    """When an event was made, from its CloudEvents id: a UUIDv7 begins with its Unix time in ms
    (the service makes it as it writes the outbox row, inside the transaction); None for another id."""
    try:
        made = uuid.UUID(ce_id)
    except ValueError:
        return None
    return (made.int >> 80) / 1000 if made.version == 7 else None


def hop_latencies(observed: Observed) -> dict[str, dict[str, list[float]]]:
    """Per stage, each order's wait split in two: from the previous stage's publish (the send, for
    the first) until the service wrote the event (consuming, applying), and from then until its
    relay published it (commit, the outbox relay's wake-up and barrier, the producer)."""
    sent = {oid: observed.sent_at[coid] for oid, coid in observed.order_to_coid.items()}
    previous = sent
    hops: dict[str, dict[str, list[float]]] = {}
    for stage, _service in HOPS:
        seen = observed.stages.get(stage, {})
        apply: list[float] = []
        relay: list[float] = []
        for oid, (written, published) in seen.items():
            if oid in previous:
                apply.append(written - previous[oid])
                relay.append(published - written)
        hops[stage] = {"to_written": apply, "to_published": relay}
        if stage != "shipped":  # notifications follows the confirmation, not the shipment
            previous = {oid: published for oid, (_, published) in seen.items()}
    return hops


# --- the run --------------------------------------------------------------------------------------


def keeping_up(
    sent_and_latency: list[tuple[float, float]], *, rate: float, confirmed_per_s: float | None
) -> dict[str, Any] | None:
    """For a paced run: whether the stack kept up with the rate it was sent. Both must hold: orders
    were confirmed at 95 % of the rate or more (placed → confirmed), and the last fifth of the orders
    (by send time) waited no longer than the first, within a half and 100 ms for a shared machine's
    noise (send → confirmed p50). A stack that falls behind makes each order wait behind a growing
    queue, even when the first orders already waited."""
    if len(sent_and_latency) < 10:
        return None
    ordered = [latency for _, latency in sorted(sent_and_latency)]
    fifth = len(ordered) // 5
    first, last = percentile(ordered[:fifth], 50), percentile(ordered[-fifth:], 50)
    assert first is not None and last is not None
    fast_enough = confirmed_per_s is not None and confirmed_per_s >= 0.95 * rate
    return {
        "first_fifth_p50_s": first,
        "last_fifth_p50_s": last,
        "confirmed_per_s": confirmed_per_s,
        "kept_up": fast_enough and last <= 1.5 * first + 0.1,
    }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def start_stack(stack: Stack) -> list[str]:
    """Stop whatever runs, start every process that has code, and return those that came up."""
    stack.stop_all()
    names = stack.instances()
    for name in names:
        stack.start(name, append=True)
    up = []
    for name in names:
        try:
            stack.wait_ready([name], timeout=90)
            up.append(name)
        except (RuntimeError, TimeoutError) as exc:
            say(f"  ✗ {name} did not start: {str(exc).splitlines()[0]}")
            stack.stop(name)
    return up


async def seed_for(orders: list[dict[str, Any]], settings: ServiceSettings) -> None:
    """Warehouses, plus every SKU's demand on top of what each warehouse has now, everywhere.

    Stock in all three warehouses means any plan fits: routing's choice is never what fails.
    """
    need = demo_data.demand(orders)
    base = {n: f"http://127.0.0.1:{PORTS[n]}" for n in ("routing", "inventory")}
    targets: dict[str, dict[str, int]] = {}
    async with httpx.AsyncClient(base_url=base["inventory"], timeout=10, headers=dev_headers()) as inventory:
        for sku, units in need.items():
            have = await demo_data.available_stock(inventory, sku)
            targets[sku] = {w.code: have.get(w.code, 0) + units for w in demo_data.WAREHOUSES}
    await demo_data.seed(base, stock=targets)
    routing_db = with_database(settings.database_url, "dabba_routing")
    if not await demo_data.wait_until_routable(routing_db, targets, timeout=60):
        say("seed: routing's stock view has not caught up after 60s; going ahead anyway")


async def db_checks(settings: ServiceSettings, prefix: str, order_ids: list[str]) -> dict[str, Any]:
    """Duplicates as the databases see them; a table that does not exist yet is reported as such."""

    async def query(database: str, table: str, sql: str, *args: Any) -> list[Any] | None:
        try:
            conn = await asyncpg.connect(with_database(settings.database_url, database))
        except (asyncpg.InvalidCatalogNameError, OSError):
            return None
        try:
            if await conn.fetchval("SELECT to_regclass($1)", table) is None:
                return None
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    out: dict[str, Any] = {}
    rows = await query(
        "dabba_orders",
        "orders",
        "SELECT channel_order_id, count(*) FROM orders WHERE channel_order_id LIKE $1 "
        "GROUP BY 1 HAVING count(*) > 1",
        f"{prefix}%",
    )
    out["orders_duplicates"] = rows
    count = await query(
        "dabba_orders",
        "orders",
        "SELECT count(*) FROM orders WHERE channel_order_id LIKE $1",
        f"{prefix}%",
    )
    out["orders_rows"] = count[0][0] if count else None
    rows = await query(
        "dabba_shipping",
        "shipments",
        "SELECT order_id, count(*) FROM shipments WHERE order_id = ANY($1::text[]) GROUP BY 1",
        order_ids,
    )
    out["shipments_per_order"] = None if rows is None else dict(rows)
    rows = await query(
        "dabba_notifications",
        "messages",
        "SELECT order_id, template, count(*) FROM messages "
        "WHERE order_id = ANY($1::text[]) AND channel = 'whatsapp' AND status = 'sent' "
        "GROUP BY 1, 2",
        order_ids,
    )
    out["whatsapp_per_order_template"] = None if rows is None else rows
    return out


async def consumer_lag(bootstrap: str) -> dict[str, int]:
    """Records each service's consumer group has not committed yet, over every partition it reads."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    ends = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await admin.start()
    await ends.start()
    try:
        lag: dict[str, int] = {}
        for group in SERVICES:
            committed = await admin.list_consumer_group_offsets(group)
            tps = [tp for tp, meta in committed.items() if meta is not None and meta.offset >= 0]
            if not tps:
                continue
            ends.assign(tps)
            end = await ends.end_offsets(tps)
            lag[group] = sum(max(0, end[tp] - committed[tp].offset) for tp in tps)
        return lag
    finally:
        await ends.stop()
        await admin.close()


async def records_on_topics(bootstrap: str) -> dict[str, int]:
    """Records ever written to each topic but the dead-letter ones (the sum of its partitions' end
    offsets): the difference over a run is what the run published, the bench's own orders included."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        # partitions_for_topic reads only the client's cluster metadata, which a consumer without a
        # subscription never fetches (as notifications' DLQ watcher does).
        await consumer._client.force_metadata_update()
        names = [t for t in await consumer.topics() if not t.startswith(("dlq.", "__"))]
        tps = [TopicPartition(t, p) for t in names for p in consumer.partitions_for_topic(t) or ()]
        ends = await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()
    written: dict[str, int] = defaultdict(int)
    for tp, end in ends.items():
        written[tp.topic] += end
    return dict(written)


def events_per_order(before: dict[str, int], after: dict[str, int], n: int) -> dict[str, float]:
    """Events published per order over a run, per topic, largest first (topics with none left out)."""
    per_topic = {t: (after[t] - before.get(t, 0)) / n for t in after if after[t] > before.get(t, 0)}
    return dict(sorted(per_topic.items(), key=lambda kv: (-kv[1], kv[0])))


class LagWatch:
    """Each service's consumer lag sampled through a run: where the queue backs up, and when."""

    def __init__(self, bootstrap: str, every_s: float = 5) -> None:
        self.bootstrap, self.every_s = bootstrap, every_s
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.missed: list[str] = []

    async def run(self, started: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                self.samples.append((time.monotonic() - started, await consumer_lag(self.bootstrap)))
            except Exception as exc:  # a sample missed is not a failed run, but it is told
                self.missed.append(repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every_s)

    def worst(self) -> dict[str, dict[str, float]]:
        """Per service, its largest lag and when (seconds into the run), largest first."""
        peaks: dict[str, tuple[int, float]] = {}
        for at, lags in self.samples:
            for group, lag in lags.items():
                if lag > peaks.get(group, (-1, 0.0))[0]:
                    peaks[group] = (lag, at)
        ordered = sorted(peaks.items(), key=lambda item: -item[1][0])
        return {group: {"max_lag": lag, "at_s": round(at, 1)} for group, (lag, at) in ordered}


async def bench(args: argparse.Namespace) -> int:
    settings = ServiceSettings()
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    prefix = f"BENCH-{run_id}-"
    # A WhatsApp number upgraded to Meta's 1000 msg/s tier: at the default 80/s the provider's limit,
    # not Dabba, would be what the benchmark measures.
    stack = Stack(env={**ANY_HOUR, "RATE_WHATSAPP_PER_S": os.environ.get("RATE_WHATSAPP_PER_S", "1000")})
    say(f"bench: run {run_id}, {args.orders} prepaid orders; (re)starting the stack…")
    up = start_stack(stack)
    say(f"bench: up: {', '.join(up)}")
    if not {"orders", "routing", "inventory"} <= set(up):
        say("bench: orders, routing and inventory must all be running")
        return 2
    shipping, notifying = "shipping" in up, "notifications" in up
    final = "notified" if notifying else "shipped" if shipping else "confirmed"

    offsets: list[float] | None = None
    if args.day_orders:  # the load rehearsal: N× a day's orders, shaped like the day (bench/day.py)
        args.orders = args.day_orders * args.times
        sale = day.Sale(start_hour=args.sale_hour, burst_share=args.burst_share)
        offsets = day.send_offsets(args.orders, args.day_seconds, sale)
        say(
            f"bench: load rehearsal: {args.times}× a day of {args.day_orders} orders, the day in "
            f"{args.day_seconds:.0f}s, the sale live at {args.sale_hour}:00 IST with "
            f"{args.burst_share:.0%} of the orders in its first 10 minutes"
        )
    rng = random.Random(run_id)
    orders = [
        demo_data.make_order(i, rng, channel_order_id_prefix=prefix, prepaid_only=True)
        for i in range(args.orders)
    ]
    records = [channel_order_record(o) for o in orders]
    warmup = [
        demo_data.make_order(i, rng, channel_order_id_prefix=f"WARMUP-{run_id}-", prepaid_only=True)
        for i in range(args.warmup)
    ]
    await seed_for(orders + warmup, settings)
    say(f"bench: stock seeded for {args.orders} orders; waiting for each to be {final}")

    observed = Observed(prefix)
    warm = Observed(f"WARMUP-{run_id}-")
    consumer = await tail_consumer(settings.kafka_bootstrap_servers, FOLLOWED)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        acks="all",
        linger_ms=10,
        max_batch_size=256 * 1024,
    )
    await producer.start()

    def done_count(obs: Observed) -> int:
        """Orders through every stage that runs (notifications does not wait for shipping)."""
        counts = [len(obs.confirmed_at)]
        if shipping:
            counts.append(len(obs.ours(obs.shipped_at)))
        if notifying:
            counts.append(len(obs.ours(obs.notified_at)))
        return min(counts)

    async def poll(*into: Observed) -> None:
        for tp, batch in (await consumer.getmany(timeout_ms=200)).items():
            for record in batch:
                ce_id = next((v.decode() for k, v in record.headers if k == "ce_id"), None)
                try:
                    event = json.loads(record.value or b"{}")
                except ValueError:
                    continue
                for obs in into:
                    obs.apply(tp.topic, ce_id, record.timestamp, event)

    async def consume() -> None:
        while done_count(observed) + len(observed.rejected) < args.orders:
            await poll(observed)

    if warmup:
        # A fresh service is ready before its consumer group has its partitions; without a
        # warm-up the first orders' latency is mostly that join, not the pipeline.
        for order in warmup:
            key, value, headers = channel_order_record(order)
            await producer.send_and_wait(topics.CHANNEL_ORDERS, value, key=key, headers=headers)
        deadline = time.monotonic() + 120
        while done_count(warm) < len(warmup) and time.monotonic() < deadline:
            await poll(warm)
        say(f"bench: warm-up: {done_count(warm)}/{len(warmup)} orders went all the way")
    roots = process_roots(stack)
    sampler = MemorySampler(roots)
    stop_sampling = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop_sampling))
    cpu_before, jit_before = cpu_seconds(roots), jit_seconds(roots)
    published_before = await records_on_topics(settings.kafka_bootstrap_servers)
    counting_statements = await statements.reset(settings.database_url)

    async def progress() -> None:
        while True:
            await asyncio.sleep(5)
            say(
                f"  {time.monotonic() - started:6.0f}s  placed {len(observed.placed_at)}  "
                f"confirmed {len(observed.confirmed_at)}  "
                f"shipped {len(observed.ours(observed.shipped_at))}  "
                f"notified {len(observed.ours(observed.notified_at))}"
            )

    started = time.monotonic()
    wall_start = time.time()
    consuming = asyncio.create_task(consume())
    reporting = asyncio.create_task(progress())
    lags = LagWatch(settings.kafka_bootstrap_servers)
    stop_watching = asyncio.Event()
    watching = asyncio.create_task(lags.run(started, stop_watching))
    pending = []
    for i, (order, (key, value, headers)) in enumerate(zip(orders, records, strict=True)):
        if offsets is not None:  # shaped like a day (bench/day.py)
            await asyncio.sleep(max(0.0, started + offsets[i] - time.monotonic()))
        elif args.rate:  # paced: order i leaves at i / rate seconds, like a steady sale
            await asyncio.sleep(max(0.0, started + i / args.rate - time.monotonic()))
        observed.sent_at[order["channel_order_id"]] = time.time()
        pending.append(await producer.send(topics.CHANNEL_ORDERS, value, key=key, headers=headers))
    await asyncio.gather(*pending)
    send_s = time.monotonic() - started
    say(f"bench: {args.orders} orders acknowledged by Kafka in {send_s:.1f}s")
    timed_out = False
    try:
        await asyncio.wait_for(consuming, args.timeout)
    except TimeoutError:
        timed_out = True
    wall_s = time.monotonic() - started
    reporting.cancel()
    stop_watching.set()
    await watching
    cpu_after, jit_after = cpu_seconds(roots), jit_seconds(roots)
    published_after = await records_on_topics(settings.kafka_bootstrap_servers)
    sql = await statements.read(settings.database_url, args.orders) if counting_statements else None
    stop_sampling.set()
    await sampling
    await producer.stop()
    await consumer.stop()

    order_ids = sorted(observed.order_to_coid)
    db = await db_checks(settings, prefix, order_ids)

    result = report(
        args=args,
        run_id=run_id,
        up=up,
        observed=observed,
        db=db,
        wall_start=wall_start,
        wall_s=wall_s,
        send_s=send_s,
        timed_out=timed_out,
        cpu={g: cpu_after.get(g, 0.0) - cpu_before.get(g, 0.0) for g in cpu_after},
        kafka_jit_s=jit_after - jit_before,
        sampler=sampler,
        shipping=shipping,
        notifying=notifying,
    )
    result["queue_backs_up"] = lags.worst()
    result["replicas"] = stack.replicas  # DABBA_REPLICAS: processes of each service (docs/scaling.md)
    per_topic = events_per_order(published_before, published_after, args.orders)
    result["events_per_order"] = {"total": sum(per_topic.values()), "by_topic": per_topic}
    say(
        f"events per order              {sum(per_topic.values()):.1f}  ("
        + ", ".join(f"{t} {v:.2f}" for t, v in list(per_topic.items())[:8])
        + (", …)" if len(per_topic) > 8 else ")")
    )
    if sql is not None:
        result["sql_statements_per_order"] = per_db = sql.per_order(args.orders)
        say(
            f"SQL statements per order      {per_db['total']:.1f}  ("
            + ", ".join(f"{db} {v:.1f}" for db, v in per_db["by_database"].items())
            + ")"
        )
        executing, planning = (
            sum(per_db["exec_ms_by_database"].values()),
            sum(per_db["plan_ms_by_database"].values()),
        )
        say(f"  executing {executing:.2f} ms per order, planning {planning:.2f} ms per order")
        for top in per_db["top_by_time"][:5]:
            say(
                f"  {top['database']:<13} {top['calls_per_order']:5.1f}/order  {top['ms_per_call']:6.2f} ms  "
                f"{top['query'][:90]}"
            )
    else:
        say("SQL statements per order      — (start PostgreSQL with DABBA_PG_STATEMENTS=1 to count them)")
    if offsets is not None:
        result["load_rehearsal"] = {
            "day_orders": args.day_orders,
            "times": args.times,
            "day_seconds": args.day_seconds,
            "sale_hour_ist": args.sale_hour,
            "burst_share": args.burst_share,
        }
    missed = f": {lags.missed[0]}" if lags.missed else ""
    say(
        "where the queue backs up (largest consumer lag of each service, seconds into the run; "
        f"{len(lags.samples)} samples, {len(lags.missed)} missed{missed}):"
    )
    for group, peak in result["queue_backs_up"].items():
        say(f"  {group:<14} {peak['max_lag']:>8,} records at {peak['at_s']:>7.1f}s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True))
    say(f"bench: results written to {path.relative_to(ROOT)}")
    return 1 if result["exactly_once"]["violations"] else 0


def report(
    *,
    args: argparse.Namespace,
    run_id: str,
    up: list[str],
    observed: Observed,
    db: dict[str, Any],
    wall_start: float,
    wall_s: float,
    send_s: float,
    timed_out: bool,
    cpu: dict[str, float],
    kafka_jit_s: float,
    sampler: MemorySampler,
    shipping: bool,
    notifying: bool,
) -> dict[str, Any]:
    """Print the table and return everything as one JSON-able dict."""
    n = args.orders
    o = observed
    sent = o.sent_at
    confirmed_lat = [
        o.confirmed_at[oid] - sent[coid] for oid, coid in o.order_to_coid.items() if oid in o.confirmed_at
    ]
    notified_lat = [
        o.notified_at[oid] - sent[coid] for oid, coid in o.order_to_coid.items() if oid in o.notified_at
    ]

    def rate(count: int, first: float | None, last: float | None) -> float | None:
        if not count or first is None or last is None or last <= first:
            return None
        return count / (last - first)

    placed_times = list(o.placed_at.values())
    confirmed_times = list(o.ours(o.confirmed_at).values())
    notified_times = list(o.ours(o.notified_at).values())
    throughput = {
        "send_orders_per_s": n / send_s if send_s else None,
        "placed_to_confirmed_orders_per_s": rate(
            len(confirmed_times),
            min(placed_times, default=None),
            max(confirmed_times, default=None),
        ),
        "send_to_notified_orders_per_s": rate(
            len(notified_times), min(sent.values(), default=None), max(notified_times, default=None)
        ),
    }
    latency = {
        name: {f"p{q}": percentile(values, q) for q in (50, 95, 99)} | {"n": len(values)}
        for name, values in (
            ("send_to_confirmed_s", confirmed_lat),
            ("send_to_notified_s", notified_lat),
        )
    }
    cpu_total = sum(cpu.values())

    violations: list[str] = []
    dup_placed = {c: sorted(ids) for c, ids in o.placed.items() if len(ids) > 1}
    missing_placed = sorted(set(sent) - set(o.placed) - set(o.rejected))
    if dup_placed:
        violations.append(f"{len(dup_placed)} channel orders placed more than once (topic)")
    if db["orders_duplicates"]:
        violations.append(f"{len(db['orders_duplicates'])} channel orders with >1 row (orders DB)")
    if o.rejected:
        violations.append(f"{len(o.rejected)} orders rejected")
    if missing_placed:
        violations.append(f"{len(missing_placed)} orders never placed")
    ours_confirmed = o.ours(o.confirmed)
    dup_confirmed = [oid for oid, ids in ours_confirmed.items() if len(ids) > 1]
    missing_confirmed = [oid for oid in o.order_to_coid if oid not in ours_confirmed]
    if dup_confirmed:
        violations.append(f"{len(dup_confirmed)} orders confirmed more than once")
    if missing_confirmed:
        violations.append(f"{len(missing_confirmed)} placed orders never confirmed")
    checks: dict[str, Any] = {
        "placed_duplicates_topic": len(dup_placed),
        "placed_duplicates_db": len(db["orders_duplicates"] or []),
        "orders_rows_db": db["orders_rows"],
        "rejected": len(o.rejected),
        "never_placed": len(missing_placed),
        "confirmed_twice": len(dup_confirmed),
        "never_confirmed": len(missing_confirmed),
        "redelivered_events": o.redeliveries,
    }
    if shipping:
        ships = o.ours(o.shipments)
        multi = [oid for oid, ids in ships.items() if len(ids) > 1]
        none = [oid for oid in o.order_to_coid if oid not in ships]
        checks |= {"shipment_twice_topic": len(multi), "never_shipped": len(none)}
        if multi:
            violations.append(f"{len(multi)} orders with more than one shipment (topic)")
        if none:
            violations.append(f"{len(none)} orders without a shipment")
        per_order = db["shipments_per_order"]
        if per_order is not None:
            db_multi = [oid for oid, c in per_order.items() if c > 1]
            db_none = [oid for oid in o.order_to_coid if oid not in per_order]
            checks |= {"shipment_twice_db": len(db_multi), "no_shipment_row_db": len(db_none)}
            if db_multi:
                violations.append(f"{len(db_multi)} orders with more than one shipment row")
            if db_none:
                violations.append(f"{len(db_none)} orders without a shipment row")
    if notifying:
        ours_msgs = {k: v for k, v in o.messages.items() if k[0] in o.order_to_coid}
        twice = [k for k, ids in ours_msgs.items() if len(ids) > 1]
        unnotified = [oid for oid in o.order_to_coid if oid not in o.notified_at]
        checks |= {"whatsapp_twice_topic": len(twice), "never_notified": len(unnotified)}
        if twice:
            violations.append(f"{len(twice)} WhatsApp templates sent twice to one order (topic)")
        if unnotified:
            violations.append(f"{len(unnotified)} orders without a WhatsApp message")
        rows = db["whatsapp_per_order_template"]
        if rows is not None:
            db_twice = [r for r in rows if r[2] > 1]
            checks["whatsapp_twice_db"] = len(db_twice)
            checks["whatsapp_templates"] = sorted({r[1] for r in rows})
            if db_twice:
                violations.append(f"{len(db_twice)} WhatsApp templates stored twice for one order")

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value * 1000:,.0f} ms"

    def per_s(value: float | None) -> str:
        return "—" if value is None else f"{value:,.1f} orders/s"

    peak_mb = sampler.peak_total / 2**20
    rows_out = [
        ("orders", f"{n} (run {run_id})"),
        ("processes up", ", ".join(up)),
        ("wall time", f"{wall_s:.1f} s" + ("  (TIMED OUT)" if timed_out else "")),
        ("send (Kafka acks)", f"{send_s:.2f} s, {per_s(throughput['send_orders_per_s'])}"),
        ("placed → confirmed", per_s(throughput["placed_to_confirmed_orders_per_s"])),
        ("send → notified", per_s(throughput["send_to_notified_orders_per_s"])),
    ]
    for name, lat in latency.items():
        label = name.removesuffix("_s").replace("_to_", " → ")
        rows_out.append(
            (
                f"{label} p50/p95/p99",
                f"{ms(lat['p50'])} / {ms(lat['p95'])} / {ms(lat['p99'])}  (n={lat['n']})",
            )
        )
    trend = (
        keeping_up(
            [
                (sent[coid], o.confirmed_at[oid] - sent[coid])
                for oid, coid in o.order_to_coid.items()
                if oid in o.confirmed_at
            ],
            rate=args.rate,
            confirmed_per_s=throughput["placed_to_confirmed_orders_per_s"],
        )
        if args.rate
        else None
    )
    if trend is not None:
        rows_out.append(
            (
                f"keeps up at {args.rate:g}/s",
                ("yes" if trend["kept_up"] else "NO, falls behind")
                + f"  ({per_s(trend['confirmed_per_s'])} confirmed; send → confirmed p50: first fifth "
                f"{ms(trend['first_fifth_p50_s'])}, last fifth {ms(trend['last_fifth_p50_s'])})",
            )
        )
    hops = {
        stage: {part: {f"p{q}": percentile(v, q) for q in (50, 99)} for part, v in parts.items()}
        for stage, parts in hop_latencies(o).items()
    }
    for stage, service in HOPS:
        written, published = hops[stage]["to_written"], hops[stage]["to_published"]
        if written["p50"] is None:
            continue
        rows_out.append(
            (
                f"  → {stage} ({service}) p50/p99",
                f"written {ms(written['p50'])} / {ms(written['p99'])}, "
                f"then published {ms(published['p50'])} / {ms(published['p99'])}",
            )
        )
    rows_out.append(
        (
            "CPU per order",
            f"{cpu_total / n * 1000:.1f} ms  ("
            + ", ".join(f"{g} {v / n * 1000:.1f}" for g, v in sorted(cpu.items()))
            + ")",
        )
    )
    dabba = cpu_total - cpu.get("sandbox", 0.0)
    rows_out.append(
        ("CPU per order, sandbox apart", f"{dabba / n * 1000:.1f} ms  (Dabba, Kafka and PostgreSQL)")
    )
    rows_out.append(
        (
            "… and Kafka's JIT compiler apart",
            f"{(dabba - kafka_jit_s) / n * 1000:.1f} ms  (Kafka's JVM compiled code for "
            f"{kafka_jit_s / n * 1000:.1f} ms per order: a fresh broker's warm-up)",
        )
    )
    rows_out.append(
        (
            "peak RSS",
            f"{peak_mb:,.0f} MiB  ("
            + ", ".join(f"{g} {v / 2**20:,.0f}" for g, v in sorted(sampler.peak_by_group.items()))
            + ")",
        )
    )
    rows_out.append(("exactly once", "OK" if not violations else "VIOLATED"))
    rows_out += [("", v) for v in violations]
    width = max(len(k) for k, _ in rows_out)
    say()
    say("─" * (width + 60))
    for key, value in rows_out:
        say(f"{key:<{width}}  {value}")
    say("─" * (width + 60))
    say("checks: " + ", ".join(f"{k}={v}" for k, v in checks.items()))

    return {
        "run_id": run_id,
        "orders": n,
        "rate": args.rate or None,
        "processes_up": up,
        "started_at": datetime.fromtimestamp(wall_start, UTC).isoformat(),
        "wall_s": wall_s,
        "send_s": send_s,
        "timed_out": timed_out,
        "throughput": throughput,
        "latency": latency,
        "keeping_up": trend,
        "hops_s": hops,
        "cpu_s": cpu,
        "cpu_s_per_order": cpu_total / n,
        "cpu_s_per_order_without_sandbox": (cpu_total - cpu.get("sandbox", 0.0)) / n,
        "kafka_jit_s": kafka_jit_s,
        "cpu_s_per_order_without_sandbox_or_jit": (cpu_total - cpu.get("sandbox", 0.0) - kafka_jit_s) / n,
        "peak_rss_bytes": sampler.peak_total,
        "peak_rss_bytes_by_group": sampler.peak_by_group,
        "rss_samples": sampler.samples,
        "exactly_once": {"violations": violations, "checks": checks},
    }


def main() -> int:
    export_defaults()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=5000, help="orders to send (default 5000)")
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds to wait for every order (default 600)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="send at this many orders/s (sustained load) instead of all at once (default: all at once)",
    )
    parser.add_argument(
        "--day-orders",
        type=int,
        default=0,
        help="load rehearsal: an ordinary day's orders; sends --times as many, shaped like a sale day",
    )
    parser.add_argument(
        "--times", type=int, default=8, help="load rehearsal: how many days' worth (default 8)"
    )
    parser.add_argument(
        "--day-seconds", type=float, default=600, help="load rehearsal: the day compressed into (default 600)"
    )
    parser.add_argument(
        "--sale-hour", type=int, default=20, help="load rehearsal: IST hour the sale goes live (default 20)"
    )
    parser.add_argument(
        "--burst-share",
        type=float,
        default=0.15,
        help="load rehearsal: share of the orders in the sale's first 10 minutes (default 0.15)",
    )
    parser.add_argument("--warmup", type=int, default=20, help="orders sent and finished before measuring")
    parser.add_argument("--keep-running", action="store_true", help="leave the stack running afterwards")
    parser.add_argument(
        "--hot-sku",
        action="store_true",
        help="every order on one SKU with less stock than demand (bench/hot_sku.py)",
    )
    parser.add_argument("--stock", type=int, default=500, help="--hot-sku: units of the SKU (default 500)")
    args = parser.parse_args()
    try:
        if args.hot_sku:
            return asyncio.run(hot_sku.run(args, say=say, start_stack=start_stack))
        return asyncio.run(bench(args))
    finally:
        if not args.keep_running:
            Stack().stop_all()


if __name__ == "__main__":
    sys.exit(main())
