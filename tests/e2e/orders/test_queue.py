"""The order queue an operator looks at first: filters, search by any id, phone or AWB, keyset pages,
and the status that follows shipments, returns and refunds."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from contracts import ReturnLine, ReturnReason, ReturnStatus, ShipmentStatus, ShipmentUpdated
from contracts.enums import PaymentMethod
from contracts.returns import ReturnRefunded, ReturnRequested, ReturnUpdated
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, publish_event
from tests.e2e.orders.support import COD, call, detail, place, stocked_sku, wait_status
from tests.helpers import db_fetch, unique

pytestmark = pytest.mark.e2e


async def queue(**params: Any) -> dict[str, Any]:
    r = await call("GET", "/orders", role="viewer", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_an_operator_finds_a_customers_orders_by_phone_page_by_page(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap, units=10)
    digits = f"98{random.randrange(10**7, 10**8)}"
    customer = {"name": "Meera", "phone": f"+91{digits}"}
    ids = [await place(producer, tap, sku, customer=customer) for _ in range(3)]
    for order_id in ids:
        await wait_status(order_id, "CONFIRMED")

    spaced = f"0{digits[:5]} {digits[5:]}"
    first = await queue(q=spaced, limit=2)
    assert [o["order_id"] for o in first["items"]] == ids[:0:-1]
    second = await queue(q=spaced, limit=2, cursor=first["next_cursor"])
    assert [o["order_id"] for o in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None

    newest = first["items"][0]
    assert (newest["status"], newest["payment_method"], newest["warehouse_codes"]) == (
        "CONFIRMED",
        "upi",
        ["GGN1"],
    )
    assert [o["order_id"] for o in (await queue(q=ids[1]))["items"]] == [ids[1]]
    channel_order_id = (await detail(ids[1]))["channel_order_id"]
    assert [o["order_id"] for o in (await queue(q=channel_order_id))["items"]] == [ids[1]]


async def test_the_queue_filters_by_status_channel_payment_warehouse_and_date(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    cod = await place(producer, tap, sku, payment=COD, channel="woocommerce")
    await wait_status(cod, "PENDING_COD_CONFIRMATION")
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()

    found = await queue(
        status="PENDING_COD_CONFIRMATION",
        channel="woocommerce",
        payment_method=PaymentMethod.COD.value,
        warehouse="GGN1",
        received_from=since,
        limit=500,
    )
    assert cod in [o["order_id"] for o in found["items"]]
    assert all(o["channel"] == "woocommerce" and o["payment_method"] == "cod" for o in found["items"])
    assert cod not in [o["order_id"] for o in (await queue(warehouse="BOM1", limit=500))["items"]]
    assert (await queue(received_to=since, q=cod))["items"] == []
    r = await call("GET", "/orders", role="viewer", params={"status": "TELEPORTED", "cursor": "nonsense"})
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"status"}
    r = await call("GET", "/orders", role="viewer", params={"cursor": "nonsense"})
    assert r.json()["problems"] == [{"field": "cursor", "problem": "not a cursor from a previous page"}]


async def _shipment(order_id: str) -> dict[str, Any]:
    [row] = await db_fetch(
        "shipping", "SELECT shipment_id, warehouse_code, awb FROM shipments WHERE order_id = $1", order_id
    )
    return dict(row)


async def test_an_order_follows_its_shipment_to_the_door_and_its_return_to_the_refund(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku)
    await wait_status(order_id, "CONFIRMED")
    await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id))
    shipment = await _shipment(order_id)
    order = await wait_status(order_id, "CONFIRMED")
    assert shipment["awb"] in order["awbs"]
    assert [o["order_id"] for o in (await queue(q=shipment["awb"]))["items"]] == [order_id]

    async def courier(status: ShipmentStatus, **extra: Any) -> None:
        await publish_event(
            producer,
            ShipmentUpdated(
                order_id=order_id,
                shipment_id=shipment["shipment_id"],
                warehouse_code=shipment["warehouse_code"],
                courier="delhivery",
                awb=shipment["awb"],
                status=status,
                **extra,
            ),
        )

    for status, expected in (
        (ShipmentStatus.PACKED, "PACKED"),
        (ShipmentStatus.PICKED_UP, "SHIPPED"),
        (ShipmentStatus.OUT_FOR_DELIVERY, "OUT_FOR_DELIVERY"),
        (ShipmentStatus.NDR, "DELIVERY_FAILED"),
        (ShipmentStatus.OUT_FOR_DELIVERY, "OUT_FOR_DELIVERY"),
        (ShipmentStatus.DELIVERED, "DELIVERED"),
    ):
        await courier(status, ndr_reason="customer_unavailable" if status is ShipmentStatus.NDR else None)
        await wait_status(order_id, expected)
    await courier(ShipmentStatus.IN_TRANSIT)  # late and out of order: ignored, noted
    order = await detail(order_id)
    assert order["status"] == "DELIVERED"

    return_id = unique("RMA")
    line = ReturnLine(sku=sku, quantity=2, reason=ReturnReason.DAMAGED)
    common = {"order_id": order_id, "return_id": return_id, "lines": [line]}
    await publish_event(producer, ReturnRequested(**common, status=ReturnStatus.APPROVED))
    await wait_status(order_id, "RETURN_REQUESTED")
    await publish_event(
        producer, ReturnUpdated(**common, status=ReturnStatus.RECEIVED, warehouse_code="GGN1")
    )
    await wait_status(order_id, "RETURNED")
    refund = ReturnRefunded(
        **common,
        status=ReturnStatus.REFUNDED,
        amount_paise=69800,
        refund_id=unique("rfnd"),
        method=PaymentMethod.UPI,
    )
    await publish_event(producer, refund)
    order = await wait_status(order_id, "REFUNDED")
    assert order["payment"]["status"] == "refunded"
    [paid_back] = await tap.wait_for("payments.updated.v1", body_has(order_id=order_id, status="refunded"))
    assert json.loads(paid_back.value)["refund_id"] == refund.refund_id
    changes = [t["to_status"] for t in order["timeline"] if t["from_status"] != t["to_status"]]
    assert changes == [
        "PLACED",
        "CONFIRMED",
        "PACKED",
        "SHIPPED",
        "OUT_FOR_DELIVERY",
        "DELIVERY_FAILED",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
        "RETURN_REQUESTED",
        "RETURNED",
        "REFUNDED",
    ]
