"""Two replicas of each service an order passes through, against one Kafka and one PostgreSQL: a
flash sale through both still places, reserves, confirms, ships and messages every order exactly
once, and never oversells (issue 18, docs/scaling.md)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from deploy.local.ports import replica_name, service_of
from deploy.local.stack import Stack
from tests import infra
from tests.conftest import Tap, body_has, ce_id
from tests.helpers import channel_order, db_fetch, encode, seed_stock, unique, wait_applied, wait_until

pytestmark = pytest.mark.e2e

TWICE = ("orders", "routing", "inventory", "shipping", "notifications")
SEES_EVERY_ORDER = ("orders", "routing", "inventory", "notifications")
"""The services that consume an event of every order of the sale, served or not."""
ORDERS, UNITS = 60, 24


def value(record: Any) -> dict[str, Any]:
    return json.loads(record.value)


@pytest.fixture
def second_replicas(stack: Stack) -> Iterator[dict[str, int]]:
    """The second process of each service in TWICE, started beside the session's first ones and
    stopped afterwards (their groups then settle back on one member each); with where each one's
    log started, since a log is appended to."""
    names = [replica_name(service, 2) for service in TWICE]
    logs = {name: stack.log_path(name) for name in names}
    started_at = {name: log.stat().st_size if log.exists() else 0 for name, log in logs.items()}
    try:
        for name in names:
            stack.start(name)
        stack.wait_ready(names, timeout=240)
        yield started_at
    finally:
        for name in names:
            stack.stop(name)


async def members(bootstrap: str, group: str) -> int:
    """Members of a consumer group once it is stable with partitions handed out, else 0."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (response,) = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    _error, _group, state, _type, _protocol, group_members, *_ = response.groups[0]
    return len(group_members) if state == "Stable" else 0


async def test_a_flash_sale_through_two_replicas_of_each_service_is_applied_exactly_once(
    stack: Stack,
    servers: infra.Servers,
    tap: Tap,
    producer: AIOKafkaProducer,
    second_replicas: dict[str, int],
) -> None:
    for service in TWICE:
        await wait_until(
            lambda service=service: _two(servers.kafka, service),  # type: ignore[misc]
            timeout=120,
            what=f"{service}'s consumer group to settle on two members",
        )
    # A group can be stable with two members before the second replica is one of them (a member
    # left by a process an earlier test restarted expires only after its session timeout): wait
    # until each second replica says it holds partitions.
    for name, offset in second_replicas.items():
        await wait_until(
            lambda name=name, offset=offset: _holds_partitions(stack, name, offset),  # type: ignore[misc]
            timeout=120,
            what=f"{name} to hold partitions",
        )
    sku = unique("TWICE")
    await seed_stock(sku, {"BOM1": UNITS // 2, "GGN1": UNITS // 2})
    seeded = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=2)
    await wait_applied("routing", ce_id(seeded[-1]))

    sent = []
    for _ in range(ORDERS):
        channel_order_id = unique("TWICE")
        order = channel_order(channel_order_id, sku)
        order["lines"][0]["quantity"] = 1
        order["total_paise"] = order["payment"]["amount_paise"] = 34900
        await producer.send("channel.orders.v1", encode(order), key=f"shopify:{channel_order_id}".encode())
        sent.append(channel_order_id)
    await producer.flush()

    placed = await tap.wait_for(
        "orders.placed.v1", lambda r: value(r)["channel_order_id"] in sent, count=ORDERS, timeout=200
    )
    orders = {value(r)["order_id"] for r in placed}
    ours = lambda r: value(r)["order_id"] in orders  # noqa: E731
    reserved = await tap.wait_for("inventory.reserved.v1", ours, count=UNITS, timeout=200)
    served = {value(r)["order_id"] for r in reserved}
    final = await tap.wait_for(
        "inventory.reservation_failed.v1",
        lambda r: ours(r) and value(r)["final"],
        count=ORDERS - UNITS,
        timeout=200,
    )
    await tap.wait_for("shipping.shipment_created.v1", ours, count=UNITS, timeout=200)
    confirmed_message = lambda r: ours(r) and value(r).get("template") == "order_confirmed"  # noqa: E731
    await tap.wait_for("notifications.sent.v1", confirmed_message, count=UNITS, timeout=200)
    await asyncio.sleep(2)  # anything more arriving now would be a second copy

    def per_order(topic: str, where: Any = ours) -> Counter[str]:
        return Counter(value(r)["order_id"] for r in tap.find(topic, where))

    assert len(placed) == ORDERS and len(orders) == ORDERS, "each channel order placed once"
    assert len(served) == UNITS and len(reserved) == UNITS, "each served order reserved once"
    unserved = {value(r)["order_id"] for r in final}
    assert len(unserved) == ORDERS - UNITS and not served & unserved, "every other order fails once, finally"
    assert (
        set(per_order("orders.confirmed.v1").values()) == {1}
        and len(per_order("orders.confirmed.v1")) == UNITS
    )
    shipments = per_order("shipping.shipment_created.v1")
    assert set(shipments) == served and set(shipments.values()) == {1}, "one shipment per served order"
    messages: dict[tuple[str, str], set[str]] = {}
    for r in tap.find("notifications.sent.v1", ours):
        messages.setdefault((value(r)["order_id"], value(r).get("template", "")), set()).add(
            value(r)["message_id"]
        )
    assert {order for order, template in messages if template == "order_confirmed"} == served
    assert all(len(ids) == 1 for ids in messages.values()), "no template sent twice to one order"

    rows = await db_fetch(
        "inventory",
        "SELECT sum(on_hand) AS on_hand, sum(reserved) AS reserved FROM stock WHERE sku = $1",
        sku,
    )
    assert (rows[0]["on_hand"], rows[0]["reserved"]) == (UNITS, UNITS), "sold out exactly, nothing oversold"
    stored = await db_fetch(
        "shipping",
        "SELECT order_id, count(*) AS n FROM shipments WHERE order_id = ANY($1::text[]) GROUP BY 1",
        sorted(orders),
    )
    assert {r["order_id"]: r["n"] for r in stored} == dict.fromkeys(served, 1)
    # Both processes of each service that sees every order of the sale did part of the work: the
    # second replicas are not idle spares. Shipping sees only the served orders, and which orders are
    # served is a race between the two inventory replicas. When one reserves every unit, the served
    # orders are on its partitions of the order-keyed topics, and can all be on one shipping
    # replica's too (CI, 2026-12-08: all 24 on partitions 0 and 2 of orders.confirmed.v1, both held
    # by shipping-1). Shipping's exactly-once checks above hold either way.
    for name, offset in second_replicas.items():
        if service_of(name) not in SEES_EVERY_ORDER:
            continue
        with stack.log_path(name).open("rb") as log:
            log.seek(offset)
            assert b"batch applied" in log.read(), f"{name} applied nothing"


async def _two(bootstrap: str, group: str) -> bool | None:
    return True if await members(bootstrap, group) == 2 else None


async def _holds_partitions(stack: Stack, name: str, offset: int) -> bool | None:
    """Whether the process's latest assignment since `offset` in its log is not empty."""
    with stack.log_path(name).open("rb") as log:
        log.seek(offset)
        lines = [json.loads(line) for line in log if b'"partitions assigned"' in line]
    return True if lines and lines[-1].get("partitions", 0) > 0 else None
