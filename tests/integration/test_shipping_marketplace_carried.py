"""Shipping's real handler on the real PostgreSQL server: an order the marketplace's own logistics
carry gets a shipment that says so and no booking with our couriers; a self-ship order still books
ours (ADR 330). Such a parcel is picked and packed before its marketplace label, takes the
marketplace's AWB when it comes, and moves on what the marketplace reports (ADR 370, 371)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.outbox import emit
from chassis.refusal import Refusal
from chassis.service import Service
from contracts import Channel, Event, OrderConfirmed, ShipmentStatus, ShipmentUpdated
from contracts.examples import order_confirmed
from services.shipping import app, handlers, stations, store, updates
from services.shipping.couriers.interface import CourierBooking, CourierScan, ShipmentRequest
from services.shipping.settings import ShippingSettings
from tests import infra
from tests.helpers import Handlers, unique

pytestmark = pytest.mark.integration
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "shipping" / "migrations"


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


class Shipping(Handlers):
    """The shipping service's order handler with every courier recording its bookings."""

    def __init__(self, pool: asyncpg.Pool, settings: ShippingSettings) -> None:
        self.couriers = {name: RecordingCourier(name) for name in settings.courier_names}
        service = Service("shipping", settings=settings, migrations=MIGRATIONS)
        service.include_handlers(handlers.subscriptions, handlers.Deps(settings, dict(self.couriers)))  # type: ignore[arg-type]
        super().__init__(service, pool)

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


async def outbox_updates(pool: asyncpg.Pool, order_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE topic = 'shipping.shipment_updated.v1' AND key = $1 ORDER BY id",
        order_id,
    )
    return [dict(json.loads(r["payload"])) for r in rows]


async def test_a_flipkart_carried_parcel_is_picked_and_packed_before_its_label_then_flipkarts_pickup_ships_it(
    pool: asyncpg.Pool, shipping: Shipping
) -> None:
    order = confirmed(Channel.FLIPKART, carried=True)
    await shipping.apply(order)
    shipment_id = (await shipment_of(pool, order.order_id))["shipment_id"]
    awb = unique("FMPC")
    emitted: list[Event] = []

    async def keep(event: Event) -> str:
        emitted.append(event)
        return await emit(conn, event, source="shipping")

    async with pool.acquire() as conn, conn.transaction():
        # The label needs our invoice, issued on packing: the parcel is picked and packed first.
        row = await stations._packable(conn, shipment_id)
        waiting = await store.waiting_to_pick(conn, row.warehouse_code, 1000)
        assert shipment_id in {s.shipment_id for s in waiting}
        await store.set_status(conn, shipment_id, ShipmentStatus.PACKED)
        packed = dataclasses.replace(row, status=ShipmentStatus.PACKED)
        with pytest.raises(Refusal):
            await updates.apply_marketplace_news(
                conn, packed, status=ShipmentStatus.PICKED_UP, code="PICKUP_COMPLETE",
                occurred_at=NOW, emit=keep, max_attempts=3, now=NOW,
            )  # fmt: skip
        # Flipkart's AWB arrives after packing: recorded, the parcel stays PACKED and says so with it.
        assert await updates.record_marketplace_awb(conn, packed, awb=awb, tracking_url=None, emit=keep)
        row = await store.lock_shipment(conn, shipment_id)
        assert row is not None and (row.status, row.awb) == (ShipmentStatus.PACKED, awb)
        assert not await updates.record_marketplace_awb(conn, row, awb=awb, tracking_url=None, emit=keep)
        with pytest.raises(Refusal) as other:
            await updates.record_marketplace_awb(conn, row, awb=awb + "9", tracking_url=None, emit=keep)
        assert other.value.problems[0][0] == "awb"
        # Flipkart reports its courier collected it, twice, then delivered: forward once each.
        for _ in range(2):
            row = await store.lock_shipment(conn, shipment_id)
            assert row is not None
            moved = await updates.apply_marketplace_news(
                conn, row, status=ShipmentStatus.PICKED_UP, code="PICKUP_COMPLETE",
                occurred_at=NOW, emit=keep, max_attempts=3, now=NOW,
            )  # fmt: skip
        row = await store.lock_shipment(conn, shipment_id)
        assert row is not None
        delivered = await updates.apply_marketplace_news(
            conn, row, status=ShipmentStatus.DELIVERED, code="DELIVERED",
            occurred_at=NOW + timedelta(days=2), emit=keep, max_attempts=3, now=NOW + timedelta(days=2),
        )  # fmt: skip
    assert moved == [] and delivered == [ShipmentStatus.DELIVERED]
    assert [(e.status, e.awb, e.courier) for e in emitted if isinstance(e, ShipmentUpdated)] == [
        (ShipmentStatus.PACKED, awb, "flipkart"),
        (ShipmentStatus.PICKED_UP, awb, "flipkart"),
        (ShipmentStatus.DELIVERED, awb, "flipkart"),
    ]
    row = await store.find_shipment(pool, shipment_id)
    assert row is not None and row.status is ShipmentStatus.DELIVERED


async def test_a_parcel_of_our_courier_takes_no_marketplace_news_and_is_not_packed_unbooked(
    pool: asyncpg.Pool, shipping: Shipping
) -> None:
    order = confirmed(Channel.FLIPKART, carried=False)
    await shipping.apply(order)
    shipment_id = (await shipment_of(pool, order.order_id))["shipment_id"]
    async with pool.acquire() as conn, conn.transaction():
        row = await store.lock_shipment(conn, shipment_id)
        assert row is not None
        with pytest.raises(Refusal):
            await updates.apply_marketplace_news(
                conn, row, status=ShipmentStatus.PICKED_UP, code="PICKUP_COMPLETE",
                occurred_at=NOW, emit=lambda e: emit(conn, e, source="shipping"), max_attempts=3, now=NOW,
            )  # fmt: skip
