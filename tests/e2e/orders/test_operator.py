"""Operators over HTTP on the real stack: enter orders, cancel, hold and release, correct a phone or
address, fix a refused order, block a phone; every action names who did it."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has
from tests.e2e.orders.support import (
    COD,
    UNPAID_UPI,
    available,
    call,
    detail,
    place,
    stocked_sku,
    wait_available,
    wait_status,
)
from tests.helpers import (
    channel_order,
    db_fetch,
    encode,
    seed_stock,
    unique,
    url,
    wait_until,
)

pytestmark = pytest.mark.e2e


def staff_order(sku: str, **overrides: Any) -> dict[str, Any]:
    """A phone order: over HTTP a payment is pending until its gateway says otherwise (ADR 0067)."""
    overrides.setdefault("customer", {"name": "Asha Verma", "phone": "98123 45678"})
    overrides.setdefault("payment", COD)
    return channel_order(unique("WA"), sku, channel="whatsapp", **overrides)


def a_phone() -> str:
    return f"+9198{random.randrange(10**7, 10**8)}"


async def test_cancelling_an_order_over_http_makes_its_stock_available_again(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap, units=5)
    order_id = await place(producer, tap, sku)
    await wait_status(order_id, "CONFIRMED")
    assert await available(sku) == 3

    r = await call(
        "POST", f"/orders/{order_id}/cancel", json={"reason_code": "customer_request", "note": "called"}
    )

    assert r.status_code == 200, r.text
    assert r.json() == {"order_id": order_id, "status": "CANCELLED", "actor": "ops:ops"}
    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id))
    assert json.loads(cancelled.value)["reason_code"] == "customer_request"
    await wait_available(sku, 5)
    last = (await detail(order_id))["timeline"][-1]
    assert (last["to_status"], last["actor"], last["cause"]) == (
        "CANCELLED",
        "ops:ops",
        "POST /orders/{order_id}/cancel",
    )
    again = await call("POST", f"/orders/{order_id}/cancel")
    assert again.status_code == 409
    assert again.json()["problems"][0]["field"] == "status"


async def test_an_order_that_left_the_warehouse_cannot_be_cancelled_or_held(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku)
    await wait_status(order_id, "CONFIRMED")
    await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id))
    await _ship(producer, order_id, "PICKED_UP")
    await wait_status(order_id, "SHIPPED")

    r = await call("POST", f"/orders/{order_id}/cancel", json={})
    assert r.status_code == 409
    assert r.json()["problems"] == [
        {
            "field": "status",
            "problem": "a SHIPPED order can no longer be cancelled (it has left the warehouse)",
        }
    ]
    assert (await call("POST", f"/orders/{order_id}/hold", json={"reason": "x"})).status_code == 409
    assert (await detail(order_id))["status"] == "SHIPPED"


async def _ship(producer: AIOKafkaProducer, order_id: str, status: str, **extra: Any) -> None:
    from contracts import ShipmentStatus, ShipmentUpdated
    from tests.conftest import publish_event

    [shipment] = await db_fetch(
        "shipping", "SELECT shipment_id, warehouse_code FROM shipments WHERE order_id = $1", order_id
    )
    await publish_event(
        producer,
        ShipmentUpdated(
            order_id=order_id,
            shipment_id=shipment["shipment_id"],
            warehouse_code=shipment["warehouse_code"],
            courier="delhivery",
            status=ShipmentStatus(status),
            **extra,
        ),
    )


async def test_a_held_order_waits_and_is_released_to_where_it_was_going(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku, payment=UNPAID_UPI)
    await wait_status(order_id, "PENDING_PAYMENT")

    r = await call("POST", f"/orders/{order_id}/hold", json={"reason": "address looks fake"}, role="admin")
    assert r.status_code == 200 and r.json()["status"] == "ON_HOLD" and r.json()["actor"] == "admin:admin"
    assert (await call("POST", f"/orders/{order_id}/hold", json={"reason": "again"})).status_code == 409

    r = await call("POST", f"/orders/{order_id}/release")
    assert r.json()["status"] == "PENDING_PAYMENT"
    reasons = [t["reason"] for t in (await detail(order_id))["timeline"]]
    assert "held: address looks fake" in reasons
    assert (await call("POST", f"/orders/{order_id}/release")).status_code == 409


async def test_a_viewer_may_look_but_not_act_and_a_missing_order_is_404(stack: Stack) -> None:
    r = await call("POST", "/orders/ORD-NOPE/cancel", role="viewer")
    assert r.status_code == 403
    r = await call("POST", "/orders/ORD-NOPE/cancel", role="ops")
    assert r.status_code == 404
    assert r.json()["problems"] == [{"field": "order_id", "problem": "no order ORD-NOPE"}]
    assert (await call("GET", "/orders/ORD-NOPE", role="viewer")).status_code == 404


async def test_staff_enter_an_order_by_hand_and_the_phone_is_stored_in_e164(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    body = staff_order(sku)

    r = await call("POST", "/orders", json=body)

    assert r.status_code == 201, r.text
    order_id = r.json()["order_id"]
    order = await wait_status(order_id, "PENDING_COD_CONFIRMATION")
    assert order["customer"]["phone"] == "+919812345678"
    assert order["entered_by"] == "ops:ops"
    assert order["timeline"][0]["actor"] == "ops:ops"

    again = await call("POST", "/orders", json=body, role="admin")
    assert again.status_code == 409
    assert order_id in again.json()["problems"][0]["problem"]
    # The development channel key is named after its role, not a channel: it enters no orders.
    assert (await call("POST", "/orders", json=body, role="channel")).status_code == 403


async def test_a_bad_staff_order_is_refused_with_every_problem_and_nothing_is_written(stack: Stack) -> None:
    body = staff_order(
        "TEA-ASSAM-250",
        shipping_address={"line1": "1 Park St", "city": "Kolkata", "state": "Rajasthan", "pincode": "700016"},
        customer={"name": "Ravi", "phone": "12345"},
        total_paise=1,
    )
    r = await call("POST", "/orders", json=body)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {
        "shipping_address.state",
        "customer.phone",
        "total_paise",
        "payment.amount_paise",
    }
    r = await call("POST", "/orders", json={**body, "lines": [{"sku": "", "quantity": 0}], "surprise": 1})
    assert r.status_code == 422
    assert {"lines.0.sku", "lines.0.quantity", "lines.0.unit_price_paise", "surprise"} <= {
        p["field"] for p in r.json()["problems"]
    }
    assert (
        await db_fetch("orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", body["channel_order_id"])
        == []
    )


async def test_the_same_staff_order_posted_five_times_at_once_makes_one_order(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    body = staff_order(sku)
    answers = await asyncio.gather(*(call("POST", "/orders", json=body) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    rows = await db_fetch(
        "orders", "SELECT order_id FROM orders WHERE channel_order_id = $1", body["channel_order_id"]
    )
    assert len(rows) == 1


async def test_a_phone_and_address_corrected_before_shipping_are_validated_again(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    order_id = await place(producer, tap, sku, payment=UNPAID_UPI)
    await wait_status(order_id, "PENDING_PAYMENT")

    bad = {
        "phone": "555",
        "shipping_address": {"line1": "x", "city": "Pune", "state": "Kerala", "pincode": "411001"},
    }
    r = await call("PATCH", f"/orders/{order_id}/contact", json=bad)
    assert r.status_code == 422
    assert {p["field"] for p in r.json()["problems"]} == {"phone", "shipping_address.state"}
    assert (await detail(order_id))["shipping_address"]["city"] == "Jaipur"

    good = {
        "phone": "098123 45679",
        "shipping_address": {
            "line1": "5 FC Road",
            "city": "Pune",
            "state": "Maharashtra",
            "pincode": "411004",
        },
    }
    r = await call("PATCH", f"/orders/{order_id}/contact", json=good)
    assert r.status_code == 200, r.text
    order = await detail(order_id)
    assert order["customer"]["phone"] == "+919812345679"
    assert order["shipping_address"]["pincode"] == "411004"
    assert order["timeline"][-1]["reason"] == "phone and address corrected"


async def test_a_refused_channel_order_is_fixed_by_an_operator_and_placed(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    channel_order_id = unique("SHP-FIX")
    bad = channel_order(channel_order_id, sku, customer={"name": "Asha", "phone": "12345"})
    await producer.send_and_wait("channel.orders.v1", encode(bad), key=f"shopify:{channel_order_id}".encode())
    [rejected] = await tap.wait_for("orders.rejected.v1", body_has(channel_order_id=channel_order_id))
    order_id = json.loads(rejected.value)["order_id"]

    still_bad = {k: v for k, v in bad.items() if k not in ("channel", "channel_order_id")}
    r = await call("POST", f"/orders/{order_id}/resubmit", json=still_bad)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "customer.phone"
    assert (await detail(order_id))["status"] == "REJECTED"

    fixed = {**still_bad, "customer": {"name": "Asha", "phone": "+919812345678"}}
    paid = {"status": "captured", "gateway": "razorpay", "gateway_payment_id": "pay_TypedByHand01"}
    typed = {**fixed, "payment": {**fixed["payment"], **paid}}
    r = await call("POST", f"/orders/{order_id}/resubmit", json=typed)
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "payment.status", r.text
    r = await call("POST", f"/orders/{order_id}/resubmit", json=fixed)
    assert r.status_code == 200, r.text
    await tap.wait_for("orders.placed.v1", body_has(order_id=order_id))
    order = await wait_status(order_id, "CONFIRMED")
    assert [t["to_status"] for t in order["timeline"]] == ["REJECTED", "PLACED", "CONFIRMED"]
    assert order["timeline"][1]["actor"] == "ops:ops"
    assert (await call("POST", f"/orders/{order_id}/resubmit", json=fixed)).status_code == 409


async def test_a_channel_that_resends_a_refused_order_corrected_gets_the_same_order_placed(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    channel_order_id = unique("SHP-RESEND")
    key = f"shopify:{channel_order_id}".encode()
    bad = channel_order(channel_order_id, sku, total_paise=1)
    await producer.send_and_wait("channel.orders.v1", encode(bad), key=key)
    [rejected] = await tap.wait_for("orders.rejected.v1", body_has(channel_order_id=channel_order_id))
    order_id = json.loads(rejected.value)["order_id"]

    await producer.send_and_wait("channel.orders.v1", encode(channel_order(channel_order_id, sku)), key=key)

    [placed] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    assert json.loads(placed.value)["order_id"] == order_id
    order = await wait_status(order_id, "CONFIRMED")
    assert order["timeline"][1]["reason"] == "corrected and submitted again by shopify"
    rows = await db_fetch("orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", channel_order_id)
    assert len(rows) == 1


async def test_an_order_from_a_blocked_phone_waits_for_review_with_the_reason(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    phone = a_phone()
    r = await call("PUT", f"/risk/blocklist/phone/{phone}", json={"reason": "refused 3 COD parcels"})
    assert r.status_code == 200, r.text

    order_id = await place(producer, tap, sku, customer={"name": "Risky", "phone": phone})
    order = await wait_status(order_id, "ON_HOLD")
    assert order["timeline"][-1]["reason"] == "review: phone is blocked: refused 3 COD parcels"
    assert order["risk_reasons"] == ["phone is blocked: refused 3 COD parcels"]
    assert tap.find("orders.confirmed.v1", body_has(order_id=order_id)) == []

    assert (await call("POST", f"/orders/{order_id}/release")).json()["status"] == "CONFIRMED"
    await tap.wait_for("orders.confirmed.v1", body_has(order_id=order_id))
    assert (await call("DELETE", f"/risk/blocklist/phone/{phone}")).status_code == 204
    assert (await call("DELETE", f"/risk/blocklist/phone/{phone}")).status_code == 404


async def test_an_order_nobody_has_stock_for_waits_on_hold_and_goes_on_by_itself_when_stock_arrives(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    """Routing keeps the order it found no stock for and plans it again when the SKU is announced
    with stock (ADR 0301): nobody has to release it, and an order placed a moment before routing
    heard of a receipt is not left on hold."""
    sku = unique("NO-STOCK")
    order_id = await place(producer, tap, sku)
    order = await wait_status(order_id, "ON_HOLD")
    assert order["timeline"][-1]["reason"].startswith("no stock to fulfil")
    assert order["unroutable"] is True

    await seed_stock(sku, {"GGN1": 4})
    order = await wait_status(order_id, "CONFIRMED")
    assert order["unroutable"] is False
    assert order["timeline"][-1]["reason"].startswith("its stock arrived")
    assert await available(sku) == 2


async def test_a_held_order_with_no_stock_released_by_an_operator_waits_again(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("NO-STOCK")
    order_id = await place(producer, tap, sku)
    await wait_status(order_id, "ON_HOLD")
    assert (await call("POST", f"/orders/{order_id}/release")).json()["status"] == "PLACED"
    order = await wait_status(order_id, "ON_HOLD")
    assert order["timeline"][-2]["reason"] == "released; waiting for stock"
    assert order["timeline"][-1]["reason"].startswith("no stock to fulfil")


async def test_a_cod_order_from_a_phone_whose_parcels_came_back_twice_waits_for_review(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    from contracts import CustomerReplied, NotificationChannel, ReplyChoice
    from tests.conftest import publish_event
    from tests.e2e.orders.support import COD

    sku = await stocked_sku(tap, units=10)
    customer = {"name": "Returns Often", "phone": a_phone()}
    for _ in range(2):
        order_id = await place(producer, tap, sku, payment=COD, customer=customer)
        await wait_status(order_id, "PENDING_COD_CONFIRMATION")
        await publish_event(
            producer,
            CustomerReplied(
                order_id=order_id,
                channel=NotificationChannel.WHATSAPP,
                choice=ReplyChoice.COD_CONFIRM,
                provider_message_id=unique("wamid"),
            ),
        )
        await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id))
        for status, expected in (("PICKED_UP", "SHIPPED"), ("RTO_INITIATED", "RTO_INITIATED")):
            await _ship(producer, order_id, status)
            await wait_status(order_id, expected)
        await _ship(producer, order_id, "RTO_DELIVERED")
        await wait_status(order_id, "RTO_DELIVERED")

    prepaid = await place(producer, tap, sku, customer=customer)
    await wait_status(prepaid, "CONFIRMED")
    third = await place(producer, tap, sku, payment=COD, customer=customer)
    order = await wait_status(third, "ON_HOLD")
    assert order["timeline"][-1]["reason"] == "review: phone had 2 past order(s) returned to origin"


async def test_the_same_order_from_the_channel_and_keyed_in_by_hand_at_once_makes_one_order(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = await stocked_sku(tap)
    body = channel_order(unique("AMZ"), sku, channel="amazon", payment=COD)
    key = f"amazon:{body['channel_order_id']}".encode()
    copies = [producer.send_and_wait("channel.orders.v1", encode(body), key=key) for _ in range(3)]
    answers = await asyncio.gather(*copies, *(call("POST", "/orders", json=body) for _ in range(3)))

    codes = sorted(a.status_code for a in answers[3:])
    assert codes in ([201, 409, 409], [409, 409, 409])
    [placed] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=body["channel_order_id"]))
    await wait_status(json.loads(placed.value)["order_id"], "PENDING_COD_CONFIRMATION")
    rows = await db_fetch(
        "orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", body["channel_order_id"]
    )
    assert len(rows) == 1
    assert len(tap.find("orders.placed.v1", body_has(channel_order_id=body["channel_order_id"]))) == 1


SERVICEABILITY_CSV = Path(__file__).parents[3] / "services" / "shipping" / "data" / "serviceability.csv"
JAIPUR = {"line1": "12 MI Road", "line2": None, "landmark": None, "city": "Jaipur", "state": "Rajasthan"}


async def xpressbees_also_serves(*pincodes: str, picks_up_at: tuple[str, ...] | None = None) -> None:
    """Load Xpressbees' serviceability as the repository has it plus these pincodes (the other
    couriers keep theirs), picking up where the repository says or only at ``picks_up_at``
    (ADR 0410), and wait until routing has taken this load."""
    header, *lines = SERVICEABILITY_CSV.read_text().splitlines()
    rows = [line.split(",") for line in lines if line.startswith("xpressbees,")]
    rows += [["xpressbees", pincode, "true", "true", "true", "true"] for pincode in pincodes]
    if picks_up_at is not None:
        rows = [[*row[:5], str(row[1] in picks_up_at).lower()] for row in rows]
    body = "\n".join([header, *(",".join(row) for row in rows)]) + "\n"
    headers = dev_headers("ops") | {"Content-Type": "text/csv"}
    async with httpx.AsyncClient(timeout=30, headers=headers) as http:
        r = await http.post(url("shipping", "/couriers/serviceability"), content=body)
    assert r.status_code == 200, r.text
    [loaded] = await db_fetch(
        "shipping", "SELECT max(loaded_at) AS at FROM serviceability WHERE courier = 'xpressbees'"
    )

    async def routing_has_it() -> bool | None:
        rows = await db_fetch(
            "routing",
            "SELECT 1 FROM couriers_heard WHERE courier = 'xpressbees' AND loaded_at = $1",
            loaded["at"],
        )
        return True if rows else None

    await wait_until(routing_has_it, what="routing to take Xpressbees' serviceability")


async def test_an_order_no_courier_carries_is_held_until_its_address_or_the_couriers_change(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    await xpressbees_also_serves()  # routing knows what couriers serve, as shipping loaded it
    sku = await stocked_sku(tap, units=4)
    corrected = await place(producer, tap, sku, shipping_address=JAIPUR | {"pincode": "302017"})
    served_later = await place(producer, tap, sku, shipping_address=JAIPUR | {"pincode": "302018"})
    for order_id, pincode in ((corrected, "302017"), (served_later, "302018")):
        order = await wait_status(order_id, "ON_HOLD")
        assert order["timeline"][-1]["reason"] == f"no courier: no courier delivers to pincode {pincode}"
        assert tap.find("orders.confirmed.v1", body_has(order_id=order_id)) == []

    r = await call(
        "PATCH", f"/orders/{corrected}/contact", json={"shipping_address": JAIPUR | {"pincode": "302001"}}
    )
    assert r.status_code == 200, r.text
    await wait_status(corrected, "CONFIRMED")

    await xpressbees_also_serves("302018")
    order = await wait_status(served_later, "CONFIRMED")
    assert order["timeline"][-1]["reason"].startswith("a courier serves it now")

    # ADR 0410: only Xpressbees delivers to 302019. While it picks up at no warehouse of ours the
    # order is held for a courier; once it picks up in Bengaluru, orders to 302019 ship from there,
    # though Gurugram, nearer and stocked, would otherwise be chosen.
    paired = unique("E2E-PAIR")
    await seed_stock(paired, {"GGN1": 4, "BLR1": 4})

    async def routing_knows_both() -> bool | None:
        rows = await db_fetch("routing", "SELECT 1 FROM stock_view WHERE sku = $1 AND available = 4", paired)
        return True if len(rows) == 2 else None

    await wait_until(routing_knows_both, what=f"routing to see {paired} in Gurugram and Bengaluru")
    try:
        await xpressbees_also_serves("302018", "302019", picks_up_at=("110001",))  # Delhi: no warehouse
        stranded = await place(producer, tap, paired, shipping_address=JAIPUR | {"pincode": "302019"})
        order = await wait_status(stranded, "ON_HOLD")
        assert order["timeline"][-1]["reason"].startswith(
            "no courier: no courier that delivers to pincode 302019 picks up at any warehouse"
        )

        await xpressbees_also_serves("302018", "302019", picks_up_at=("560058",))  # Bengaluru
        await wait_status(stranded, "CONFIRMED")
        via_bengaluru = await place(producer, tap, paired, shipping_address=JAIPUR | {"pincode": "302019"})
        await wait_status(via_bengaluru, "CONFIRMED")
        for order_id in (stranded, via_bengaluru):
            [reserved] = await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id))
            assert {a["warehouse_code"] for a in json.loads(reserved.value)["allocations"]} == {"BLR1"}
        [planned] = await tap.wait_for("routing.planned.v1", body_has(order_id=via_bengaluru))
        reasons = json.loads(planned.value)["plans"][0]["reasons"]
        assert "GGN1 excluded: no courier picks up at 122001 and delivers prepaid to 302019" in reasons
        [created] = await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=via_bengaluru))
        shipment = json.loads(created.value)
        assert (shipment["warehouse_code"], shipment["courier"], shipment["status"]) == (
            "BLR1",
            "xpressbees",
            "AWB_ASSIGNED",
        )
    finally:
        await xpressbees_also_serves("302018", "302019")  # picks up where the repository says again
