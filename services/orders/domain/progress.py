"""Where an order goes next: after its stock is reserved, after a hold, from its shipments and returns.

Plain functions over plain data; the caller checks the move against the machine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from contracts import OrderStatus, PaymentMethod, PaymentStatus, ShipmentStatus

S = OrderStatus
Sh = ShipmentStatus

PAID = frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED})


def underpaid(method: PaymentMethod, status: PaymentStatus, paid_paise: int, total_paise: int) -> str | None:
    """Why a prepaid order's captured money does not cover it, or None: a release must not hide it."""
    if method is PaymentMethod.COD or status not in PAID or paid_paise == total_paise:
        return None
    return (
        f"paid {paid_paise} paise but the order total is {total_paise}: "
        "collect or refund the difference first"
    )


def status_after_reservation(
    method: PaymentMethod, status: PaymentStatus, risk: Sequence[str] = ()
) -> tuple[OrderStatus, str]:
    """Where an order goes once its stock is reserved, and why."""
    if risk:
        return S.ON_HOLD, "review: " + "; ".join(risk)
    return next_after_hold(method, status)


def next_after_hold(method: PaymentMethod, status: PaymentStatus) -> tuple[OrderStatus, str]:
    """Where a reserved order goes when nothing (or no one) holds it back. A COD order is paid on
    delivery and waits for the customer's confirmation; one already captured is an exchange's
    replacement (paid by the units sent back, nothing to collect) and goes on as paid."""
    if method is PaymentMethod.COD and status is not PaymentStatus.CAPTURED:
        if status is PaymentStatus.COD_CONFIRMED:
            return S.CONFIRMED, "stock reserved and COD confirmed"
        return S.PENDING_COD_CONFIRMATION, "stock reserved; waiting for the customer to confirm COD"
    if status in PAID:
        return S.CONFIRMED, f"stock reserved and payment {status}"
    return S.PENDING_PAYMENT, "stock reserved; waiting for payment"


UnroutableAction = Literal["hold", "backorder", "cancel"]
NoReplyAction = Literal["hold", "cancel"]

UNROUTABLE_TARGET: dict[str, OrderStatus] = {
    "hold": S.ON_HOLD,
    "backorder": S.BACKORDERED,
    "cancel": S.CANCELLED,
}
NO_REPLY_TARGET: dict[str, OrderStatus] = {"hold": S.ON_HOLD, "cancel": S.CANCELLED}

# Each shipment status read as the order status it means for the parcel alone.
_AS_ORDER: dict[ShipmentStatus, OrderStatus | None] = {
    Sh.CREATED: S.CONFIRMED,
    Sh.AWB_ASSIGNED: S.CONFIRMED,
    Sh.PICKED: S.CONFIRMED,
    Sh.PACKED: S.PACKED,
    Sh.MANIFESTED: S.PACKED,
    Sh.PICKED_UP: S.SHIPPED,
    Sh.IN_TRANSIT: S.IN_TRANSIT,
    Sh.OUT_FOR_DELIVERY: S.OUT_FOR_DELIVERY,
    Sh.DELIVERED: S.DELIVERED,
    Sh.NDR: S.DELIVERY_FAILED,
    Sh.RTO_INITIATED: S.RTO_INITIATED,
    Sh.RTO_IN_TRANSIT: S.RTO_INITIATED,
    Sh.RTO_DELIVERED: S.RTO_DELIVERED,
    Sh.LOST: None,
    Sh.CANCELLED: None,
}
_LEFT = frozenset({S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.DELIVERY_FAILED})
_MOVING = (S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY)


_NOT_BOOKED = frozenset({ShipmentStatus.CREATED, ShipmentStatus.CANCELLED})


def rehearsal_over(shipments: Sequence[ShipmentStatus], expected: int) -> bool:
    """A rehearsal order has done all it should (ADR 0360) once every parcel its reservation implies
    (one per warehouse) is booked with a courier: the next step would be a real pickup."""
    return sum(s not in _NOT_BOOKED for s in shipments) >= max(expected, 1)


def status_from_shipments(shipments: Sequence[ShipmentStatus], expected: int) -> OrderStatus | None:
    """The order's status derived from all its forward shipments (None: nothing to derive yet).

    `expected` is how many shipments the reservation implies (one per warehouse); shipments not yet
    heard of count as not dispatched. Trouble wins: any NDR is DELIVERY_FAILED, and an order whose
    parcels all come back is RTO."""
    parcels = [p for p in (_AS_ORDER[s] for s in shipments) if p is not None]
    if not parcels:
        return None
    waiting = max(expected - len(parcels), 0)
    if all(p is S.RTO_DELIVERED for p in parcels) and not waiting:
        return S.RTO_DELIVERED
    if all(p in (S.RTO_INITIATED, S.RTO_DELIVERED) for p in parcels) and not waiting:
        return S.RTO_INITIATED
    if S.DELIVERY_FAILED in parcels:
        return S.DELIVERY_FAILED
    delivered = sum(p is S.DELIVERED for p in parcels)
    if delivered and delivered == len(parcels) and not waiting:
        return S.DELIVERED
    if delivered:
        return S.PARTIALLY_DELIVERED
    left = [p for p in parcels if p in _LEFT]
    if left and (len(left) < len(parcels) or waiting):
        return S.PARTIALLY_SHIPPED
    if left:
        return min(left, key=_MOVING.index)
    if all(p is S.PACKED for p in parcels) and not waiting:
        return S.PACKED
    return None


def status_from_returns(ordered: Mapping[str, int], returned: Mapping[str, int]) -> OrderStatus:
    """RETURNED once every ordered unit came back, PARTIALLY_RETURNED before."""
    if all(returned.get(sku, 0) >= quantity for sku, quantity in ordered.items()):
        return S.RETURNED
    return S.PARTIALLY_RETURNED


def waited_for(status: OrderStatus, held_for: str | None, *, no_courier_hold: str) -> str | None:
    """Why a reservation arriving for an order that routing had given up on lets it go on, or None
    when the order was not waiting for one: held for want of a courier (ADR 0311), held or
    backordered for want of stock (ADR 0301). An order an operator or a review holds stays held."""
    if status is S.ON_HOLD and held_for == no_courier_hold:
        return "a courier serves it now"
    if (status is S.ON_HOLD and held_for == "stock") or status is S.BACKORDERED:
        return "its stock arrived"
    return None
