"""A confirmed order's parcel on the simulated road, through the real stack: booked with the best
courier (or the next when it is down), tracked by the courier's own webhooks to delivery, through
NDRs and re-attempts, or back to origin after three failed attempts; late and repeated webhooks
change nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import CustomerReplied, NotificationChannel, ReplyChoice
from contracts.examples import order_confirmed
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.shipping.couriers import xpressbees
from services.shipping.domain import shipment_id_for
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import unique, url

pytestmark = pytest.mark.e2e

UPDATED = "shipping.shipment_updated.v1"


async def sandbox(path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(url("sandbox", path), json=body)
        r.raise_for_status()
        return r.json()


async def ship(
    producer: AIOKafkaProducer, tap: Tap, *, fail_attempts: int = 0, auto_reattempt_ms: int | None = None
) -> dict[str, Any]:
    """Script the parcel's road, confirm an order from Gurugram to Jaipur, wait for its AWB."""
    order_id = unique("ORD")
    shipment_id = shipment_id_for(order_id, "GGN1")
    await sandbox(
        "/_sandbox/couriers/simulation", {"step_delay_ms": 300, "auto_reattempt_ms": auto_reattempt_ms}
    )
    await sandbox(
        "/_sandbox/couriers/scripts",
        {"reference": shipment_id, "fail_attempts": fail_attempts, "ndr_reason": "customer_unavailable"},
    )
    order = order_confirmed().model_copy(
        update={
            "order_id": order_id,
            "allocations": [
                a.model_copy(update={"warehouse_code": "GGN1"}) for a in order_confirmed().allocations
            ],
        }
    )
    await publish_event(producer, order)
    created = await tap.wait_for("shipping.shipment_created.v1", body_has(shipment_id=shipment_id))
    return json.loads(created[0].value)


def statuses(tap: Tap, shipment_id: str) -> list[str]:
    return [json.loads(r.value)["status"] for r in tap.find(UPDATED, body_has(shipment_id=shipment_id))]


async def shipment(shipment_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url("shipping", f"/shipments/{shipment_id}"))
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


async def test_a_prepaid_parcel_to_jaipur_goes_with_the_cheapest_courier_and_is_delivered(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    created = await ship(producer, tap)
    sid = created["shipment_id"]

    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="DELIVERED"))

    assert created["courier"] == "xpressbees" and len(created["awb"]) == 14
    assert statuses(tap, sid) == ["PICKED_UP", "IN_TRANSIT", "OUT_FOR_DELIVERY", "DELIVERED"]
    body = await shipment(sid)
    assert body["allocation"]["zone"] == "D"
    assert [c["courier"] for c in body["allocation"]["ranked"]] == ["xpressbees", "shiprocket", "delhivery"]
    assert body["routing_code"] == "XB/302"
    assert [t["courier_code"] for t in body["tracking"]] == ["PU", "IT", "OFD", "DL"]


async def test_an_ndr_then_the_operators_reattempt_then_delivered(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sid = (await ship(producer, tap, fail_attempts=1))["shipment_id"]
    [ndr] = await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="NDR"))
    assert json.loads(ndr.value)["ndr_reason"] == "customer_unavailable"
    assert json.loads(ndr.value)["attempt"] == 1

    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        missing = await http.post(
            url("shipping", f"/shipments/{sid}/ndr-actions"), json={"action": "new_phone"}
        )
        acted = await http.post(
            url("shipping", f"/shipments/{sid}/ndr-actions"),
            json={"action": "reattempt", "reattempt_on": (date.today() + timedelta(days=1)).isoformat()},
        )
    assert missing.status_code == 422
    assert missing.json()["problems"] == [{"field": "new_phone", "problem": "required for new_phone"}]
    assert acted.status_code == 202, acted.text

    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="DELIVERED"))
    assert statuses(tap, sid) == [
        "PICKED_UP",
        "IN_TRANSIT",
        "OUT_FOR_DELIVERY",
        "NDR",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]
    [action] = (await shipment(sid))["ndr_actions"]
    assert (action["action"], action["actor"], action["state"]) == ("reattempt", "ops", "sent")


async def test_the_customers_whatsapp_reply_to_an_ndr_gets_the_parcel_reattempted(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    created = await ship(producer, tap, fail_attempts=1)
    sid = created["shipment_id"]
    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="NDR"))

    reply = CustomerReplied(
        order_id=created["order_id"],
        channel=NotificationChannel.WHATSAPP,
        choice=ReplyChoice.NDR_REATTEMPT,
        shipment_id=sid,
        provider_message_id=unique("wamid"),
    )
    await publish_event(producer, reply)
    await publish_event(producer, reply.model_copy(update={"provider_message_id": unique("wamid")}))  # twice

    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="DELIVERED"))
    [action] = (await shipment(sid))["ndr_actions"]
    assert (action["action"], action["actor"]) == ("reattempt", "customer")


async def test_three_failed_attempts_send_the_parcel_back_to_origin(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sid = (await ship(producer, tap, fail_attempts=3, auto_reattempt_ms=300))["shipment_id"]

    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="RTO_DELIVERED"), timeout=90)

    seen = statuses(tap, sid)
    assert seen[seen.index("NDR") :] == [
        "NDR", "OUT_FOR_DELIVERY", "NDR", "OUT_FOR_DELIVERY", "NDR",
        "RTO_INITIATED", "RTO_IN_TRANSIT", "RTO_DELIVERED",
    ]  # fmt: skip
    attempts = [
        json.loads(r.value)["attempt"] for r in tap.find(UPDATED, body_has(shipment_id=sid, status="NDR"))
    ]
    assert attempts == [1, 2, 3]
    body = await shipment(sid)
    assert body["ndr_attempts"] == 3
    assert [(a["attempt"], a["action"], a["actor"]) for a in body["ndr_actions"]] == [(3, "rto", "policy")]


async def test_a_repeated_and_a_late_webhook_change_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    created = await ship(producer, tap)
    sid, awb = created["shipment_id"], created["awb"]
    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="DELIVERED"))

    again = await sandbox(f"/_sandbox/couriers/xpressbees/parcels/{awb}/replay", {"index": -1})
    late_body = json.dumps(
        {
            "awb_number": awb,
            "status_code": "OFD",
            "status": "out for delivery",
            "event_time": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
            "message": "out for delivery (delayed scan upload)",
        }
    ).encode()
    async with httpx.AsyncClient(timeout=10) as http:
        late = await http.post(
            url("shipping", "/webhooks/couriers/xpressbees"),
            content=late_body,
            headers={"X-Xb-Signature": xpressbees.sign("sandbox-xpressbees-secret", late_body)},
        )
        forged = await http.post(
            url("shipping", "/webhooks/couriers/xpressbees"),
            content=late_body,
            headers={"X-Xb-Signature": "0" * 64},
        )

    assert again["status_code"] == 200
    assert late.status_code == 200 and late.json()["moved"] == []
    assert forged.status_code == 401
    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="DELIVERED"))
    assert statuses(tap, sid).count("DELIVERED") == 1
    body = await shipment(sid)
    assert body["status"] == "DELIVERED"
    assert [(t["courier_code"], t["applied"]) for t in body["tracking"]] == [
        ("OFD", False),  # the late scan is kept for the record, not applied
        ("PU", True),
        ("IT", True),
        ("OFD", True),
        ("DL", True),
    ]


async def test_when_the_cheapest_courier_is_down_the_parcel_goes_with_the_next(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    await sandbox("/_sandbox/faults", {"provider": "xpressbees", "status_code": 503, "fail_next": 1})

    created = await ship(producer, tap)

    assert created["courier"] == "shiprocket" and created["awb"]
    body = await shipment(created["shipment_id"])
    assert [(a["courier"], a["outcome"]) for a in body["booking_attempts"]] == [
        ("xpressbees", "CourierUnavailable"),
        ("shiprocket", "booked"),
    ]
    await tap.wait_for(UPDATED, body_has(shipment_id=created["shipment_id"], status="DELIVERED"))
