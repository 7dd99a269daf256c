"""Inventory's reservation against the real PostgreSQL server: concurrency never oversells."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from contracts import Allocation
from services.inventory import domain, store
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "inventory" / "migrations"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="inventory_test",
        migrations_dir=MIGRATIONS,
        min_size=20,
        max_size=40,
    )
    yield p
    await p.close()


async def try_reserve(pool: asyncpg.Pool, allocations: list[Allocation], order_id: str) -> bool:
    async with pool.acquire() as conn, conn.transaction():
        try:
            async with conn.transaction():
                await store.reserve(
                    conn, allocations=allocations, order_id=order_id, reservation_id=f"RSV-{order_id}"
                )
        except store.NotEnoughStock:
            return False
    return True


async def assert_sold_exactly_the_fifty(pool: asyncpg.Pool, sku: str) -> None:
    """30 at BOM1 and 20 at GGN1 all reserved, one reservation per order served, all in the ledger."""
    rows = await pool.fetch("SELECT warehouse_code, on_hand, reserved FROM stock WHERE sku = $1", sku)
    assert {r["warehouse_code"]: (r["on_hand"], r["reserved"]) for r in rows} == {
        "BOM1": (30, 30),
        "GGN1": (20, 20),
    }
    assert await pool.fetchval("SELECT count(*) FROM reservations WHERE order_id LIKE $1", f"{sku}-%") == 50
    ledger = await pool.fetchval(
        "SELECT sum(reserved_delta) FROM stock_movements WHERE sku = $1 AND kind = 'reservation'", sku
    )
    assert ledger == 50, "every reserved unit has its ledger row"


async def test_two_hundred_orders_racing_for_fifty_units_reserve_exactly_fifty(pool: asyncpg.Pool) -> None:
    sku = unique("SALE-SKU")
    async with pool.acquire() as conn:
        await store.receive(conn, sku=sku, warehouse_code="BOM1", quantity=30, reference="PO-1", actor="test")
        await store.receive(conn, sku=sku, warehouse_code="GGN1", quantity=20, reference="PO-2", actor="test")

    async def order(i: int) -> bool:
        wh = "BOM1" if i % 2 else "GGN1"
        if await try_reserve(pool, [Allocation(warehouse_code=wh, sku=sku, quantity=1)], f"{sku}-{i}"):
            return True
        other = "GGN1" if wh == "BOM1" else "BOM1"
        return await try_reserve(pool, [Allocation(warehouse_code=other, sku=sku, quantity=1)], f"{sku}-{i}")

    results = await asyncio.gather(*(order(i) for i in range(200)))
    assert sum(results) == 50
    await assert_sold_exactly_the_fifty(pool, sku)


async def test_a_multi_line_plan_reserves_all_lines_or_none(pool: asyncpg.Pool) -> None:
    tea, kurta = unique("TEA"), unique("KURTA")
    async with pool.acquire() as conn:
        await store.receive(conn, sku=tea, warehouse_code="BOM1", quantity=5, reference=None, actor="test")
        await store.receive(conn, sku=kurta, warehouse_code="BOM1", quantity=1, reference=None, actor="test")
    plan = [
        Allocation(warehouse_code="BOM1", sku=tea, quantity=2),
        Allocation(warehouse_code="BOM1", sku=kurta, quantity=2),
    ]
    assert not await try_reserve(pool, plan, unique("ORD"))
    reserved = await pool.fetch("SELECT sku, reserved FROM stock WHERE sku = ANY($1::text[])", [tea, kurta])
    assert {r["sku"]: r["reserved"] for r in reserved} == {tea: 0, kurta: 0}


async def test_the_database_itself_refuses_negative_available_stock(pool: asyncpg.Pool) -> None:
    sku = unique("GUARD")
    async with pool.acquire() as conn:
        await store.receive(conn, sku=sku, warehouse_code="BLR1", quantity=1, reference=None, actor="test")
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("UPDATE stock SET reserved = 2 WHERE sku = $1", sku)


async def test_orders_that_lock_check_and_reserve_without_a_savepoint_take_exactly_the_units_there(
    pool: asyncpg.Pool,
) -> None:
    """The handler's path: lock the rows every plan needs, choose the first plan that fits, reserve
    it in one statement. Two hundred orders with two ranked plans each race for fifty units."""
    sku = unique("LOCKED-SKU")
    async with pool.acquire() as conn:
        await store.receive(conn, sku=sku, warehouse_code="BOM1", quantity=30, reference=None, actor="test")
        await store.receive(conn, sku=sku, warehouse_code="GGN1", quantity=20, reference=None, actor="test")

    async def order(i: int) -> bool:
        first, second = ("BOM1", "GGN1") if i % 2 else ("GGN1", "BOM1")
        plans = [[Allocation(warehouse_code=wh, sku=sku, quantity=1)] for wh in (first, second)]
        async with pool.acquire() as conn, conn.transaction():
            free = await store.free_units(conn, sorted({(sku, "BOM1"), (sku, "GGN1")}))
            chosen = domain.first_fitting(plans, free)
            if chosen is None:
                return False
            await store.reserve(
                conn, allocations=plans[chosen], order_id=f"{sku}-{i}", reservation_id=f"RSV-{sku}-{i}"
            )
        return True

    results = await asyncio.gather(*(order(i) for i in range(200)))
    assert sum(results) == 50
    await assert_sold_exactly_the_fifty(pool, sku)
