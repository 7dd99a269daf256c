"""Reservations, stock, the ledger and items as the store hands them up: frozen, typed, built only in
`store`, so nothing above it reads a database row."""

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


@dataclass(frozen=True, slots=True)
class WarehouseStock:
    """One SKU's numbers in one warehouse; available is what may be sold (never negative)."""

    warehouse_code: str
    on_hand: int
    reserved: int
    buffer: int
    available: int
    reorder_point: int | None
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> WarehouseStock:
        """The record of a `stock` row with its `available` worked out."""
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Levels:
    """Every number of one SKU in one warehouse: what inventory.stock_changed.v1 announces."""

    sku: str
    warehouse_code: str
    on_hand: int
    reserved: int
    buffer: int
    rehearsal_reserved: int
    available: int
    reorder_point: int | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Levels:
        """The record of a `stock` row with its `available` worked out."""
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class ReorderState:
    """A SKU × warehouse with a reorder point: what is available and whether the alert is armed."""

    sku: str
    warehouse_code: str
    available: int
    reorder_point: int
    low_stock_armed: bool


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Units of a SKU held apart in one warehouse after failing QC on return."""

    warehouse_code: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger row: what changed on hand and reserved, why, and who did it."""

    id: int
    warehouse_code: str
    on_hand_delta: int
    reserved_delta: int
    kind: str
    reference: str | None
    actor: str | None
    at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Movement:
        """The record of a `stock_movements` row."""
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Item:
    """An item as the master holds it, with who changed it last."""

    sku: str
    name: str
    category: str | None
    barcode: str | None
    weight_grams: int
    length_mm: int | None
    width_mm: int | None
    height_mm: int | None
    hsn_code: str | None
    mrp_paise: int
    updated_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Item:
        """The record of an `items` row."""
        return cls(**row_fields(cls, row))
