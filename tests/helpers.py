"""Small helpers the integration, e2e and reliability tests share."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import httpx

from chassis.consumer import Consumer
from chassis.db import database_name, register_json_codec, with_database
from chassis.service import Service
from contracts import Envelope, Event, SkuQuantity, examples
from deploy.local.ports import dev_headers
from deploy.local.stack import PORTS
from services.shipping.couriers.interface import ShipmentRequest

T = TypeVar("T")


def unique(prefix: str) -> str:
    """A name no other test run uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


def url(service: str, path: str) -> str:
    """The local HTTP address of a service's route."""
    return f"http://127.0.0.1:{PORTS[service]}{path}"


async def db_fetch(service: str, sql: str, *args: Any, decoded: bool = False) -> list[asyncpg.Record]:
    """Run a read-only query on a service's own database (white-box checks only); ``decoded``: json
    columns as Python values, as the service's own pool reads them (to hand rows to its store)."""
    conn = await asyncpg.connect(with_database(os.environ["DATABASE_URL"], database_name(service)))
    try:
        if decoded:
            await register_json_codec(conn)
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def wait_applied(service: str, event_id: str, timeout: float = 30) -> None:
    """Wait until a service's inbox shows it applied an event."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await db_fetch(service, "SELECT 1 FROM inbox WHERE event_id = $1", event_id):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{service} did not apply event {event_id} within {timeout}s")
        await asyncio.sleep(0.1)


async def wait_routing_knows(sku: str, units: int, timeout: float = 60) -> None:
    """Wait until routing's own view holds ``units`` of a SKU in some warehouse. A stock_changed on
    Kafka is not yet routing's view: an order placed before routing applied it finds no warehouse."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await db_fetch(
        "routing", "SELECT 1 FROM stock_view WHERE sku = $1 AND available >= $2", sku, units
    ):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"routing never saw {units} of {sku}")
        await asyncio.sleep(0.1)


async def seed_stock(sku: str, per_warehouse: dict[str, int]) -> None:
    """The three demo warehouses exist and hold these units of a SKU."""
    async with httpx.AsyncClient(timeout=10, headers=dev_headers()) as http:
        for code, name, pincode in (
            ("BOM1", "Bhiwandi", "421302"),
            ("BLR1", "Bengaluru", "560058"),
            ("GGN1", "Gurugram", "122001"),
        ):
            r = await http.put(
                url("routing", f"/warehouses/{code}"), json={"code": code, "name": name, "pincode": pincode}
            )
            r.raise_for_status()
        for code, quantity in per_warehouse.items():
            r = await http.post(
                url("inventory", "/stock/receipts"),
                json={"sku": sku, "warehouse_code": code, "quantity": quantity, "reference": "test"},
            )
            r.raise_for_status()


def channel_order(channel_order_id: str, sku: str, **overrides: Any) -> dict[str, Any]:
    """DESIGN.md's example channel order for one SKU, with overrides."""
    order: dict[str, Any] = {
        "channel": "shopify",
        "channel_order_id": channel_order_id,
        "placed_at": "2026-11-26T10:15:00+05:30",
        "customer": {"name": "Asha Verma", "phone": "+919812345678", "email": "asha@example.com"},
        "shipping_address": {
            "line1": "12 MI Road",
            "line2": None,
            "landmark": None,
            "city": "Jaipur",
            "state": "Rajasthan",
            "pincode": "302001",
        },
        "lines": [{"sku": sku, "quantity": 2, "unit_price_paise": 34900}],
        "shipping_fee_paise": 0,
        "discount_paise": 0,
        "total_paise": 69800,
        "payment": {
            "method": "upi",
            "status": "captured",
            "gateway": "razorpay",
            "gateway_payment_id": f"pay_{channel_order_id}",
            "amount_paise": 69800,
        },
        "delivery_speed": "standard",
    }
    order.update(overrides)
    return order


def encode(order: dict[str, Any]) -> bytes:
    """JSON bytes of a raw payload."""
    return json.dumps(order).encode()


async def db_execute(service: str, sql: str, *args: Any) -> str:
    """Change a service's own database directly: only to move a clock-driven deadline into the past."""
    conn = await asyncpg.connect(with_database(os.environ["DATABASE_URL"], database_name(service)))
    try:
        return str(await conn.execute(sql, *args))
    finally:
        await conn.close()


async def wait_until(
    check: Callable[[], Awaitable[T | None]], *, what: str, timeout: float = 30, every: float = 0.2
) -> T:
    """Poll `check` until it returns something other than None; fail naming what was awaited."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (found := await check()) is None:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"waited {timeout}s for {what}")
        await asyncio.sleep(every)
    return found


def shipment_request(reference: str = "SHP-0001", **overrides: Any) -> ShipmentRequest:
    """What shipping asks a courier to book: two units of tea from Gurugram to Jaipur, COD ₹698."""
    fields: dict[str, Any] = {
        "reference": reference,
        "pickup_location": "GGN1",
        "consignee_name": "Asha Verma",
        "consignee_phone": "+919812345678",
        "address": examples.address(),
        "items": (SkuQuantity(sku="TEA-ASSAM-250", quantity=2),),
        "value_paise": 69_800,
        "cod_amount_paise": 69_800,
        "weight_grams": 1000,
    }
    return ShipmentRequest(**(fields | overrides))


class FakeRecord:
    """A consumed record as aiokafka hands it over."""

    def __init__(self, event: Event, offset: int) -> None:
        self.topic = event.TOPIC
        self.partition = 0
        self.offset = offset
        self.key: bytes | None = event.partition_key().encode()
        self.value: bytes | None = event.model_dump_json().encode()
        self.headers = Envelope.for_event(event, source="tests").to_headers()


class Handlers:
    """A service's own subscriptions on the real PostgreSQL server, fed one event per batch through
    the real consumer (inbox, handlers, before-commit hooks); nothing may be dead-lettered."""

    def __init__(self, service: Service, pool: asyncpg.Pool) -> None:
        self.dead: list[str] = []

        async def dead_letter(_record: Any, error: str) -> None:
            self.dead.append(error)

        self.consumer = Consumer(
            service=service.name,
            pool=pool,
            subscriptions=service._subscriptions,
            dead_letter=dead_letter,
            before_commit=service._before_commit,
        )
        self.offset = 0

    async def apply(self, event: Event) -> None:
        self.offset += 1
        await self.consumer.apply_batch([FakeRecord(event, self.offset)])  # type: ignore[list-item]
        assert self.dead == []
