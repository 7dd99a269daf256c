"""Routing's real handlers on the real PostgreSQL server decide warehouse × pincode pairs from each
courier's announced pickup and delivery pincodes (ADR 0410): an order is planned only from a
warehouse some courier picks up at and delivers from to its pincode; one no warehouse can be
carried from is held for a courier, and planned again when a courier's announcement serves it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.service import Service
from contracts import (
    CourierServiceabilityChanged,
    OrderLine,
    OrderPlaced,
    Payment,
    PaymentMethod,
    PaymentStatus,
    StockChanged,
)
from contracts.examples import address, order_placed
from services.routing import domain, handlers, store
from services.routing.settings import RoutingSettings
from tests import infra
from tests.helpers import Handlers, unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "routing" / "migrations"
LOADED = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
WAREHOUSES = {
    "BOM1": ("Bhiwandi", "421302", "Maharashtra", 19.3171, 73.0486),
    "BLR1": ("Bengaluru", "560058", "Karnataka", 13.02058, 77.51902),
    "GGN1": ("Gurugram", "122001", "Haryana", 28.45987, 77.02498),
}
EVERY_WAREHOUSE = ["122001", "421302", "560058"]


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="routing_pairs_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    # The database is this module's own: start from the three demo warehouses and nothing else.
    await p.execute(
        """TRUNCATE warehouses, routing_rules, stock_view, warehouse_load, couriers_heard,
                    courier_pincodes, courierless_orders, stockless_orders"""
    )
    for code, (name, pincode, state, lat, lon) in WAREHOUSES.items():
        wh = domain.Warehouse(code, name, pincode, lat, lon)
        await store.upsert_warehouse(p, wh=wh, state=state, active=True)
    yield p
    await p.close()


@pytest.fixture(scope="module")
def routing(pool: asyncpg.Pool, servers: infra.Servers) -> Handlers:
    settings = RoutingSettings(database_url=servers.database_url)
    service = Service("routing", settings=settings, migrations=MIGRATIONS)
    service.include_handlers(handlers.subscriptions, handlers.Planning.of(settings))
    return Handlers(service, pool)


def courier(
    name: str, *, pickup: list[str] | None, delivers: list[str], at: datetime = LOADED
) -> CourierServiceabilityChanged:
    return CourierServiceabilityChanged(
        courier=name, pickup=pickup, prepaid=delivers, cod=delivers, loaded_at=at
    )


async def placed_to(routing: Handlers, pincode: str, sku: str) -> str:
    """A prepaid order of one unit of ``sku`` to ``pincode``, placed through routing's handler."""
    order_id = unique("ORD")
    event: OrderPlaced = order_placed().model_copy(
        update={
            "order_id": order_id,
            "shipping_address": address().model_copy(update={"pincode": pincode}),
            "lines": [OrderLine(sku=sku, quantity=1, unit_price_paise=69800)],
            "payment": Payment(method=PaymentMethod.UPI, status=PaymentStatus.CAPTURED, amount_paise=69800),
        }
    )
    await routing.apply(event)
    return order_id


async def planned(pool: asyncpg.Pool, order_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT payload FROM outbox WHERE topic = 'routing.planned.v1' AND key = $1 ORDER BY id", order_id
    )
    return [json.loads(r["payload"]) for r in rows]


def warehouses_of(event: dict[str, Any]) -> list[list[str]]:
    return [[s["warehouse_code"] for s in plan["shipments"]] for plan in event["plans"]]


async def test_an_order_is_planned_only_from_a_warehouse_a_courier_carries_it_from(
    pool: asyncpg.Pool, routing: Handlers
) -> None:
    sku = unique("TEA")
    stock = {"BOM1": 5, "BLR1": 5, "GGN1": 5}
    await routing.apply(StockChanged(sku=sku, available_total=15, by_warehouse=stock, changed_at=LOADED))
    # Delhivery picks up everywhere but delivers to Jaipur's 302001 only; Xpressbees delivers to
    # 302019 but picks up in Bengaluru alone; Shiprocket delivers to 302020 and picks up at none
    # of our warehouses (Delhi's 110001 only).
    await routing.apply(courier("delhivery", pickup=EVERY_WAREHOUSE, delivers=["302001"]))
    await routing.apply(courier("xpressbees", pickup=["560058"], delivers=["302019"]))
    await routing.apply(courier("shiprocket", pickup=["110001"], delivers=["302020"]))

    nearest = await placed_to(routing, "302001", sku)
    via_bengaluru = await placed_to(routing, "302019", sku)
    stranded = await placed_to(routing, "302020", sku)

    [event] = await planned(pool, nearest)
    assert warehouses_of(event)[0] == ["GGN1"]  # Gurugram is nearest Jaipur and served
    [event] = await planned(pool, via_bengaluru)
    assert warehouses_of(event) == [["BLR1"]]
    assert (
        "GGN1 excluded: no courier picks up at 122001 and delivers prepaid to 302019"
        in event["plans"][0]["reasons"]
    )
    [event] = await planned(pool, stranded)
    assert event["plans"] == []
    assert event["no_courier"] == (
        "no courier that delivers to pincode 302020 picks up at any warehouse "
        "(BLR1 560058, BOM1 421302, GGN1 122001)"
    )

    # An announcement older than the one taken changes nothing; a newer one that picks up in
    # Gurugram serves the held order, planned again from there in a new round.
    await routing.apply(
        courier("shiprocket", pickup=["122001"], delivers=["302020"], at=LOADED - timedelta(1))
    )
    assert len(await planned(pool, stranded)) == 1
    await routing.apply(
        courier("shiprocket", pickup=["122001"], delivers=["302020"], at=LOADED + timedelta(1))
    )
    held, again = await planned(pool, stranded)
    assert warehouses_of(again) == [["GGN1"]]
    assert again["attempt"] == held["attempt"] + 1
