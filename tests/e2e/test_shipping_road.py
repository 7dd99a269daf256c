"""A confirmed order's parcel on the simulated road, through the real stack: booked with the best
courier (or the next when it is down), tracked by the courier's own webhooks to delivery, through
NDRs and re-attempts, or back to origin after three failed attempts; late and repeated webhooks
change nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pypdfium2
import pytest
from aiokafka import AIOKafkaProducer

from chassis.clock import IST, india_date, utcnow
from contracts import (
    Address,
    CancelReason,
    CustomerReplied,
    NotificationChannel,
    OrderCancelled,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ReplyChoice,
    ReturnStatus,
)
from contracts.examples import order_confirmed, return_requested
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.shipping.couriers import xpressbees
from services.shipping.domain import reverse_pickup_id, shipment_id_for
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import unique, url

pytestmark = pytest.mark.e2e

UPDATED = "shipping.shipment_updated.v1"
PREPAID = Payment(
    method=PaymentMethod.UPI, status=PaymentStatus.CAPTURED, gateway="razorpay", gateway_payment_id="pay_1",
    amount_paise=69800,
)  # fmt: skip
LONG_AGO = datetime(2001, 1, 1, tzinfo=UTC)  # a dispatch-by before any other parcel's
SRINAGAR = Address(line1="Residency Road", city="Srinagar", state="Jammu and Kashmir", pincode="190001")


async def sandbox(path: str, body: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(url("sandbox", path), json=body)
        r.raise_for_status()
        return r.json()


async def ship(
    producer: AIOKafkaProducer,
    tap: Tap,
    *,
    fail_attempts: int = 0,
    auto_reattempt_ms: int | None = None,
    road: bool = True,
    sku: str = "TEA-ASSAM-250",
    to: Address | None = None,
    prepaid: bool = False,
    priority: int = 0,
    dispatch_by: datetime | None = None,
) -> dict[str, Any]:
    """Script the parcel's road (or keep it at the warehouse), confirm an order of two units from
    Gurugram to Jaipur, wait for its AWB."""
    order_id = unique("ORD")
    shipment_id = shipment_id_for(order_id, "GGN1")
    await sandbox(
        "/_sandbox/couriers/simulation", {"step_delay_ms": 300, "auto_reattempt_ms": auto_reattempt_ms}
    )
    if road:
        await sandbox(
            "/_sandbox/couriers/scripts",
            {"reference": shipment_id, "fail_attempts": fail_attempts, "ndr_reason": "customer_unavailable"},
        )
    template = order_confirmed()
    order = template.model_copy(
        update={
            "order_id": order_id,
            "lines": [line.model_copy(update={"sku": sku}) for line in template.lines],
            "shipping_address": to or template.shipping_address,
            "payment": PREPAID if prepaid else template.payment,
            "priority": priority,
            "promised_dispatch_by": dispatch_by or template.promised_dispatch_by,
            "allocations": [
                a.model_copy(update={"warehouse_code": "GGN1", "sku": sku}) for a in template.allocations
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
    assert body["allocation"]["zone"] == "B", "Gurugram to Jaipur is regional (both North)"
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
            json={"action": "reattempt", "reattempt_on": str(india_date(utcnow()) + timedelta(days=1))},
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
    assert (action["action"], action["actor"], action["state"]) == ("reattempt", "ops:ops", "sent")


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
            headers={"X-Xb-Signature": xpressbees.sign("dev-xpressbees-webhook-secret-local", late_body)},
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


def render(pdf: bytes, name: str) -> tuple[float, float]:
    """Render the first page to PNG (kept under /tmp for a person to look at); its size in points."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    page.render(scale=2).to_pil().save(f"/tmp/dabba-{name}.png")
    return page.get_size()


async def test_a_wrong_item_at_the_pack_station_blocks_packing_and_is_counted(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    barcode = "890" + unique("")[1:11]
    # Most urgent of all (due first, then highest priority), so the pick list takes it even when
    # other parcels wait at GGN1, e.g. a bench run's thousands on the same local database.
    created = await ship(producer, tap, road=False, sku=sku, priority=1_000_000_000, dispatch_by=LONG_AGO)
    sid = created["shipment_id"]
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("warehouse")) as http:
        sized = await http.put(
            url("shipping", f"/skus/{sku}/dimensions"),
            json={"weight_grams": 250, "length_cm": 12, "breadth_cm": 8, "height_cm": 5, "barcode": barcode},
        )
        assert sized.status_code == 200, sized.text
        before = (await http.get(url("shipping", "/pack-stats"), params={"warehouse_code": "GGN1"})).json()
        picked = (await http.post(url("shipping", "/pick-lists"), json={"warehouse_code": "GGN1"})).json()
        scan_url = url("shipping", f"/shipments/{sid}/pack-scans")

        first = await http.post(scan_url, json={"barcode": barcode})
        wrong = await http.post(scan_url, json={"barcode": "MUG-STEEL"})
        early = await http.post(url("shipping", f"/shipments/{sid}/pack"), json={"weight_grams": 600})
        second = await http.post(scan_url, json={"barcode": barcode})
        extra = await http.post(scan_url, json={"barcode": barcode})
        packed = await http.post(url("shipping", f"/shipments/{sid}/pack"), json={"weight_grams": 640})
        after = (await http.get(url("shipping", "/pack-stats"), params={"warehouse_code": "GGN1"})).json()
        label = await http.get(url("shipping", f"/shipments/{sid}/label.pdf"))
        manifest = await http.post(
            url("shipping", "/manifests"),
            json={
                "warehouse_code": "GGN1",
                "courier": created["courier"],
                "pickup_date": india_date(utcnow()).isoformat(),
            },
        )
        sheet = await http.get(url("shipping", manifest.json()["pdf"]))

    assert any(sid in batch["shipment_ids"] for batch in picked["batches"])
    assert first.json()["missing"] == {sku: 1}
    assert wrong.status_code == 409
    assert wrong.json()["problems"] == [
        {"field": "barcode", "problem": "MUG-STEEL is not in this shipment: take it out"}
    ]
    assert early.status_code == 409
    assert early.json()["problems"] == [{"field": f"lines.{sku}", "problem": "1 unit(s) not scanned yet"}]
    assert second.json()["missing"] == {}
    assert extra.status_code == 409 and extra.json()["error"] == "extra_item"
    assert packed.status_code == 200, packed.text
    assert after["wrong_items"] == before["wrong_items"] + 1
    assert after["extra_items"] == before["extra_items"] + 1
    assert after["shipments_with_errors"] == before["shipments_with_errors"] + 1
    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="MANIFESTED"))
    assert statuses(tap, sid) == ["PICKED", "PACKED", "MANIFESTED"]
    body = await shipment(sid)
    assert (body["package_grams"], body["packed_by"]) == (640, "warehouse:warehouse")

    assert label.headers["content-type"] == "application/pdf"
    assert render(label.content, "label") == (288.0, 432.0)  # 4 x 6 inches
    assert manifest.status_code == 201 and sid in manifest.json()["shipment_ids"]
    assert manifest.json()["pickup_ref"] == "auto-pickup"  # Xpressbees collects what it booked
    assert render(sheet.content, "manifest")[0] > 800  # A4 landscape


async def test_an_approved_return_is_picked_up_from_the_customer_and_brought_back(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    delivered = await ship(producer, tap)
    await tap.wait_for(UPDATED, body_has(shipment_id=delivered["shipment_id"], status="DELIVERED"))
    return_id = unique("RMA")
    pickup_id = reverse_pickup_id(return_id)
    await sandbox("/_sandbox/couriers/scripts", {"reference": pickup_id})
    request = return_requested().model_copy(
        update={
            "order_id": delivered["order_id"],
            "return_id": return_id,
            "status": ReturnStatus.APPROVED,
            "pickup_address": None,  # picked up where the parcel was delivered
            "warehouse_code": "GGN1",
        }
    )

    await publish_event(producer, request)
    await publish_event(producer, request)  # redelivered: still one pickup

    [created] = await tap.wait_for("shipping.shipment_created.v1", body_has(return_id=return_id))
    pickup = json.loads(created.value)
    assert (pickup["shipment_id"], pickup["status"], pickup["cod_amount_paise"]) == (
        pickup_id,
        "AWB_ASSIGNED",
        0,
    )
    [back] = await tap.wait_for(UPDATED, body_has(shipment_id=pickup_id, status="DELIVERED"))
    assert json.loads(back.value)["return_id"] == return_id
    body = await shipment(pickup_id)
    assert body["consignee"]["address"]["pincode"] == "302001"
    assert body["allocation"]["ranked"][0]["courier"] == pickup["courier"]
    assert len(tap.find("shipping.shipment_created.v1", body_has(return_id=return_id))) == 1


async def test_a_repeated_ndr_push_without_an_attempt_number_counts_one_attempt(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    # Only Delhivery serves Srinagar, and its pushes carry no attempt number: we count attempts.
    created = await ship(producer, tap, fail_attempts=1, to=SRINAGAR, prepaid=True)
    sid, awb = created["shipment_id"], created["awb"]
    assert created["courier"] == "delhivery"
    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="NDR"))

    again = await sandbox(f"/_sandbox/couriers/delhivery/parcels/{awb}/replay", {"index": -1})

    assert again["status_code"] == 200
    body = await shipment(sid)
    assert (body["status"], body["ndr_attempts"]) == ("NDR", 1)
    assert [t["courier_code"] for t in body["tracking"]].count("EOD-11") == 1
    assert statuses(tap, sid).count("NDR") == 1


async def test_a_cancelled_order_cancels_its_parcel_at_the_courier_before_pickup(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    created = await ship(producer, tap, road=False)
    sid = created["shipment_id"]
    template = order_confirmed()

    await publish_event(
        producer,
        OrderCancelled(
            order_id=created["order_id"],
            channel=template.channel,
            channel_order_id=template.channel_order_id,
            reason_code=CancelReason.CUSTOMER_REQUEST,
        ),
    )

    await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="CANCELLED"))
    async with httpx.AsyncClient(timeout=10) as http:
        parcels = (
            await http.get(url("sandbox", "/_sandbox/couriers/parcels"), params={"reference": sid})
        ).json()
    assert [p["cancelled"] for p in parcels] == [True]


async def test_when_every_courier_is_down_the_parcel_waits_and_is_booked_when_one_is_back(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    for provider in ("xpressbees", "shiprocket", "courier"):
        await sandbox("/_sandbox/faults", {"provider": provider, "status_code": 503, "fail_next": 50})
    try:
        created = await ship(producer, tap, road=False)
    finally:
        for provider in ("xpressbees", "shiprocket", "courier"):
            await sandbox("/_sandbox/faults", {"provider": provider, "fail_next": 0})
    sid = created["shipment_id"]
    assert (created["status"], created["awb"]) == ("CREATED", None)
    assert (await shipment(sid))["booking_error"].startswith("every courier failed")

    async with httpx.AsyncClient(timeout=30, headers=dev_headers("ops")) as http:
        booked = await http.post(url("shipping", f"/shipments/{sid}/book"))
        again = await http.post(url("shipping", f"/shipments/{sid}/book"))

    assert booked.status_code == 200, booked.text
    assert booked.json()["courier"] == "xpressbees"
    assert again.status_code == 409
    [update] = await tap.wait_for(UPDATED, body_has(shipment_id=sid, status="AWB_ASSIGNED"))
    assert json.loads(update.value)["awb"] == booked.json()["awb"]


async def test_the_pick_list_preview_puts_an_overdue_standard_parcel_first_and_changes_nothing(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    # An overdue standard order (due long ago, low priority) and a fresh express one (due in three
    # days, high priority), both waiting at GGN1.
    overdue = await ship(producer, tap, road=False, sku=unique("TEA"), priority=10, dispatch_by=LONG_AGO)
    fresh = await ship(
        producer, tap, road=False, sku=unique("TEA"), priority=110, dispatch_by=utcnow() + timedelta(days=3)
    )
    old_id, new_id = overdue["shipment_id"], fresh["shipment_id"]
    params = {"warehouse_code": "GGN1", "limit": 1000}
    async with httpx.AsyncClient(timeout=30, headers=dev_headers("viewer")) as http:
        first = await http.get(url("shipping", "/pick-lists"), params=params)
        second = await http.get(url("shipping", "/pick-lists"), params=params)
        late = await http.get(url("shipping", "/late-to-dispatch"), params={"warehouse_code": "GGN1"})
        refused = await http.post(url("shipping", "/pick-lists"), json={"warehouse_code": "GGN1"})

    assert first.status_code == 200, first.text
    listed = [sid for batch in first.json()["batches"] for sid in batch["shipment_ids"]]
    assert old_id in listed and new_id in listed
    # in one courier's batch the overdue parcel comes first; across couriers its batch does
    assert listed.index(old_id) < listed.index(new_id)
    assert old_id in first.json()["late_shipment_ids"]
    assert new_id not in first.json()["late_shipment_ids"]
    assert second.json()["batches"] == first.json()["batches"], "a preview takes nothing off the list"
    for sid in (old_id, new_id):
        assert (await shipment(sid))["status"] == "AWB_ASSIGNED"
        assert "PICKED" not in statuses(tap, sid)
    assert datetime.fromisoformat((await shipment(old_id))["dispatch_by"]) == LONG_AGO
    assert late.status_code == 200, late.text
    [ggn1] = late.json()["warehouses"]
    assert ggn1["warehouse_code"] == "GGN1" and ggn1["late"] >= 1 and late.json()["late"] == ggn1["late"]
    assert datetime.fromisoformat(ggn1["oldest_dispatch_by"]) <= LONG_AGO
    assert refused.status_code == 403, "a viewer may look at the pick list but not take it"


async def test_a_courier_at_its_pickup_capacity_is_skipped_for_the_next_ranked_one(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    # A day of its own far ahead, so no other test's parcels count against this capacity.
    day = date(2040, 1, 1) + timedelta(days=int(unique("")[-6:], 16) % 3000)
    due = datetime.combine(day, time(23, 59, 59), IST)
    async with httpx.AsyncClient(timeout=30, headers=dev_headers("ops")) as http:
        confirmed = await http.put(
            url("shipping", "/pickup-capacity"),
            json={"courier": "xpressbees", "warehouse_code": "GGN1", "pickup_date": day.isoformat(),
                  "parcels": 1, "confirmation_ref": "XB-PEAK-1"},
        )  # fmt: skip
        unknown = await http.put(
            url("shipping", "/pickup-capacity"),
            json={
                "courier": "bluedart",
                "warehouse_code": "GGN1",
                "pickup_date": day.isoformat(),
                "parcels": 5,
            },
        )
        negative = await http.put(
            url("shipping", "/pickup-capacity"),
            json={
                "courier": "xpressbees",
                "warehouse_code": "GGN1",
                "pickup_date": day.isoformat(),
                "parcels": -1,
            },
        )
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["capacity"], confirmed.json()["booked"]) == (1, 0)
    assert unknown.status_code == 422
    assert unknown.json()["problems"][0]["field"] == "courier"
    assert "bluedart is not one of this seller's couriers" in unknown.json()["problems"][0]["problem"]
    assert negative.status_code == 422
    assert "parcels" in negative.text

    first = await ship(producer, tap, road=False, sku=unique("TEA"), dispatch_by=due)
    second = await ship(producer, tap, road=False, sku=unique("TEA"), dispatch_by=due)

    assert first["courier"] == "xpressbees", "the cheapest from Gurugram to Jaipur takes the one place"
    assert second["courier"] == "shiprocket", "the next-ranked courier takes the parcel"
    assert second["awb"]
    body = await shipment(second["shipment_id"])
    assert body["allocation"]["excluded"]["xpressbees"] == (
        f"pickup capacity full on {day.isoformat()}: 1 of 1 parcels booked"
    )
    assert body["allocation"]["ranked"][0]["courier"] == "shiprocket"
    assert body["pickup_date"] == day.isoformat()
    async with httpx.AsyncClient(timeout=30, headers=dev_headers("viewer")) as http:
        report = await http.get(
            url("shipping", "/pickup-capacity"),
            params={"pickup_date": day.isoformat(), "warehouse_code": "GGN1"},
        )
    assert report.status_code == 200, report.text
    by_courier = {p["courier"]: p for p in report.json()["pickups"]}
    assert by_courier["xpressbees"] == {
        "courier": "xpressbees", "warehouse_code": "GGN1", "booked": 1, "capacity": 1, "left": 0,
        "over": False, "confirmation_ref": "XB-PEAK-1",
    }  # fmt: skip
    assert (by_courier["shiprocket"]["booked"], by_courier["shiprocket"]["capacity"]) == (1, None)
