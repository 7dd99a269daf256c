"""SQL for orders and their timeline; plain asyncpg, one function per question or change."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from contracts import Allocation, ChannelOrder, FieldProblem, OrderStatus


async def insert_placed(
    conn: asyncpg.Connection, *, order_id: str, order: ChannelOrder, customer: dict[str, Any]
) -> bool:
    """Store a new order; False if this (channel, channel_order_id) is already known."""
    status = await conn.execute(
        """INSERT INTO orders (order_id, channel, channel_order_id, status, placed_at, customer,
                               shipping_address, lines, shipping_fee_paise, discount_paise,
                               total_paise, payment, delivery_speed)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12::jsonb, $13)
           ON CONFLICT (channel, channel_order_id) DO NOTHING""",
        order_id,
        order.channel.value,
        order.channel_order_id,
        OrderStatus.PLACED.value,
        order.placed_at,
        json.dumps(customer),
        order.shipping_address.model_dump_json(),
        json.dumps([line.model_dump() for line in order.lines]),
        order.shipping_fee_paise,
        order.discount_paise,
        order.total_paise,
        order.payment.model_dump_json(),
        order.delivery_speed.value,
    )
    return bool(status == "INSERT 0 1")


async def insert_rejected(
    conn: asyncpg.Connection,
    *,
    order_id: str,
    channel: str,
    channel_order_id: str,
    received: Any,
    problems: list[FieldProblem],
) -> bool:
    """Keep a refused order with its reasons and what was received; False if already known."""
    status = await conn.execute(
        """INSERT INTO orders (order_id, channel, channel_order_id, status, problems, received)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
           ON CONFLICT (channel, channel_order_id) DO NOTHING""",
        order_id,
        channel,
        channel_order_id,
        OrderStatus.REJECTED.value,
        json.dumps([p.model_dump() for p in problems]),
        json.dumps(received),
    )
    return bool(status == "INSERT 0 1")


async def lock_order(conn: asyncpg.Connection, order_id: str) -> asyncpg.Record | None:
    """The order row, locked until the transaction ends (one writer at a time per order)."""
    return await conn.fetchrow("SELECT * FROM orders WHERE order_id = $1 FOR UPDATE", order_id)


async def record_status(
    conn: asyncpg.Connection,
    *,
    order_id: str,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    reason: str,
    cause_event_id: str | None,
    actor: str = "system",
) -> None:
    """Set the status and append the change to the order's timeline (a first status was set by the
    insert that created the order)."""
    if from_status is not None:
        await conn.execute(
            "UPDATE orders SET status = $2, updated_at = now() WHERE order_id = $1", order_id, to_status.value
        )
    await conn.execute(
        """INSERT INTO order_timeline (order_id, from_status, to_status, reason, cause_event_id, actor)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        order_id,
        from_status.value if from_status else None,
        to_status.value,
        reason,
        cause_event_id,
        actor,
    )


async def set_reservation(
    conn: asyncpg.Connection, *, order_id: str, reservation_id: str, allocations: list[Allocation]
) -> None:
    """Remember which stock was reserved for the order."""
    await conn.execute(
        "UPDATE orders SET reservation_id = $2, allocations = $3::jsonb WHERE order_id = $1",
        order_id,
        reservation_id,
        json.dumps([a.model_dump() for a in allocations]),
    )


async def add_awb(conn: asyncpg.Connection, *, order_id: str, awb: str) -> None:
    """Make the order findable by a shipment's AWB."""
    await conn.execute(
        """UPDATE orders SET awbs = array_append(awbs, $2)
           WHERE order_id = $1 AND NOT ($2 = ANY (awbs))""",
        order_id,
        awb,
    )


async def list_orders(
    pool: asyncpg.Pool,
    *,
    status: str | None,
    channel: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """Newest first, filtered, with keyset pagination on (created_at, order_id)."""
    return await pool.fetch(
        """SELECT order_id, channel, channel_order_id, status, total_paise, payment->>'method' AS
                  payment_method, created_at, awbs
             FROM orders
            WHERE ($1::text IS NULL OR status = $1)
              AND ($2::text IS NULL OR channel = $2)
              AND ($3::timestamptz IS NULL OR (created_at, order_id) < ($3, $4))
            ORDER BY created_at DESC, order_id DESC
            LIMIT $5""",
        status,
        channel,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )


async def get_order(pool: asyncpg.Pool, order_id: str) -> tuple[asyncpg.Record | None, list[Any]]:
    """One order and its timeline, oldest change first."""
    async with pool.acquire() as conn:
        order = await conn.fetchrow("SELECT * FROM orders WHERE order_id = $1", order_id)
        timeline = await conn.fetch(
            """SELECT from_status, to_status, reason, cause_event_id, actor, at
                 FROM order_timeline WHERE order_id = $1 ORDER BY id""",
            order_id,
        )
    return order, list(timeline)
