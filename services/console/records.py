"""What the console's store hands up besides whole order views (`domain.view.OrderView`): a queue
row, an operator's account and a live session; frozen, typed, built only in `store`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from chassis.db import row_fields


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One order as the queue lists it: only the columns a queue page shows (a page is read often)."""

    order_id: str
    sort_at: datetime
    channel: str | None
    channel_order_id: str | None
    customer_name: str | None
    phone: str | None
    city: str | None
    pincode: str | None
    status: str | None
    payment_method: str | None
    payment_status: str | None
    total_paise: int | None
    shipment_status: str | None
    couriers: tuple[str, ...]
    awbs: tuple[str, ...]
    warehouses: tuple[str, ...]
    ndr_count: int

    @classmethod
    def of(cls, row: asyncpg.Record) -> QueueRow:
        """The record of a queue page's `order_view` row."""
        return cls(
            **row_fields(
                cls,
                row,
                couriers=tuple(row["couriers"]),
                awbs=tuple(row["awbs"]),
                warehouses=tuple(row["warehouses"]),
            )
        )


@dataclass(frozen=True, slots=True)
class OperatorAccount:
    """An operator's sign-in account: role, password hash and the lockout counters."""

    name: str
    role: str
    password_hash: str
    failed_sign_ins: int
    locked_until: datetime | None


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session that has not expired, with its operator's role."""

    operator: str
    role: str
    csrf_token: str
