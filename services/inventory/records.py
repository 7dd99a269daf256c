"""A reservation as the store hands it up: frozen, typed, built only in `store`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from chassis.db import row_fields
from contracts import Allocation


@dataclass(frozen=True, slots=True)
class Reservation:
    """Units held for one order, per warehouse, until they ship or are released."""

    reservation_id: str
    order_id: str
    status: str  # active | released | committed
    allocations: tuple[Allocation, ...]
    expires_at: datetime | None  # unconfirmed: released after this
    released_because: str | None  # cancelled | expired
    rehearsal: bool  # an operator's rehearsal order: its units are held apart (ADR 0360)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Reservation:
        """The record of a `reservations` row (jsonb columns arrive decoded)."""
        return cls(
            **row_fields(
                cls, row, allocations=tuple(Allocation.model_validate(a) for a in row["allocations"])
            )
        )
