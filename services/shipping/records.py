"""A shipment as the store hands it up: frozen, typed, built only in `store`.

Nothing above the store reads a database row or JSON text: picking, packing, manifests, tracking,
rebooking and contact corrections all take a `Shipment`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chassis.db import row_fields
from contracts import ShipmentStatus


@dataclass(frozen=True, slots=True)
class Shipment:
    """One parcel, forward or a reverse pickup: what is in it, who carries it, where it stands."""

    shipment_id: str
    order_id: str
    warehouse_code: str
    status: ShipmentStatus
    courier: str | None
    awb: str | None
    courier_ref: str | None
    return_id: str | None  # set on a reverse pickup
    lines: tuple[tuple[str, int], ...]  # (sku, quantity) in the box
    value_paise: int
    cod_amount_paise: int
    consignee: dict[str, Any] | None  # name, phone, address as the courier holds them
    routing_code: str | None
    priority: int
    dispatch_by: datetime | None  # the order's promise to leave the warehouse; None on reverse pickups
    chargeable_grams: int | None
    package_grams: int | None
    ndr_attempts: int
    last_change_at: datetime | None
    marketplace: str | None  # its own logistics carry the parcel (flipkart, amazon); None: our courier

    @classmethod
    def of(cls, row: asyncpg.Record) -> Shipment:
        """The record of a `shipments` row (jsonb columns arrive decoded)."""
        return cls(
            **row_fields(
                cls,
                row,
                status=ShipmentStatus(row["status"]),
                lines=tuple((line["sku"], line["quantity"]) for line in row["lines"]),
            )
        )

    def booking(self) -> tuple[str, str]:
        """(courier, AWB) of a booked shipment: only booked ones are picked, labelled, manifested
        or changed at the courier."""
        if self.courier is None or self.awb is None:
            raise ValueError(f"shipment {self.shipment_id} is not booked")
        return self.courier, self.awb

    @property
    def units(self) -> Counter[str]:
        """Units per SKU the box should hold."""
        counted: Counter[str] = Counter()
        for sku, quantity in self.lines:
            counted[sku] += quantity
        return counted
