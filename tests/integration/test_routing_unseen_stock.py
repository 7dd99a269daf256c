"""Routing plans from its own view of stock, which hears of a receipt only when inventory announces
it. An order placed in between must not go on hold for stock inventory holds (issue 18, ADR 0446):
routing's empty plan carries the order's lines, inventory answers from its own numbers, and routing
plans again from them. Routing's and inventory's real handlers, each on its own database on the real
PostgreSQL server, hand each other the events their outboxes hold."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.service import Service
from contracts import (
    CourierServiceabilityChanged,
    InventoryReservationFailed,
    OrderLine,
    Payment,
    PaymentMethod,
    PaymentStatus,
    RoutingPlanned,
)
from contracts.examples import address, order_placed
from services.inventory import handlers as inventory_handlers
from services.inventory import store as inventory_store
from services.inventory.settings import InventorySettings
from services.routing import domain, handlers, store
from services.routing.settings import RoutingSettings
from tests import infra
from tests.helpers import Handlers, unique

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2] / "services"
LOADED = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
WAREHOUSES = {
    "BOM1": ("Bhiwandi", "421302", "Maharashtra", 19.3171, 73.0486),
    "GGN1": ("Gurugram", "122001", "Haryana", 28.45987, 77.02498),
}
JAIPUR = "302001"


async def _pool(servers: infra.Servers, name: str, service: str) -> asyncpg.Pool:
    return await db.open_database(
        server_url=servers.database_url, service=name, migrations_dir=ROOT / service / "migrations",
        min_size=1, max_size=2,
    )  # fmt: skip


@pytest.fixture(scope="module")
async def pools(servers: infra.Servers) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    routing_pool = await _pool(servers, "routing_unseen_test", "routing")
    await routing_pool.execute(
        """TRUNCATE warehouses, routing_rules, stock_view, warehouse_load, couriers_heard,
                    courier_pincodes, courierless_orders, stockless_orders"""
    )
    for code, (name, pincode, state, lat, lon) in WAREHOUSES.items():
        wh = domain.Warehouse(code, name, pincode, lat, lon)
        await store.upsert_warehouse(routing_pool, wh=wh, state=state, active=True)
    inventory_pool = await _pool(servers, "inventory_unseen_test", "inventory")
    yield routing_pool, inventory_pool
    await routing_pool.close()
    await inventory_pool.close()


@pytest.fixture(scope="module")
async def routing(pools: tuple[asyncpg.Pool, asyncpg.Pool], servers: infra.Servers) -> Handlers:
    settings = RoutingSettings(database_url=servers.database_url)
    service = Service("routing", settings=settings)
    service.include_handlers(handlers.subscriptions, handlers.Planning.of(settings))
    routing = Handlers(service, pools[0])
    # One courier picks up in Bhiwandi only and delivers to Jaipur.
    await routing.apply(
        CourierServiceabilityChanged(
            courier="delhivery", pickup=["421302"], prepaid=[JAIPUR], cod=[JAIPUR], loaded_at=LOADED
        )
    )
    return routing


@pytest.fixture(scope="module")
def inventory(pools: tuple[asyncpg.Pool, asyncpg.Pool], servers: infra.Servers) -> Handlers:
    settings = InventorySettings(database_url=servers.database_url)
    service = Service("inventory", settings=settings)
    service.include_handlers(inventory_handlers.subscriptions, settings)
    return Handlers(service, pools[1])


async def emitted(pool: asyncpg.Pool, topic: str, order_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE topic = $1 AND key = $2 ORDER BY id", topic, order_id
    )
    return [json.loads(r["payload"]) for r in rows]


async def receipt_routing_has_not_heard_of(pool: asyncpg.Pool, warehouse_code: str, units: int) -> str:
    sku = unique("TEA")
    async with pool.acquire() as conn:
        await inventory_store.receive(
            conn, sku=sku, warehouse_code=warehouse_code, quantity=units, reference="GRN-1", actor="asha"
        )
    return sku


async def place(routing: Handlers, sku: str) -> str:
    order_id = unique("ORD")
    await routing.apply(
        order_placed().model_copy(
            update={
                "order_id": order_id,
                "shipping_address": address().model_copy(update={"pincode": JAIPUR}),
                "lines": [OrderLine(sku=sku, quantity=2, unit_price_paise=69800)],
                "payment": Payment(
                    method=PaymentMethod.UPI, status=PaymentStatus.CAPTURED, amount_paise=139600
                ),
            }
        )
    )
    return order_id


async def hand_over(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], routing: Handlers, inventory: Handlers, order_id: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Pass routing's plans to inventory and inventory's failures back, until neither has news."""
    routing_pool, inventory_pool = pools
    given_plans = given_failures = 0
    while True:
        plans = await emitted(routing_pool, RoutingPlanned.TOPIC, order_id)
        failures = await emitted(inventory_pool, InventoryReservationFailed.TOPIC, order_id)
        if given_plans < len(plans):
            await inventory.apply(RoutingPlanned.model_validate(plans[given_plans]))
            given_plans += 1
        elif given_failures < len(failures):
            await routing.apply(InventoryReservationFailed.model_validate(failures[given_failures]))
            given_failures += 1
        else:
            return plans, failures


async def test_an_order_placed_before_routing_hears_of_a_receipt_is_reserved_not_held(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], routing: Handlers, inventory: Handlers
) -> None:
    sku = await receipt_routing_has_not_heard_of(pools[1], "BOM1", 5)
    order_id = await place(routing, sku)

    plans, failures = await hand_over(pools, routing, inventory, order_id)

    first, second = plans
    assert first["plans"] == [] and first["will_replan"] is True
    assert first["unplanned"] == [{"sku": sku, "quantity": 2}]
    [failure] = failures
    assert failure["final"] is False  # orders puts an order on hold only on a final failure
    assert failure["availability"] == [{"sku": sku, "warehouse_code": "BOM1", "available": 5}]
    assert [[s["warehouse_code"] for s in p["shipments"]] for p in second["plans"]] == [["BOM1"]]
    [reserved] = await emitted(pools[1], "inventory.reserved.v1", order_id)
    assert reserved["allocations"] == [{"sku": sku, "warehouse_code": "BOM1", "quantity": 2}]
    assert await pools[0].fetchval("SELECT count(*) FROM stockless_orders WHERE order_id = $1", order_id) == 0


async def test_stock_inventory_does_not_hold_either_ends_in_one_final_failure(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], routing: Handlers, inventory: Handlers
) -> None:
    sku = await receipt_routing_has_not_heard_of(pools[1], "BOM1", 1)  # one unit; the order wants two
    order_id = await place(routing, sku)

    plans, failures = await hand_over(pools, routing, inventory, order_id)

    assert len(plans) == 1
    [failure] = failures
    assert failure.get("final", True) is True
    assert failure["reason"] == "routing found no warehouse"


async def test_stock_only_where_no_courier_picks_up_asks_inventory_once_then_holds(
    pools: tuple[asyncpg.Pool, asyncpg.Pool], routing: Handlers, inventory: Handlers
) -> None:
    # Inventory's numbers cover the order, but only at Gurugram, where no courier picks up: the
    # plan made from them is empty too, and that second failure is final (no loop).
    sku = await receipt_routing_has_not_heard_of(pools[1], "GGN1", 5)
    order_id = await place(routing, sku)

    plans, failures = await hand_over(pools, routing, inventory, order_id)

    assert [(p["attempt"], p["plans"], p.get("will_replan", False)) for p in plans] == [
        (1, [], True),
        (2, [], False),
    ]
    assert [f.get("final", True) for f in failures] == [False, True]
    assert await pools[0].fetchval("SELECT count(*) FROM stockless_orders WHERE order_id = $1", order_id) == 1
