"""Inventory decisions as plain functions: what to reserve (in a deadlock-free order), when to
alert on low stock, how returned lines add up.

The reservation itself is an atomic conditional update in store.py; this module only decides.
"""

from __future__ import annotations

from chassis.ids import time_ordered_id
from contracts import Allocation, FulfilmentPlan, ShipmentStatus

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


def merged_lines(lines: list[tuple[str, int]]) -> dict[str, int]:
    """Units per SKU of a return (one SKU may appear on several lines with different reasons)."""
    merged: dict[str, int] = {}
    for sku, quantity in lines:
        merged[sku] = merged.get(sku, 0) + quantity
    return dict(sorted(merged.items()))
