"""An order's whole walk through the six services, as real processes on the real broker and database."""

from __future__ import annotations

import asyncio
import json
import os

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.ports import dev_headers
from deploy.local.stack import SERVICES, Stack
from tests.conftest import Tap, body_has
from tests.helpers import channel_order, db_fetch, encode, seed_stock, unique, url, wait_applied

pytestmark = pytest.mark.e2e

TRACE_ID = os.urandom(16).hex()


async def test_prepaid_shopify_order_is_confirmed_gets_an_awb_and_a_whatsapp_with_one_trace(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("E2E-TEA")
    await seed_stock(sku, {"BOM1": 5, "GGN1": 5})
    stock_events = await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku), count=2)
    await wait_applied("routing", dict(stock_events[-1].headers)["ce_id"].decode())

    channel_order_id = unique("SHP")
    traceparent = f"00-{TRACE_ID}-{os.urandom(8).hex()}-01"
    await producer.send_and_wait(
        "channel.orders.v1",
        encode(channel_order(channel_order_id, sku)),
        key=f"shopify:{channel_order_id}".encode(),
        headers=[("traceparent", traceparent.encode())],
    )

    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    order_id = json.loads(placed[0].value)["order_id"]
    sent = await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id))
    assert json.loads(sent[0].value)["template"] == "order_confirmed"
    await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id))

    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        order = (await http.get(url("orders", f"/orders/{order_id}"))).json()
        assert order["status"] == "CONFIRMED"
        assert [t["to_status"] for t in order["timeline"]] == ["PLACED", "CONFIRMED"]
        assert order["customer"]["phone"] == "+919812345678"

        shipments = (await http.get(url("shipping", "/shipments"), params={"order_id": order_id})).json()
        assert len(shipments["items"]) == 1
        shipment = shipments["items"][0]
        assert shipment["warehouse_code"] == "GGN1", "Gurugram is nearer Jaipur than Bhiwandi"
        assert shipment["awb"] and len(shipment["awb"]) == 14

        wa = await http.get(url("sandbox", "/_sandbox/whatsapp/messages"), params={"to": "919812345678"})
        ours = [m for m in wa.json() if channel_order_id in json.dumps(m)]
        assert len(ours) == 1

        stock = (await http.get(url("inventory", f"/stock/{sku}"))).json()
        assert {w["warehouse_code"]: w["reserved"] for w in stock["warehouses"]} == {"BOM1": 0, "GGN1": 2}

    await asyncio.sleep(0.5)  # let the last service flush its log line
    for service in SERVICES:
        log = stack.log_path(service).read_text(errors="replace")
        assert TRACE_ID in log, f"{service}'s log has no line with the order's trace id"
        assert "9812345678" not in log, f"{service} logged a phone number in clear"


async def test_invalid_channel_order_is_rejected_with_every_reason_and_stays_visible(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    channel_order_id = unique("SHP-BAD")
    bad = channel_order(
        channel_order_id,
        "TEA-ASSAM-250",
        shipping_address={"line1": "1 Park St", "city": "Kolkata", "state": "Rajasthan", "pincode": "700016"},
        customer={"name": "Ravi", "phone": "12345"},
        total_paise=1,
    )
    await producer.send_and_wait("channel.orders.v1", encode(bad), key=f"shopify:{channel_order_id}".encode())

    rejected = await tap.wait_for("orders.rejected.v1", body_has(channel_order_id=channel_order_id))
    problems = {p["field"] for p in json.loads(rejected[0].value)["problems"]}
    assert {"shipping_address.state", "customer.phone", "total_paise", "payment.amount_paise"} <= problems

    order_id = json.loads(rejected[0].value)["order_id"]
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        order = (await http.get(url("orders", f"/orders/{order_id}"))).json()
    assert order["status"] == "REJECTED"
    assert order["received"]["channel_order_id"] == channel_order_id


async def test_unreadable_channel_order_is_rejected_not_lost(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    channel_order_id = unique("WOO-BAD")
    payload = {
        "channel": "woocommerce",
        "channel_order_id": channel_order_id,
        "lines": [{"sku": "X", "quantity": -1}],
    }
    await producer.send_and_wait("channel.orders.v1", encode(payload), key=b"woocommerce:x")

    rejected = await tap.wait_for("orders.rejected.v1", body_has(channel_order_id=channel_order_id))
    fields = {p["field"] for p in json.loads(rejected[0].value)["problems"]}
    assert {"lines.0.quantity", "customer", "shipping_address", "placed_at"} <= fields


async def test_the_same_channel_order_sent_twice_at_once_makes_one_order(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("E2E-DUP")
    channel_order_id = unique("AMZ")
    payload = encode(channel_order(channel_order_id, sku, channel="amazon"))
    await asyncio.gather(
        *(
            producer.send_and_wait("channel.orders.v1", payload, key=f"amazon:{channel_order_id}".encode())
            for _ in range(3)
        )
    )
    # A later order on the same key (same partition) is processed only after all three copies.
    sentinel = unique("AMZ-SENTINEL")
    await producer.send_and_wait(
        "channel.orders.v1",
        encode(channel_order(sentinel, sku, channel="amazon")),
        key=f"amazon:{channel_order_id}".encode(),
    )
    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=sentinel))
    rows = await db_fetch(
        "orders", "SELECT order_id FROM orders WHERE channel_order_id = $1", channel_order_id
    )
    assert len(rows) == 1
    assert len(tap.find("orders.placed.v1", body_has(channel_order_id=channel_order_id))) == 1
