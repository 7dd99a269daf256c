"""The order and payment state machines as data: which status may follow which, and nothing else.

Every status change in the service goes through `can_transition` / `can_pay`; the tables are the
one place to read (and change) the rules.
"""

from __future__ import annotations

from contracts import OrderStatus, PaymentMethod, PaymentStatus

S = OrderStatus
P = PaymentStatus

TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PLACED: frozenset(
        {S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.ON_HOLD, S.CONFIRMED, S.CANCELLED, S.BACKORDERED}
    ),
    S.PENDING_PAYMENT: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.PENDING_COD_CONFIRMATION: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    # Released back to where the order would be had it not been held; PLACED when no stock is held.
    S.ON_HOLD: frozenset({S.PLACED, S.CONFIRMED, S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.CANCELLED}),
    # Stock arrived (routing planned it again by itself) or an operator released it.
    S.BACKORDERED: frozenset(
        {S.PLACED, S.ON_HOLD, S.CONFIRMED, S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.CANCELLED}
    ),
    # From here on shipping has the order: no hold (it could not be told), cancel until dispatch.
    # Shipment updates arrive late and out of order, so the derived status may skip ahead.
    S.CONFIRMED: frozenset(
        {
            S.PACKED,
            S.PARTIALLY_SHIPPED,
            S.SHIPPED,
            S.IN_TRANSIT,
            S.OUT_FOR_DELIVERY,
            S.PARTIALLY_DELIVERED,
            S.DELIVERED,
            S.CANCELLED,
        }
    ),
    S.PACKED: frozenset(
        {
            S.PARTIALLY_SHIPPED,
            S.SHIPPED,
            S.IN_TRANSIT,
            S.OUT_FOR_DELIVERY,
            S.PARTIALLY_DELIVERED,
            S.DELIVERED,
            S.CANCELLED,
        }
    ),
    S.PARTIALLY_SHIPPED: frozenset(
        {
            S.SHIPPED,
            S.IN_TRANSIT,
            S.OUT_FOR_DELIVERY,
            S.PARTIALLY_DELIVERED,
            S.DELIVERED,
            S.DELIVERY_FAILED,
            S.RTO_INITIATED,
        }
    ),
    S.SHIPPED: frozenset(
        {
            S.IN_TRANSIT,
            S.OUT_FOR_DELIVERY,
            S.PARTIALLY_DELIVERED,
            S.DELIVERED,
            S.DELIVERY_FAILED,
            S.RTO_INITIATED,
        }
    ),
    S.IN_TRANSIT: frozenset(
        {S.OUT_FOR_DELIVERY, S.PARTIALLY_DELIVERED, S.DELIVERED, S.DELIVERY_FAILED, S.RTO_INITIATED}
    ),
    S.OUT_FOR_DELIVERY: frozenset({S.PARTIALLY_DELIVERED, S.DELIVERED, S.DELIVERY_FAILED, S.RTO_INITIATED}),
    # An NDR goes back out on a re-attempt, or home (RTO).
    S.DELIVERY_FAILED: frozenset({S.OUT_FOR_DELIVERY, S.PARTIALLY_DELIVERED, S.DELIVERED, S.RTO_INITIATED}),
    S.PARTIALLY_DELIVERED: frozenset({S.DELIVERED, S.DELIVERY_FAILED, S.RTO_INITIATED, S.RETURN_REQUESTED}),
    S.RTO_INITIATED: frozenset({S.RTO_DELIVERED}),
    S.DELIVERED: frozenset({S.RETURN_REQUESTED}),
    # A refused return request puts the order back to DELIVERED.
    S.RETURN_REQUESTED: frozenset({S.PARTIALLY_RETURNED, S.RETURNED, S.DELIVERED}),
    S.PARTIALLY_RETURNED: frozenset({S.RETURN_REQUESTED, S.RETURNED}),
    S.RETURNED: frozenset({S.REFUNDED}),
    # An operator fixed a refused order and submitted it again.
    S.REJECTED: frozenset({S.PLACED}),
    S.RTO_DELIVERED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}
"""Allowed order status changes: the order machine of DESIGN.md, as data."""

BEFORE_DISPATCH = frozenset(s for s, targets in TRANSITIONS.items() if S.CANCELLED in targets)
"""Statuses an order can still be cancelled in: nothing has left a warehouse."""

WITH_SHIPPING_UNDISPATCHED = frozenset({S.CONFIRMED, S.PACKED})
"""Statuses in which shipping has the order's address but no parcel has been handed to a courier."""

CORRECTABLE = (
    frozenset({S.PLACED, S.PENDING_PAYMENT, S.PENDING_COD_CONFIRMATION, S.ON_HOLD, S.BACKORDERED})
    | WITH_SHIPPING_UNDISPATCHED
)
"""Statuses whose address and phone an operator may correct: no parcel is with a courier yet."""


def correction_refusal(status: OrderStatus) -> str | None:
    """Why the phone and address of an order in this status cannot be corrected (None: they can)."""
    if status in CORRECTABLE:
        return None
    if status in (S.CANCELLED, S.REJECTED):
        return f"a {status} order cannot be corrected" + (
            " (resubmit it instead)" if status is S.REJECTED else ""
        )
    return (
        f"a {status} order cannot be corrected: a parcel is already with the courier "
        "(ask the courier through an NDR action instead)"
    )


PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.AUTHORIZED, P.CAPTURED, P.FAILED, P.COD_CONFIRMED, P.COD_DECLINED}),
    # A failed attempt is not the end: the customer may pay again on the same order.
    P.FAILED: frozenset({P.AUTHORIZED, P.CAPTURED}),
    # The gateway refunds an authorisation that is never captured.
    P.AUTHORIZED: frozenset({P.CAPTURED, P.FAILED, P.REFUNDED}),
    P.CAPTURED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.PARTIALLY_REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    # A customer who confirmed may still decline before dispatch.
    P.COD_CONFIRMED: frozenset({P.COD_DECLINED, P.COLLECTED}),
    P.COD_DECLINED: frozenset(),
    P.COLLECTED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.REFUNDED: frozenset(),
}
"""Allowed payment status changes, COD and prepaid in one table."""

COD_ONLY = frozenset({P.COD_CONFIRMED, P.COD_DECLINED, P.COLLECTED})
PREPAID_ONLY = frozenset({P.AUTHORIZED, P.CAPTURED, P.FAILED})


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """Whether the order may move from current to target."""
    return target in TRANSITIONS.get(current, frozenset())


def can_pay(method: PaymentMethod, current: PaymentStatus, target: PaymentStatus) -> bool:
    """Whether a payment of this method may move from current to target."""
    foreign = COD_ONLY if method is not PaymentMethod.COD else PREPAID_ONLY
    if current in foreign or target in foreign:
        return False
    return target in PAYMENT_TRANSITIONS.get(current, frozenset())
