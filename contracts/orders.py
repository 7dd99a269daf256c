"""Events the orders service writes as the single owner of order state.

Every ``orders.*`` event carries ``order_id``, ``channel``, ``channel_order_id``; keyed by order_id.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from contracts import topics
from contracts._base import AwareDatetime, Event, UtcDatetime, flag, utcnow
from contracts.enums import CancelReason, Channel, DeliverySpeed, OrderStatus
from contracts.values import (
    Address,
    Allocation,
    Customer,
    FieldProblem,
    NonEmptyStr,
    OrderLine,
    Paise,
    Payment,
)


class OrderEvent(Event):
    """What every event about an order from the orders service carries; not a topic of its own."""

    order_id: NonEmptyStr
    channel: Channel
    channel_order_id: NonEmptyStr
    rehearsal: bool = flag(
        "An operator's rehearsal order (ADR 0360): it runs the real pipeline with every message "
        "to the operator's own number, is cancelled once its shipment is booked, and never counts in "
        "analytics, channel stock or invoices. Absent on every real order."
    )


class OrderPlaced(OrderEvent):
    """``orders.placed.v1``: accepted into the system; ``customer.phone`` is E.164."""

    TOPIC = topics.ORDERS_PLACED

    status: OrderStatus = OrderStatus.PLACED
    placed_at: AwareDatetime
    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    shipping_fee_paise: Paise = 0
    discount_paise: Paise = 0
    total_paise: Paise
    payment: Payment
    delivery_speed: DeliverySpeed = DeliverySpeed.STANDARD
    shipped_by_marketplace: bool = flag(
        "The marketplace's own logistics carry it: routing asks no courier of ours (ADR 0311)."
    )
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class OrderRejected(OrderEvent):
    """``orders.rejected.v1``: refused at intake, with every problem found, not just the first."""

    TOPIC = topics.ORDERS_REJECTED

    problems: list[FieldProblem] = Field(min_length=1)
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class OrderConfirmed(OrderEvent):
    """``orders.confirmed.v1``: paid or COD-confirmed and reserved; shipping starts from this."""

    TOPIC = topics.ORDERS_CONFIRMED

    customer: Customer
    shipping_address: Address
    lines: list[OrderLine] = Field(min_length=1)
    payment: Payment
    total_paise: Paise
    delivery_speed: DeliverySpeed = DeliverySpeed.STANDARD
    reservation_id: NonEmptyStr
    allocations: list[Allocation] = Field(min_length=1)
    promised_dispatch_by: UtcDatetime | None = Field(
        default=None, description="When the order must leave the warehouse; earliest is picked first."
    )
    priority: int = Field(
        default=0,
        description="Among orders due the same day, higher is picked first: express before standard, "
        "prepaid before COD, high value first.",
    )
    shipped_by_marketplace: bool = flag(
        "The marketplace's own logistics carry it (as channel.orders.v1 said): shipping books "
        "no courier of its own and takes the marketplace's AWB."
    )
    priority_reasons: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        max_length=16,
        description='Why it has that priority: one entry per rule that counted, e.g. "express +100", '
        '"cod -20", "value ≥ ₹5,000.00 +30" (the priority rules in force when it was confirmed).',
    )
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class OrderCancelled(OrderEvent):
    """``orders.cancelled.v1``: inventory releases the reservation, shipping stops the shipment."""

    TOPIC = topics.ORDERS_CANCELLED

    reason_code: CancelReason
    note: str | None = None
    occurred_at: UtcDatetime = Field(default_factory=utcnow)


class OrderStatusChanged(OrderEvent):
    """``orders.status_changed.v1``: every lifecycle change, from, to, why and when."""

    TOPIC = topics.ORDERS_STATUS_CHANGED

    from_status: OrderStatus | None = Field(description="None for the first status of an order.")
    to_status: OrderStatus
    reason: str
    changed_at: UtcDatetime = Field(default_factory=utcnow)
    customer: Customer | None = Field(
        default=None, description="So notifications can message without another lookup."
    )
    actor: str | None = Field(
        default=None, description="Who made the change: role:name of an operator's key, razorpay, or system."
    )


class OrderContactCorrected(OrderEvent):
    """``orders.contact_corrected.v1``: an operator corrected the phone and/or address of an order
    shipping already has (CONFIRMED or PACKED); shipping updates or re-books its parcels."""

    TOPIC = topics.ORDERS_CONTACT_CORRECTED

    customer: Customer = Field(description="The customer after the correction; ``phone`` is E.164.")
    shipping_address: Address = Field(
        description="The whole shipping address after the correction, not only the changed parts."
    )
    corrected_by: NonEmptyStr = Field(description="Who corrected it: role:name of the operator's key.")
    corrected_at: UtcDatetime = Field(default_factory=utcnow)
