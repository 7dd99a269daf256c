"""Tracking decisions as plain functions: apply a courier scan to a shipment, forward only.

Couriers send scans late, twice and out of order; a scan moves a shipment only if the state
machine allows it and it is not older than the change the shipment already took.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts import NdrReason, ShipmentStatus
from services.shipping.couriers.interface import CourierScan
from services.shipping.domain import advance

S = ShipmentStatus

TERMINAL = frozenset({S.DELIVERED, S.RTO_DELIVERED, S.LOST, S.CANCELLED})
"""No courier scan moves these; polling stops."""


@dataclass(frozen=True, slots=True)
class Tracked:
    """What tracking needs to know about a shipment."""

    status: ShipmentStatus
    ndr_attempts: int
    last_change_at: datetime | None


@dataclass(frozen=True, slots=True)
class Change:
    """A scan that moves the shipment: its new status and, for an NDR, the attempt it failed."""

    status: ShipmentStatus
    attempt: int | None = None
    ndr_reason: NdrReason | None = None


def apply_scan(shipment: Tracked, scan: CourierScan) -> Change | None:
    """The change a scan makes, or None when it is informational, late, or a repeat."""
    if scan.status is None:
        return None
    if shipment.last_change_at is not None and scan.occurred_at < shipment.last_change_at:
        return None
    if scan.status is S.NDR:
        attempt = scan.attempt or shipment.ndr_attempts + 1
        if attempt <= shipment.ndr_attempts:
            return None  # this attempt's failure is already counted
        if shipment.status is not S.NDR and advance(shipment.status, S.NDR) is None:
            return None
        return Change(status=S.NDR, attempt=attempt, ndr_reason=scan.ndr_reason or NdrReason.OTHER)
    target = advance(shipment.status, scan.status)
    return None if target is None else Change(status=target)


def should_return_to_origin(change: Change, *, max_attempts: int) -> bool:
    """After this many failed attempts the seller stops paying for more: send the parcel back."""
    return change.status is S.NDR and (change.attempt or 0) >= max_attempts
