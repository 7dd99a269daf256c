"""Inventory decisions as plain functions: what to reserve (in a deadlock-free order), when to
alert on low stock, how returned lines add up.

The reservation itself is an atomic conditional update in store.py; this module only decides.
"""

from __future__ import annotations

from chassis.ids import time_ordered_id
from contracts import (
    Allocation,
    FulfilmentPlan,
    RoutingPlanned,
    ShipmentStatus,
    SkuQuantity,
    StockAvailability,
)

S = ShipmentStatus

LEFT_THE_WAREHOUSE = frozenset(
    {
        S.PICKED_UP,
        S.IN_TRANSIT,
        S.OUT_FOR_DELIVERY,
        S.DELIVERED,
        S.NDR,
        S.RTO_INITIATED,
        S.RTO_IN_TRANSIT,
        S.RTO_DELIVERED,
        S.LOST,
    }
)
"""Shipment states that prove the parcel left: shipping reaches each only through a pickup, but
couriers miss the pickup scan or send it after a later one, so any of them dispatches the stock."""


def new_reservation_id() -> str:
    """A unique, time-ordered reservation id."""
    return time_ordered_id("RSV")


def allocations_of(plan: FulfilmentPlan) -> list[Allocation]:
    """The plan's units per SKU × warehouse, merged and sorted so every transaction locks rows
    in the same order (two reservations can then never deadlock)."""
    merged: dict[tuple[str, str], int] = {}
    for shipment in plan.shipments:
        for line in shipment.lines:
            key = (shipment.warehouse_code, line.sku)
            merged[key] = merged.get(key, 0) + line.quantity
    return [Allocation(warehouse_code=wh, sku=sku, quantity=qty) for (wh, sku), qty in sorted(merged.items())]


def first_fitting(plans: list[list[Allocation]], free: dict[tuple[str, str], int]) -> int | None:
    """The index of the first plan (they come ranked) whose every allocation fits the units free per
    (sku, warehouse_code); None when none does. A row missing from `free` has no units."""
    for i, allocations in enumerate(plans):
        if all(a.quantity <= free.get((a.sku, a.warehouse_code), 0) for a in allocations):
            return i
    return None


def dispatches(status: ShipmentStatus) -> bool:
    """Whether a forward shipment's update is evidence its units left the warehouse: the first such
    update (in whatever order they arrive) turns the reservation into a dispatch, once."""
    return status in LEFT_THE_WAREHOUSE


def by_warehouse(rows: list[tuple[str, int]]) -> tuple[int, dict[str, int]]:
    """Total and per-warehouse available-to-sell from (warehouse_code, available) rows."""
    per = {wh: max(available, 0) for wh, available in rows}
    return sum(per.values()), per


def low_stock_alert(*, available: int, reorder_point: int, armed: bool) -> tuple[bool, bool]:
    """(alert now, armed afterwards): alert once when available falls to or below the reorder
    point, and re-arm only once it rises back above it, so a busy SKU is not reported per order."""
    if available <= reorder_point:
        return armed, False
    return False, True


def could_fill(lines: list[SkuQuantity], availability: list[StockAvailability]) -> bool:
    """Whether the units available across all warehouses cover every line: routing, planning from
    its own view of stock, found none, but inventory's numbers say a plan may exist (ADR 0446)."""
    wanted = merged_lines([(line.sku, line.quantity) for line in lines])
    held: dict[str, int] = {}
    for a in availability:
        held[a.sku] = held.get(a.sku, 0) + a.available
    return bool(wanted) and all(held.get(sku, 0) >= units for sku, units in wanted.items())


def failure(event: RoutingPlanned, availability: list[StockAvailability]) -> tuple[str, bool]:
    """Why none of routing's plans was reserved, and whether that is final (routing plans no more).

    With no plans because routing's view of stock was short, inventory's own numbers decide: if they
    cover the order, routing has not heard of some stock yet (a receipt moments ago), so it plans
    again from these numbers rather than the order going on hold (ADR 0446)."""
    if event.no_courier is not None:
        return event.no_courier, True
    if event.plans:
        return "no plan fits the stock now", not event.will_replan
    if event.will_replan and could_fill(event.unplanned, availability):
        return (
            "routing had not heard of stock inventory holds: planning again from inventory's numbers",
            False,
        )
    return "routing found no warehouse", True


def merged_lines(lines: list[tuple[str, int]]) -> dict[str, int]:
    """Units per SKU of a return (one SKU may appear on several lines with different reasons)."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return dict(sorted(merged.items()))
