"""A phone corrected by an operator after confirmation (orders.contact_corrected.v1) is the number
notifications uses from then on, through the real stack: the NDR question goes to the new number."""

from __future__ import annotations

import pytest
from aiokafka import AIOKafkaProducer

from contracts import NdrReason, OrderStatus, ShipmentStatus
from contracts.examples import order_contact_corrected, shipment_updated
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, publish_event
from tests.e2e.test_notifications import new_phone, sandbox, status_change, templates
from tests.helpers import unique, wait_applied

pytestmark = pytest.mark.e2e


async def test_an_ndr_after_a_phone_correction_asks_the_new_number(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id, old_phone, new = unique("ORD-FIX"), new_phone(), new_phone()
    await publish_event(producer, status_change(order_id, OrderStatus.CONFIRMED, old_phone), source="orders")
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, template="order_confirmed"))
    corrected = order_contact_corrected()
    corrected = corrected.model_copy(
        update={"order_id": order_id, "customer": corrected.customer.model_copy(update={"phone": new})}
    )
    await wait_applied("notifications", (await publish_event(producer, corrected, source="orders")).id)
    ndr = shipment_updated().model_copy(
        update={
            "order_id": order_id,
            "shipment_id": unique("SHP"),
            "status": ShipmentStatus.NDR,
            "ndr_reason": NdrReason.PHONE_UNREACHABLE,
            "attempt": 1,
        }
    )

    await publish_event(producer, ndr, source="shipping")
    await tap.wait_for("notifications.sent.v1", body_has(order_id=order_id, template="ndr_options"))

    assert templates(await sandbox("/_sandbox/whatsapp/messages", to=new)) == ["ndr_options"]
    assert templates(await sandbox("/_sandbox/whatsapp/messages", to=old_phone)) == ["order_confirmed"]
