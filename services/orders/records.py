"""The order as the store hands it up: one frozen, typed record per row, built only in `store`.

Nothing above the store reads a database row or JSON text; a REJECTED order (kept so it can be
corrected) has no customer, address, lines or payment yet, hence the optional fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import asyncpg

from chassis.db import row_fields
from contracts import Allocation, Customer, DeliverySpeed, OrderStatus, Payment
from contracts.values import Address, OrderLine
from services.orders.domain.priority import PriorityFacts


@dataclass(frozen=True, slots=True)
class Order:
    """One order row: what was placed, where it stands, and what fulfilment has reported so far."""

    order_id: str
    channel: str  # free text on a REJECTED order: whatever the channel claimed to be
    channel_order_id: str
    status: OrderStatus
    placed_at: datetime | None
    customer: Customer | None
    shipping_address: Address | None
    lines: tuple[OrderLine, ...]
    shipping_fee_paise: int | None
    discount_paise: int | None
    total_paise: int | None
    payment: Payment | None
    delivery_speed: DeliverySpeed | None
    reservation_id: str | None
    allocations: tuple[Allocation, ...]
    risk_reasons: tuple[str, ...]
    warehouse_codes: tuple[str, ...]
    unroutable: bool
    held_for: str | None
    refunded_paise: int
    refund_ids: tuple[str, ...]
    shipments: dict[str, str]  # shipment_id → status
    awbs: tuple[str, ...]  # every AWB of its shipments, to find the order by
    returned: dict[str, dict[str, int]]  # return_id → sku → units
    received: dict[str, Any] | None  # what a refused channel order said, kept to correct it
    shipped_by_marketplace: bool  # the marketplace's own logistics carry it: shipping books no courier
    rehearsal: bool  # an operator's rehearsal: cancelled once booked, never counted (ADR 0360)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Order:
        """The record of an `orders` row (jsonb columns arrive decoded)."""
        return cls(
            **row_fields(
                cls,
                row,
                status=OrderStatus(row["status"]),
                customer=Customer.model_validate(row["customer"]) if row["customer"] else None,
                shipping_address=Address.model_validate(row["shipping_address"])
                if row["shipping_address"]
                else None,
                lines=tuple(OrderLine.model_validate(line) for line in row["lines"] or ()),
                payment=Payment.model_validate(row["payment"]) if row["payment"] else None,
                delivery_speed=DeliverySpeed(row["delivery_speed"]) if row["delivery_speed"] else None,
                allocations=tuple(Allocation.model_validate(a) for a in row["allocations"] or ()),
                risk_reasons=tuple(row["risk_reasons"]),
                warehouse_codes=tuple(row["warehouse_codes"]),
                refund_ids=tuple(row["refund_ids"]),
                awbs=tuple(row["awbs"]),
            )
        )


class OrderChanges(TypedDict, total=False):
    """What one step changes on an order row, written by `store.update_order` in one UPDATE.

    A key present is a column set (to None where None is allowed); a key absent keeps the column."""

    status: OrderStatus
    held_for: str | None
    cod_confirm_by: datetime | None
    reservation_id: str
    allocations: tuple[Allocation, ...]
    warehouse_codes: tuple[str, ...]
    unroutable: bool
    promised_dispatch_by: datetime
    priority: int
    priority_reasons: tuple[str, ...]
    shipments: dict[str, str]
    awb: str
    """An AWB the order does not have yet, added to `awbs`."""


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A line a step adds to the order's timeline (the store stamps when): a status change, or a
    note, which has the same status on both sides."""

    from_status: OrderStatus | None
    to_status: OrderStatus
    reason: str
    cause: str
    cause_event_id: str | None
    actor: str


_ORDER_FIELDS = frozenset(f.name for f in dataclasses.fields(Order))


def applied(row: Order, changes: OrderChanges) -> Order:
    """The order as it reads once `changes` are written (columns it does not carry are left out)."""
    carried: dict[str, Any] = {k: v for k, v in changes.items() if k in _ORDER_FIELDS}
    return dataclasses.replace(row, **carried)


@dataclass(frozen=True, slots=True)
class OrderSummary:
    """One order as the queue lists it."""

    order_id: str
    channel: str
    channel_order_id: str
    status: str
    total_paise: int | None
    payment_method: str | None
    payment_status: str | None
    warehouse_codes: tuple[str, ...]
    awbs: tuple[str, ...]
    risk_reasons: tuple[str, ...]
    promised_dispatch_by: datetime | None
    priority: int | None
    priority_reasons: tuple[str, ...]
    created_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> OrderSummary:
        return cls(
            **row_fields(
                cls,
                row,
                warehouse_codes=tuple(row["warehouse_codes"]),
                awbs=tuple(row["awbs"]),
                risk_reasons=tuple(row["risk_reasons"]),
                priority_reasons=tuple(row["priority_reasons"]),
            )
        )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One status change of an order: why, caused by what, by whom, when."""

    from_status: str | None
    to_status: str
    reason: str
    cause: str | None
    cause_event_id: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """An order as operators read it: every column as stored (JSON columns as the JSON they hold),
    and its timeline."""

    order_id: str
    channel: str
    channel_order_id: str
    status: str
    placed_at: datetime | None
    customer: dict[str, Any] | None
    shipping_address: dict[str, Any] | None
    lines: list[dict[str, Any]] | None
    shipping_fee_paise: int | None
    discount_paise: int | None
    total_paise: int | None
    payment: dict[str, Any] | None
    delivery_speed: str | None
    problems: list[dict[str, Any]] | None
    received: dict[str, Any] | None
    reservation_id: str | None
    allocations: list[dict[str, Any]] | None
    awbs: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    phone: str | None
    entered_by: str | None
    risk_reasons: tuple[str, ...]
    warehouse_codes: tuple[str, ...]
    unroutable: bool
    held_for: str | None
    payment_expires_at: datetime | None
    cod_confirm_by: datetime | None
    promised_dispatch_by: datetime | None
    priority: int | None
    refunded_paise: int
    refund_ids: tuple[str, ...]
    shipments: dict[str, str]
    returned: dict[str, dict[str, int]]
    priority_reasons: tuple[str, ...]
    shipped_by_marketplace: bool
    rehearsal: bool
    timeline: tuple[TimelineEntry, ...]


@dataclass(frozen=True, slots=True)
class AwaitingDispatch:
    """A confirmed order not yet packed: its promise, its stored priority and what priority is
    decided on."""

    order_id: str
    promised_dispatch_by: datetime | None
    priority: int | None
    facts: PriorityFacts


@dataclass(frozen=True, slots=True)
class BlockEntry:
    """A blocked phone or pincode: its new orders wait for review."""

    kind: str
    value: str
    reason: str
    added_by: str
    added_at: datetime
