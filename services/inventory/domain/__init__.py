"""Inventory's pure core: what to reserve (in a deadlock-free order), which parcel states dispatch
stock, when to alert on low stock, how returned lines add up (stock).

No I/O here: the reservation itself is an atomic conditional update in store.py; this only decides.
"""

from services.inventory.domain.stock import (
    LEFT_THE_WAREHOUSE,
    allocations_of,
    by_warehouse,
    could_fill,
    dispatches,
    failure,
    first_fitting,
    low_stock_alert,
    merged_lines,
    new_reservation_id,
)

__all__ = [
    "LEFT_THE_WAREHOUSE",
    "allocations_of",
    "by_warehouse",
    "could_fill",
    "dispatches",
    "failure",
    "first_fitting",
    "low_stock_alert",
    "merged_lines",
    "new_reservation_id",
]
