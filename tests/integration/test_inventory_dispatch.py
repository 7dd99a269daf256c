"""Inventory's real handlers on the real PostgreSQL server: stock leaves on the first evidence the
parcel left, whatever order the courier's scans arrive in, exactly once per order × warehouse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from contracts import (
    FulfilmentPlan,
    PlannedShipment,
    ReturnLine,
    ReturnUpdated,
    RoutingPlanned,
    ShipmentUpdated,
    SkuQuantity,
)
from contracts.enums import ReturnReason, ReturnStatus, ShipmentStatus
from services.inventory import app, store
from services.inventory.settings import InventorySettings
from tests import infra
from tests.helpers import Handlers, unique

pytestmark = pytest.mark.integration

S = ShipmentStatus
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "inventory" / "migrations"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="inventory_dispatch_test",
        migrations_dir=MIGRATIONS,
        min_size=1,
        max_size=4,
    )
    yield p
    await p.close()


class Inventory(Handlers):
    """The inventory service's own subscriptions, fed one event per batch."""

    def __init__(self, pool: asyncpg.Pool, servers: infra.Servers) -> None:
        super().__init__(app.build(InventorySettings(database_url=servers.database_url)), pool)


async def numbers(pool: asyncpg.Pool, sku: str) -> dict[str, tuple[int, int]]:
    rows = await pool.fetch("SELECT warehouse_code, on_hand, reserved FROM stock WHERE sku = $1", sku)
    return {r["warehouse_code"]: (r["on_hand"], r["reserved"]) for r in rows}


async def dispatches(pool: asyncpg.Pool, sku: str) -> list[tuple[str, int, int]]:
    rows = await pool.fetch(
        """SELECT warehouse_code, on_hand_delta, reserved_delta FROM stock_movements
            WHERE sku = $1 AND kind = 'dispatch' ORDER BY warehouse_code""",
        sku,
    )
    return [(r["warehouse_code"], r["on_hand_delta"], r["reserved_delta"]) for r in rows]


async def reserved_order(inventory: Inventory, pool: asyncpg.Pool, sku: str, split: dict[str, int]) -> str:
    order_id = unique("ORD")
    async with pool.acquire() as conn:
        for warehouse_code in split:
            await store.receive(
                conn, sku=sku, warehouse_code=warehouse_code, quantity=5, reference="PO", actor="test"
            )
    shipments = [
        PlannedShipment(warehouse_code=wh, lines=[SkuQuantity(sku=sku, quantity=q)])
        for wh, q in split.items()
    ]
    await inventory.apply(
        RoutingPlanned(order_id=order_id, plans=[FulfilmentPlan(rank=1, score=0, shipments=shipments)])
    )
    assert await numbers(pool, sku) == {wh: (5, q) for wh, q in split.items()}
    return order_id


def scan(order_id: str, warehouse_code: str, status: ShipmentStatus) -> ShipmentUpdated:
    return ShipmentUpdated(
        order_id=order_id,
        shipment_id=f"SHP-{order_id}-{warehouse_code}",
        warehouse_code=warehouse_code,
        courier="shiprocket",
        awb=f"SR{warehouse_code}",
        status=status,
    )


async def test_a_first_scan_in_transit_dispatches_and_the_late_pickup_changes_nothing(
    pool: asyncpg.Pool, servers: infra.Servers
) -> None:
    inventory = Inventory(pool, servers)
    sku = unique("NOPICKUP")
    order_id = await reserved_order(inventory, pool, sku, {"GGN1": 2})
    for status in (S.MANIFESTED, S.IN_TRANSIT, S.DELIVERED, S.PICKED_UP):
        await inventory.apply(scan(order_id, "GGN1", status))
    assert await numbers(pool, sku) == {"GGN1": (3, 0)}
    assert await dispatches(pool, sku) == [("GGN1", -2, -2)]

    await inventory.apply(
        ReturnUpdated(
            order_id=order_id,
            return_id=unique("RMA"),
            status=ReturnStatus.RESTOCKED,
            warehouse_code="GGN1",
            lines=[ReturnLine(sku=sku, quantity=2, reason=ReturnReason.SIZE_ISSUE)],
        )
    )
    assert await numbers(pool, sku) == {"GGN1": (5, 0)}, "after the return, on hand is what it was"


async def test_each_warehouse_of_a_split_order_is_dispatched_once_on_its_own_first_evidence(
    pool: asyncpg.Pool, servers: infra.Servers
) -> None:
    inventory = Inventory(pool, servers)
    sku = unique("SPLIT")
    order_id = await reserved_order(inventory, pool, sku, {"BOM1": 1, "GGN1": 2})
    await inventory.apply(scan(order_id, "BOM1", S.DELIVERED))  # the only scan we ever get
    assert await numbers(pool, sku) == {"BOM1": (4, 0), "GGN1": (5, 2)}
    for status in (S.OUT_FOR_DELIVERY, S.PICKED_UP, S.NDR, S.RTO_INITIATED):
        await inventory.apply(scan(order_id, "GGN1", status))
    assert await numbers(pool, sku) == {"BOM1": (4, 0), "GGN1": (3, 0)}
    assert await dispatches(pool, sku) == [("BOM1", -1, -1), ("GGN1", -2, -2)]
    status = await pool.fetchval("SELECT status FROM reservations WHERE order_id = $1", order_id)
    assert status == "committed", "nothing stays reserved"
