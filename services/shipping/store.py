"""SQL for shipments; plain asyncpg, one function per question or change."""

from __future__ import annotations

import json

import asyncpg

from contracts import ShipmentStatus
from services.shipping.domain import ShipmentPlan


async def insert_shipment(
    conn: asyncpg.Connection,
    *,
    shipment_id: str,
    order_id: str,
    plan: ShipmentPlan,
    cause_event_id: str,
) -> bool:
    """Store a new CREATED shipment; False if this order already has one from this warehouse."""
    status = await conn.execute(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, status, lines,
                                  value_paise, cod_amount_paise, cause_event_id)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
           ON CONFLICT (order_id, warehouse_code) DO NOTHING""",
        shipment_id,
        order_id,
        plan.warehouse_code,
        ShipmentStatus.CREATED.value,
        json.dumps([line.model_dump() for line in plan.lines]),
        plan.value_paise,
        plan.cod_amount_paise,
        cause_event_id,
    )
    return bool(status == "INSERT 0 1")


async def assign_awb(
    conn: asyncpg.Connection,
    *,
    shipment_id: str,
    courier: str,
    awb: str,
    status: ShipmentStatus,
) -> None:
    """Record the courier's AWB and the status it brings."""
    await conn.execute(
        """UPDATE shipments
              SET courier = $2, awb = $3, status = $4, booking_error = NULL, updated_at = now()
            WHERE shipment_id = $1""",
        shipment_id,
        courier,
        awb,
        status.value,
    )


async def record_booking_error(
    conn: asyncpg.Connection, *, shipment_id: str, courier: str, error: str
) -> None:
    """Keep the courier's refusal on the shipment so an operator can fix and re-book it."""
    await conn.execute(
        """UPDATE shipments SET courier = $2, booking_error = $3, updated_at = now()
            WHERE shipment_id = $1""",
        shipment_id,
        courier,
        error,
    )


_COLUMNS = """shipment_id, order_id, warehouse_code, status, courier, awb, lines, value_paise,
              cod_amount_paise, booking_error, created_at, updated_at"""


async def list_for_order(pool: asyncpg.Pool, order_id: str) -> list[asyncpg.Record]:
    """An order's shipments, in warehouse order."""
    return await pool.fetch(
        f"SELECT {_COLUMNS} FROM shipments WHERE order_id = $1 ORDER BY warehouse_code", order_id
    )


async def get_shipment(pool: asyncpg.Pool, shipment_id: str) -> asyncpg.Record | None:
    """One shipment."""
    return await pool.fetchrow(f"SELECT {_COLUMNS} FROM shipments WHERE shipment_id = $1", shipment_id)
