"""`make run`: Kafka, PostgreSQL, every service and the sandbox, the demo catalogue, then demo orders.

Shows one refreshing progress line per second and now and then one order's whole journey; service
logs stay in .local/services/. Env: DEMO_RATE (orders/s, default 5), DEMO_ORDERS (stop after N),
DEMO_EXAMPLE_EVERY (seconds between example orders, default 5). Ctrl-C or SIGTERM stops everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chassis.db import with_database
from chassis.settings import ServiceSettings
from contracts import ChannelOrder, Envelope, new_event_id, topics, utcnow
from deploy.local import demo_data
from deploy.local.ports import export_defaults
from deploy.local.stack import PORTS, ROOT, SERVICES, Stack

PY = sys.executable
RESTOCK_EVERY_S = 30
DRAIN_IDLE_S = 15

TRACKED = (
    topics.ORDERS_PLACED,
    topics.ORDERS_REJECTED,
    topics.ROUTING_PLANNED,
    topics.INVENTORY_RESERVED,
    topics.INVENTORY_RESERVATION_FAILED,
    topics.ORDERS_STATUS_CHANGED,
    topics.ORDERS_CONFIRMED,
    topics.SHIPPING_SHIPMENT_CREATED,
    topics.NOTIFICATIONS_SENT,
)


class Stop(Exception):
    """SIGINT or SIGTERM arrived while the demo was still starting up."""


def say(msg: str = "") -> None:
    print(msg, flush=True)


def infra_running() -> bool:
    """Kafka and PostgreSQL both already up (then the demo leaves them up when it ends)."""
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT}
    kafka = subprocess.run(["bash", "deploy/local/kafka.sh", "status"], check=False, **quiet)
    pg = subprocess.run([PY, "deploy/local/postgres.py", "status"], check=False, **quiet)
    return kafka.returncode == 0 and pg.returncode == 0


async def tail_consumer(bootstrap: str, names: Iterable[str]) -> AIOKafkaConsumer:
    """A consumer of every partition of these topics from their current end: no group, no commits.

    Positions are resolved before returning, so nothing published afterwards is missed.
    """
    wanted = set(names)
    consumer = AIOKafkaConsumer(
        *wanted,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        max_poll_records=2000,
    )
    await consumer.start()
    # Without a group every partition of the subscribed topics is assigned once metadata is in.
    deadline = asyncio.get_running_loop().time() + 30
    while {tp.topic for tp in consumer.assignment()} != wanted:
        if asyncio.get_running_loop().time() > deadline:
            await consumer.stop()
            raise TimeoutError(f"no partitions for {sorted(wanted)}; run python -m chassis.topics")
        await asyncio.sleep(0.05)
    partitions = sorted(consumer.assignment())
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    return consumer


def channel_order_record(order: dict[str, Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key, value and CloudEvents headers for one order, as one of our channel adapters sends it."""
    key = f"{order['channel']}:{order['channel_order_id']}"
    envelope = Envelope(
        id=new_event_id(),
        type=ChannelOrder.ce_type(),
        source="dabba-demo",
        time=utcnow(),
        subject=key,
    )
    return key.encode(), json.dumps(order).encode(), envelope.to_headers()


@dataclass
class Journey:
    """What the demo has seen of one of its orders."""

    channel_order_id: str
    channel: str
    city: str
    pincode: str
    order_id: str | None = None
    warehouse: str | None = None
    status: str = "sent"
    courier: str | None = None
    awb: str | None = None
    whatsapp: bool = False
    templates: list[str] = field(default_factory=list)
    updated: float = field(default_factory=time.monotonic)

    def line(self) -> str:
        parts = [f"{self.order_id or self.channel_order_id} {self.channel:<8} {self.city} {self.pincode}"]
        if self.status == "rejected":
            return parts[0] + " → rejected (see GET /orders?status=REJECTED)"
        parts.append(self.warehouse or "…")
        if self.status == "unroutable":
            parts[-1] = "no warehouse has every line"
        elif self.status == "on_hold":
            parts.append("on hold: not enough stock")
        elif self.status == "cod":
            parts.append("waiting for the customer to confirm COD")
        if self.awb:
            parts.append(f"{(self.courier or 'courier').title()} AWB {self.awb}")
        elif self.status == "confirmed":
            parts.append("confirmed")
        if self.whatsapp:
            parts.append(f"WhatsApp sent ({', '.join(self.templates)})")
        return " → ".join(parts)


@dataclass
class Progress:
    """Counts per stage, for the orders this demo sent (others on the same topics are ignored)."""

    sent: int = 0
    placed: int = 0
    rejected: int = 0
    routed: int = 0
    unroutable: int = 0
    reserved: int = 0
    on_hold: int = 0
    cod_waiting: int = 0
    confirmed: int = 0
    awb: int = 0
    whatsapp: int = 0
    journeys: dict[str, Journey] = field(default_factory=dict)
    by_order_id: dict[str, Journey] = field(default_factory=dict)
    early: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    last_change: float = field(default_factory=time.monotonic)

    def sent_order(self, order: dict[str, Any]) -> None:
        self.sent += 1
        address = order["shipping_address"]
        self.journeys[order["channel_order_id"]] = Journey(
            order["channel_order_id"], order["channel"], address["city"], address["pincode"]
        )

    def apply(self, topic: str, event: dict[str, Any]) -> None:
        """Count one event; events that beat their order's orders.placed wait for it."""
        if topic in (topics.ORDERS_PLACED, topics.ORDERS_REJECTED):
            journey = self.journeys.get(event.get("channel_order_id", ""))
            if journey is None or journey.order_id is not None:
                return
            journey.order_id = event["order_id"]
            self.by_order_id[journey.order_id] = journey
            if topic == topics.ORDERS_REJECTED:
                self.rejected += 1
                self._move(journey, "rejected")
            else:
                self.placed += 1
                self._move(journey, "placed")
            for later_topic, later in self.early.pop(journey.order_id, []):
                self.apply(later_topic, later)
            return
        order_id = event.get("order_id")
        if not order_id:
            return
        found = self.by_order_id.get(order_id)
        if found is None:
            if len(self.early) < 100_000:
                self.early.setdefault(order_id, []).append((topic, event))
            return
        self._advance(found, topic, event)

    def _advance(self, journey: Journey, topic: str, event: dict[str, Any]) -> None:
        if topic == topics.ROUTING_PLANNED:
            if event.get("attempt", 1) != 1:
                return
            if event["plans"]:
                self.routed += 1
                journey.warehouse = event["plans"][0]["shipments"][0]["warehouse_code"]
                self._move(journey, "routed")
            else:
                self.unroutable += 1
                self._move(journey, "unroutable")
        elif topic == topics.INVENTORY_RESERVED:
            self.reserved += 1
            journey.warehouse = event["allocations"][0]["warehouse_code"]
            self._move(journey, "reserved")
        elif topic == topics.INVENTORY_RESERVATION_FAILED and journey.status != "unroutable":
            self.on_hold += 1
            self._move(journey, "on_hold")
        elif topic == topics.ORDERS_STATUS_CHANGED:
            if event.get("to_status") == "PENDING_COD_CONFIRMATION":
                self.cod_waiting += 1
                self._move(journey, "cod")
        elif topic == topics.ORDERS_CONFIRMED:
            self.confirmed += 1
            if journey.status == "cod":
                self.cod_waiting -= 1
            self._move(journey, "confirmed")
        elif topic == topics.SHIPPING_SHIPMENT_CREATED and event.get("awb") and not journey.awb:
            self.awb += 1
            journey.courier, journey.awb = event.get("courier"), event["awb"]
            self._move(journey, journey.status)
        elif topic == topics.NOTIFICATIONS_SENT and event.get("channel") == "whatsapp":
            journey.templates.append(str(event.get("template")))
            if not journey.whatsapp:
                self.whatsapp += 1
                journey.whatsapp = True
                self._move(journey, journey.status)

    def _move(self, journey: Journey, status: str) -> None:
        journey.status = status
        journey.updated = self.last_change = time.monotonic()

    def line(self, *, rate: float, elapsed: float) -> str:
        extra = []
        if self.unroutable:
            extra.append(f"unroutable {self.unroutable}")
        if self.on_hold:
            extra.append(f"on hold {self.on_hold}")
        if self.cod_waiting:
            extra.append(f"COD to confirm {self.cod_waiting}")
        cells = [
            f"sent {self.sent}",
            f"placed {self.placed}",
            f"rejected {self.rejected}",
            f"routed {self.routed}",
            f"reserved {self.reserved}",
            f"confirmed {self.confirmed}",
            f"AWB {self.awb}",
            f"WhatsApp {self.whatsapp}",
        ]
        tail = f"   ({', '.join(extra)})" if extra else ""
        return " │ ".join(cells) + f"   {rate:.1f}/s, {elapsed:.0f}s" + tail

    def example(self, shown: set[str]) -> Journey | None:
        """The most complete recently finished order not shown yet."""
        done = [
            j
            for j in self.journeys.values()
            if j.order_id and j.order_id not in shown and time.monotonic() - j.updated > 0.5
        ]
        if not done:
            return None

        def depth(j: Journey) -> tuple[int, float]:
            return (2 * j.whatsapp + bool(j.awb), j.updated)

        return max(done, key=depth)


class Screen:
    """One status line redrawn in place on a terminal; plain lines every few seconds otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.last_plain = 0.0

    def status(self, text: str, *, final: bool = False) -> None:
        if self.tty:
            sys.stdout.write("\r\x1b[2K" + text)
            sys.stdout.flush()
        elif final or time.monotonic() - self.last_plain >= 5:
            self.last_plain = time.monotonic()
            say(text)

    def note(self, text: str) -> None:
        if self.tty:
            sys.stdout.write("\r\x1b[2K")
        say(text)

    def end(self) -> None:
        if self.tty:
            sys.stdout.write("\n")
            sys.stdout.flush()


class Demo:
    """The running demo: stack, seed, traffic, progress; and a clean stop."""

    def __init__(self) -> None:
        self.settings = ServiceSettings()
        self.rate = float(os.environ.get("DEMO_RATE", "5"))
        limit = os.environ.get("DEMO_ORDERS")
        self.limit = int(limit) if limit else None
        self.example_every = float(os.environ.get("DEMO_EXAMPLE_EVERY", "5"))
        self.stack = Stack()
        self.started: list[str] = []
        self.already: list[str] = []
        self.progress = Progress()
        self.screen = Screen()
        self.stop = asyncio.Event()
        self.t0 = time.monotonic()

    def start_stack(self) -> None:
        """Start every process that has code, report each, and keep going without the broken."""
        names = ["sandbox", *SERVICES]
        missing = [n for n in ("sandbox", *SERVICES) if n not in names]
        already = self.already = [n for n in names if self.stack.running_pid(n)]
        for name in names:
            if name not in already:
                self.started.append(name)
            self.stack.start(name)
        for name in names:
            started = time.monotonic()
            try:
                self.stack.wait_ready([name], timeout=60)
            except (RuntimeError, TimeoutError):
                self.stack.stop(name)
                say(f"  ✗ {name:<14} did not start; see .local/services/{name}.log")
                continue
            note = " (was already running)" if name in already else ""
            say(f"  ✓ {name:<14} :{PORTS[name]}  ready in {time.monotonic() - started:.1f}s{note}")
        for name in missing:
            say(f"  · {name:<14} not built yet, skipped")

    def up(self, name: str) -> bool:
        return self.stack.running_pid(name) is not None

    async def seed(self) -> None:
        if not (self.up("routing") and self.up("inventory")):
            say("seed: routing or inventory is not running; orders will not get past placed")
            return
        urls = {n: f"http://127.0.0.1:{PORTS[n]}" for n in ("routing", "inventory")}
        received = await demo_data.seed(urls)
        units = sum(received.values())
        say(
            f"seed: {len(demo_data.WAREHOUSES)} warehouses (BOM1 Bhiwandi, BLR1 Bengaluru, "
            f"GGN1 Gurugram), {len(demo_data.CATALOGUE)} SKUs, {units} units received"
        )
        routing_db = with_database(self.settings.database_url, "dabba_routing")
        if not await demo_data.wait_until_routable(routing_db, demo_data.STOCK):
            say("seed: routing has not seen all the stock yet; the first orders may go on hold")

    async def restock(self) -> None:
        """Top stock back up now and then, as a warehouse receiving goods would."""
        urls = {n: f"http://127.0.0.1:{PORTS[n]}" for n in ("routing", "inventory")}
        while not self.stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), RESTOCK_EVERY_S)
            if self.stop.is_set() or not self.up("inventory"):
                return
            with contextlib.suppress(Exception):
                await demo_data.seed(urls)

    async def stream(self, producer: AIOKafkaProducer) -> None:
        rng = random.Random()
        interval = 1 / self.rate if self.rate > 0 else 0
        next_at = time.monotonic()
        i = 0
        while not self.stop.is_set() and (self.limit is None or i < self.limit):
            order = demo_data.make_order(i, rng)
            key, value, headers = channel_order_record(order)
            self.progress.sent_order(order)
            await producer.send_and_wait(topics.CHANNEL_ORDERS, value, key=key, headers=headers)
            i += 1
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
        if self.limit is not None and not self.stop.is_set():
            await self.drain()

    async def drain(self) -> None:
        """After DEMO_ORDERS, wait while orders are still moving, then stop."""
        while not self.stop.is_set() and time.monotonic() - self.progress.last_change < DRAIN_IDLE_S:
            if self.progress.whatsapp == self.progress.sent:
                break
            await asyncio.sleep(0.5)
        self.stop.set()

    async def follow(self, consumer: AIOKafkaConsumer) -> None:
        while not self.stop.is_set():
            batches = await consumer.getmany(timeout_ms=250)
            for tp, records in batches.items():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError, KeyError, IndexError):
                        self.progress.apply(tp.topic, json.loads(record.value or b"{}"))

    async def draw(self) -> None:
        shown: set[str] = set()
        last_example = time.monotonic()
        while not self.stop.is_set():
            elapsed = time.monotonic() - self.t0
            if time.monotonic() - last_example >= self.example_every:
                last_example = time.monotonic()
                journey = self.progress.example(shown)
                if journey is not None and journey.order_id:
                    shown.add(journey.order_id)
                    self.screen.note("  " + journey.line())
            rate = self.progress.sent / max(elapsed, 1.0)
            self.screen.status(self.progress.line(rate=rate, elapsed=elapsed))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 1)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        await self.seed()
        bootstrap = self.settings.kafka_bootstrap_servers
        consumer = await tail_consumer(bootstrap, TRACKED)
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
        )
        await producer.start()
        limit = f", stopping after {self.limit}" if self.limit else ", until Ctrl-C"
        say(f"demo: streaming orders to {topics.CHANNEL_ORDERS} at {self.rate:g}/s{limit}")
        say("      service logs: .local/services/<name>.log (follow them with `make logs`)")
        self.t0 = time.monotonic()
        tasks = [
            asyncio.create_task(self.stream(producer)),
            asyncio.create_task(self.follow(consumer)),
            asyncio.create_task(self.draw()),
            asyncio.create_task(self.restock()),
        ]
        try:
            await self.stop.wait()
            done, _ = await asyncio.wait(tasks, timeout=5)
            for task in tasks:
                task.cancel()
            for task in done:
                if not task.cancelled() and task.exception():
                    say(f"\ndemo: {task.exception()!r}")
        finally:
            elapsed = time.monotonic() - self.t0
            rate = self.progress.sent / max(elapsed, 1.0)
            self.screen.status(self.progress.line(rate=rate, elapsed=elapsed), final=True)
            self.screen.end()
            await producer.stop()
            await consumer.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def summary(self) -> str:
        p = self.progress
        elapsed = time.monotonic() - self.t0
        lines = [
            f"demo: {p.sent} orders sent in {elapsed:.0f}s; {p.placed} placed, "
            f"{p.rejected} rejected, {p.confirmed} confirmed, {p.awb} with an AWB, "
            f"{p.whatsapp} WhatsApp messages sent"
        ]
        if p.cod_waiting or p.on_hold or p.unroutable:
            lines.append(
                f"      still waiting: {p.cod_waiting} for COD confirmation, {p.on_hold} on hold "
                f"for stock, {p.unroutable} unroutable"
            )
        return "\n".join(lines)


def _raise_stop(signum: int, _frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def _stopping(_signum: int, _frame: FrameType | None) -> None:
    say("demo: still stopping, one moment…")


def main() -> int:
    """Bring everything up, run the demo until told to stop, and take it all down again."""
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    export_defaults()
    demo = Demo()
    keep_infra = infra_running()
    ran = False
    try:
        subprocess.run(["bash", "deploy/local/up.sh"], cwd=ROOT, check=True)
        subprocess.run([PY, "-m", "chassis.topics"], cwd=ROOT, check=True)
        say("stack: starting the sandbox and the services…")
        demo.start_stack()
        ran = True
        asyncio.run(demo.run())
    except Stop:
        say("\ndemo: stopping before traffic started")
    except subprocess.CalledProcessError as exc:
        say(f"demo: {' '.join(map(str, exc.cmd))} failed (exit {exc.returncode})")
        return exc.returncode or 1
    except Exception as exc:
        say(f"\ndemo: failed: {exc!r}")
        return 1
    finally:
        signal.signal(signal.SIGINT, _stopping)
        signal.signal(signal.SIGTERM, _stopping)
        say("demo: stopping the services…")
        demo.stack.stop_all(tuple(demo.started))
        if demo.already:
            say(f"demo: {', '.join(demo.already)} were running before the demo; left running")
        if keep_infra:
            say("demo: Kafka and PostgreSQL were running before the demo; left running (make down)")
        else:
            say("demo: stopping Kafka and PostgreSQL…")
            subprocess.run(["bash", "deploy/local/down.sh"], cwd=ROOT, check=False)
        if ran:
            say(demo.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
