"""Stock events: reservations per order, and available-to-sell per SKU for channels and routing.

Reservation events are keyed by order_id; stock_changed and low_stock by sku.
"""

from __future__ import annotations

from pydantic import Field

from contracts import topics
from contracts._base import Event, UtcDatetime, utcnow
from contracts.values import Allocation, NonEmptyStr, Sku, StockAvailability, StockLevels, WarehouseCode


class InventoryReserved(Event):
    """``inventory.reserved.v1``: every line of the order is held in the allocations."""

    TOPIC = topics.INVENTORY_RESERVED

    order_id: NonEmptyStr
    reservation_id: NonEmptyStr
    allocations: list[Allocation] = Field(min_length=1)
    plan_rank: int | None = Field(default=None, description="The routing plan that was reserved.")
    expires_at: UtcDatetime | None = None
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class InventoryReservationFailed(Event):
    """``inventory.reservation_failed.v1``: no plan could be reserved; routing may re-plan."""

    TOPIC = topics.INVENTORY_RESERVATION_FAILED

    order_id: NonEmptyStr
    attempt: int = Field(default=1, ge=1)
    reason: str
    availability: list[StockAvailability] = Field(default_factory=list)
    final: bool = Field(
        default=True,
        description="False while routing will re-plan; orders acts only on the final failure.",
    )
    no_courier: bool = Field(
        default=False,
        description="Routing found no courier for the pincode (not no stock): orders holds it for that.",
    )
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class InventoryReleased(Event):
    """``inventory.released.v1``: a reservation's stock is available again (cancel, expiry)."""

    TOPIC = topics.INVENTORY_RELEASED

    order_id: NonEmptyStr
    reservation_id: NonEmptyStr
    allocations: list[Allocation]
    reason: str
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class StockChanged(Event):
    """``inventory.stock_changed.v1``: available-to-sell of one SKU, per warehouse and in total."""

    TOPIC = topics.INVENTORY_STOCK_CHANGED
    KEY_FIELD = "sku"

    sku: Sku
    available_total: int
    by_warehouse: dict[str, int] = Field(description="Warehouse code → available-to-sell.")
    levels: dict[str, StockLevels] | None = Field(
        default=None,
        description="Warehouse code → on hand, reserved, buffer and reorder point behind by_warehouse, "
        "for the same warehouses; absent from events published before it was added.",
    )
    changed_at: UtcDatetime = Field(default_factory=utcnow)


class LowStock(Event):
    """``inventory.low_stock.v1``: a SKU in a warehouse fell to or below its reorder point."""

    TOPIC = topics.INVENTORY_LOW_STOCK
    KEY_FIELD = "sku"

    sku: Sku
    warehouse_code: WarehouseCode
    available: int
    reorder_point: int = Field(ge=0)
    available_total: int | None = Field(default=None, description="Across every warehouse.")
    occurred_at: UtcDatetime = Field(default_factory=utcnow)
