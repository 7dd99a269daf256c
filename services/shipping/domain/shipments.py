"""Shipping decisions as plain functions: one shipment per warehouse, COD split, the status machine.

No I/O here: everything takes and returns plain data, and is tested without Kafka or PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from chassis.clock import india_date
from contracts import OrderConfirmed, PaymentMethod, ShipmentStatus, SkuQuantity
from services.shipping.couriers.interface import ShipmentRequest
from services.shipping.domain.allocation import Parcel

S = ShipmentStatus

TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    S.CREATED: frozenset({S.AWB_ASSIGNED, S.CANCELLED}),
    S.AWB_ASSIGNED: frozenset({S.PICKED, S.PACKED, S.MANIFESTED, S.PICKED_UP, S.IN_TRANSIT, S.CANCELLED}),
    S.PICKED: frozenset({S.PACKED, S.MANIFESTED, S.PICKED_UP, S.IN_TRANSIT, S.CANCELLED}),
    S.PACKED: frozenset({S.MANIFESTED, S.PICKED_UP, S.IN_TRANSIT, S.CANCELLED}),
    S.MANIFESTED: frozenset({S.PICKED_UP, S.IN_TRANSIT, S.CANCELLED}),
    S.PICKED_UP: frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.RTO_INITIATED, S.LOST}),
    S.IN_TRANSIT: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.NDR, S.RTO_INITIATED, S.LOST}),
    S.OUT_FOR_DELIVERY: frozenset({S.DELIVERED, S.NDR, S.RTO_INITIATED, S.LOST}),
    # A re-attempt after an NDR is the one move back: the parcel goes out for delivery again.
    S.NDR: frozenset({S.OUT_FOR_DELIVERY, S.DELIVERED, S.RTO_INITIATED, S.LOST}),
    S.RTO_INITIATED: frozenset({S.RTO_IN_TRANSIT, S.RTO_DELIVERED, S.LOST}),
    S.RTO_IN_TRANSIT: frozenset({S.RTO_DELIVERED, S.LOST}),
    S.DELIVERED: frozenset(),
    S.RTO_DELIVERED: frozenset(),
    S.LOST: frozenset(),
    S.CANCELLED: frozenset(),
}
"""Allowed shipment status changes: DESIGN.md's canonical machine, forward-only, skips allowed
because couriers do not report every scan."""


def advance(current: ShipmentStatus, target: ShipmentStatus) -> ShipmentStatus | None:
    """The new status, or None when the update changes nothing (a duplicate or a late scan)."""
    return target if target in TRANSITIONS[current] else None


_SHIPMENT_NAMESPACE = uuid.UUID("0b6a3c1e-5f1d-4e0a-9d43-7c1f2e6a8b20")


def shipment_id_for(order_id: str, warehouse_code: str) -> str:
    """SHP-… derived from (order, warehouse): a redelivered event after a crash that rolled back
    the row books under the same courier reference, so the courier returns the same AWB."""
    digest = uuid.uuid5(_SHIPMENT_NAMESPACE, f"{order_id}/{warehouse_code}")
    return "SHP-" + digest.hex[:16].upper()


def marketplace_carrier(order: OrderConfirmed) -> str | None:
    """The marketplace whose own logistics carry this order's parcels (its channel: Flipkart's
    shipments other than self-ship, Amazon Easy Ship), or None when a courier of ours does. Such a
    parcel is never booked with our couriers: its AWB and label come from the marketplace (ADR 330)."""
    return order.channel.value if order.shipped_by_marketplace else None


MARKETPLACE_AWB_AT: dict[ShipmentStatus, ShipmentStatus] = {
    S.CREATED: S.AWB_ASSIGNED,
    S.PICKED: S.PICKED,
    S.PACKED: S.PACKED,
}
"""Where a marketplace-carried parcel stands once its marketplace's AWB arrives: booked when not yet
picked; a parcel picked or packed first (its label needs our invoice, issued on packing) stays."""


def with_marketplace_awb(status: ShipmentStatus) -> ShipmentStatus | None:
    """The status a marketplace-carried parcel takes with its AWB; None when too late for one."""
    return MARKETPLACE_AWB_AT.get(status)


def reverse_pickup_id(return_id: str) -> str:
    """SHP-… derived from the return: a redelivered request books under the same reference."""
    return "SHP-R" + uuid.uuid5(_SHIPMENT_NAMESPACE, f"return/{return_id}").hex[:15].upper()


@dataclass(frozen=True, slots=True)
class ShipmentPlan:
    """What leaves one warehouse for one order: its lines, their value and the COD to collect."""

    warehouse_code: str
    lines: tuple[SkuQuantity, ...]
    value_paise: int
    cod_amount_paise: int


def plan_shipments(order: OrderConfirmed) -> list[ShipmentPlan]:
    """One shipment per warehouse in the reservation, in warehouse-code order.

    On a COD order the customer pays the order total once in all: it is split across the
    parcels in proportion to their value, the rounding remainder on the last one.
    """
    unit_price = {line.sku: line.unit_price_paise for line in order.lines}
    by_warehouse: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for allocation in order.allocations:
        by_warehouse[allocation.warehouse_code][allocation.sku] += allocation.quantity
    grouped = [
        (
            code,
            tuple(SkuQuantity(sku=sku, quantity=qty) for sku, qty in sorted(skus.items())),
            sum(unit_price.get(sku, 0) * qty for sku, qty in skus.items()),
        )
        for code, skus in sorted(by_warehouse.items())
    ]
    cod_total = order.total_paise if order.payment.method is PaymentMethod.COD else 0
    shares = _split(cod_total, [value for _, _, value in grouped])
    return [
        ShipmentPlan(warehouse_code=code, lines=lines, value_paise=value, cod_amount_paise=share)
        for (code, lines, value), share in zip(grouped, shares, strict=True)
    ]


def _split(total: int, weights: list[int]) -> list[int]:
    """``total`` in integer parts proportional to ``weights`` (equal parts if all are 0)."""
    if not weights:
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    parts = [total * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def booking_request(
    order: OrderConfirmed,
    plan: ShipmentPlan,
    *,
    shipment_id: str,
    unit_weight_grams: int = 0,
    parcel: Parcel | None = None,
) -> ShipmentRequest:
    """What to ask the courier for one planned shipment: the parcel's measured box if known,
    otherwise ``unit_weight_grams`` per unit."""
    if parcel is not None:
        return ShipmentRequest(
            reference=shipment_id,
            pickup_location=plan.warehouse_code,
            consignee_name=order.customer.name,
            consignee_phone=order.customer.phone,
            address=order.shipping_address,
            items=plan.lines,
            value_paise=plan.value_paise,
            cod_amount_paise=plan.cod_amount_paise,
            weight_grams=parcel.chargeable_grams,
            length_cm=parcel.length_cm,
            breadth_cm=parcel.breadth_cm,
            height_cm=parcel.height_cm,
        )
    return ShipmentRequest(
        reference=shipment_id,
        pickup_location=plan.warehouse_code,
        consignee_name=order.customer.name,
        consignee_phone=order.customer.phone,
        address=order.shipping_address,
        items=plan.lines,
        value_paise=plan.value_paise,
        cod_amount_paise=plan.cod_amount_paise,
        weight_grams=unit_weight_grams * sum(line.quantity for line in plan.lines),
    )


def reattempt_day_problem(reattempt_on: date | None, *, now: datetime) -> str | None:
    """Why an operator's re-attempt day cannot be sent to the courier, or None: the courier's
    calendar is India's, so "today" turns at midnight IST, not at midnight on the server."""
    if reattempt_on is not None and reattempt_on < india_date(now):
        return f"{reattempt_on.isoformat()} is in the past (today in India is {india_date(now).isoformat()})"
    return None
