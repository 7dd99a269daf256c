"""A return and its refund as the store hands them up: frozen, typed, built only in `store`.

Nothing above the store reads a database row or JSON text for the desk's decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
    calls: int  # gateway calls made, retries included
    processed_at: datetime | None
    refund_to: dict[str, Any] | None  # the return's, where a query reads it along (a payout's target)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Refund:
        """The record of a `refunds` row, with the return's `refund_to` when the query joined it."""
        return cls(**row_fields(cls, row, refund_to=row.get("refund_to")))


@dataclass(frozen=True, slots=True)
class ReturnView:
    """A return as operators and customers read it: every column (refund_to as stored, sealed)."""

    return_id: str
    order_id: str
    status: str
    resolution: str
    lines: tuple[dict[str, Any], ...]  # sku, quantity, reason, replacement_sku
    kind: str
    pickup_mode: str
    warehouse_code: str | None
    shipment_id: str | None
    pickup_awb: str | None
    refund_to: dict[str, Any] | None
    photo_urls: tuple[str, ...]
    requested_by: str
    received_at: datetime | None
    qc_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> ReturnView:
        return cls(**row_fields(cls, row, lines=tuple(row["lines"]), photo_urls=tuple(row["photo_urls"])))


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of a return's timeline."""

    status: str
    actor: str
    note: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class QcEntry:
    """The desk's verdict on one line, as recorded."""

    sku: str
    passed: int
    failed: int
    grade: str
    note: str | None
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ReturnDetail(ReturnView):
    """A return with its timeline, QC verdicts and refund."""

    timeline: tuple[HistoryEntry, ...]
    qc: tuple[QcEntry, ...]
    refund: Refund | None


@dataclass(frozen=True, slots=True)
class OrderStanding:
    """Where an order stands as returns heard it, and when it was delivered (None: not yet)."""

    status: str
    updated_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class ForwardShipment:
    """A parcel shipped to the customer: where from and what was in it."""

    shipment_id: str
    order_id: str
    warehouse_code: str
    lines: tuple[dict[str, Any], ...]  # sku and quantity
