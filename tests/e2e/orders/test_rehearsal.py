"""A rehearsal order before a sale, through the real stack (ADR 0360): placed by an operator over
HTTP, it is routed, reserved against real stock, confirmed from the operator's own WhatsApp, booked
with a courier in the sandbox, and every message goes to the operator's number; once booked it is
cancelled, its stock is back, no channel was told a lower number and analytics do not count it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from chassis.db import database_name, register_json_codec, with_database
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.console import store as console
from services.orders.settings import SANDBOX_OPERATOR_PHONE
from tests.conftest import Tap, body_has
from tests.e2e.orders.support import COD, call, shipments, stocked_sku, wait_status
from tests.helpers import db_fetch, url, wait_until

pytestmark = pytest.mark.e2e

OPERATOR_WA_ID = SANDBOX_OPERATOR_PHONE.lstrip("+")
PLACED_ON = "2001-01-01"
"""A day no other test places an order on, so the analytics of that day are the rehearsal's alone."""


def rehearsal(sku: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "rehearsal": True,
        "channel": "shopify",
        "placed_at": f"{PLACED_ON}T10:00:00+05:30",
        "customer": {"name": "Ops rehearsal", "phone": SANDBOX_OPERATOR_PHONE},
        "shipping_address": {
            "line1": "12 MI Road",
            "city": "Jaipur",
            "state": "Rajasthan",
            "pincode": "302001",
        },
        "lines": [{"sku": sku, "quantity": 2, "unit_price_paise": 34900}],
        "total_paise": 69800,
        "payment": COD,
    }
    return body | overrides


async def sandbox_get(path: str, **params: str) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url("sandbox", path), params=params)
        r.raise_for_status()
        return r.json()


async def stock(sku: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        body = (await http.get(url("inventory", f"/stock/{sku}"))).json()
    return dict(next(w for w in body["warehouses"] if w["warehouse_code"] == "GGN1"))


async def analytics_of_the_day() -> tuple[list[tuple[str, str, int]], set[str]]:
    """The console's orders per channel on PLACED_ON and the orders its summary counts, by the
    console's own analytics queries on its read model."""
    since = datetime(2000, 12, 31, tzinfo=UTC)
    conn = await asyncpg.connect(with_database(os.environ["DATABASE_URL"], database_name("console")))
    try:
        await register_json_codec(conn)
        per_day = await console.orders_per_channel_day(conn, since=since)
        facts = await console.metric_facts(conn, since=since)
    finally:
        await conn.close()
    return [row for row in per_day if row[0] == PLACED_ON], {f.order_id for f in facts}


async def test_a_rehearsal_order_runs_to_booking_on_the_operators_phone_then_is_cancelled_leaving_no_trace(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    refused = await call(
        "POST",
        "/orders",
        json=rehearsal(
            "ANY-SKU",
            channel_order_id="SHP-REAL-1",
            customer={"name": "A customer", "phone": "+919812345678"},
            payment={**COD, "method": "upi", "gateway": "razorpay"},
        ),
    )
    assert refused.status_code == 422, refused.text
    assert sorted(p["field"] for p in refused.json()["problems"]) == [
        "channel_order_id",
        "customer.phone",
        "payment.method",
    ]

    sku = await stocked_sku(tap, units=5)
    before = await analytics_of_the_day()
    placed = await call("POST", "/orders", json=rehearsal(sku))
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]

    # The operator confirms it from their own WhatsApp, as a customer would.
    [asked] = await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="cod_confirmation_request"), timeout=90
    )
    async with httpx.AsyncClient(timeout=10) as http:
        tapped = await http.post(
            url("sandbox", "/_sandbox/whatsapp/replies"),
            json={"wamid": json.loads(asked.value)["provider_message_id"], "choice": "cod_confirm"},
        )
        assert tapped.status_code == 200, tapped.text

    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id), timeout=120)
    order = await wait_status(order_id, "CANCELLED")
    [shipped] = await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="order_shipped"), timeout=90
    )

    # Flagged end to end, and it went all the way to a courier's AWB before it was called off.
    assert order["channel_order_id"].startswith("REHEARSAL-")
    for topic in ("orders.placed.v1", "orders.confirmed.v1", "routing.planned.v1"):
        assert all(
            json.loads(r.value).get("rehearsal") is True for r in tap.find(topic, body_has(order_id=order_id))
        )
        assert tap.find(topic, body_has(order_id=order_id)), f"nothing on {topic}"
    assert json.loads(cancelled.value)["rehearsal"] is True
    assert "rehearsal over" in json.loads(cancelled.value)["note"]
    [created] = tap.find("shipping.shipment_created.v1", body_has(order_id=order_id))
    assert json.loads(created.value)["awb"], "booked with a courier in the sandbox"
    [parcel] = await shipments(order_id)
    await wait_until(lambda: _cancelled(order_id), what="the parcel cancelled with the courier", timeout=60)

    # Every message went to the operator's number, ending with the shipped message and its AWB.
    sent = tap.find("notifications.sent.v1", body_has(order_id=order_id))
    assert {json.loads(r.value)["template"] for r in sent} >= {
        "cod_confirmation_request",
        "order_confirmed",
        "order_shipped",
    }
    wamids = {json.loads(r.value)["provider_message_id"] for r in sent}
    delivered = [m for m in await sandbox_get("/_sandbox/whatsapp/messages") if m["wamid"] in wamids]
    assert len(delivered) == len(wamids) and {m["wa_id"] for m in delivered} == {OPERATOR_WA_ID}
    assert json.loads(shipped.value)["channel"] == "whatsapp"

    # Its stock is back, and no announcement ever told a channel a lower number.
    await tap.wait_for("inventory.released.v1", body_has(order_id=order_id), timeout=60)
    after = await stock(sku)
    assert (after["on_hand"], after["reserved"], after["available"]) == (5, 0, 5)
    announced = [json.loads(r.value) for r in tap.find("inventory.stock_changed.v1", body_has(sku=sku))]
    held = [a for a in announced if (a.get("levels") or {}).get("GGN1", {}).get("rehearsal_reserved") == 2]
    assert held, "inventory announced the rehearsal's hold"
    assert {a["by_warehouse"]["GGN1"] for a in announced} == {5}, "a channel was told a lower number"

    # The console shows it but its analytics do not count it.
    await wait_until(lambda: _console_has_cancelled(order_id), what="the console folded it", timeout=60)
    assert await analytics_of_the_day() == before
    per_day, counted = before
    assert per_day == [] and order_id not in counted
    assert parcel["courier"]


async def _cancelled(order_id: str) -> bool | None:
    return [s["status"] for s in await shipments(order_id)] == ["CANCELLED"] or None


async def _console_has_cancelled(order_id: str) -> bool | None:
    rows = await db_fetch("console", "SELECT status, rehearsal FROM order_view WHERE order_id = $1", order_id)
    return (bool(rows) and rows[0]["status"] == "CANCELLED" and rows[0]["rehearsal"]) or None
