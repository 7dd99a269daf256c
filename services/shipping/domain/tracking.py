"""Tracking decisions as plain functions: apply a courier scan to a shipment, forward only.

Couriers send scans late, twice and out of order; a scan moves a shipment only if the state
machine allows it and it is not older than the change the shipment already took. A scan is also
content we do not trust blindly: one dated in the future is refused (it would make every genuine
later scan look "older"), and an NDR's attempt number counts at most one more than we have seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from contracts import NdrReason, ShipmentStatus
from services.shipping.couriers.interface import CourierScan
from services.shipping.domain.shipments import advance

S = ShipmentStatus

TERMINAL = frozenset({S.DELIVERED, S.RTO_DELIVERED, S.LOST, S.CANCELLED})
"""No courier scan moves these; polling stops."""

CONFIRMED_BY_TRACKING = frozenset({S.DELIVERED, S.RTO_DELIVERED, S.LOST})
"""Final states a pushed scan only claims: they count once the courier's tracking API says so too."""

CLOCK_SKEW = timedelta(minutes=15)
"""How far ahead of our clock a courier's scan time may be (its clock, IST rounding)."""


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


def apply_scan(shipment: Tracked, scan: CourierScan, *, now: datetime) -> Change | None:
    """The change a scan makes, or None when it is informational, late, a repeat or from the future."""
    if scan.status is None or scan.occurred_at > now + CLOCK_SKEW:
        return None
    if shipment.last_change_at is not None and scan.occurred_at < shipment.last_change_at:
        return None
    if scan.status is S.NDR:
        # A failed attempt is the next one: a pushed "attempt 99" must not skip straight to RTO.
        attempt = min(scan.attempt or shipment.ndr_attempts + 1, shipment.ndr_attempts + 1)
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
