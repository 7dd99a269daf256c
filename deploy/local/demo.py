"""`make run`: Kafka, PostgreSQL, every service and the sandbox, the demo catalogue, then demo orders
followed to the end: COD confirmed on WhatsApp, shipped, NDRs, delivered or RTO, returns refunded.

Shows one refreshing progress line per second and now and then one order's whole journey; service
logs stay in .local/services/. Ctrl-C or SIGTERM stops everything; the summary counts each outcome.
Env: DEMO_RATE (orders/s, default 5), DEMO_ORDERS (stop after N, then wait for them to settle),
DEMO_EXAMPLE_EVERY (seconds between example orders, default 5), and the sandbox's world:
DEMO_STEP_MS (ms per courier step, default 2000), DEMO_NDR (chance an attempt fails, 0.10),
DEMO_REATTEMPT_MS (courier re-attempts after, 4000), DEMO_RTO (chance an NDR turns into RTO, 0.25),
DEMO_COD_DECLINE (COD buyers who tap cancel, 0.10; the rest confirm), DEMO_RETURNS (delivered
orders returned, 0.05; the demo then plays the warehouse desk: receive, QC pass, refund).
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
from types import FrameType
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from chassis.db import with_database
from chassis.settings import ServiceSettings
from contracts import ChannelOrder, Envelope, new_event_id, topics, utcnow
from deploy.local import demo_data, stores
from deploy.local.demo_desk import Desk, Lively
from deploy.local.demo_progress import TRACKED, Progress
from deploy.local.ports import PORTS, dev_headers, export_defaults, port_of
from deploy.local.stack import ROOT, SERVICES, Stack
from sandbox.store_webhooks import Buyer, LineIn, PlaceOrder
from services.channels.app import DEMO_ACCOUNTS
from services.channels.stores.common import STATES

PY = sys.executable
# Orders of these channels are placed on the sandbox's stores, which send them to channels as signed
# webhooks, on its Flipkart seller, whose shipments channels polls, or on its Amazon seller, whose
# ORDER_CHANGE notices channels reads with the poll behind them (the rest are published as a seller's
# own adapter would): the website is the WooCommerce site.
STORE_OF_CHANNEL = {
    "shopify": "demo-shopify",
    "website": "demo-woo",
    "flipkart": "demo-flipkart",
    "amazon": "demo-amazon",
}
FLIPKART_DEMO = "demo-flipkart"
AMAZON_DEMO = "demo-amazon"
STATE_CODES = {name: code for code, name in STATES.items()}
RESTOCK_EVERY_S = 30
DRAIN_IDLE_S = 30


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
        self.lively = Lively.from_env()
        self.desk = Desk({n: f"http://127.0.0.1:{PORTS[n]}" for n in PORTS}, self.lively)
        self.screen = Screen()
        self.stop = asyncio.Event()
        self.t0 = time.monotonic()
        self.streamed_for: float | None = None
        self.stores: dict[str, str] = {}
        """Demo store account → platform, once each is open (sandbox store set up, catalogue mapped)."""

    def start_stack(self) -> None:
        """Start every process that has code, report each, and keep going without the broken."""
        names = self.stack.instances()  # DABBA_REPLICAS: every replica too
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
            say(f"  ✓ {name:<14} :{port_of(name)}  ready in {time.monotonic() - started:.1f}s{note}")
        for name in missing:
            say(f"  · {name:<14} not built yet, skipped")

    def up(self, name: str) -> bool:
        return self.stack.running_pid(name) is not None

    async def open_stores(self) -> None:
        """The sandbox's Shopify store and WooCommerce site sell the catalogue and send their orders
        to channels, which keeps their stock numbers following ours (opened before the seed, so
        the seeded stock is pushed to them too)."""
        if not (self.up("channels") and self.up("sandbox")):
            say("stores: channels or the sandbox is not running; every demo order goes straight to Kafka")
            return
        catalogue = {s.sku: s.sku for s in demo_data.CATALOGUE}
        async with httpx.AsyncClient(timeout=30) as http:
            for account, platform, secret in DEMO_ACCOUNTS:
                try:
                    await stores.open_store(
                        http, platform, account, secret=secret, skus=catalogue, prices=demo_data.PRICES
                    )
                except httpx.HTTPError as exc:
                    say(f"stores: {account} could not be opened ({exc!r}); its orders go straight to Kafka")
                    continue
                self.stores[account] = platform
            try:
                await stores.open_flipkart_seller(
                    http, FLIPKART_DEMO, skus=catalogue, prices=demo_data.PRICES
                )
                self.stores[FLIPKART_DEMO] = "flipkart"
            except httpx.HTTPError as exc:
                say(f"stores: {FLIPKART_DEMO} could not be opened ({exc!r}); its orders go straight to Kafka")
            try:
                await stores.open_amazon_seller(http, AMAZON_DEMO, skus=catalogue, prices=demo_data.PRICES)
                self.stores[AMAZON_DEMO] = "amazon"
            except httpx.HTTPError as exc:
                say(f"stores: {AMAZON_DEMO} could not be opened ({exc!r}); its orders go straight to Kafka")
        if self.stores:
            names = ", ".join(f"{a} ({p})" for a, p in self.stores.items())
            say(
                f"stores: {names} sell the catalogue; store orders arrive as signed webhooks, "
                "Flipkart's are polled, Amazon's come by ORDER_CHANGE notice"
            )

    async def place_on_store(
        self, http: httpx.AsyncClient, account: str, order: dict[str, Any]
    ) -> dict[str, Any]:
        """A buyer checks out on a demo store; the order as channels will publish it (its id)."""
        platform = self.stores[account]
        customer, address = order["customer"], order["shipping_address"]
        buyer = Buyer(
            name=customer["name"],
            phone=customer["phone"],
            email=customer.get("email"),
            line1=address["line1"],
            line2=address.get("line2"),
            city=address["city"],
            state=address["state"],
            state_code=STATE_CODES.get(address["state"], address["state"]),
            pincode=address["pincode"],
        )
        if platform == "flipkart":
            r = await http.post(
                f"http://127.0.0.1:{PORTS['sandbox']}/_sandbox/flipkart/{account}/orders",
                json={
                    "buyer": buyer.model_dump(mode="json"),
                    "lines": [{"sku": line["sku"], "quantity": line["quantity"]} for line in order["lines"]],
                    "cod": order["payment"]["method"] == "cod",
                    # Self-ship: the seller's courier carries it, so the demo shows it delivered. A
                    # Flipkart-carried shipment waits for Flipkart's AWB (ADR 330), which nothing
                    # fetches yet (an operator records it: PUT /shipments/{id}/marketplace-awb).
                    "self_ship": True,
                },
            )
            r.raise_for_status()
            return {**order, "channel": platform, "channel_order_id": f"{account}-{r.json()['shipment_id']}"}
        if platform == "amazon":
            r = await http.post(
                f"http://127.0.0.1:{PORTS['sandbox']}/_sandbox/amazon/{account}/orders",
                json={
                    "buyer": buyer.model_dump(mode="json"),
                    "lines": [{"sku": line["sku"], "quantity": line["quantity"]} for line in order["lines"]],
                    "cod": order["payment"]["method"] == "cod",
                },
            )
            r.raise_for_status()
            return {**order, "channel": platform, "channel_order_id": f"{account}-{r.json()['id']}"}
        checkout = PlaceOrder(
            buyer=buyer,
            lines=[LineIn(sku=line["sku"], quantity=line["quantity"]) for line in order["lines"]],
            cod=order["payment"]["method"] == "cod",
            shipping_paise=order["shipping_fee_paise"],
        )
        r = await http.post(
            f"http://127.0.0.1:{PORTS['sandbox']}/_sandbox/{platform}/{account}/orders",
            json=checkout.model_dump(mode="json"),
        )
        r.raise_for_status()
        return {**order, "channel": platform, "channel_order_id": f"{account}-{r.json()['id']}"}

    async def show_store_stock(self) -> None:
        """Now and then, one SKU's number in Dabba and on each store: the stores follow ours."""
        sku = demo_data.CATALOGUE[0].sku
        inventory = f"http://127.0.0.1:{PORTS['inventory']}"
        async with (
            httpx.AsyncClient(base_url=inventory, timeout=10, headers=dev_headers()) as ours,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORTS['sandbox']}", timeout=10) as sandbox,
        ):
            while not self.stop.is_set() and self.stores:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), RESTOCK_EVERY_S)
                with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                    available = sum((await demo_data.available_stock(ours, sku)).values())
                    shown = []
                    for account, platform in self.stores.items():
                        state = (await sandbox.get(f"/_sandbox/{platform}/{account}")).json()
                        shown.append(f"{account} shows {state['stock'][sku]}")
                    self.screen.note(f"  stock of {sku}: Dabba {available}; " + ", ".join(shown))

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
        async with httpx.AsyncClient(timeout=30) as http:
            while not self.stop.is_set() and (self.limit is None or i < self.limit):
                await self.send_one(demo_data.make_order(i, rng), producer, http)
                i += 1
                next_at += interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stop.wait(), delay)
        self.streamed_for = time.monotonic() - self.t0
        if self.limit is not None and not self.stop.is_set():
            await self.drain()

    async def send_one(
        self, order: dict[str, Any], producer: AIOKafkaProducer, http: httpx.AsyncClient
    ) -> None:
        """Through a demo store when its channel has one (falling back to Kafka if the store
        fails), else straight onto channel.orders.v1."""
        with contextlib.suppress(Exception):
            await self.desk.before_send(order)
        account = STORE_OF_CHANNEL.get(order["channel"])
        if account in self.stores:
            try:
                self.progress.sent_order(await self.place_on_store(http, account, order))
                return
            except httpx.HTTPError as exc:
                self.screen.note(f"  {account} could not take an order ({exc!r}); sent to Kafka instead")
        key, value, headers = channel_order_record(order)
        self.progress.sent_order(order)
        await producer.send_and_wait(topics.CHANNEL_ORDERS, value, key=key, headers=headers)

    def rate_so_far(self, elapsed: float) -> float:
        """Orders per second while streaming (the drain after DEMO_ORDERS sends nothing)."""
        return self.progress.sent / max(self.streamed_for or elapsed, 1.0)

    async def drain(self) -> None:
        """After DEMO_ORDERS, wait while orders are still moving, then stop."""
        while (
            not self.stop.is_set() and (idle := time.monotonic() - self.progress.last_change) < DRAIN_IDLE_S
        ):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), DRAIN_IDLE_S - idle)
        self.stop.set()

    async def follow(self, consumer: AIOKafkaConsumer) -> None:
        while not self.stop.is_set():
            batches = await consumer.getmany(timeout_ms=250)
            for tp, records in batches.items():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError, KeyError, IndexError):
                        for work in self.progress.apply(tp.topic, json.loads(record.value or b"{}")):
                            self.desk.hand(work)

    async def draw(self) -> None:
        shown: set[str] = set()
        last_example = time.monotonic()
        while not self.stop.is_set():
            elapsed = time.monotonic() - self.t0
            if time.monotonic() - last_example >= self.example_every:
                last_example = time.monotonic()
                journey = self.progress.example(shown, turn=len(shown))
                if journey is not None and journey.order_id:
                    shown.add(journey.order_id)
                    self.screen.note("  " + journey.line())
            rate = self.rate_so_far(elapsed)
            self.screen.status(self.progress.line(rate=rate, elapsed=elapsed))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), 1)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        await self.open_stores()
        await self.seed()
        try:
            await self.desk.configure_sandbox()
            say(f"sandbox: {self.lively.describe()}")
        except httpx.HTTPError as exc:
            say(f"sandbox: could not configure it ({exc!r}); parcels will not move on their own")
        if self.up("console"):
            say(f"console: http://localhost:{PORTS['console']}  sign in as asha / dev-asha-local (ops);")
            say("         also admin, ravi (warehouse), vikram (viewer), passwords dev-<name>-local;")
            say("         the demo's orders appear in its queue as they arrive, no reload needed")
        bootstrap = self.settings.kafka_bootstrap_servers
        consumer = await tail_consumer(bootstrap, TRACKED)
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
        )
        await producer.start()
        limit = f", stopping after {self.limit}" if self.limit else ", until Ctrl-C"
        via = (
            f" (shopify, website, flipkart and amazon orders through {', '.join(self.stores)})"
            if self.stores
            else ""
        )
        say(f"demo: streaming orders at {self.rate:g}/s{limit}{via}")
        say("      service logs: .local/services/<name>.log (follow them with `make logs`)")
        self.t0 = time.monotonic()
        tasks = [
            asyncio.create_task(self.stream(producer)),
            asyncio.create_task(self.follow(consumer)),
            asyncio.create_task(self.draw()),
            asyncio.create_task(self.restock()),
            asyncio.create_task(self.show_store_stock()),
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
            rate = self.rate_so_far(elapsed)
            self.screen.status(self.progress.line(rate=rate, elapsed=elapsed), final=True)
            self.screen.end()
            await producer.stop()
            await consumer.stop()
            await self.desk.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def summary(self) -> str:
        lines = self.progress.summary(time.monotonic() - self.t0)
        if self.desk.errors:
            lines.append(f"      desk: {len(self.desk.errors)} calls failed, e.g. {self.desk.errors[0]}")
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
