"""Shipping's real handler on the real PostgreSQL server: an order the marketplace's own logistics
carry gets a shipment that says so and no booking with our couriers; a self-ship order still books
ours (ADR 330)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.consumer import Consumer
from chassis.outbox import emit
from chassis.service import Service
from contracts import Channel, Envelope, Event, OrderConfirmed
from contracts.examples import order_confirmed
from services.shipping import app, handlers
from services.shipping.couriers.interface import CourierBooking, CourierScan, ShipmentRequest
from services.shipping.settings import ShippingSettings
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "shipping" / "migrations"


class FakeRecord:
    """A consumed record as aiokafka hands it over."""

    def __init__(self, event: Event, offset: int) -> None:
        self.topic = event.TOPIC
        self.partition = 0
        self.offset = offset
        self.key: bytes | None = event.partition_key().encode()
        self.value: bytes | None = event.model_dump_json().encode()
        self.headers = Envelope.for_event(event, source="tests").to_headers()


class RecordingCourier:
    """A courier that books whatever it is asked to and remembers each booking."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.booked: list[str] = []

    async def create_shipment(self, request: ShipmentRequest) -> CourierBooking:
        self.booked.append(request.reference)
        return CourierBooking(self.name, f"AWB-{request.reference}", request.reference)

    async def request_pickup(self, *, warehouse_code: str, pickup_date: date, parcels: list[Any]) -> str:
        raise NotImplementedError

    async def cancel(self, awb: str) -> None:
        raise NotImplementedError

    async def update_consignee(self, parcel: Any, consignee: Any) -> None:
        raise NotImplementedError

    async def track(self, awb: str) -> list[CourierScan]:
        raise NotImplementedError

    async def ndr_action(self, awb: str, action: Any) -> None:
        raise NotImplementedError

    def read_webhook(self, headers: Any, body: bytes) -> list[CourierScan]:
        raise NotImplementedError


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="shipping_marketplace_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=4,
    )  # fmt: skip
    yield p
    await p.close()


class Shipping:
    """The shipping service's order handler with every courier recording its bookings."""

    def __init__(self, pool: asyncpg.Pool, settings: ShippingSettings) -> None:
        self.couriers = {name: RecordingCourier(name) for name in settings.courier_names}
        service = Service("shipping", settings=settings, migrations=MIGRATIONS)
        handlers.register(service, settings, dict(self.couriers))  # type: ignore[arg-type]
        self.dead: list[str] = []

        async def dead_letter(_record: Any, error: str) -> None:
            self.dead.append(error)

        self.consumer = Consumer(
            service="shipping", pool=pool, subscriptions=service._subscriptions, dead_letter=dead_letter,
            before_commit=service._before_commit,
        )  # fmt: skip
        self.offset = 0

    async def apply(self, event: Event) -> None:
        self.offset += 1
        await self.consumer.apply_batch([FakeRecord(event, self.offset)])
        assert self.dead == []

    def booked(self) -> list[str]:
        return [ref for courier in self.couriers.values() for ref in courier.booked]


@pytest.fixture(scope="module")
async def shipping(pool: asyncpg.Pool, servers: infra.Servers) -> Shipping:
    settings = ShippingSettings(database_url=servers.database_url)
    # Loading serviceability announces it (ADR 311): through the outbox, as the service does.
    reference = SimpleNamespace(pool=pool, emit=lambda conn, event: emit(conn, event, source="shipping"))
    await app.load_reference_data(reference, settings)  # type: ignore[arg-type]
    return Shipping(pool, settings)


def confirmed(channel: Channel, *, carried: bool) -> OrderConfirmed:
    order_id = unique("ORD")
    return order_confirmed().model_copy(
        update={
            "order_id": order_id,
            "channel": channel,
            "channel_order_id": unique(channel.value),
            "shipped_by_marketplace": carried,
        }
    )


async def shipment_of(pool: asyncpg.Pool, order_id: str) -> asyncpg.Record:
    [row] = await pool.fetch(
        "SELECT shipment_id, status, courier, awb, marketplace FROM shipments WHERE order_id = $1", order_id
    )
    return row


async def created_event(pool: asyncpg.Pool, order_id: str) -> dict[str, Any]:
    [row] = await pool.fetch(
        "SELECT payload FROM outbox WHERE topic = 'shipping.shipment_created.v1' AND key = $1", order_id
    )
    return dict(json.loads(row["payload"]))


async def test_a_flipkart_carried_order_gets_no_courier_of_ours_and_a_shipment_saying_flipkart_carries_it(
    pool: asyncpg.Pool, shipping: Shipping
) -> None:
    order = confirmed(Channel.FLIPKART, carried=True)
    await shipping.apply(order)
    await shipping.apply(order)  # redelivered: still nothing booked
    assert shipping.booked() == []
    row = await shipment_of(pool, order.order_id)
    assert (row["status"], row["courier"], row["awb"], row["marketplace"]) == (
        "CREATED",
        "flipkart",
        None,
        "flipkart",
    )
    event = await created_event(pool, order.order_id)
    assert (event["courier"], event.get("awb"), event["status"]) == ("flipkart", None, "CREATED")


async def test_a_self_ship_marketplace_order_still_books_our_courier(
    pool: asyncpg.Pool, shipping: Shipping
) -> None:
    order = confirmed(Channel.FLIPKART, carried=False)
    await shipping.apply(order)
    row = await shipment_of(pool, order.order_id)
    assert shipping.booked() == [row["shipment_id"]]
    assert row["marketplace"] is None and row["awb"] == f"AWB-{row['shipment_id']}"
    assert row["status"] == "AWB_ASSIGNED" and row["courier"] in shipping.couriers
