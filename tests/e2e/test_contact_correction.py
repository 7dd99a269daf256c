"""An operator corrects a confirmed order's address after a call with the customer, through the real
stack: orders validates it and tells shipping; the courier then holds the new address under the same
AWB (same pincode) or a new AWB replaces a cancelled one (new pincode), and the label follows. Once
the courier has the parcel orders refuses, and a redelivered correction changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pypdfium2
import pytest
from aiokafka import AIOKafkaProducer

from contracts import OrderContactCorrected
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, ce_id, publish_event
from tests.e2e.orders.support import call, detail, place, stocked_sku, wait_status
from tests.helpers import db_fetch, url, wait_applied

pytestmark = pytest.mark.e2e

CORRECTED = "orders.contact_corrected.v1"
CREATED = "shipping.shipment_created.v1"
UPDATED = "shipping.shipment_updated.v1"


def address(line1: str, city: str, state: str, pincode: str, landmark: str | None = None) -> dict[str, Any]:
    return {
        "line1": line1,
        "line2": None,
        "landmark": landmark,
        "city": city,
        "state": state,
        "pincode": pincode,
    }


DEHRADUN = address("7 Rajpur Road", "Dehradun", "Uttarakhand", "248001")
MUMBAI = address("21 Marine Drive", "Mumbai", "Maharashtra", "400001")
PUNE = address("5 FC Road", "Pune", "Maharashtra", "411001")


async def booked(producer: AIOKafkaProducer, tap: Tap, to: dict[str, Any]) -> dict[str, Any]:
    """A prepaid order from Gurugram to ``to``, confirmed and booked with a courier; its shipment."""
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku, shipping_address=to)
    await wait_status(order_id, "CONFIRMED")
    [created] = await tap.wait_for(CREATED, body_has(order_id=order_id), timeout=90)
    shipment = json.loads(created.value)
    assert shipment["status"] == "AWB_ASSIGNED", shipment
    return dict(shipment)


async def correct(order_id: str, body: dict[str, Any]) -> httpx.Response:
    return await call("PATCH", f"/orders/{order_id}/contact", json=body)


async def corrected_and_applied(tap: Tap, order_id: str) -> Any:
    """The correction orders published, once shipping has applied it."""
    [record] = await tap.wait_for(CORRECTED, body_has(order_id=order_id), timeout=60)
    await wait_applied("shipping", ce_id(record), timeout=60)
    return record


async def shipment(shipment_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url("shipping", f"/shipments/{shipment_id}"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def courier_holds(courier: str, awb: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url("sandbox", f"/_sandbox/couriers/{courier}/parcels/{awb}/consignee"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def label_text(shipment_id: str) -> str:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("warehouse")) as http:
        r = await http.get(url("shipping", f"/shipments/{shipment_id}/label.pdf"))
    assert r.status_code == 200, r.text
    return str(pypdfium2.PdfDocument(r.content)[0].get_textpage().get_text_range())


async def drive(shipment_id: str) -> None:
    """Let the simulated courier pick the parcel up and deliver it (a few hundred ms per step)."""
    async with httpx.AsyncClient(timeout=10) as http:
        for path, body in (
            ("/_sandbox/couriers/simulation", {"step_delay_ms": 300}),
            ("/_sandbox/couriers/scripts", {"reference": shipment_id, "fail_attempts": 0}),
        ):
            (await http.post(url("sandbox", path), json=body)).raise_for_status()


async def test_a_corrected_street_on_the_same_pincode_reaches_the_courier_under_the_same_awb(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    before = await booked(producer, tap, DEHRADUN)
    order_id, sid, awb = before["order_id"], before["shipment_id"], before["awb"]
    assert before["courier"] in ("delhivery", "shiprocket"), "both have an edit API for Dehradun"
    fixed = address(
        "9 Rajpur Road, flat 2B", "Dehradun", "Uttarakhand", "248001", landmark="Near Clock Tower"
    )

    r = await correct(order_id, {"phone": "98123 40000", "shipping_address": fixed})

    assert r.status_code == 200, r.text
    assert r.json()["status"] == "CONFIRMED"
    event = json.loads((await corrected_and_applied(tap, order_id)).value)
    assert event["shipping_address"] == fixed
    assert (event["customer"]["phone"], event["corrected_by"]) == ("+919812340000", "ops:ops")
    held = await courier_holds(before["courier"], awb)
    assert "9 Rajpur Road, flat 2B" in held["address"] and "Near Clock Tower" in held["address"]
    assert (held["phone"], held["pincode"], held["cancelled"], held["edits"]) == (
        "9812340000",
        "248001",
        False,
        1,
    )
    after = await shipment(sid)
    assert (after["awb"], after["status"]) == (awb, "AWB_ASSIGNED")
    assert after["consignee"]["address"] == fixed
    assert "dabba:consignee_updated" in [t["courier_code"] for t in after["tracking"]]
    text = await label_text(sid)
    assert "9 Rajpur Road, flat 2B" in text and "9812340000" in text
    assert "7 Rajpur Road" not in text
    note = (await detail(order_id))["timeline"][-1]
    assert (note["reason"], note["actor"]) == ("phone and address corrected", "ops:ops")

    await drive(sid)
    [delivered] = await tap.wait_for(
        "orders.status_changed.v1", body_has(order_id=order_id, to_status="DELIVERED"), timeout=120
    )
    assert json.loads(delivered.value)["customer"]["phone"] == "+919812340000", "later events carry it"


async def test_a_corrected_pincode_cancels_the_awb_and_books_a_new_one(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    before = await booked(producer, tap, MUMBAI)
    order_id, sid, old_awb, old_courier = (before[k] for k in ("order_id", "shipment_id", "awb", "courier"))

    r = await correct(order_id, {"shipping_address": PUNE})

    assert r.status_code == 200, r.text
    await corrected_and_applied(tap, order_id)
    after = await shipment(sid)
    assert after["awb"] != old_awb and after["status"] == "AWB_ASSIGNED"
    assert after["consignee"]["address"]["pincode"] == "411001"
    assert (await courier_holds(old_courier, old_awb))["cancelled"] is True
    new = await courier_holds(after["courier"], after["awb"])
    assert (new["pincode"], new["cancelled"], new["reference"]) == ("411001", False, f"{sid}-2")
    [announced] = await tap.wait_for(UPDATED, body_has(shipment_id=sid, awb=after["awb"]))
    assert json.loads(announced.value)["status"] == "AWB_ASSIGNED"
    text = await label_text(sid)
    assert after["awb"] in text and "PIN 411001" in text and "PIN 400001" not in text
    found = (await call("GET", "/orders", role="viewer", params={"q": after["awb"]})).json()["items"]
    assert [o["order_id"] for o in found] == [order_id], "orders learned the new AWB"


async def test_once_the_courier_has_the_parcel_orders_refuses_and_shipping_only_notes_it(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    before = await booked(producer, tap, DEHRADUN)
    order_id, sid = before["order_id"], before["shipment_id"]
    await drive(sid)
    await wait_status(order_id, "DELIVERED", timeout=120)

    r = await correct(order_id, {"shipping_address": PUNE | {"pincode": "411004"}})

    assert r.status_code == 409, r.text
    assert r.json()["problems"] == [
        {
            "field": "status",
            "problem": "a DELIVERED order cannot be corrected: a parcel is already with the courier "
            "(ask the courier through an NDR action instead)",
        }
    ]
    assert (await detail(order_id))["shipping_address"] == DEHRADUN
    assert tap.find(CORRECTED, body_has(order_id=order_id)) == []

    # A correction that crossed the pickup on its way to shipping is recorded there and changes nothing.
    late = OrderContactCorrected.model_validate(
        {
            **(await detail(order_id)),
            "shipping_address": PUNE,
            "corrected_by": "ops:late",
        }
    )
    envelope = await publish_event(producer, late)
    await wait_applied("shipping", envelope.id)
    after = await shipment(sid)
    assert (after["awb"], after["status"]) == (before["awb"], "DELIVERED")
    assert after["consignee"]["address"] == DEHRADUN
    [noted] = [t for t in after["tracking"] if t["courier_code"] == "dabba:correction_too_late"]
    assert "ops:late" in noted["remark"] and noted["applied"] is False


async def test_a_redelivered_correction_changes_nothing_the_second_time(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    before = await booked(producer, tap, MUMBAI)
    order_id, sid = before["order_id"], before["shipment_id"]
    assert (await correct(order_id, {"shipping_address": PUNE})).status_code == 200
    first = await corrected_and_applied(tap, order_id)
    once = await shipment(sid)
    assert once["awb"] != before["awb"]

    # The same record again (a consumer crash before the offset commit), then the same correction
    # under a new event id on the same partition (an operator pressing save twice): the second is
    # applied after the first, so once it is applied both have been seen.
    await producer.send_and_wait(
        CORRECTED, first.value, key=first.key, headers=list(first.headers), partition=first.partition
    )
    again = await publish_event(producer, OrderContactCorrected.model_validate_json(first.value))
    await wait_applied("shipping", again.id)

    twice = await shipment(sid)
    assert (twice["awb"], twice["courier"], twice["consignee"]) == (
        once["awb"],
        once["courier"],
        once["consignee"],
    )
    assert len(tap.find(UPDATED, body_has(shipment_id=sid, awb=once["awb"]))) == 1
    assert len([t for t in twice["tracking"] if t["courier_code"] == "dabba:rebooked_for_correction"]) == 1
    assert (await courier_holds(once["courier"], once["awb"]))["edits"] == 0
    references = await db_fetch("shipping", "SELECT replaced_awbs FROM shipments WHERE shipment_id = $1", sid)
    assert json.loads(references[0]["replaced_awbs"]) == [before["awb"]]
