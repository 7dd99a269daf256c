"""Two bookings racing for a courier's last pickup place on real PostgreSQL: the second waits for the
first's lock, counts again after it commits, and finds the courier full (ADR 261)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import asyncpg
import pytest

from chassis import db
from contracts import SkuQuantity
from contracts.examples import address
from services.shipping import store, sweeps
from services.shipping.couriers.interface import Consignee, CourierBooking
from services.shipping.domain import ShipmentPlan
from tests import infra
from tests.helpers import unique, wait_until

pytestmark = pytest.mark.integration
CONSIGNEE = Consignee(name="Asha Verma", phone="+919812345678", address=address())
MIGRATIONS = Path(__file__).parents[2] / "services" / "shipping" / "migrations"
PLAN = ShipmentPlan("GGN1", (SkuQuantity(sku="TEA-ASSAM-250", quantity=1),), 34900, 0)


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="shipping_capacity_test", migrations_dir=MIGRATIONS,
        min_size=2, max_size=4,
    )  # fmt: skip
    yield p
    await p.close()


async def new_shipment(pool: asyncpg.Pool) -> str:
    shipment_id = unique("SHP")
    async with pool.acquire() as conn:
        assert await store.insert_shipment(
            conn, shipment_id=shipment_id, order_id=unique("ORD"), plan=PLAN, cause_event_id=unique("ev"),
            dispatch_by=None,
        )  # fmt: skip
    return shipment_id


async def book_if_room(conn: asyncpg.Connection, shipment_id: str, day: date) -> bool:
    """Claim the xpressbees place and, when there is room, record the booking (as booking.py does)."""
    capacity = await store.claim_pickup(
        conn, courier="xpressbees", warehouse_code="GGN1", pickup_date=day, shipment_id=shipment_id
    )
    assert capacity is not None
    if capacity.full:
        return False
    await store.save_booking(
        conn, shipment_id=shipment_id, consignee=CONSIGNEE, allocation=None, attempts=[],
            chargeable_grams=500,
        priority=0, booking=CourierBooking("xpressbees", unique("XB"), shipment_id), error=None,
        pickup_date=day,
    )  # fmt: skip
    return True


async def test_two_bookings_never_both_take_the_last_pickup_place(pool: asyncpg.Pool) -> None:
    day = date(2041, 1, 1)
    first, second = await new_shipment(pool), await new_shipment(pool)
    async with pool.acquire() as conn:
        await store.set_pickup_capacity(
            conn, courier="xpressbees", warehouse_code="GGN1", pickup_date=day, parcels=1,
            confirmation_ref=None, actor="test",
        )  # fmt: skip
        await conn.execute("DELETE FROM shipments WHERE pickup_date = $1", day)  # a rerun starts empty

    async with pool.acquire() as a, pool.acquire() as b:
        tx = a.transaction()
        await tx.start()
        assert await book_if_room(a, first, day), "the first booking takes the one place"

        async def second_booking() -> bool:
            async with b.transaction():
                return await book_if_room(b, second, day)

        racing = asyncio.create_task(second_booking())
        # The second booking is blocked on the capacity row's lock while the first is uncommitted.
        await wait_until(
            lambda: _waiting_on_lock(pool, b.get_server_pid()), what="the second booking to wait", timeout=60
        )
        await tx.commit()
        assert await asyncio.wait_for(racing, timeout=60) is False, "it counted the first booking"

    async with pool.acquire() as conn:
        report = {
            r.courier: (r.booked, r.capacity)
            for r in await store.pickups_on(conn, pickup_date=day, warehouse_code="GGN1")
        }
    assert report == {"xpressbees": (1, 1)}


async def _waiting_on_lock(pool: asyncpg.Pool, pid: int) -> bool | None:
    waiting = await pool.fetchval("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid)
    return True if waiting else None


async def test_the_morning_report_warns_that_tomorrows_courier_is_full(pool: asyncpg.Pool) -> None:
    now = datetime(2031, 3, 13, 3, 0, tzinfo=UTC)  # 08:30 IST on 13 March: tomorrow is the 14th
    day = date(2031, 3, 14)
    shipment_id = await new_shipment(pool)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM shipments WHERE pickup_date = $1", day)  # a rerun starts empty
        await store.set_pickup_capacity(
            conn, courier="xpressbees", warehouse_code="GGN1", pickup_date=day, parcels=1,
            confirmation_ref="mail of 10 March", actor="test",
        )  # fmt: skip
        async with conn.transaction():
            assert await book_if_room(conn, shipment_id, day)

    warnings = await sweeps.report_pickups(SimpleNamespace(pool=pool), now=now)  # type: ignore[arg-type]

    assert warnings == ["xpressbees at GGN1 on 2031-03-14: full, 1 of 1 parcels booked"]
    booked = sweeps.PICKUPS_BOOKED.labels(courier="xpressbees", warehouse_code="GGN1")._value.get()
    assert booked == 1
