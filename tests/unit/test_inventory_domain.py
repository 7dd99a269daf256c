"""Inventory's pure decisions: lock order of allocations, low-stock hysteresis, returned lines."""

from __future__ import annotations

from contracts import FulfilmentPlan, PlannedShipment, ShipmentStatus, SkuQuantity
from services.inventory import domain


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
    assert [(a.warehouse_code, a.sku, a.quantity) for a in domain.allocations_of(plan)] == [
        ("BOM1", "B", 3),
        ("GGN1", "A", 3),
        ("GGN1", "B", 1),
    ]


def test_negative_availability_counts_as_zero_in_the_total() -> None:
    assert domain.by_warehouse([("BOM1", 4), ("GGN1", -1)]) == (4, {"BOM1": 4, "GGN1": 0})


def test_low_stock_alerts_once_per_crossing_and_rearms_only_above_the_reorder_point() -> None:
    armed, alerts = True, []
    for available in (12, 10, 9, 7, 10, 11, 10, 4):
        alert, armed = domain.low_stock_alert(available=available, reorder_point=10, armed=armed)
        alerts.append(alert)
    assert alerts == [False, True, False, False, False, False, True, False]


def test_a_return_with_one_sku_on_two_lines_comes_back_as_one_quantity() -> None:
    assert domain.merged_lines([("KURTA-M", 1), ("TEA", 2), ("KURTA-M", 2)]) == {"KURTA-M": 3, "TEA": 2}


def test_stock_leaves_on_the_first_evidence_the_parcel_left_not_only_on_the_pickup_scan() -> None:
    S = ShipmentStatus
    left = {S.PICKED_UP, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.NDR}
    left |= {S.RTO_INITIATED, S.RTO_IN_TRANSIT, S.RTO_DELIVERED, S.LOST}
    assert {s for s in S if domain.dispatches(s)} == left
    assert not domain.dispatches(S.MANIFESTED), "handed over on paper, not yet scanned by the courier"
    assert not domain.dispatches(S.CANCELLED)
