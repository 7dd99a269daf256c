"""News about an order that reaches shipping before the order's confirmation does, through the
real stack. orders.confirmed.v1, orders.cancelled.v1 and orders.contact_corrected.v1 travel on three
topics, so a cancellation or a correction made right after confirmation can be consumed first:
shipping keeps it and applies it when the confirmation arrives, never booking a cancelled order and
never booking to the address an operator has just corrected."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import examples
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.shipping.domain import shipment_id_for
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import unique, url, wait_applied

pytestmark = pytest.mark.e2e


def confirmed(order_id: str) -> Any:
    """Orders' confirmation of a two-unit COD order to Jaipur, served from Gurugram."""
    template = examples.order_confirmed()
    return template.model_copy(
        update={
            "order_id": order_id,
            "allocations": [a.model_copy(update={"warehouse_code": "GGN1"}) for a in template.allocations],
        }
    )


async def shipments_of(order_id: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url("shipping", "/shipments"), params={"order_id": order_id})
        r.raise_for_status()
        return r.json()["items"]  # type: ignore[no-any-return]


async def test_a_cancellation_that_overtakes_the_confirmation_books_nothing(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    order_id = unique("ORD-EARLY-CXL")
    cancelled = examples.order_cancelled().model_copy(update={"order_id": order_id})
    await wait_applied("shipping", (await publish_event(producer, cancelled, source="orders")).id)

    await wait_applied("shipping", (await publish_event(producer, confirmed(order_id), source="orders")).id)

    assert await shipments_of(order_id) == [], "a cancelled order is never handed to a courier"


async def test_a_correction_that_overtakes_the_confirmation_is_what_the_courier_gets(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    order_id = unique("ORD-EARLY-FIX")
    corrected = examples.order_contact_corrected().model_copy(update={"order_id": order_id})
    corrected = corrected.model_copy(
        update={"customer": corrected.customer.model_copy(update={"phone": "+919811122233"})}
    )
    await wait_applied("shipping", (await publish_event(producer, corrected, source="orders")).id)

    await publish_event(producer, confirmed(order_id), source="orders")
    await tap.wait_for(
        "shipping.shipment_created.v1", body_has(shipment_id=shipment_id_for(order_id, "GGN1")), timeout=60
    )

    [shipment] = await shipments_of(order_id)
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        detail = (await http.get(url("shipping", f"/shipments/{shipment['shipment_id']}"))).json()
    assert detail["consignee"]["address"]["line1"] == "14 MI Road, 2nd floor"
    assert detail["consignee"]["address"]["landmark"] == "Opposite Raj Mandir Cinema"
    assert detail["consignee"]["phone"] == "+919811122233"
