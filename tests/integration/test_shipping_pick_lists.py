"""Taking a pick list on real PostgreSQL takes only the parcels the preview showed and the picker
ticked, and records who picked them (ADR 380): a parcel that arrived after the preview, or that the
picker left out, stays waiting for the next list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from contracts import ShipmentStatus, SkuQuantity
from contracts.examples import address
from services.shipping import store
from services.shipping.couriers.interface import Consignee, CourierBooking
from services.shipping.domain import ShipmentPlan
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
CONSIGNEE = Consignee(name="Asha Verma", phone="+919812345678", address=address())
MIGRATIONS = Path(__file__).parents[2] / "services" / "shipping" / "migrations"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="shipping_pick_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    yield p
    await p.close()


async def booked(pool: asyncpg.Pool, warehouse: str) -> str:
    shipment_id = unique("SHP")
    plan = ShipmentPlan(warehouse, (SkuQuantity(sku="TEA-ASSAM-250", quantity=1),), 34900, 0)
    async with pool.acquire() as conn:
        assert await store.insert_shipment(
            conn, shipment_id=shipment_id, order_id=unique("ORD"), plan=plan, cause_event_id=unique("ev"),
            dispatch_by=None,
        )  # fmt: skip
        await store.save_booking(
            conn, shipment_id=shipment_id, consignee=CONSIGNEE, allocation=None, attempts=[],
            chargeable_grams=500,
            priority=0, booking=CourierBooking("xpressbees", unique("XB"), shipment_id), error=None,
            pickup_date=None,
        )  # fmt: skip
    return shipment_id


async def test_a_pick_list_takes_only_the_ticked_parcels_and_records_the_picker(pool: asyncpg.Pool) -> None:
    warehouse = unique("PK")[:16]
    ticked, left_out, gone = [await booked(pool, warehouse) for _ in range(3)]
    async with pool.acquire() as conn:
        await conn.execute("UPDATE shipments SET status = 'CANCELLED' WHERE shipment_id = $1", gone)
        preview = [s.shipment_id for s in await store.pick_preview(conn, warehouse, 10)]
        assert sorted(preview) == sorted([ticked, left_out])

        async with conn.transaction():
            taken = await store.waiting_to_pick(conn, warehouse, 10, [ticked, gone])
            assert [s.shipment_id for s in taken] == [ticked]
            at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
            await store.set_status(
                conn, ticked, ShipmentStatus.PICKED, picked_by="warehouse:ravi", picked_at=at
            )
        rows = {
            r["shipment_id"]: r
            for r in await conn.fetch(
                "SELECT shipment_id, status, picked_by, picked_at FROM shipments WHERE warehouse_code = $1",
                warehouse,
            )
        }
    assert (rows[ticked]["status"], rows[ticked]["picked_by"], rows[ticked]["picked_at"]) == (
        "PICKED", "warehouse:ravi", at,
    )  # fmt: skip
    assert (rows[left_out]["status"], rows[left_out]["picked_by"]) == ("AWB_ASSIGNED", None)
