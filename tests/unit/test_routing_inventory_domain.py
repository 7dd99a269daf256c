"""Routing's plans and inventory's allocations, without Kafka or PostgreSQL."""

from __future__ import annotations

from contracts import FulfilmentPlan, OrderLine, PlannedShipment, SkuQuantity
from services.inventory import domain as inventory
from services.routing import domain as routing

BOM1 = routing.Warehouse("BOM1", "Bhiwandi", "421302", 19.3171, 73.0486)
BLR1 = routing.Warehouse("BLR1", "Bengaluru", "560058", 13.02058, 77.51902)
GGN1 = routing.Warehouse("GGN1", "Gurugram", "122001", 28.45987, 77.02498)
TEA = [OrderLine(sku="TEA-ASSAM-250", quantity=2, unit_price_paise=34900)]


def test_jaipur_order_goes_to_gurugram_first_when_every_warehouse_has_stock() -> None:
    stock = {("TEA-ASSAM-250", w.code): 10 for w in (BOM1, BLR1, GGN1)}
    plans = routing.plan(lines=TEA, customer_pincode="302001", warehouses=[BOM1, BLR1, GGN1], available=stock)
    assert [p.shipments[0].warehouse_code for p in plans] == ["GGN1", "BOM1", "BLR1"]
    assert "Gurugram (GGN1) has all 1 line(s) in stock" in plans[0].reasons
    assert any("km from 302001" in r for r in plans[0].reasons)


def test_a_warehouse_without_enough_units_is_not_offered() -> None:
    stock = {("TEA-ASSAM-250", "GGN1"): 1, ("TEA-ASSAM-250", "BLR1"): 5}
    plans = routing.plan(lines=TEA, customer_pincode="302001", warehouses=[BOM1, BLR1, GGN1], available=stock)
    assert [p.shipments[0].warehouse_code for p in plans] == ["BLR1"]


def test_no_stock_anywhere_means_no_plan() -> None:
    assert routing.plan(lines=TEA, customer_pincode="302001", warehouses=[BOM1, GGN1], available={}) == []


def test_distances_are_great_circle_kilometres() -> None:
    jaipur = routing.coordinates("302001")
    assert jaipur is not None
    assert 200 < routing.distance_km(jaipur, (GGN1.latitude, GGN1.longitude)) < 260


def test_allocations_merge_lines_and_sort_so_locks_are_taken_in_one_order() -> None:
    plan = FulfilmentPlan(
        rank=1,
        score=0,
        shipments=[
            PlannedShipment(
                warehouse_code="GGN1",
                lines=[SkuQuantity(sku="B", quantity=1), SkuQuantity(sku="A", quantity=2)],
            ),
            PlannedShipment(warehouse_code="BOM1", lines=[SkuQuantity(sku="B", quantity=3)]),
            PlannedShipment(warehouse_code="GGN1", lines=[SkuQuantity(sku="A", quantity=1)]),
        ],
    )
    assert [(a.warehouse_code, a.sku, a.quantity) for a in inventory.allocations_of(plan)] == [
        ("BOM1", "B", 3),
        ("GGN1", "A", 3),
        ("GGN1", "B", 1),
    ]


def test_negative_availability_counts_as_zero_in_the_total() -> None:
    assert inventory.by_warehouse([("BOM1", 4), ("GGN1", -1)]) == (4, {"BOM1": 4, "GGN1": 0})
