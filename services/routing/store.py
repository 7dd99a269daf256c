"""SQL for warehouses, the stock read model and routing decisions."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from contracts import FulfilmentPlan
from services.routing.domain import Warehouse


async def upsert_warehouse(
    conn: asyncpg.Connection | asyncpg.Pool, *, wh: Warehouse, state: str, active: bool
) -> None:
    """Create or update a warehouse."""
    await conn.execute(
        """INSERT INTO warehouses (code, name, pincode, state, latitude, longitude, active, priority)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, pincode = EXCLUDED.pincode,
               state = EXCLUDED.state, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
               active = EXCLUDED.active, priority = EXCLUDED.priority, updated_at = now()""",
        wh.code,
        wh.name,
        wh.pincode,
        state,
        wh.latitude,
        wh.longitude,
        active,
        wh.priority,
    )


async def active_warehouses(conn: asyncpg.Connection) -> list[Warehouse]:
    """Warehouses that can take orders."""
    rows = await conn.fetch(
        """SELECT code, name, pincode, latitude, longitude, priority
             FROM warehouses WHERE active ORDER BY code"""
    )
    return [Warehouse(**dict(r)) for r in rows]


async def all_warehouses(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """Every warehouse, active or not."""
    return await pool.fetch("SELECT * FROM warehouses ORDER BY code")


async def record_stock(
    conn: asyncpg.Connection, *, sku: str, by_warehouse: dict[str, int], changed_at: datetime
) -> None:
    """Apply a stock change to the read model; an older change never overwrites a newer one."""
    await conn.executemany(
        """INSERT INTO stock_view (sku, warehouse_code, available, changed_at)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (sku, warehouse_code) DO UPDATE
               SET available = EXCLUDED.available, changed_at = EXCLUDED.changed_at
             WHERE stock_view.changed_at <= EXCLUDED.changed_at""",
        [(sku, wh, available, changed_at) for wh, available in by_warehouse.items()],
    )


async def available_for(conn: asyncpg.Connection, skus: list[str]) -> dict[tuple[str, str], int]:
    """(sku, warehouse_code) → available, for these SKUs."""
    rows = await conn.fetch(
        "SELECT sku, warehouse_code, available FROM stock_view WHERE sku = ANY($1::text[])", skus
    )
    return {(r["sku"], r["warehouse_code"]): r["available"] for r in rows}


async def record_decision(
    conn: asyncpg.Connection,
    *,
    order_id: str,
    attempt: int,
    pincode: str,
    plans: list[FulfilmentPlan],
) -> None:
    """Keep the plans made for an order so the decision can be explained later."""
    await conn.execute(
        """INSERT INTO route_decisions (order_id, attempt, customer_pincode, plans)
           VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING""",
        order_id,
        attempt,
        pincode,
        json.dumps([p.model_dump() for p in plans]),
    )


async def decisions(pool: asyncpg.Pool, order_id: str) -> list[asyncpg.Record]:
    """Every plan made for an order, first attempt first."""
    return await pool.fetch("SELECT * FROM route_decisions WHERE order_id = $1 ORDER BY attempt", order_id)
