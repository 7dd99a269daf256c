"""The queue and the NDR desk read typed rows from the real read model: a queue row carries its
couriers and AWBs, and the desk hands up whole order views whose NDR parcels it lists."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from services.console import store
from services.console.domain import desks
from services.console.domain.decisions import parse_search
from services.console.domain.view import OrderView, ShipmentView
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "console" / "migrations"
AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="console_desk_rows_test",
        migrations_dir=MIGRATIONS,
        min_size=1,
        max_size=2,
    )
    yield p
    await p.close()


async def test_the_ndr_desk_lists_the_parcels_in_ndr_of_the_orders_it_reads(pool: asyncpg.Pool) -> None:
    order_id = unique("ORD")
    failed = ShipmentView(
        f"SHP-{order_id}-1", "GGN1", "xpressbees", "XB1", "NDR", ndr_attempts=(1, 2), ndr_reason="refused"
    )
    delivered = ShipmentView(f"SHP-{order_id}-2", "BOM1", "delhivery", "DL1", "DELIVERED")
    view = OrderView(
        order_id=order_id,
        first_seen_at=AT,
        updated_at=AT + timedelta(minutes=5),
        placed_at=AT,
        channel_order_id="SHP-1001",
        customer_name="Asha",
        city="Jaipur",
        payment_method="cod",
        total_paise=69800,
        shipments=(failed, delivered),
    )
    async with pool.acquire() as conn, conn.transaction():
        await store.save_views(conn, [view])

    f, problems = desks.ndr_filter({"search": order_id})
    assert problems == []
    [found] = await store.ndr_desk(pool, f, after=None, limit=10)
    assert found.shipments == view.shipments and found.sort_at == AT
    [parcel] = desks.ndr_parcels(found, f)
    assert (parcel.shipment_id, parcel.courier, parcel.attempts, parcel.bucket, parcel.cod) == (
        failed.shipment_id,
        "xpressbees",
        2,
        "refused",
        True,
    )

    [row] = await store.queue(pool, store.QueueFilter(search=parse_search(order_id)), after=None, limit=10)
    assert (row.order_id, row.sort_at, row.city, row.ndr_count) == (order_id, AT, "Jaipur", 2)
    assert sorted(row.couriers) == ["delhivery", "xpressbees"] and sorted(row.awbs) == ["DL1", "XB1"]


async def test_search_terms_are_written_when_an_order_is_first_seen_and_when_an_awb_arrives_only(
    pool: asyncpg.Pool,
) -> None:
    """ADR 546: a status change rewrites the order's view but not its search terms; an AWB does."""
    order_id = unique("ORD")
    placed = OrderView(
        order_id=order_id,
        first_seen_at=AT,
        updated_at=AT,
        placed_at=AT,
        channel_order_id=unique("SHOP"),
        customer_name="Meena Sharma",
        phone="+91 98765 43210",
        status="PLACED",
    )
    confirmed = replace(placed, status="CONFIRMED", updated_at=AT + timedelta(minutes=1))
    awb = unique("AWB")
    shipped = replace(
        confirmed,
        updated_at=AT + timedelta(minutes=2),
        shipments=(ShipmentView(f"SHP-{order_id}-1", "GGN1", "delhivery", awb, "AWB_ASSIGNED"),),
    )

    async def save(view: OrderView) -> str:
        async with pool.acquire() as conn, conn.transaction():
            await store.save_views(conn, [view])
        version: str = await pool.fetchval(
            "SELECT xmin::text FROM order_search WHERE order_id = $1", order_id
        )
        return version

    async def found(text: str) -> list[str]:
        rows = await store.queue(pool, store.QueueFilter(search=parse_search(text)), after=None, limit=10)
        return [row.order_id for row in rows]

    first = await save(placed)
    assert await found("meena sharma") == [order_id]
    assert await found(awb) == []
    assert await save(confirmed) == first, "a status change leaves the search terms alone"
    assert await found("43210") == [order_id], "any part of the phone's digits"
    assert await save(shipped) != first
    assert await found(awb) == [order_id]
