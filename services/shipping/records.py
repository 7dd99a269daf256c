"""A shipment as the store hands it up: frozen, typed, built only in `store`.

Nothing above the store reads a database row or JSON text: picking, packing, manifests, tracking,
rebooking and contact corrections all take a `Shipment`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from chassis.db import row_fields
from contracts import ShipmentStatus
from services.shipping.couriers.interface import Consignee, NdrAction


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
    consignee: Consignee | None  # as the courier holds them
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
                consignee=None if row["consignee"] is None else Consignee.stored(row["consignee"]),
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


@dataclass(frozen=True, slots=True)
class ShipmentView:
    """A shipment as operators read it: every column, the allocation's reasons and booking attempts."""

    shipment_id: str
    order_id: str
    warehouse_code: str
    status: str
    courier: str | None
    awb: str | None
    lines: tuple[dict[str, Any], ...]  # each line's sku and quantity
    value_paise: int
    cod_amount_paise: int
    booking_error: str | None
    created_at: datetime
    updated_at: datetime
    allocation: dict[str, Any] | None
    booking_attempts: tuple[dict[str, Any], ...]
    routing_code: str | None
    chargeable_grams: int | None
    package_grams: int | None
    priority: int
    dispatch_by: datetime | None
    pickup_date: date | None
    ndr_attempts: int
    ndr_reason: str | None
    return_id: str | None
    manifest_id: str | None
    packed_by: str | None
    packed_at: datetime | None
    consignee: dict[str, Any] | None
    marketplace: str | None
    picked_by: str | None
    picked_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> ShipmentView:
        return cls(
            **row_fields(cls, row, lines=tuple(row["lines"]), booking_attempts=tuple(row["booking_attempts"]))
        )


@dataclass(frozen=True, slots=True)
class TrackingEvent:
    """One courier scan as it arrived; `applied` false for late, repeated or informational ones."""

    courier_code: str
    status: str | None
    occurred_at: datetime
    location: str | None
    ndr_reason: str | None
    remark: str | None
    applied: bool
    source: str

    @classmethod
    def of(cls, row: asyncpg.Record) -> TrackingEvent:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class NdrInstruction:
    """An instruction given to the courier about a failed delivery, and whether it was sent."""

    attempt: int
    action: str
    reattempt_on: date | None
    new_phone: str | None
    actor: str
    state: str
    error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> NdrInstruction:
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class ShipmentDetail(ShipmentView):
    """A shipment with its tracking history and NDR instructions."""

    tracking: tuple[TrackingEvent, ...]
    ndr_actions: tuple[NdrInstruction, ...]


@dataclass(frozen=True, slots=True)
class PendingNdrAction:
    """An NDR instruction still to be passed to the courier, claimed for this sender."""

    id: int
    shipment_id: str
    courier: str | None
    awb: str | None
    action: NdrAction
    tries: int


@dataclass(frozen=True, slots=True)
class QuietShipment:
    """A parcel on the road the courier has not told us about for a while."""

    shipment_id: str
    courier: str
    awb: str


@dataclass(frozen=True, slots=True)
class PickupLoad:
    """One courier × warehouse on a day: parcels booked against the capacity it confirmed (None: none)."""

    courier: str
    warehouse_code: str
    booked: int
    capacity: int | None
    confirmation_ref: str | None


@dataclass(frozen=True, slots=True)
class LateWarehouse:
    """Forward parcels of one warehouse still inside past their dispatch-by, and the oldest promise."""

    warehouse_code: str
    late: int
    oldest_dispatch_by: datetime


@dataclass(frozen=True, slots=True)
class PackStats:
    """Scans, refused scans and parcels with a packing mistake caught."""

    scans: int
    wrong_items: int
    extra_items: int
    shipments_scanned: int
    shipments_with_errors: int

    @property
    def order_error_rate(self) -> float:
        """The share of parcels scanned that had a mistake caught, to four places."""
        scanned = self.shipments_scanned
        return round(self.shipments_with_errors / scanned, 4) if scanned else 0.0


@dataclass(frozen=True, slots=True)
class Manifest:
    """A courier's pickup sheet for one warehouse on one day."""

    manifest_id: str
    courier: str
    warehouse_code: str
    pickup_date: date
    created_by: str
    created_at: datetime
    pickup_ref: str | None


@dataclass(frozen=True, slots=True)
class EarlyNews:
    """What was heard about an order before its confirmation: a cancellation, a corrected consignee."""

    cancelled_at: datetime | None
    consignee: Consignee | None
