"""SQL for stock, reservations and the movement ledger; the no-oversell update lives here."""

from __future__ import annotations

import json

import asyncpg

from contracts import Allocation, StockAvailability


class NotEnoughStock(Exception):
    """A conditional reservation update matched no row: the plan does not fit any more."""


async def reserve(
    conn: asyncpg.Connection, *, allocations: list[Allocation], order_id: str, reservation_id: str
) -> None:
    """Reserve every allocation or nothing (run inside a savepoint). Each unit is taken by one
    conditional update that only matches while enough is available; CHECKs back it up."""
    for a in allocations:
        taken = await conn.fetchval(
            """UPDATE stock SET reserved = reserved + $3, updated_at = now()
                WHERE sku = $1 AND warehouse_code = $2 AND on_hand - reserved >= $3
            RETURNING 1""",
            a.sku,
            a.warehouse_code,
            a.quantity,
        )
        if taken is None:
            raise NotEnoughStock(f"{a.sku} at {a.warehouse_code}")
    await record_movements(conn, allocations, sign=1, kind="reservation", reference=order_id)
    await conn.execute(
        """INSERT INTO reservations (reservation_id, order_id, status, allocations)
           VALUES ($1, $2, 'active', $3::jsonb)""",
        reservation_id,
        order_id,
        json.dumps([a.model_dump() for a in allocations]),
    )


async def record_movements(
    conn: asyncpg.Connection, allocations: list[Allocation], *, sign: int, kind: str, reference: str
) -> None:
    """One ledger row per allocation's change to reserved units, in one statement."""
    await conn.execute(
        """INSERT INTO stock_movements (sku, warehouse_code, reserved_delta, kind, reference)
           SELECT sku, warehouse_code, delta, $4, $5
             FROM unnest($1::text[], $2::text[], $3::int[]) AS m(sku, warehouse_code, delta)""",
        [a.sku for a in allocations],
        [a.warehouse_code for a in allocations],
        [sign * a.quantity for a in allocations],
        kind,
        reference,
    )


async def reservation_of(conn: asyncpg.Connection, order_id: str) -> asyncpg.Record | None:
    """The order's reservation, locked, if it has one."""
    return await conn.fetchrow("SELECT * FROM reservations WHERE order_id = $1 FOR UPDATE", order_id)


async def release(conn: asyncpg.Connection, *, reservation: asyncpg.Record, reason: str) -> list[Allocation]:
    """Give an active reservation's units back to available; returns what was released."""
    allocations = [Allocation.model_validate(a) for a in json.loads(reservation["allocations"])]
    for a in allocations:
        await conn.execute(
            """UPDATE stock SET reserved = reserved - $3, updated_at = now()
                WHERE sku = $1 AND warehouse_code = $2""",
            a.sku,
            a.warehouse_code,
            a.quantity,
        )
    await record_movements(conn, allocations, sign=-1, kind="release", reference=reason)
    await conn.execute(
        "UPDATE reservations SET status = 'released', updated_at = now() WHERE reservation_id = $1",
        reservation["reservation_id"],
    )
    return allocations


async def receive(
    conn: asyncpg.Connection,
    *,
    sku: str,
    warehouse_code: str,
    quantity: int,
    reference: str | None,
    actor: str,
) -> None:
    """Add received units to on hand and record the receipt."""
    await conn.execute(
        """INSERT INTO stock (sku, warehouse_code, on_hand) VALUES ($1, $2, $3)
           ON CONFLICT (sku, warehouse_code)
           DO UPDATE SET on_hand = stock.on_hand + EXCLUDED.on_hand, updated_at = now()""",
        sku,
        warehouse_code,
        quantity,
    )
    await conn.execute(
        """INSERT INTO stock_movements (sku, warehouse_code, on_hand_delta, kind, reference, actor)
           VALUES ($1, $2, $3, 'receipt', $4, $5)""",
        sku,
        warehouse_code,
        quantity,
        reference,
        actor,
    )


async def availability(conn: asyncpg.Connection, skus: list[str]) -> list[StockAvailability]:
    """Available-to-sell per SKU × warehouse for these SKUs."""
    rows = await conn.fetch(
        """SELECT sku, warehouse_code, on_hand - reserved AS available
             FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku, warehouse_code""",
        skus,
    )
    return [StockAvailability(**dict(r)) for r in rows]


async def stock_of(pool_or_conn: asyncpg.Pool | asyncpg.Connection, sku: str) -> list[asyncpg.Record]:
    """Every warehouse's numbers for one SKU."""
    return await pool_or_conn.fetch(
        """SELECT warehouse_code, on_hand, reserved, on_hand - reserved AS available, updated_at
             FROM stock WHERE sku = $1 ORDER BY warehouse_code""",
        sku,
    )
