"""Warehouses, rules and routing decisions as the store hands them up: frozen, typed, built only in
`store`, so the routes read attributes, never a database row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import asyncpg

from chassis.db import row_fields


@dataclass(frozen=True, slots=True)
class Site:
    """A warehouse as operators registered it, active or not (the planner reads `domain.Warehouse`)."""

    code: str
    name: str
    pincode: str
    state: str
    latitude: float
    longitude: float
    active: bool
    priority: int
    daily_capacity: int | None
    cutoff_time: time | None
    updated_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Site:
        """The record of a `warehouses` row."""
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Rule:
    """An operator's routing rule as stored, with who added it."""

    id: int
    kind: str  # prefer_for_channel | exclude_pincodes | pin_sku
    warehouse_code: str
    channel: str | None
    pincode_from: str | None
    pincode_to: str | None
    sku: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: asyncpg.Record) -> Rule:
        """The record of a `routing_rules` row."""
        return cls(**row_fields(cls, row))


@dataclass(frozen=True, slots=True)
class Decision:
    """One routing attempt for an order: the ranked plans, the warehouses left out and why, and what
    inventory made of it."""

    order_id: str
    attempt: int
    customer_pincode: str
    decided_at: datetime
    plans: tuple[dict[str, Any], ...]  # the ranked plans as the planner explained them
    left_out: tuple[str, ...]  # "GGN1 excluded: …"
    outcome: str | None  # reserved | failed | final failure; None while inventory has not answered

    @classmethod
    def of(cls, row: asyncpg.Record) -> Decision:
        """The record of a `route_decisions` row (jsonb columns arrive decoded)."""
        return cls(**row_fields(cls, row, plans=tuple(row["plans"]), left_out=tuple(row["notes"])))
