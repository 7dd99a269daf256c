"""What the orders e2e tests share: placing an order through the real stack, waiting for a status,
calling the orders API as a role, and signing a webhook as Razorpay does."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from deploy.local.ports import dev_headers
from services.orders.domain import razorpay
from tests.conftest import Tap, body_has
from tests.helpers import channel_order, encode, seed_stock, unique, url, wait_routing_knows

WEBHOOK_SECRET = "dev-razorpay-webhook-secret-local"
COD = {
    "method": "cod",
    "status": "pending",
    "gateway": None,
    "gateway_payment_id": None,
    "amount_paise": 69800,
}
UNPAID_UPI = {"method": "upi", "status": "pending", "gateway": "razorpay", "amount_paise": 69800}


async def call(method: str, path: str, *, role: str = "ops", **kwargs: Any) -> httpx.Response:
    """One call to the orders API with a role's dev key."""
    async with httpx.AsyncClient(timeout=30, headers=dev_headers(role)) as http:
        return await http.request(method, url("orders", path), **kwargs)


async def detail(order_id: str) -> dict[str, Any]:
    """The order with its timeline."""
    r = await call("GET", f"/orders/{order_id}", role="viewer")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def wait_status(order_id: str, status: str, timeout: float = 90) -> dict[str, Any]:
    """Wait until the order is in a status; fail naming where it is instead."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        order = await detail(order_id)
        if order["status"] == status:
            return order
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{order_id} is {order['status']}, not {status}: {order['timeline']}")
        await asyncio.sleep(0.25)


async def stocked_sku(tap: Tap, units: int = 5) -> str:
    """A new SKU with units in Gurugram (nearest Jaipur), known to routing."""
    sku = unique("E2E-ORD")
    await seed_stock(sku, {"GGN1": units})
    await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku, available_total=units))
    await wait_routing_knows(sku, units)
    return sku


async def place(producer: AIOKafkaProducer, tap: Tap, sku: str, **overrides: Any) -> str:
    """Publish a channel order and return the order id it became."""
    channel_order_id = unique("SHP")
    body = channel_order(channel_order_id, sku, **overrides)
    await producer.send_and_wait(
        "channel.orders.v1", encode(body), key=f"{body['channel']}:{channel_order_id}".encode()
    )
    placed = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=channel_order_id))
    return str(json.loads(placed[0].value)["order_id"])


async def available(sku: str, warehouse: str = "GGN1") -> int:
    """Units of a SKU available to sell in a warehouse, as inventory says over HTTP."""
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        stock = (await http.get(url("inventory", f"/stock/{sku}"))).json()
    return int(next(w["available"] for w in stock["warehouses"] if w["warehouse_code"] == warehouse))


async def wait_available(sku: str, units: int, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while (have := await available(sku)) != units:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{sku}: {have} available, not {units}")
        await asyncio.sleep(0.2)


async def shipments(order_id: str) -> list[dict[str, Any]]:
    """Shipping's shipments of an order."""
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        r = await http.get(url("shipping", "/shipments"), params={"order_id": order_id})
    return list(r.json()["items"])


def razorpay_payment(
    event: str,
    order_id: str,
    payment_id: str,
    amount: int = 69800,
    *,
    created_at: int | None = None,
    **extra: Any,
) -> bytes:
    """A webhook body as Razorpay documents it, for our order (notes.order_id), created now (the
    services' clock) unless `created_at` (Unix seconds) says otherwise."""
    entity = {
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": "INR",
        "status": event.split(".")[1],
        "order_id": "order_" + payment_id,
        "method": "upi",
        "notes": {"order_id": order_id},
        **extra,
    }
    return json.dumps(
        {
            "entity": "event",
            "event": event,
            "contains": ["payment"],
            "payload": {"payment": {"entity": entity}},
            "created_at": int(time.time()) if created_at is None else created_at,
        }
    ).encode()


async def deliver(
    body: bytes, *, event_id: str | None = None, signature: str | None = None
) -> httpx.Response:
    """POST a webhook signed (by default correctly) as Razorpay would."""
    headers = {
        "content-type": "application/json",
        "X-Razorpay-Signature": signature if signature is not None else razorpay.sign(WEBHOOK_SECRET, body),
        "x-razorpay-event-id": event_id or unique("evt"),
    }
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url("orders", "/webhooks/razorpay"), content=body, headers=headers)
