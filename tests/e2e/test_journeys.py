"""Whole journeys with every service and the sandbox at once, no stand-in events: a COD order
confirmed on WhatsApp, packed and shipped; a parcel refused three times that comes back (RTO) and
whose units are available again after QC; a delivered order returned by reverse pickup, restocked
and refunded through Razorpay; an exchange that becomes a new, reserved order."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from services.shipping.domain import reverse_pickup_id, shipment_id_for
from tests.conftest import Tap, body_has
from tests.helpers import channel_order, encode, seed_stock, unique, url, wait_routing_knows, wait_until

pytestmark = pytest.mark.e2e

WAREHOUSE = "GGN1"


def client(role: str = "ops") -> httpx.AsyncClient:
    # One connection per request: journeys wait longer than uvicorn keeps an idle connection.
    return httpx.AsyncClient(
        timeout=15, headers=dev_headers(role), limits=httpx.Limits(max_keepalive_connections=0)
    )


def new_phone() -> str:
    """A mobile number no other test uses: risk rules count RTOs per phone."""
    return f"+9197{random.randrange(10**8):08d}"


async def sandbox(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    async with client() as http:
        r = await http.request(method, url("sandbox", path), json=body)
        r.raise_for_status()
        return r.json()


async def place(
    producer: AIOKafkaProducer, tap: Tap, sku: str, *, phone: str, cod: bool, quantity: int = 2
) -> tuple[str, dict[str, Any]]:
    """A Shopify order for a SKU to Jaipur; returns its order id and the channel payload."""
    channel_order_id = unique("SHP-J")
    total = quantity * 34900
    payment = (
        {"method": "cod", "status": "pending", "gateway": None, "gateway_payment_id": None}
        if cod
        else {
            "method": "upi",
            "status": "captured",
            "gateway": "razorpay",
            "gateway_payment_id": f"pay_{channel_order_id[-12:]}",
        }
    )
    order = channel_order(
        channel_order_id,
        sku,
        customer={"name": "Meena Sharma", "phone": phone},
        lines=[{"sku": sku, "quantity": quantity, "unit_price_paise": 34900}],
        total_paise=total,
        payment=payment | {"amount_paise": total},
    )
    await producer.send_and_wait(
        "channel.orders.v1", encode(order), key=f"shopify:{channel_order_id}".encode()
    )
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id), timeout=90)
    return json.loads(placed[0].value)["order_id"], order


async def order_status(order_id: str, wanted: str, timeout: float = 120) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        async with client("viewer") as http:
            body: dict[str, Any] = (await http.get(url("orders", f"/orders/{order_id}"))).json()
        return body if body.get("status") == wanted else None

    return await wait_until(reached, what=f"order {order_id} {wanted}", timeout=timeout)


async def stock(sku: str) -> dict[str, Any]:
    async with client("viewer") as http:
        r = await http.get(url("inventory", f"/stock/{sku}"))
        r.raise_for_status()
        [row] = [w for w in r.json()["warehouses"] if w["warehouse_code"] == WAREHOUSE]
        return row  # type: ignore[no-any-return]


async def stocked(sku: str, units: int) -> None:
    await seed_stock(sku, {WAREHOUSE: units})
    await wait_routing_knows(sku, units)


async def receive_and_pass(return_id: str, sku: str, units: int) -> dict[str, Any]:
    async with client("warehouse") as http:
        r = await http.post(url("returns", f"/returns/{return_id}/receive"))
        assert r.status_code == 200, r.text
        r = await http.post(
            url("returns", f"/returns/{return_id}/qc"),
            json={"lines": [{"sku": sku, "passed": units, "failed": 0, "grade": "A"}]},
        )
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]


async def road(reference: str, *, fail_attempts: int = 0) -> None:
    """Let the simulated courier drive this parcel (a few hundred ms per step)."""
    await sandbox("POST", "/_sandbox/couriers/simulation", {"step_delay_ms": 300, "auto_reattempt_ms": 300})
    await sandbox(
        "POST", "/_sandbox/couriers/scripts", {"reference": reference, "fail_attempts": fail_attempts}
    )


async def delivered(producer: AIOKafkaProducer, tap: Tap, sku: str, phone: str) -> tuple[str, dict[str, Any]]:
    """A prepaid order placed, shipped and delivered by the simulated courier; the payment is known
    to the sandbox's Razorpay so it can be refunded."""
    order_id, order = await place(producer, tap, sku, phone=phone, cod=False)
    await sandbox(
        "POST",
        "/_sandbox/razorpay/payments",
        {"payment_id": order["payment"]["gateway_payment_id"], "amount": order["total_paise"]},
    )
    await road(shipment_id_for(order_id, WAREHOUSE))
    await order_status(order_id, "DELIVERED")
    return order_id, order


async def customer_confirms_cod(tap: Tap, order_id: str, phone: str) -> None:
    """The customer taps "confirm" on the COD question, once that question has reached their phone.
    PENDING_COD_CONFIRMATION comes before notifications has sent the message; replying earlier
    finds nothing to reply to."""
    await tap.wait_for(
        "notifications.sent.v1", body_has(order_id=order_id, template="cod_confirmation_request"), timeout=90
    )
    await sandbox("POST", "/_sandbox/whatsapp/replies", {"to": phone, "choice": "cod_confirm"})


async def test_cod_order_confirmed_on_whatsapp_is_then_shipped(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku, phone = unique("JRN-COD"), new_phone()
    await stocked(sku, 5)
    order_id, _ = await place(producer, tap, sku, phone=phone, cod=True)

    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    async with client("viewer") as http:
        shipments = (await http.get(url("shipping", "/shipments"), params={"order_id": order_id})).json()
    assert shipments["items"] == [], "nothing is packed or booked before the customer confirms"

    await customer_confirms_cod(tap, order_id, phone)
    await order_status(order_id, "CONFIRMED")
    created = await tap.wait_for("shipping.shipment_created.v1", body_has(order_id=order_id), timeout=90)
    assert json.loads(created[0].value)["cod_amount_paise"] == 69800
    payments = tap.find("payments.updated.v1", body_has(order_id=order_id, status="cod_confirmed"))
    assert len(payments) == 1


async def test_a_parcel_refused_three_times_comes_back_and_its_units_are_sellable_after_qc(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku, phone = unique("JRN-RTO"), new_phone()
    await stocked(sku, 5)
    order_id, _ = await place(producer, tap, sku, phone=phone, cod=True)
    shipment_id = shipment_id_for(order_id, WAREHOUSE)
    await road(shipment_id, fail_attempts=3)
    await order_status(order_id, "PENDING_COD_CONFIRMATION")
    await customer_confirms_cod(tap, order_id, phone)

    await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(shipment_id=shipment_id, status="RTO_DELIVERED"), timeout=180
    )
    ndrs = tap.find("shipping.shipment_updated.v1", body_has(shipment_id=shipment_id, status="NDR"))
    assert sorted({json.loads(r.value)["attempt"] for r in ndrs}) == [1, 2, 3]
    await order_status(order_id, "RTO_DELIVERED")
    picked_up = await stock(sku)
    assert (picked_up["on_hand"], picked_up["reserved"]) == (3, 0), "the pickup took the two units"

    async def rto_record() -> dict[str, Any] | None:
        async with client() as http:
            items = (await http.get(url("returns", "/returns"), params={"order_id": order_id})).json()[
                "items"
            ]
        return items[0] if items else None

    rto = await wait_until(rto_record, what="the RTO at the returns desk", timeout=60)
    assert rto["kind"] == "rto"
    await receive_and_pass(rto["return_id"], sku, 2)

    async def back_on_shelf() -> dict[str, Any] | None:
        row = await stock(sku)
        return row if row["on_hand"] == 5 else None

    row = await wait_until(back_on_shelf, what="the two units back on hand", timeout=60)
    assert (row["reserved"], row["available"]) == (0, 5)


async def test_a_delivered_order_is_returned_by_reverse_pickup_restocked_and_refunded(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku, phone = unique("JRN-RET"), new_phone()
    await stocked(sku, 5)
    order_id, order = await delivered(producer, tap, sku, phone)
    assert (await stock(sku))["on_hand"] == 3

    async with client() as http:
        r = await http.post(
            url("returns", "/returns"),
            json={"order_id": order_id, "lines": [{"sku": sku, "quantity": 2, "reason": "damaged"}]},
        )
        assert r.status_code == 201, r.text
        return_id = r.json()["return_id"]
    await road(reverse_pickup_id(return_id))
    reverse = await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(return_id=return_id, status="DELIVERED"), timeout=180
    )
    assert json.loads(reverse[0].value)["warehouse_code"] == WAREHOUSE

    async def picked_up() -> dict[str, Any] | None:
        async with client() as http:
            body: dict[str, Any] = (await http.get(url("returns", f"/returns/{return_id}"))).json()
        return body if body["status"] == "PICKED_UP" else None

    await wait_until(picked_up, what="the return picked up", timeout=60)
    await receive_and_pass(return_id, sku, 2)

    refunded = await tap.wait_for("returns.refunded.v1", body_has(return_id=return_id), timeout=120)
    assert json.loads(refunded[0].value)["amount_paise"] == order["total_paise"]
    await order_status(order_id, "REFUNDED")
    row = await stock(sku)
    assert (row["on_hand"], row["reserved"], row["available"]) == (5, 0, 5)
    refunds = await sandbox(
        "GET", f"/_sandbox/razorpay/refunds?payment_id={order['payment']['gateway_payment_id']}"
    )
    assert [(r["amount"], r["status"]) for r in refunds] == [(order["total_paise"], "processed")]


async def test_an_exchange_becomes_a_new_order_for_the_other_size_with_stock_reserved(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    # Sizes of one product: the same SKU but its last part (returns' like-for-like exchange rule).
    kurta = unique("JRN-KURTA")
    sku, bigger, phone = f"{kurta}-M", f"{kurta}-L", new_phone()
    await stocked(sku, 5)
    await stocked(bigger, 3)
    order_id, _ = await delivered(producer, tap, sku, phone)

    async with client() as http:
        r = await http.post(
            url("returns", "/returns"),
            json={
                "order_id": order_id,
                "lines": [{"sku": sku, "quantity": 2, "reason": "size_issue", "replacement_sku": bigger}],
                "resolution": "exchange",
                "pickup_mode": "drop_off",
            },
        )
        assert r.status_code == 201, r.text
        return_id = r.json()["return_id"]
    done = await receive_and_pass(return_id, sku, 2)
    assert done["status"] == "EXCHANGE_PLACED"

    placed = await tap.wait_for(
        "orders.placed.v1", body_has(channel="exchange", channel_order_id=return_id), timeout=90
    )
    exchange_id = json.loads(placed[0].value)["order_id"]
    confirmed = await tap.wait_for("orders.confirmed.v1", body_has(order_id=exchange_id), timeout=90)
    assert [(line["sku"], line["quantity"]) for line in json.loads(confirmed[0].value)["lines"]] == [
        (bigger, 2)
    ]
    row = await stock(bigger)
    assert (row["reserved"], row["available"]) == (2, 1)
