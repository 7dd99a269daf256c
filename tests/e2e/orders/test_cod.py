"""COD through the real stack: nothing is packed until the customer confirms on WhatsApp; a cancel
reply cancels and frees the stock; no reply in time puts the order on hold for a call."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer

from contracts import CustomerReplied, NotificationChannel, ReplyChoice
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, publish_event
from tests.e2e.orders.support import (
    COD,
    available,
    call,
    place,
    shipments,
    stocked_sku,
    wait_available,
    wait_status,
)
from tests.helpers import db_execute, unique, wait_applied

pytestmark = pytest.mark.e2e


def reply(order_id: str, choice: ReplyChoice) -> CustomerReplied:
    return CustomerReplied(
        order_id=order_id,
        channel=NotificationChannel.WHATSAPP,
        choice=choice,
        provider_message_id=unique("wamid"),
    )


async def test_cod_order_is_not_packed_until_the_customer_confirms_on_whatsapp(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku, payment=COD)

    order = await wait_status(order_id, "PENDING_COD_CONFIRMATION")
    assert order["cod_confirm_by"] is not None
    await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="cod_confirmation_request")
    )
    await asyncio.sleep(2)  # time enough for a wrongly sent confirmation to reach shipping
    assert await shipments(order_id) == []
    assert tap.find("orders.confirmed.v1", body_has(order_id=order_id)) == []

    await publish_event(producer, reply(order_id, ReplyChoice.COD_CONFIRM))

    order = await wait_status(order_id, "CONFIRMED")
    assert order["payment"]["status"] == "cod_confirmed"
    assert order["cod_confirm_by"] is None
    assert order["timeline"][-1]["cause"] == "notifications.customer_replied.v1"
    await tap.wait_for("payments.updated.v1", body_has(order_id=order_id, status="cod_confirmed"))
    await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id))
    [shipment] = await shipments(order_id)
    assert shipment["cod_amount_paise"] == 69800


async def test_a_cod_cancel_reply_cancels_the_order_and_its_stock_is_available_again(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap, units=5)
    order_id = await place(producer, tap, sku, payment=COD)
    await wait_status(order_id, "PENDING_COD_CONFIRMATION")
    assert await available(sku) == 3

    await publish_event(producer, reply(order_id, ReplyChoice.COD_CANCEL))

    order = await wait_status(order_id, "CANCELLED")
    assert order["payment"]["status"] == "cod_declined"
    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id))
    assert json.loads(cancelled.value)["reason_code"] == "cod_declined"
    await tap.wait_for("payments.updated.v1", body_has(order_id=order_id, status="cod_declined"))
    await wait_available(sku, 5)


async def test_a_second_reply_after_the_order_is_cancelled_changes_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku, payment=COD)
    await wait_status(order_id, "PENDING_COD_CONFIRMATION")
    await publish_event(producer, reply(order_id, ReplyChoice.COD_CANCEL))
    await wait_status(order_id, "CANCELLED")

    late = await publish_event(producer, reply(order_id, ReplyChoice.COD_CONFIRM))
    await wait_applied("orders", late.id)
    order = await wait_status(order_id, "CANCELLED")
    assert order["payment"]["status"] == "cod_declined"
    assert "customer replied cod_confirm" in order["timeline"][-1]["reason"]
    assert tap.find("orders.confirmed.v1", body_has(order_id=order_id)) == []


async def test_no_reply_in_time_puts_the_cod_order_on_hold_for_a_call_then_an_operator_confirms(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku, payment=COD)
    await wait_status(order_id, "PENDING_COD_CONFIRMATION")

    # The clock: the reply window of this order closes now; the running sweep must notice.
    await db_execute(
        "orders",
        "UPDATE orders SET cod_confirm_by = now() - interval '1 second' WHERE order_id = $1",
        order_id,
    )

    order = await wait_status(order_id, "ON_HOLD")
    assert "no COD confirmation within 24 h" in order["timeline"][-1]["reason"]
    assert order["timeline"][-1]["cause"] == "COD reply timeout sweep"
    assert await shipments(order_id) == []

    r = await call("POST", f"/orders/{order_id}/cod/confirm", json={"note": "confirmed on a call"})
    assert r.status_code == 200, r.text
    assert r.json() == {"order_id": order_id, "status": "CONFIRMED", "actor": "ops:ops"}
    order = await wait_status(order_id, "CONFIRMED")
    assert order["timeline"][-1]["actor"] == "ops:ops"
    await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id))


async def test_an_operator_declines_cod_by_hand_and_a_prepaid_order_has_no_cod_to_confirm(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    cod = await place(producer, tap, sku, payment=COD)
    prepaid = await place(producer, tap, sku)
    await wait_status(cod, "PENDING_COD_CONFIRMATION")
    await wait_status(prepaid, "CONFIRMED")

    r = await call("POST", f"/orders/{cod}/cod/decline", json={})
    assert r.status_code == 200 and r.json()["status"] == "CANCELLED"

    r = await call("POST", f"/orders/{prepaid}/cod/confirm")
    assert r.status_code == 409
    assert r.json()["problems"][0]["field"] == "payment.method"
