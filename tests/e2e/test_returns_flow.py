"""Returns through the real stack: a customer sends things back, the courier collects them, the
warehouse desk receives and checks them, stock comes back, and the money (or a replacement) goes out.

Orders and shipping are other teams' services: these tests publish their events (orders.placed,
orders.status_changed, shipping.shipment_*) exactly as they would. Razorpay is the sandbox.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import (
    Address,
    Channel,
    Customer,
    OrderLine,
    OrderPlaced,
    OrderStatus,
    OrderStatusChanged,
    Payment,
    PaymentMethod,
    PaymentStatus,
    ReturnExchangeRequested,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
    SkuQuantity,
)
from contracts._base import utcnow
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.conftest import Tap, body_has, publish_event
from tests.helpers import db_fetch, unique, url, wait_applied, wait_until

pytestmark = pytest.mark.e2e

PHONE = "+919812345678"


def client() -> httpx.AsyncClient:
    """An ops client that opens a connection per request: the tests wait longer between calls than
    uvicorn keeps an idle connection, and a reused one can be closed under the request."""
    return httpx.AsyncClient(
        timeout=15, headers=dev_headers("ops"), limits=httpx.Limits(max_keepalive_connections=0)
    )


async def delivered_order(
    producer: AIOKafkaProducer,
    *,
    lines: list[tuple[str, int, int]],
    method: PaymentMethod = PaymentMethod.UPI,
    shipping_fee_paise: int = 0,
    warehouse: str = "BOM1",
    deliver: bool = True,
) -> dict[str, Any]:
    """An order placed, shipped from one warehouse and delivered, as orders and shipping announce it."""
    order_id = unique("ORD-RET")
    order_lines = [OrderLine(sku=sku, quantity=q, unit_price_paise=p) for sku, q, p in lines]
    total = sum(line.quantity * line.unit_price_paise for line in order_lines) + shipping_fee_paise
    payment_id = f"pay_{order_id[-10:]}"
    prepaid = method is not PaymentMethod.COD
    placed = OrderPlaced(
        order_id=order_id,
        channel=Channel.SHOPIFY,
        channel_order_id=order_id,
        placed_at=utcnow(),
        customer=Customer(name="Asha Verma", phone=PHONE),
        shipping_address=Address(line1="12 MI Road", city="Jaipur", state="Rajasthan", pincode="302001"),
        lines=order_lines,
        shipping_fee_paise=shipping_fee_paise,
        total_paise=total,
        payment=Payment(
            method=method,
            status=PaymentStatus.CAPTURED if prepaid else PaymentStatus.PENDING,
            gateway="razorpay" if prepaid else None,
            gateway_payment_id=payment_id if prepaid else None,
            amount_paise=total,
        ),
    )
    shipment_id = unique("SHP")
    shipped = ShipmentCreated(
        order_id=order_id,
        shipment_id=shipment_id,
        warehouse_code=warehouse,
        courier="delhivery",
        awb=unique("AWB"),
        lines=[SkuQuantity(sku=sku, quantity=q) for sku, q, _ in lines],
    )
    applied = [
        await publish_event(producer, placed, source="orders"),
        await publish_event(producer, shipped, source="shipping"),
    ]
    if deliver:
        delivered = OrderStatusChanged(
            order_id=order_id,
            channel=Channel.SHOPIFY,
            channel_order_id=order_id,
            from_status=OrderStatus.OUT_FOR_DELIVERY,
            to_status=OrderStatus.DELIVERED,
            reason="courier delivered",
        )
        applied.append(await publish_event(producer, delivered, source="orders"))
    for envelope in applied:
        await wait_applied("returns", envelope.id)
    if prepaid:
        async with client() as http:
            r = await http.post(
                url("sandbox", "/_sandbox/razorpay/payments"),
                json={"payment_id": payment_id, "amount": total},
            )
            r.raise_for_status()
    return {"order_id": order_id, "payment_id": payment_id, "total": total, "shipment_id": shipment_id}


async def pickup(
    producer: AIOKafkaProducer, order_id: str, return_id: str, *statuses: ShipmentStatus
) -> None:
    """Shipping's reverse pickup of a return: created, then each courier update."""
    shipment_id = unique("RVP")
    created = ShipmentCreated(
        order_id=order_id,
        shipment_id=shipment_id,
        warehouse_code="BOM1",
        courier="delhivery",
        awb=unique("RAWB"),
        lines=[SkuQuantity(sku="ANY", quantity=1)],
        return_id=return_id,
    )
    await wait_applied("returns", (await publish_event(producer, created, source="shipping")).id)
    for status in statuses:
        update = ShipmentUpdated(
            order_id=order_id,
            shipment_id=shipment_id,
            warehouse_code="BOM1",
            courier="delhivery",
            status=status,
            return_id=return_id,
        )
        await wait_applied("returns", (await publish_event(producer, update, source="shipping")).id)


def value(record: Any) -> dict[str, Any]:
    return json.loads(record.value)


async def request_return(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    r = await http.post(url("returns", "/returns"), json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def receive_and_qc(
    http: httpx.AsyncClient, return_id: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    warehouse = dev_headers("warehouse")
    r = await http.post(url("returns", f"/returns/{return_id}/receive"), headers=warehouse)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "RECEIVED"
    r = await http.post(url("returns", f"/returns/{return_id}/qc"), json={"lines": lines}, headers=warehouse)
    assert r.status_code == 200, r.text
    return r.json()


async def refunded_return(http: httpx.AsyncClient, return_id: str) -> dict[str, Any]:
    async def refunded() -> dict[str, Any] | None:
        body = (await http.get(url("returns", f"/returns/{return_id}"))).json()
        return body if body["status"] == "REFUNDED" else None

    return await wait_until(refunded, what=f"return {return_id} REFUNDED", timeout=60)


async def test_prepaid_return_is_picked_up_received_restocked_and_refunded_through_razorpay(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("KURTA-M")
    order = await delivered_order(producer, lines=[(sku, 2, 79900)])
    async with client() as http:
        rma = await request_return(
            http,
            order_id=order["order_id"],
            lines=[{"sku": sku, "quantity": 2, "reason": "size_issue", "note": "Too tight"}],
            photo_urls=["https://img.example.com/kurta.jpg"],
        )
        return_id = rma["return_id"]
        assert return_id.startswith("RMA-") and rma["status"] == "APPROVED"

        (requested,) = await tap.wait_for("returns.requested.v1", body_has(return_id=return_id))
        assert value(requested)["warehouse_code"] == "BOM1", "goes back to the warehouse that shipped it"
        assert value(requested)["pickup_address"]["pincode"] == "302001"
        assert value(requested)["customer"]["phone"] == PHONE

        await pickup(
            producer,
            order["order_id"],
            return_id,
            ShipmentStatus.PICKED_UP,
            ShipmentStatus.IN_TRANSIT,
            ShipmentStatus.PICKED_UP,  # a late duplicate scan changes nothing
            ShipmentStatus.DELIVERED,
        )
        assert (await http.get(url("returns", f"/returns/{return_id}"))).json()["status"] == "PICKED_UP"

        await receive_and_qc(http, return_id, [{"sku": sku, "passed": 2, "failed": 0, "grade": "A"}])
        (restocked,) = await tap.wait_for(
            "returns.updated.v1", lambda r: body_has(return_id=return_id, status="RESTOCKED")(r)
        )
        assert value(restocked)["lines"][0] | {"note": None} == {
            "sku": sku,
            "quantity": 2,
            "reason": "size_issue",
            "note": None,
        }
        assert value(restocked)["warehouse_code"] == "BOM1"

        done = await refunded_return(http, return_id)
        (refunded,) = await tap.wait_for("returns.refunded.v1", body_has(return_id=return_id))
        assert value(refunded)["amount_paise"] == 2 * 79900
        assert value(refunded)["refund_mode"] == "gateway_refund"
        assert value(refunded)["refund_id"].startswith("rfnd_")
        assert done["refund"]["status"] == "processed"
        statuses = list(dict.fromkeys(step["status"] for step in done["timeline"]))
        assert statuses == [
            "REQUESTED",
            "APPROVED",
            "PICKUP_SCHEDULED",
            "PICKED_UP",
            "RECEIVED",
            "QC_PASSED",
            "RESTOCKED",
            "REFUND_PENDING",
            "REFUNDED",
        ]

        refunds = (
            await http.get(
                url("sandbox", "/_sandbox/razorpay/refunds"), params={"payment_id": order["payment_id"]}
            )
        ).json()
        assert [(r["amount"], r["status"], r["notes"]["return_id"]) for r in refunds] == [
            (2 * 79900, "processed", return_id)
        ]

        stats = (await http.get(url("returns", "/returns/analytics"))).json()
        (ours,) = [row for row in stats["return_rate_by_sku"] if row["sku"] == sku]
        assert ours == {"sku": sku, "sold": 2, "returned": 2, "return_rate": 1.0}
        assert {"sku": sku, "reason": "size_issue", "units": 2} in stats["returns_by_sku_and_reason"]
        assert stats["request_to_refund_hours"]["refunded"] >= 1


async def test_exchange_for_another_size_places_a_free_order_for_the_replacement(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    kurta = unique("KURTA")  # one product, two sizes: an exchange is like for like
    sku, bigger = f"{kurta}-M", f"{kurta}-L"
    # Paid cash on delivery, as most Indian orders are: the replacement is still paid by the unit sent back.
    order = await delivered_order(
        producer, lines=[(sku, 1, 79900)], shipping_fee_paise=4900, method=PaymentMethod.COD
    )
    async with client() as http:
        rma = await request_return(
            http,
            order_id=order["order_id"],
            lines=[{"sku": sku, "quantity": 1, "reason": "size_issue", "replacement_sku": bigger}],
            resolution="exchange",
            pickup_mode="drop_off",
        )
        (requested,) = await tap.wait_for("returns.requested.v1", body_has(return_id=rma["return_id"]))
        assert value(requested)["pickup_mode"] == "drop_off"

        done = await receive_and_qc(
            http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}]
        )
        assert done["status"] == "EXCHANGE_PLACED"
        assert done["refund"] is None

    return_id = rma["return_id"]
    (asked,) = await tap.wait_for("returns.exchange_requested.v1", body_has(return_id=return_id))
    assert value(asked)["order_id"] == order["order_id"] and asked.key == order["order_id"].encode()
    assert value(asked)["lines"] == [{"sku": bigger, "quantity": 1, "unit_price_paise": 79900}]
    assert value(asked)["shipping_address"]["pincode"] == "302001"

    (placed,) = await tap.wait_for(
        "orders.placed.v1", body_has(channel="exchange", channel_order_id=return_id), timeout=120
    )
    exchange = value(placed)
    assert exchange["order_id"] != order["order_id"]
    assert exchange["lines"] == [{"sku": bigger, "quantity": 1, "unit_price_paise": 79900}]
    assert (exchange["discount_paise"], exchange["total_paise"], exchange["shipping_fee_paise"]) == (
        79900,
        0,
        0,
    )
    assert exchange["payment"]["status"] == "captured" and exchange["payment"]["gateway"] == "exchange"
    assert exchange["payment"]["method"] == "cod"  # nothing to collect: total 0, paid by the exchange
    assert exchange["customer"]["phone"] == PHONE
    assert exchange["shipping_address"]["pincode"] == "302001"

    # The same request delivered again (a relay retry), then said anew: still one replacement order.
    # Both ride the original order's partition, so once the second is applied the first was read.
    await producer.send_and_wait(asked.topic, asked.value, key=asked.key, headers=list(asked.headers))
    again = await publish_event(
        producer, ReturnExchangeRequested.model_validate_json(asked.value), source="returns"
    )
    await wait_applied("orders", again.id, timeout=120)
    assert len(await db_fetch("orders", EXCHANGE_ORDERS, return_id)) == 1
    assert len(tap.find("orders.placed.v1", body_has(channel="exchange", channel_order_id=return_id))) == 1

    # channel.orders.v1 belongs to the channels: returns wrote nothing there.
    assert not tap.find("channel.orders.v1", body_has(channel_order_id=return_id))
    assert not tap.find("channel.orders.v1", lambda r: dict(r.headers).get("ce_source") == b"returns")


EXCHANGE_ORDERS = "SELECT order_id FROM orders WHERE channel = 'exchange' AND channel_order_id = $1"


async def test_failed_qc_is_quarantined_and_the_refund_follows_the_policy(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    kurta, mug = unique("KURTA-M"), unique("MUG")
    order = await delivered_order(
        producer, lines=[(kurta, 2, 80000), (mug, 1, 20000)], shipping_fee_paise=9000
    )
    async with client() as http:
        rma = await request_return(
            http,
            order_id=order["order_id"],
            lines=[
                {"sku": kurta, "quantity": 2, "reason": "changed_mind"},
                {"sku": mug, "quantity": 1, "reason": "damaged", "note": "Cracked handle"},
            ],
        )
        return_id = rma["return_id"]
        await receive_and_qc(
            http,
            return_id,
            [
                {"sku": kurta, "passed": 1, "failed": 1, "grade": "C", "note": "Stained"},
                {"sku": mug, "passed": 0, "failed": 1, "grade": "D", "note": "Cracked"},
            ],
        )
        (restocked,) = await tap.wait_for(
            "returns.updated.v1", body_has(return_id=return_id, status="RESTOCKED")
        )
        (quarantined,) = await tap.wait_for(
            "returns.updated.v1", body_has(return_id=return_id, status="QUARANTINED")
        )
        assert [(line["sku"], line["quantity"]) for line in value(restocked)["lines"]] == [(kurta, 1)]
        assert sorted((line["sku"], line["quantity"]) for line in value(quarantined)["lines"]) == sorted(
            [(kurta, 1), (mug, 1)]
        )

        done = await refunded_return(http, return_id)
        stats = (await http.get(url("returns", "/returns/analytics"))).json()
    qc = {row["sku"]: row for row in stats["qc_by_sku"]}
    assert (qc[kurta]["failure_rate"], qc[mug]["failure_rate"]) == (0.5, 1.0)
    assert 0 < stats["qc_failure_rate"] <= 1
    # The stained kurta was the customer's doing (changed mind): not refunded. The cracked mug was
    # the seller's: refunded although it failed QC, and so is the returned share of shipping.
    shipping_share = 9000  # every unit of the order came back
    assert done["refund"]["amount_paise"] == 80000 + 20000 + shipping_share
    assert done["refund"]["shipping_fee_paise"] == shipping_share
    assert {(q["sku"], q["passed"], q["failed"], q["grade"]) for q in done["qc"]} == {
        (kurta, 1, 1, "C"),
        (mug, 0, 1, "D"),
    }


async def test_rto_parcel_is_received_at_the_desk_and_restocked_without_a_refund_for_cod(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(
        producer, lines=[(sku, 3, 34900)], method=PaymentMethod.COD, warehouse="GGN1", deliver=False
    )
    rto = ShipmentUpdated(
        order_id=order["order_id"],
        shipment_id=order["shipment_id"],
        warehouse_code="GGN1",
        courier="delhivery",
        status=ShipmentStatus.RTO_DELIVERED,
    )
    await publish_event(producer, rto, source="shipping")
    envelope = await publish_event(producer, rto, source="shipping")  # couriers say things twice
    await wait_applied("returns", envelope.id)
    async with client() as http:
        found = (await http.get(url("returns", "/returns"), params={"order_id": order["order_id"]})).json()[
            "items"
        ]
        assert [(r["kind"], r["status"], r["warehouse_code"]) for r in found] == [("rto", "APPROVED", "GGN1")]
        return_id = found[0]["return_id"]

        done = await receive_and_qc(http, return_id, [{"sku": sku, "passed": 3, "failed": 0, "grade": "A"}])
        assert done["status"] == "CLOSED"
        assert done["refund"] is None

    (restocked,) = await tap.wait_for("returns.updated.v1", body_has(return_id=return_id, status="RESTOCKED"))
    assert value(restocked)["kind"] == "rto"
    assert value(restocked)["warehouse_code"] == "GGN1"
    assert [(line["sku"], line["quantity"]) for line in value(restocked)["lines"]] == [(sku, 3)]
    assert not tap.find("returns.refunded.v1", body_has(return_id=return_id))


async def test_an_ineligible_request_is_refused_with_every_reason(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    tea, battery, gift = unique("TEA"), unique("POWERBANK"), unique("GIFT")
    order = await delivered_order(producer, lines=[(tea, 1, 34900), (battery, 1, 149900)])
    not_delivered = await delivered_order(producer, lines=[(tea, 1, 34900)], deliver=False)
    async with client() as http:
        r = await http.put(url("returns", f"/returns/rules/skus/{battery}"), json={"returnable": False})
        assert r.status_code == 200, r.text
        r = await http.post(
            url("returns", "/returns"),
            json={
                "order_id": order["order_id"],
                "lines": [
                    {"sku": tea, "quantity": 2, "reason": "damaged"},
                    {"sku": battery, "quantity": 1, "reason": "defective"},
                    {"sku": gift, "quantity": 1, "reason": "wrong_item"},
                ],
            },
        )
        assert r.status_code == 422
        assert r.json()["error"] == "not eligible for return"
        assert r.json()["problems"] == [
            {
                "field": "lines.0.quantity",
                "problem": f"2 units of {tea} asked; 1 can be returned (1 delivered, 0 already returned)",
            },
            {"field": "lines.1.sku", "problem": f"SKU {battery} is marked non-returnable"},
            {"field": "lines.2.sku", "problem": f"SKU {gift} is not on order {order['order_id']}"},
        ]
        r = await http.post(
            url("returns", "/returns"),
            json={
                "order_id": not_delivered["order_id"],
                "lines": [{"sku": tea, "quantity": 1, "reason": "damaged"}],
            },
        )
        assert r.status_code == 422
        assert r.json()["problems"] == [
            {"field": "order_id", "problem": f"no delivered order {not_delivered['order_id']} is known"}
        ]
        listed = (await http.get(url("returns", "/returns"), params={"order_id": order["order_id"]})).json()
        assert listed["items"] == [], "a refused request writes nothing"


async def test_a_refund_whose_answer_is_lost_is_retried_and_pays_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    async with client() as http:
        rma = await request_return(
            http, order_id=order["order_id"], lines=[{"sku": sku, "quantity": 1, "reason": "damaged"}]
        )
        return_id = rma["return_id"]
        # Razorpay refunds, then the answer is lost twice on the way back (a gateway timeout); the
        # refund.processed webhook comes later, as it does for a normal-speed refund.
        knobs = url("sandbox", "/_sandbox/razorpay/knobs")
        assert (await http.post(knobs, json={"lose_responses": 2, "hold_webhooks": True})).status_code == 200
        try:
            await receive_and_qc(http, return_id, [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}])

            async def answered() -> dict[str, Any] | None:
                refund = (await http.get(url("returns", f"/returns/{return_id}"))).json()["refund"]
                return refund if refund["status"] == "initiated" else None

            refund = await wait_until(answered, what="the third call to be answered", timeout=60)
            assert refund["calls"] == 3
        finally:
            await http.post(knobs, json={})
        done = await refunded_return(http, return_id)
        refunds = (
            await http.get(
                url("sandbox", "/_sandbox/razorpay/refunds"), params={"payment_id": order["payment_id"]}
            )
        ).json()
    assert len(refunds) == 1, "three calls, one refund"
    assert refunds[0]["amount"] == 34900
    assert done["refund"]["gateway_refund_id"] == refunds[0]["id"]
    # REFUNDED is committed before the relay publishes its event: wait for it, then count.
    await tap.wait_for("returns.refunded.v1", body_has(return_id=return_id), timeout=60)
    assert len(tap.find("returns.refunded.v1", body_has(return_id=return_id))) == 1


async def test_cod_refund_goes_out_as_a_upi_payout(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 2, 34900)], method=PaymentMethod.COD)
    async with client() as http:
        r = await http.post(
            url("returns", "/returns"),
            json={
                "order_id": order["order_id"],
                "lines": [{"sku": sku, "quantity": 1, "reason": "wrong_item"}],
            },
        )
        assert r.status_code == 422
        assert r.json()["problems"][0]["field"] == "refund_to"
        rma = await request_return(
            http,
            order_id=order["order_id"],
            lines=[{"sku": sku, "quantity": 1, "reason": "wrong_item"}],
            refund_to={"kind": "upi", "vpa": "asha@okicici"},
        )
        await receive_and_qc(http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "B"}])
        done = await refunded_return(http, rma["return_id"])
        payouts = (
            await http.get(
                url("sandbox", "/_sandbox/razorpay/payouts"),
                params={"reference_id": done["refund"]["refund_id"]},
            )
        ).json()
    assert [(p["amount"], p["mode"], p["purpose"], p["status"]) for p in payouts] == [
        (34900, "UPI", "refund", "processed")
    ]
    assert payouts[0]["fund_account"]["vpa"]["address"] == "asha@okicici"
    (refunded,) = await tap.wait_for("returns.refunded.v1", body_has(return_id=rma["return_id"]))
    assert (value(refunded)["refund_mode"], value(refunded)["method"]) == ("payout", "cod")


async def test_a_cod_refund_to_a_bank_account_is_paid_but_its_number_is_never_stored_in_clear(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    number = "50100123456789"
    order = await delivered_order(producer, lines=[(sku, 1, 34900)], method=PaymentMethod.COD)
    async with client() as http:
        rma = await request_return(
            http,
            order_id=order["order_id"],
            lines=[{"sku": sku, "quantity": 1, "reason": "wrong_item"}],
            refund_to={
                "kind": "bank_account",
                "name": "Asha Verma",
                "ifsc": "HDFC0001234",
                "account_number": number,
            },
        )
        assert rma["refund_to"]["account_number"] == "XXXX6789"
        (raw,) = await db_fetch(
            "returns", "SELECT refund_to::text AS t FROM returns WHERE return_id = $1", rma["return_id"]
        )
        assert number not in raw["t"] and "sealed:v1:" in raw["t"]
        await receive_and_qc(http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}])
        done = await refunded_return(http, rma["return_id"])
        assert number not in json.dumps(done)
        payouts = (
            await http.get(
                url("sandbox", "/_sandbox/razorpay/payouts"),
                params={"reference_id": done["refund"]["refund_id"]},
            )
        ).json()
    assert [p["fund_account"]["bank_account"]["account_number"] for p in payouts] == [number]


async def test_a_refund_the_gateway_fails_alerts_operators_and_a_retry_pays_it(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    async with client() as http:
        rma = await request_return(
            http, order_id=order["order_id"], lines=[{"sku": sku, "quantity": 1, "reason": "defective"}]
        )
        await http.post(url("sandbox", "/_sandbox/razorpay/knobs"), json={"fail_next": 1})
        await receive_and_qc(http, rma["return_id"], [{"sku": sku, "passed": 0, "failed": 1, "grade": "D"}])
        (alert,) = await tap.wait_for(
            "returns.updated.v1", body_has(return_id=rma["return_id"], alert="refund_failed")
        )
        assert "retry" in value(alert)["note"]
        knobs = url("sandbox", "/_sandbox/razorpay/knobs")
        await http.post(knobs, json={"hold_webhooks": True})
        try:
            r = await http.post(url("returns", f"/returns/{rma['return_id']}/refund/retry"))
            assert r.status_code == 200, r.text
            r = await http.post(url("returns", f"/returns/{rma['return_id']}/refund/retry"))
            assert r.status_code == 409, "a refund that is not failed is not retried"

            async def second_attempt_sent() -> dict[str, Any] | None:
                refund = (await http.get(url("returns", f"/returns/{rma['return_id']}"))).json()["refund"]
                return refund if refund["status"] == "initiated" else None

            await wait_until(second_attempt_sent, what="the second attempt to be sent", timeout=60)
            # Razorpay re-delivers the first attempt's refund.failed: it must not fail the second.
            (failed,) = [
                w["body"]
                for w in (await http.get(url("sandbox", "/_sandbox/razorpay/webhooks"))).json()
                if w["event"] == "refund.failed"
                and w["url"].startswith(url("returns", ""))
                and w["body"]["payload"]["refund"]["entity"]["notes"]["return_id"] == rma["return_id"]
            ]
            raw = json.dumps(failed).encode()
            signature = hmac.new(b"dev-razorpay-webhook-secret-local", raw, hashlib.sha256).hexdigest()
            r = await http.post(
                url("returns", "/webhooks/razorpay"), content=raw, headers={"X-Razorpay-Signature": signature}
            )
            assert r.json() == {"status": "about an earlier attempt"}
        finally:
            await http.post(knobs, json={})
        done = await refunded_return(http, rma["return_id"])
        refunds = (
            await http.get(
                url("sandbox", "/_sandbox/razorpay/refunds"), params={"payment_id": order["payment_id"]}
            )
        ).json()
    assert sorted(r["status"] for r in refunds) == ["failed", "processed"]
    assert done["refund"]["attempt"] == 2


async def slack_alerts_about(http: httpx.AsyncClient, return_id: str) -> list[dict[str, Any]] | None:
    """The operator alerts (the sandbox's Slack webhook) naming a return, or None while there are none."""
    alerts = (await http.get(url("sandbox", "/_sandbox/slack/messages"))).json()
    return [a for a in alerts if return_id in a["text"]] or None


async def test_a_refund_not_processed_within_the_sla_is_flagged_once_by_returns_and_told_to_operators_once(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    """Returns owns the refund SLA (ADR 0230): its sweep flags an overdue refund once, and
    notifications passes exactly that on to operators, with returns' reason."""

    async def overdue_refund(http: httpx.AsyncClient) -> str:
        sku = unique("TEA")
        order = await delivered_order(producer, lines=[(sku, 1, 34900)])
        rma = await request_return(
            http, order_id=order["order_id"], lines=[{"sku": sku, "quantity": 1, "reason": "damaged"}]
        )
        await http.post(url("sandbox", "/_sandbox/razorpay/knobs"), json={"fail_next": 1})
        await receive_and_qc(http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}])
        return str(rma["return_id"])

    stack.stop("returns")
    stack.start("returns", extra_env={"REFUND_SLA_DAYS": "0", "SLA_SWEEP_SECONDS": "1"})
    try:
        stack.wait_ready(["returns"])
        async with client() as http:
            first = await overdue_refund(http)
            (alert,) = await tap.wait_for(
                "returns.updated.v1", body_has(return_id=first, alert="refund_sla_breached"), timeout=120
            )
            assert "0 days after QC" in value(alert)["note"]
            # A later overdue refund is flagged by a later sweep, one that saw the first one again.
            second = await overdue_refund(http)
            await tap.wait_for(
                "returns.updated.v1", body_has(return_id=second, alert="refund_sla_breached"), timeout=120
            )
            flagged = tap.find("returns.updated.v1", body_has(return_id=first, alert="refund_sla_breached"))
            assert len(flagged) == 1, "returns flags an overdue refund once"

            await wait_until(
                lambda: slack_alerts_about(http, first), what="operators told of the first", timeout=120
            )
            told = await wait_until(
                lambda: slack_alerts_about(http, second), what="operators told of the second", timeout=120
            )
            assert told[0]["text"].startswith("Refund overdue:")
            (once,) = await slack_alerts_about(http, first) or []
            assert once["text"] == (
                f"Refund overdue: return {first} of order {value(alert)['order_id']}: {value(alert)['note']}"
            )
    finally:
        stack.stop("returns")
        stack.start("returns")
        stack.wait_ready(["returns"])


async def test_a_forged_refund_webhook_is_refused_and_changes_nothing(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    async with client() as http:
        knobs = url("sandbox", "/_sandbox/razorpay/knobs")
        await http.post(knobs, json={"hold_webhooks": True})
        try:
            rma = await request_return(
                http, order_id=order["order_id"], lines=[{"sku": sku, "quantity": 1, "reason": "damaged"}]
            )
            done = await receive_and_qc(
                http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}]
            )
            forged = json.dumps(
                {
                    "event": "refund.processed",
                    "payload": {
                        "refund": {
                            "entity": {
                                "id": "rfnd_forged",
                                "notes": {"refund_id": done["refund"]["refund_id"]},
                            }
                        }
                    },
                }
            ).encode()
            r = await http.post(
                url("returns", "/webhooks/razorpay"),
                content=forged,
                headers={"X-Razorpay-Signature": "0" * 64, "Content-Type": "application/json"},
            )
            assert r.status_code == 401
            assert r.json()["problems"] == [
                {"field": "X-Razorpay-Signature", "problem": "does not match the body"}
            ]
            after = (await http.get(url("returns", f"/returns/{rma['return_id']}"))).json()
            assert after["status"] == "REFUND_PENDING"
        finally:
            await http.post(knobs, json={})
        await refunded_return(http, rma["return_id"])


async def test_a_customer_requests_a_return_through_their_link_and_a_tampered_link_is_refused(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    other = await delivered_order(producer, lines=[(sku, 1, 34900)])
    async with httpx.AsyncClient(timeout=15) as http:  # the customer has no API key
        r = await http.post(
            url("returns", "/returns/links"), json={"order_id": order["order_id"]}, headers=dev_headers("ops")
        )
        link = r.json()["path"]
        line = {"sku": sku, "quantity": 1, "reason": "not_as_described", "note": "Lighter colour than shown"}
        tampered = link.replace(order["order_id"], other["order_id"])
        r = await http.post(url("returns", tampered), json={"lines": [line]})
        assert r.status_code == 401
        assert r.json()["problems"] == [{"field": "token", "problem": "this return link is not valid"}]

        r = await http.post(url("returns", link), json={"lines": [line]})
        assert r.status_code == 201, r.text
        assert (r.json()["order_id"], r.json()["requested_by"]) == (order["order_id"], "customer")
    await tap.wait_for("returns.requested.v1", body_has(return_id=r.json()["return_id"]))


async def test_a_revoked_return_link_is_refused_and_the_orders_next_link_still_works(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    line = {"sku": sku, "quantity": 1, "reason": "changed_mind"}
    async with httpx.AsyncClient(timeout=15) as http:
        ops = dev_headers("ops")
        sent = (await http.post(url("returns", "/returns/links"), json=order_ids(order), headers=ops)).json()
        revoke = url("returns", "/returns/links/revoke")
        r = await http.post(revoke, json={"token": sent["token"]}, headers=ops)
        assert r.status_code == 200, r.text
        assert (r.json()["order_id"], r.json()["revoked"]) == (order["order_id"], True)
        r = await http.post(revoke, json={"token": sent["token"] + "0"}, headers=ops)
        assert r.status_code == 422

        r = await http.post(url("returns", sent["path"]), json={"lines": [line]})
        assert r.status_code == 401
        assert r.json()["problems"] == [{"field": "token", "problem": "this return link was revoked"}]
        await asyncio.sleep(1)  # a link is its order and expiry second: the next one is another link
        again = (await http.post(url("returns", "/returns/links"), json=order_ids(order), headers=ops)).json()
        assert again["token"] != sent["token"]
        r = await http.post(url("returns", again["path"]), json={"lines": [line]})
        assert r.status_code == 201, r.text


def order_ids(order: dict[str, Any]) -> dict[str, str]:
    return {"order_id": order["order_id"]}


async def test_two_requests_racing_for_the_same_units_open_one_return(
    stack: Stack, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    body = {"order_id": order["order_id"], "lines": [{"sku": sku, "quantity": 1, "reason": "damaged"}]}
    async with client() as http:
        answers = await asyncio.gather(*(http.post(url("returns", "/returns"), json=body) for _ in range(4)))
        assert sorted(r.status_code for r in answers) == [201, 422, 422, 422]
        listed = (await http.get(url("returns", "/returns"), params={"order_id": order["order_id"]})).json()
    assert len(listed["items"]) == 1


async def test_a_refund_whose_webhook_never_comes_is_settled_by_asking_razorpay(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    order = await delivered_order(producer, lines=[(sku, 1, 34900)])
    knobs = url("sandbox", "/_sandbox/razorpay/knobs")
    stack.stop("returns")
    stack.start("returns", extra_env={"REFUND_RECONCILE_AFTER_SECONDS": "1"})
    try:
        stack.wait_ready(["returns"])
        async with client() as http:
            await http.post(knobs, json={"drop_webhooks": True})
            rma = await request_return(
                http, order_id=order["order_id"], lines=[{"sku": sku, "quantity": 1, "reason": "damaged"}]
            )
            await receive_and_qc(
                http, rma["return_id"], [{"sku": sku, "passed": 1, "failed": 0, "grade": "A"}]
            )
            done = await refunded_return(http, rma["return_id"])
            webhooks = (await http.get(url("sandbox", "/_sandbox/razorpay/webhooks"))).json()
    finally:
        async with client() as http:
            await http.post(knobs, json={})
        stack.stop("returns")
        stack.start("returns")
        stack.wait_ready(["returns"])
    refund_id = done["refund"]["gateway_refund_id"]
    ours = [
        w for w in webhooks if w["body"]["payload"].get("refund", {}).get("entity", {}).get("id") == refund_id
    ]
    assert [w["status"] for w in ours] == ["dropped"], "returns never heard from Razorpay"
    assert len(tap.find("returns.refunded.v1", body_has(return_id=rma["return_id"]))) == 1


async def test_a_split_order_returns_the_parcel_that_arrived_while_the_other_is_on_the_road(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    tea, kurta = unique("TEA"), unique("KURTA-M")
    order_id = unique("ORD-SPLIT")
    placed = OrderPlaced(  # tea ships from Bhiwandi, the kurta from Bengaluru
        order_id=order_id,
        channel=Channel.SHOPIFY,
        channel_order_id=unique("SPLIT"),
        placed_at=utcnow(),
        customer=Customer(name="Asha Verma", phone=PHONE),
        shipping_address=Address(line1="12 MI Road", city="Jaipur", state="Rajasthan", pincode="302001"),
        lines=[
            OrderLine(sku=tea, quantity=1, unit_price_paise=34900),
            OrderLine(sku=kurta, quantity=1, unit_price_paise=79900),
        ],
        total_paise=34900 + 79900,
        payment=Payment(
            method=PaymentMethod.UPI,
            status=PaymentStatus.CAPTURED,
            gateway="razorpay",
            gateway_payment_id=f"pay_{order_id[-10:]}",
            amount_paise=34900 + 79900,
        ),
    )
    tea_parcel, kurta_parcel = unique("SHP-BOM1"), unique("SHP-BLR1")

    def created(shipment_id: str, warehouse: str, sku: str) -> ShipmentCreated:
        return ShipmentCreated(
            order_id=order_id,
            shipment_id=shipment_id,
            warehouse_code=warehouse,
            courier="delhivery",
            awb=unique("AWB"),
            lines=[SkuQuantity(sku=sku, quantity=1)],
        )

    kurta_delivered = ShipmentUpdated(
        order_id=order_id,
        shipment_id=kurta_parcel,
        warehouse_code="BLR1",
        courier="delhivery",
        status=ShipmentStatus.DELIVERED,
    )
    partially = OrderStatusChanged(
        order_id=order_id,
        channel=Channel.SHOPIFY,
        channel_order_id=placed.channel_order_id,
        from_status=OrderStatus.PARTIALLY_SHIPPED,
        to_status=OrderStatus.PARTIALLY_DELIVERED,
        reason="shipment delivered",
    )
    # The delivery is announced before its shipment_created (two topics): the read model copes.
    for event, source in (
        (placed, "orders"),
        (kurta_delivered, "shipping"),
        (created(tea_parcel, "BOM1", tea), "shipping"),
        (created(kurta_parcel, "BLR1", kurta), "shipping"),
        (partially, "orders"),
    ):
        await wait_applied("returns", (await publish_event(producer, event, source=source)).id)

    async with client() as http:
        r = await http.post(
            url("returns", "/returns"),
            json={"order_id": order_id, "lines": [{"sku": tea, "quantity": 1, "reason": "damaged"}]},
        )
        assert r.status_code == 422, r.text
        assert r.json()["problems"] == [
            {"field": "lines.0.sku", "problem": f"SKU {tea} of order {order_id} has not been delivered yet"}
        ]

        rma = await request_return(
            http, order_id=order_id, lines=[{"sku": kurta, "quantity": 1, "reason": "size_issue"}]
        )
        (requested,) = await tap.wait_for("returns.requested.v1", body_has(return_id=rma["return_id"]))
        assert value(requested)["warehouse_code"] == "BLR1", "back to the warehouse that shipped the kurta"

        tea_delivered = kurta_delivered.model_copy(
            update={"shipment_id": tea_parcel, "warehouse_code": "BOM1", "occurred_at": utcnow()}
        )
        await wait_applied("returns", (await publish_event(producer, tea_delivered, source="shipping")).id)
        body = {"order_id": order_id, "lines": [{"sku": tea, "quantity": 1, "reason": "damaged"}]}
        answers = await asyncio.gather(*(http.post(url("returns", "/returns"), json=body) for _ in range(3)))
        assert sorted(r.status_code for r in answers) == [201, 422, 422], [r.text for r in answers]
        listed = (await http.get(url("returns", "/returns"), params={"order_id": order_id})).json()
    assert sorted(item["lines"][0]["sku"] for item in listed["items"]) == sorted([tea, kurta])
