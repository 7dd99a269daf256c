"""Crash tests: SIGKILL a service at the worst moments and show nothing is lost or applied twice.

Each uses a fault point (chassis/faults.py) to freeze the process at an exact step, then kills it.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer

from contracts import OrderPlaced
from contracts.examples import order_placed
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, ce_id, publish_event
from tests.helpers import channel_order, db_fetch, encode, unique

pytestmark = pytest.mark.e2e


async def _wait_for_log(stack: Stack, service: str, text: str, *, after: int, timeout: float = 60) -> None:
    path = stack.log_path(service)
    for _ in range(int(timeout * 10)):
        if text in path.read_text(errors="replace")[after:]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service} never logged {text!r}")


async def _restart_with_fault(stack: Stack, service: str, fault: str, match: str) -> int:
    stack.stop(service)
    offset = stack.log_path(service).stat().st_size
    stack.start(service, extra_env={"DABBA_FAULTS": fault, "DABBA_FAULT_MATCH": match})
    stack.wait_ready([service])
    return offset


def _placed(order_id: str) -> OrderPlaced:
    return order_placed().model_copy(update={"order_id": order_id})


@pytest.mark.parametrize("fault", ["consumer.after_commit", "consumer.before_commit"])
async def test_routing_killed_around_its_commit_plans_an_order_exactly_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer, fault: str
) -> None:
    """after_commit: the database committed, the offset did not, so Kafka redelivers and the inbox
    must absorb it. before_commit: nothing committed, so the redelivery must apply it (the offset
    must not have been committed first)."""
    order_id = unique("ORD-CRASH")
    log_from = await _restart_with_fault(stack, "routing", fault, order_id)
    try:
        first = await publish_event(producer, _placed(order_id))
        await _wait_for_log(stack, "routing", "fault point reached", after=log_from)
        stack.kill("routing")
    finally:
        stack.start("routing")
        stack.wait_ready(["routing"])

    # A second order on the same key (same partition) proves the first was consumed again.
    sentinel = unique("ORD-SENTINEL")
    await publish_event(producer, _placed(sentinel), key=order_id)
    await tap.wait_for("routing.planned.v1", body_has(order_id=sentinel), timeout=90)
    await asyncio.sleep(1)  # a duplicate, if any, is published by the relay right behind

    planned = tap.find("routing.planned.v1", body_has(order_id=order_id))
    assert len({ce_id(r) for r in planned}) == 1, f"routing planned {order_id} {len(planned)} times"
    decisions = await db_fetch("routing", "SELECT attempt FROM route_decisions WHERE order_id = $1", order_id)
    assert len(decisions) == 1
    assert await db_fetch("routing", "SELECT 1 FROM inbox WHERE event_id = $1", first.id)


async def test_orders_relay_killed_between_publish_and_mark_sent_duplicates_are_absorbed(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    """The relay publishes OrderPlaced, is killed before deleting the row, and publishes it again
    after restart: routing sees the same event id twice and plans the order once."""
    channel_order_id = unique("SHP-RELAY")
    log_from = await _restart_with_fault(stack, "orders", "outbox.after_publish", channel_order_id)
    try:
        await producer.send_and_wait(
            "channel.orders.v1",
            encode(channel_order(channel_order_id, unique("NOSTOCK"))),
            key=f"shopify:{channel_order_id}".encode(),
        )
        await _wait_for_log(stack, "orders", "fault point reached", after=log_from)
        stack.kill("orders")
    finally:
        stack.start("orders")
        stack.wait_ready(["orders"])

    copies = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id), count=2)
    assert len({ce_id(r) for r in copies}) == 1, "the relay republishes the same event, same id"
    order_id = json.loads(copies[0].value)["order_id"]

    sentinel = unique("ORD-SENTINEL")
    await publish_event(producer, _placed(sentinel), key=order_id)
    await tap.wait_for("routing.planned.v1", body_has(order_id=sentinel), timeout=90)
    await asyncio.sleep(1)
    assert len(tap.find("routing.planned.v1", body_has(order_id=order_id))) == 1
    orders = await db_fetch("orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", channel_order_id)
    assert len(orders) == 1
