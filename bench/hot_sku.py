"""Hot-SKU benchmark: every order wants the same SKU and there is less stock than demand.

`python -m bench.run --hot-sku [--orders 2000] [--stock 500] [--warmup 20]`. It measures how fast inventory
hands out the last units of one SKU (every reservation contends for the same few rows) and checks
the sale ends exactly sold out: as many units reserved as there were, none twice, none negative,
and every other order ending in one final reservation failure. Exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from chassis.db import with_database
from chassis.settings import ServiceSettings
from contracts import topics
from deploy.local import demo_data
from deploy.local.demo import channel_order_record, tail_consumer
from deploy.local.ports import PORTS
from deploy.local.stack import ANY_HOUR, Stack

UNIT_PRICE_PAISE = 34900
RESULTS = Path(__file__).parent / "results"
FOLLOWED = (
    topics.ORDERS_PLACED,
    topics.ORDERS_REJECTED,
    topics.INVENTORY_RESERVED,
    topics.INVENTORY_RESERVATION_FAILED,
)


def hot_order(i: int, rng: random.Random, *, sku: str, prefix: str) -> dict[str, Any]:
    """A demo order (random customer, city, channel) for one unit of the hot SKU, prepaid."""
    order = demo_data.make_order(i, rng, channel_order_id_prefix=prefix, prepaid_only=True)
    order["lines"] = [{"sku": sku, "quantity": 1, "unit_price_paise": UNIT_PRICE_PAISE}]
    order["shipping_fee_paise"] = order["discount_paise"] = 0
    order["total_paise"] = order["payment"]["amount_paise"] = UNIT_PRICE_PAISE
    return order


def split(stock: int, codes: list[str]) -> dict[str, int]:
    """Stock spread over the warehouses, the first getting the remainder."""
    share, rest = divmod(stock, len(codes))
    return {code: share + (rest if i == 0 else 0) for i, code in enumerate(codes)}


@dataclass
class Sale:
    """What the followed topics said about the orders of one prefix.

    The topics are fetched side by side, so an order's reservation (or failure) can be read before
    its `orders.placed`. It waits in `early` until the order is known to be ours; before this, such
    outcomes were dropped, and a run that sold out exactly reported 495 of 500 units reserved."""

    prefix: str
    ours: set[str] = field(default_factory=set)
    rejected: int = 0
    reserved: dict[str, list[int]] = field(default_factory=dict)  # order → units per reserved event
    failed_final: dict[str, int] = field(default_factory=dict)
    early: dict[str, list[tuple[str, dict[str, Any], int]]] = field(default_factory=dict)
    first_placed_ms: int | None = None
    last_ms: int = 0
    last_reserved_ms: int = 0

    @property
    def decided(self) -> int:
        return len(self.reserved) + len(self.failed_final) + self.rejected

    def see(self, topic: str, event: dict[str, Any], ms: int) -> None:
        """One record of the followed topics (its broker timestamp in ms)."""
        order_id = event.get("order_id")
        if topic == topics.ORDERS_PLACED:
            if event["channel_order_id"].startswith(self.prefix):
                self.ours.add(order_id)
                self.first_placed_ms = min(self.first_placed_ms or ms, ms)
                for early in self.early.pop(order_id, []):
                    self._outcome(*early)
        elif topic == topics.ORDERS_REJECTED:
            if event.get("channel_order_id", "").startswith(self.prefix):
                self.rejected += 1
        elif order_id in self.ours:
            self._outcome(topic, event, ms)
        elif order_id is not None:
            self.early.setdefault(order_id, []).append((topic, event, ms))

    def _outcome(self, topic: str, event: dict[str, Any], ms: int) -> None:
        if topic == topics.INVENTORY_RESERVED:
            units = sum(a["quantity"] for a in event["allocations"])
            self.reserved.setdefault(event["order_id"], []).append(units)
            self.last_ms, self.last_reserved_ms = max(self.last_ms, ms), max(self.last_reserved_ms, ms)
        elif topic == topics.INVENTORY_RESERVATION_FAILED and event.get("final", True):
            self.failed_final[event["order_id"]] = self.failed_final.get(event["order_id"], 0) + 1
            self.last_ms = max(self.last_ms, ms)


async def follow(consumer: Any, sale: Sale, *, until: Callable[[], bool], timeout: float) -> None:
    """Read the followed topics into `sale` until `until()` holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        for tp, batch in (await consumer.getmany(timeout_ms=200)).items():
            for record in batch:
                sale.see(tp.topic, json.loads(record.value or b"{}"), record.timestamp)


async def run(args: argparse.Namespace, *, say: Any, start_stack: Any) -> int:
    """The hot-SKU case, printed as a small table; 0 when the sale sold out exactly."""
    settings = ServiceSettings()
    run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)
    sku, prefix = f"HOT-{run_id}", f"HOT-{run_id}-"
    n, stock = args.orders, args.stock
    say(f"bench --hot-sku: run {run_id}: {n} orders for one SKU with {stock} units; (re)starting the stack…")
    up = start_stack(Stack(env=dict(ANY_HOUR)))
    if not {"orders", "routing", "inventory"} <= set(up):
        say("bench: orders, routing and inventory must all be running")
        return 2
    codes = [w.code for w in demo_data.WAREHOUSES]
    warm_sku, warm_prefix = f"WARM-{run_id}", f"WARMUP-{run_id}-"
    targets = {sku: split(stock, codes), warm_sku: dict.fromkeys(codes, max(args.warmup, 1))}
    await demo_data.seed({s: f"http://127.0.0.1:{PORTS[s]}" for s in ("routing", "inventory")}, stock=targets)
    if not await demo_data.wait_until_routable(
        with_database(settings.database_url, "dabba_routing"), targets, timeout=60
    ):
        say("seed: routing's stock view has not caught up after 60s; going ahead anyway")

    rng = random.Random(run_id)
    records = [channel_order_record(hot_order(i, rng, sku=sku, prefix=prefix)) for i in range(n)]
    consumer = await tail_consumer(settings.kafka_bootstrap_servers, FOLLOWED)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True, linger_ms=10
    )
    await producer.start()
    if args.warmup:
        # As in bench.run: a fresh service is ready before its consumer group has its partitions, and
        # without a warm-up the first seconds of the sale would measure that join, not inventory.
        warm = [
            channel_order_record(hot_order(i, rng, sku=warm_sku, prefix=warm_prefix))
            for i in range(args.warmup)
        ]
        for k, v, h in warm:
            await producer.send_and_wait(topics.CHANNEL_ORDERS, v, key=k, headers=h)
        warming = Sale(prefix=warm_prefix)
        await follow(consumer, warming, until=lambda: len(warming.reserved) >= len(warm), timeout=120)
        say(f"bench --hot-sku: warm-up: {len(warming.reserved)}/{len(warm)} orders reserved")
    sale = Sale(prefix=prefix)
    started = time.monotonic()
    pending = [await producer.send(topics.CHANNEL_ORDERS, v, key=k, headers=h) for k, v, h in records]
    for fut in pending:
        await fut
    say(f"bench --hot-sku: {n} orders acknowledged by Kafka in {time.monotonic() - started:.1f}s")
    await follow(consumer, sale, until=lambda: sale.decided >= n, timeout=args.timeout)
    wall = time.monotonic() - started
    ours, rejected, reserved, failed_final = sale.ours, sale.rejected, sale.reserved, sale.failed_final
    first_placed_ms, last_ms, last_reserved_ms = sale.first_placed_ms, sale.last_ms, sale.last_reserved_ms
    await producer.stop()
    await consumer.stop()

    conn = await asyncpg.connect(with_database(settings.database_url, "dabba_inventory"))
    try:
        rows = await conn.fetch(
            "SELECT warehouse_code, on_hand, reserved FROM stock WHERE sku = $1 ORDER BY 1", sku
        )
    finally:
        await conn.close()
    units_reserved = sum(sum(v) for v in reserved.values())

    def since_first_placed(ms: int) -> float | None:
        return (ms - first_placed_ms) / 1000 if first_placed_ms and ms > first_placed_ms else None

    sold_out_s, span_s = since_first_placed(last_reserved_ms), since_first_placed(last_ms)
    checks = {
        "exactly sold out (units reserved == stock)": units_reserved == stock,
        "zero oversell (reserved <= on hand in every warehouse)": all(
            r["reserved"] <= r["on_hand"] for r in rows
        ),
        "database agrees (reserved per warehouse sums to stock)": sum(r["reserved"] for r in rows) == stock,
        "no order reserved twice": all(len(v) == 1 for v in reserved.values()),
        "every unserved order got one final failure": len(failed_final) == n - len(reserved) - rejected
        and all(c == 1 for c in failed_final.values()),
        "no order both reserved and failed": not set(reserved) & set(failed_final),
        "no order rejected at intake": rejected == 0,
    }
    say("")
    say(f"  orders                      {n}  (placed {len(ours)}, rejected {rejected})")
    spread = ", ".join(f"{k} {v}" for k, v in targets[sku].items())
    say(f"  stock                       {stock} units over {spread}")
    say(f"  reserved                    {len(reserved)} orders, {units_reserved} units")
    say(f"  final failures              {len(failed_final)}")
    say(f"  by warehouse (on hand/res.) {', '.join(f'{r[0]} {r[1]}/{r[2]}' for r in rows)}")
    decided = len(reserved) + len(failed_final)
    rates = {
        "sold_out_s": sold_out_s,
        "reservations_per_s": len(reserved) / sold_out_s if sold_out_s else None,
        "decisions_per_s": decided / span_s if span_s else None,
    }
    if sold_out_s and span_s:
        say(f"  sold out after              {sold_out_s:.1f}s  (first order placed → last unit reserved)")
        say(f"  reservations/s              {rates['reservations_per_s']:,.0f}  (over that span)")
        say(
            f"  decisions/s                 {rates['decisions_per_s']:,.0f}"
            "  (reserved + final failures, to the last)"
        )
    say(f"  wall time                   {wall:.1f}s")
    for name, ok in checks.items():
        say(f"  {'✓' if ok else '✗'} {name}")
    result = {
        "run_id": run_id,
        "hot_sku": True,
        "orders": n,
        "stock": stock,
        "placed": len(ours),
        "rejected": rejected,
        "reserved_orders": len(reserved),
        "units_reserved": units_reserved,
        "final_failures": len(failed_final),
        "wall_s": wall,
        **rates,
        "checks": checks,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-hot-sku.json"
    path.write_text(json.dumps(result, indent=2, sort_keys=True))
    say(f"bench --hot-sku: results written to bench/results/{path.name}")
    return 0 if all(checks.values()) else 1
