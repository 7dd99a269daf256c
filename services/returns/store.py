"""SQL for returns and the order-status read model; plain asyncpg, one function per question."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

import asyncpg

from contracts import OrderStatus, ReturnLine, ReturnResolution, ReturnStatus


async def record_order_status(
    conn: asyncpg.Connection, *, order_id: str, status: OrderStatus, changed_at: datetime
) -> None:
    """Remember an order's latest status; an older change arriving late does not overwrite it."""
    await conn.execute(
        """INSERT INTO order_status (order_id, status, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (order_id) DO UPDATE SET status = EXCLUDED.status,
                                                updated_at = EXCLUDED.updated_at
            WHERE order_status.updated_at <= EXCLUDED.updated_at""",
        order_id,
        status.value,
        changed_at,
    )


async def lock_order_status(conn: asyncpg.Connection, order_id: str) -> asyncpg.Record | None:
    """The order's status row, locked so two requests for one order decide one after the other."""
    return await conn.fetchrow(
        "SELECT status, updated_at FROM order_status WHERE order_id = $1 FOR UPDATE", order_id
    )


async def skus_in_returns(
    conn: asyncpg.Connection, *, order_id: str, statuses: Collection[ReturnStatus]
) -> set[str]:
    """SKUs of the order already in a return with one of these statuses."""
    rows = await conn.fetch(
        """SELECT DISTINCT line->>'sku' AS sku
             FROM returns, jsonb_array_elements(lines) AS line
            WHERE order_id = $1 AND status = ANY($2::text[])""",
        order_id,
        [s.value for s in statuses],
    )
    return {r["sku"] for r in rows}


async def insert_return(
    conn: asyncpg.Connection,
    *,
    return_id: str,
    order_id: str,
    lines: list[ReturnLine],
    resolution: ReturnResolution,
) -> asyncpg.Record | None:
    """Store a REQUESTED return; None if the id is taken (pick another)."""
    return await conn.fetchrow(
        """INSERT INTO returns (return_id, order_id, status, resolution, lines)
           VALUES ($1, $2, $3, $4, $5::jsonb)
           ON CONFLICT (return_id) DO NOTHING
           RETURNING *""",
        return_id,
        order_id,
        ReturnStatus.REQUESTED.value,
        resolution.value,
        json.dumps([line.model_dump(mode="json") for line in lines]),
    )


async def get_return(pool: asyncpg.Pool, return_id: str) -> asyncpg.Record | None:
    """One return."""
    return await pool.fetchrow("SELECT * FROM returns WHERE return_id = $1", return_id)
