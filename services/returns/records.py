"""A return and its refund as the store hands them up: frozen, typed, built only in `store`.

Nothing above the store reads a database row or JSON text for the desk's decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from chassis.db import row_fields
from contracts import ReturnResolution, ReturnStatus
from contracts.values import ReturnLine


@dataclass(frozen=True, slots=True)
class Return:
    """One return (RMA) or RTO parcel expected back at the desk."""

    return_id: str
    order_id: str
    status: ReturnStatus
    resolution: ReturnResolution
    kind: str  # "return" (the customer asked) or "rto" (the courier brought it back)
    lines: tuple[ReturnLine, ...]
    replacements: dict[str, str]  # returned SKU → the SKU to send instead, for an exchange
    warehouse_code: str | None
    pickup_awb: str | None
    refund_to: dict[str, Any] | None  # COD: where the money goes (upi, bank_account, store_credit)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Return:
        """The record of a `returns` row (jsonb columns arrive decoded)."""
        return cls(
            **row_fields(
                cls,
                row,
                status=ReturnStatus(row["status"]),
                resolution=ReturnResolution(row["resolution"]),
                lines=tuple(ReturnLine.model_validate(line) for line in row["lines"]),
                replacements={
                    line["sku"]: line["replacement_sku"]
                    for line in row["lines"]
                    if line.get("replacement_sku")
                },
            )
        )


@dataclass(frozen=True, slots=True)
class Refund:
    """Money owed back for one return, and how far the gateway has got with it."""

    refund_id: str
    return_id: str
    order_id: str
    mode: str  # gateway_refund, payout or store_credit
    amount_paise: int
    shipping_fee_paise: int
    status: str  # pending, initiated, processed, failed
    attempt: int
    gateway_payment_id: str | None
    gateway_refund_id: str | None
    failure_reason: str | None
    refund_to: dict[str, Any] | None  # the return's, where a query reads it along (a payout's target)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Refund:
        """The record of a `refunds` row, with the return's `refund_to` when the query joined it."""
        return cls(**row_fields(cls, row, refund_to=row.get("refund_to")))
