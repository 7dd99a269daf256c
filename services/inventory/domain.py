"""Inventory decisions as plain functions: which plan lines to reserve, in a deadlock-free order.

The reservation itself is an atomic conditional update in store.py; this module only decides.
"""

from __future__ import annotations

from chassis.ids import time_ordered_id
from contracts import Allocation, FulfilmentPlan


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


def by_warehouse(rows: list[tuple[str, int]]) -> tuple[int, dict[str, int]]:
    """Total and per-warehouse available-to-sell from (warehouse_code, available) rows."""
    per = {wh: max(available, 0) for wh, available in rows}
    return sum(per.values()), per
