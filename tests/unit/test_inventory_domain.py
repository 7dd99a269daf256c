"""Inventory's pure decisions: lock order of allocations, low-stock hysteresis, returned lines."""

from __future__ import annotations

from contracts import (
    FulfilmentPlan,
    PlannedShipment,
    RoutingPlanned,
    ShipmentStatus,
    SkuQuantity,
    StockAvailability,
)
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


def _available(*rows: tuple[str, str, int]) -> list[StockAvailability]:
    return [StockAvailability(sku=s, warehouse_code=w, available=a) for s, w, a in rows]


def test_inventory_fills_what_routing_could_not_see_only_if_its_numbers_cover_every_line() -> None:
    lines = [
        SkuQuantity(sku="TEA", quantity=2),
        SkuQuantity(sku="MUG", quantity=1),
        SkuQuantity(sku="TEA", quantity=1),
    ]
    assert domain.could_fill(lines, _available(("TEA", "BOM1", 2), ("TEA", "GGN1", 1), ("MUG", "BLR1", 1)))
    assert not domain.could_fill(lines, _available(("TEA", "BOM1", 2), ("MUG", "BLR1", 1)))  # 3 teas wanted
    assert not domain.could_fill(lines, _available(("TEA", "BOM1", 9)))
    assert not domain.could_fill([], _available(("TEA", "BOM1", 9)))


def _planned(**fields: object) -> RoutingPlanned:
    return RoutingPlanned.model_validate({"order_id": "ORD-1", "plans": [], **fields})


def test_a_failure_is_final_unless_routing_plans_again_and_has_a_reason_to() -> None:
    wanted = [{"sku": "TEA", "quantity": 2}]
    held = _available(("TEA", "BOM1", 5))
    assert domain.failure(_planned(will_replan=True, unplanned=wanted), held) == (
        "routing had not heard of stock inventory holds: planning again from inventory's numbers",
        False,
    )
    assert domain.failure(_planned(will_replan=False, unplanned=wanted), held) == (
        "routing found no warehouse",
        True,
    )
    assert domain.failure(_planned(will_replan=True, unplanned=wanted), []) == (
        "routing found no warehouse",
        True,
    )
    assert domain.failure(_planned(will_replan=True, no_courier="no courier to 302020"), held) == (
        "no courier to 302020",
        True,
    )


def test_the_first_ranked_plan_whose_every_allocation_fits_is_chosen() -> None:
    from contracts import Allocation

    def alloc(wh: str, sku: str, q: int) -> Allocation:
        return Allocation(warehouse_code=wh, sku=sku, quantity=q)

    split = [alloc("BOM1", "A", 1), alloc("GGN1", "B", 2)]
    whole = [alloc("BLR1", "A", 1), alloc("BLR1", "B", 2)]
    free = {("A", "BOM1"): 1, ("B", "GGN1"): 1, ("A", "BLR1"): 5, ("B", "BLR1"): 2}
    assert domain.first_fitting([split, whole], free) == 1  # GGN1 has one B, the plan wants two
    assert domain.first_fitting([whole, split], free) == 0
    assert domain.first_fitting([split], free) is None
    assert domain.first_fitting([[alloc("DEL1", "A", 1)]], free) is None  # no stock row: no units
    assert domain.first_fitting([], free) is None
