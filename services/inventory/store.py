"""SQL for stock, reservations and the movement ledger; the no-oversell update lives here.

Available-to-sell, as read and announced, leaves out what rehearsal orders hold (ADR 0360): a
reservation checks the units physically free, but no channel is told a number a rehearsal lowered.

Every change to on hand or reserved writes a stock_movements row in the same transaction, so the
ledger of a SKU × warehouse always sums to its numbers.
"""

from __future__ import annotations

from datetime import datetime

from chassis.db import Conn, Queryable
from contracts import Allocation, StockAvailability
from services.inventory.records import (
    Levels,
    Movement,
    Quarantined,
    ReorderState,
    Reservation,
    WarehouseStock,
)


class NotEnoughStock(Exception):
    """A conditional stock update matched no row: the units are not there (any more)."""


# reservations ------------------------------------------------------------------------------------


async def reserve(
    conn: Conn,
    *,
    allocations: list[Allocation],
    order_id: str,
    reservation_id: str,
    expires_at: datetime | None = None,
    rehearsal: bool = False,
) -> None:
    """Reserve every allocation or raise NotEnoughStock, in one statement: the conditional update
    takes each unit only while enough is physically free, a rehearsal's too (its units are also
    counted in rehearsal_reserved, ADR 0360), writes the ledger rows of what it took, and the
    reservation only when it took every allocation; CHECKs back it up. A caller that has not locked
    and checked the rows first (`free_units`) runs it inside a savepoint, since a refusal leaves
    the units it did take behind."""
    taken = await conn.fetchval(
        """WITH wanted AS (
               SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) AS w(sku, warehouse_code, q)
           ), took AS (
               UPDATE stock
                  SET reserved = stock.reserved + w.q,
                      rehearsal_reserved = stock.rehearsal_reserved + CASE WHEN $4 THEN w.q ELSE 0 END,
                      updated_at = now()
                 FROM wanted w
                WHERE stock.sku = w.sku AND stock.warehouse_code = w.warehouse_code
                  AND stock.on_hand - stock.reserved - stock.buffer >= w.q
            RETURNING stock.sku, stock.warehouse_code, w.q
           ), moved AS (
               INSERT INTO stock_movements (sku, warehouse_code, reserved_delta, kind, reference)
               SELECT sku, warehouse_code, q, $5, $6 FROM took
           ), kept AS (
               INSERT INTO reservations (reservation_id, order_id, status, allocations, expires_at, rehearsal)
               SELECT $7, $6, 'active', $8::jsonb, $9, $4
                WHERE (SELECT count(*) FROM took) = cardinality($1::text[])
           )
           SELECT count(*) FROM took""",
        [a.sku for a in allocations],
        [a.warehouse_code for a in allocations],
        [a.quantity for a in allocations],
        rehearsal,
        "rehearsal reservation" if rehearsal else "reservation",
        order_id,
        reservation_id,
        [a.model_dump() for a in allocations],
        expires_at,
    )
    if taken != len(allocations):
        raise NotEnoughStock(", ".join(f"{a.sku} at {a.warehouse_code}" for a in allocations))


async def free_units(conn: Conn, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Units physically free (on hand less reserved and buffer) per (sku, warehouse_code), the rows
    locked until the transaction ends (in one order, so two reservations never deadlock): a plan
    judged to fit from these numbers is reserved by `reserve` without a savepoint."""
    rows = await conn.fetch(
        """SELECT s.sku, s.warehouse_code, s.on_hand - s.reserved - s.buffer AS free
             FROM stock s JOIN unnest($1::text[], $2::text[]) AS p(sku, warehouse_code)
                  ON s.sku = p.sku AND s.warehouse_code = p.warehouse_code
            ORDER BY s.warehouse_code, s.sku
              FOR UPDATE OF s""",
        [sku for sku, _ in pairs],
        [warehouse_code for _, warehouse_code in pairs],
    )
    return {(r["sku"], r["warehouse_code"]): r["free"] for r in rows}


async def _take(conn: Conn, allocations: list[Allocation], *, rehearsal: bool) -> None:
    for a in allocations:
        taken = await conn.fetchval(
            """UPDATE stock SET reserved = reserved + $3,
                                rehearsal_reserved = rehearsal_reserved + CASE WHEN $4 THEN $3 ELSE 0 END,
                                updated_at = now()
                WHERE sku = $1 AND warehouse_code = $2 AND on_hand - reserved - buffer >= $3
            RETURNING 1""",
            a.sku,
            a.warehouse_code,
            a.quantity,
            rehearsal,
        )
        if taken is None:
            raise NotEnoughStock(f"{a.sku} at {a.warehouse_code}")


async def record_movements(
    conn: Conn,
    allocations: list[Allocation],
    *,
    kind: str,
    reference: str,
    reserved_sign: int = 0,
    on_hand_sign: int = 0,
    actor: str = "system",
) -> None:
    """One ledger row per allocation, in one statement."""
    await conn.execute(
        """INSERT INTO stock_movements (sku, warehouse_code, on_hand_delta, reserved_delta, kind,
                                        reference, actor)
           SELECT sku, warehouse_code, $3 * q, $4 * q, $6, $7, $8
             FROM unnest($1::text[], $2::text[], $5::int[]) AS m(sku, warehouse_code, q)""",
        [a.sku for a in allocations],
        [a.warehouse_code for a in allocations],
        on_hand_sign,
        reserved_sign,
        [a.quantity for a in allocations],
        kind,
        reference,
        actor,
    )


async def reservation_of(conn: Conn, order_id: str) -> Reservation | None:
    """The order's reservation, locked, if it has one."""
    row = await conn.fetchrow("SELECT * FROM reservations WHERE order_id = $1 FOR UPDATE", order_id)
    return Reservation.of(row) if row is not None else None


async def committed_warehouses(conn: Conn, reservation_id: str) -> set[str]:
    """Warehouses whose part of the reservation the courier already picked up."""
    rows = await conn.fetch(
        "SELECT warehouse_code FROM reservation_commits WHERE reservation_id = $1", reservation_id
    )
    return {r["warehouse_code"] for r in rows}


async def release(
    conn: Conn,
    *,
    reservation: Reservation,
    reason: str,
    actor: str = "system",
    because: str = "cancelled",
) -> list[Allocation]:
    """Give an active reservation's units back to available, except what has already been picked
    up by the courier (that is a deduction now); returns what was released."""
    gone = await committed_warehouses(conn, reservation.reservation_id)
    allocations = [a for a in list(reservation.allocations) if a.warehouse_code not in gone]
    await _unreserve(conn, allocations, rehearsal=reservation.rehearsal)
    await record_movements(conn, allocations, reserved_sign=-1, kind="release", reference=reason, actor=actor)
    await conn.execute(
        """UPDATE reservations SET status = 'released', released_because = $2, updated_at = now()
            WHERE reservation_id = $1""",
        reservation.reservation_id,
        because,
    )
    return allocations


async def reserve_again(conn: Conn, *, reservation: Reservation) -> list[Allocation]:
    """Take an expired reservation's units again, all or nothing (run inside a savepoint), and mark
    it active and confirmed; raises NotEnoughStock when they have been sold meanwhile."""
    allocations = list(reservation.allocations)
    await _take(conn, allocations, rehearsal=reservation.rehearsal)
    await record_movements(
        conn,
        allocations,
        reserved_sign=1,
        kind="reservation",
        reference=f"{reservation.order_id} confirmed late",
    )
    await conn.execute(
        """UPDATE reservations SET status = 'active', released_because = NULL, confirmed_at = now(),
                                   updated_at = now()
            WHERE reservation_id = $1""",
        reservation.reservation_id,
    )
    return allocations


async def _unreserve(
    conn: Conn, allocations: list[Allocation], *, ship: bool = False, rehearsal: bool = False
) -> None:
    on_hand = 1 if ship else 0
    await conn.execute(
        """UPDATE stock SET reserved = stock.reserved - m.q, on_hand = stock.on_hand - $4 * m.q,
                            rehearsal_reserved = stock.rehearsal_reserved - CASE WHEN $5 THEN m.q ELSE 0 END,
                            updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::int[]) AS m(sku, warehouse_code, q)
            WHERE stock.sku = m.sku AND stock.warehouse_code = m.warehouse_code""",
        [a.sku for a in allocations],
        [a.warehouse_code for a in allocations],
        [a.quantity for a in allocations],
        on_hand,
        rehearsal,
    )


async def commit_pickup(
    conn: Conn, *, reservation: Reservation, warehouse_code: str, shipment_id: str
) -> list[Allocation]:
    """Turn one warehouse's part of a reservation into a deduction (on hand and reserved both go
    down), once: a second pickup of the same order × warehouse changes nothing and returns []."""
    first = await conn.fetchval(
        """INSERT INTO reservation_commits (reservation_id, warehouse_code, shipment_id)
           VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1""",
        reservation.reservation_id,
        warehouse_code,
        shipment_id,
    )
    if first is None:
        return []
    allocations = [a for a in list(reservation.allocations) if a.warehouse_code == warehouse_code]
    await _unreserve(conn, allocations, ship=True, rehearsal=reservation.rehearsal)
    await record_movements(
        conn, allocations, reserved_sign=-1, on_hand_sign=-1, kind="dispatch", reference=shipment_id
    )
    every = {a.warehouse_code for a in list(reservation.allocations)}
    if every <= await committed_warehouses(conn, reservation.reservation_id):
        await conn.execute(
            "UPDATE reservations SET status = 'committed', updated_at = now() WHERE reservation_id = $1",
            reservation.reservation_id,
        )
    return allocations


async def confirm(conn: Conn, order_id: str) -> bool:
    """Mark an order's reservation confirmed (paid or COD-confirmed): the expiry sweep skips it."""
    done = await conn.fetchval(
        """UPDATE reservations SET confirmed_at = now(), updated_at = now()
            WHERE order_id = $1 AND status = 'active' AND confirmed_at IS NULL RETURNING 1""",
        order_id,
    )
    return done is not None


async def expired(conn: Conn, *, now: datetime, limit: int) -> list[Reservation]:
    """Active, unconfirmed reservations past their expiry, claimed so another replica skips them."""
    return [
        Reservation.of(row)
        for row in await conn.fetch(
            """SELECT * FROM reservations
                WHERE status = 'active' AND confirmed_at IS NULL AND expires_at < $1
                ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            limit,
        )
    ]


async def remember_cancelled(conn: Conn, order_id: str) -> None:
    """An order cancelled before it was reserved: a plan that arrives later must not reserve it."""
    await conn.execute("INSERT INTO cancelled_orders (order_id) VALUES ($1) ON CONFLICT DO NOTHING", order_id)


async def reserved_or_cancelled(conn: Conn, order_id: str) -> tuple[bool, bool]:
    """Whether the order already has a reservation, and whether orders cancelled it: the two reasons
    a plan is not reserved, in one round trip."""
    row = await conn.fetchrow(
        """SELECT EXISTS (SELECT 1 FROM reservations WHERE order_id = $1) AS reserved,
                  EXISTS (SELECT 1 FROM cancelled_orders WHERE order_id = $1) AS cancelled""",
        order_id,
    )
    assert row is not None
    return row["reserved"], row["cancelled"]


# receipts, adjustments, transfers, returns -------------------------------------------------------


async def receive(
    conn: Conn,
    *,
    sku: str,
    warehouse_code: str,
    quantity: int,
    reference: str | None,
    actor: str,
    kind: str = "receipt",
) -> None:
    """Add units to on hand (a receipt, a transfer in, a restocked return) and record them."""
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
           VALUES ($1, $2, $3, $4, $5, $6)""",
        sku,
        warehouse_code,
        quantity,
        kind,
        reference,
        actor,
    )


async def adjust(
    conn: Conn,
    *,
    sku: str,
    warehouse_code: str,
    delta: int,
    kind: str,
    reference: str | None,
    actor: str,
) -> None:
    """Change on hand by delta (cycle count, damage, loss, transfer out); never below what is
    reserved, since those units are promised to orders."""
    done = await conn.fetchval(
        """UPDATE stock SET on_hand = on_hand + $3, updated_at = now()
            WHERE sku = $1 AND warehouse_code = $2 AND on_hand + $3 >= reserved
        RETURNING 1""",
        sku,
        warehouse_code,
        delta,
    )
    if done is None:
        raise NotEnoughStock(f"{sku} at {warehouse_code}")
    await conn.execute(
        """INSERT INTO stock_movements (sku, warehouse_code, on_hand_delta, kind, reference, actor)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        sku,
        warehouse_code,
        delta,
        kind,
        reference,
        actor,
    )


async def record_return(
    conn: Conn, *, return_id: str, warehouse_code: str, lines: dict[str, int], disposition: str
) -> dict[str, int]:
    """Note a return's units once; returns the lines that were new (a repeat announcement adds nothing)."""
    rows = await conn.fetch(
        """INSERT INTO returned_units (return_id, sku, warehouse_code, quantity, disposition)
           SELECT $1, sku, $2, q, $5 FROM unnest($3::text[], $4::int[]) AS l(sku, q)
           ON CONFLICT DO NOTHING RETURNING sku, quantity""",
        return_id,
        warehouse_code,
        list(lines),
        list(lines.values()),
        disposition,
    )
    return {r["sku"]: r["quantity"] for r in rows}


async def quarantined(pool: Queryable, sku: str) -> list[Quarantined]:
    """Units of a SKU held apart after failing QC, per warehouse."""
    rows = await pool.fetch(
        """SELECT warehouse_code, sum(quantity)::int AS quantity FROM returned_units
            WHERE sku = $1 AND disposition = 'quarantined' GROUP BY warehouse_code ORDER BY 1""",
        sku,
    )
    return [Quarantined(r["warehouse_code"], r["quantity"]) for r in rows]


# reading, buffers, reorder points ----------------------------------------------------------------


async def availability(conn: Queryable, skus: list[str]) -> list[StockAvailability]:
    """Available-to-sell per SKU × warehouse for these SKUs (never negative)."""
    rows = await conn.fetch(
        """SELECT sku, warehouse_code,
                  greatest(on_hand - reserved + rehearsal_reserved - buffer, 0) AS available
             FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku, warehouse_code""",
        skus,
    )
    return [StockAvailability(**dict(r)) for r in rows]


async def levels_of(conn: Queryable, skus: list[str]) -> list[Levels]:
    """Every warehouse's numbers for these SKUs: what inventory.stock_changed.v1 announces."""
    rows = await conn.fetch(
        """SELECT sku, warehouse_code, on_hand, reserved, buffer, rehearsal_reserved,
                  greatest(on_hand - reserved + rehearsal_reserved - buffer, 0) AS available,
                  reorder_point
             FROM stock WHERE sku = ANY($1::text[]) ORDER BY sku, warehouse_code""",
        skus,
    )
    return [Levels.of(r) for r in rows]


async def stock_of(pool_or_conn: Queryable, sku: str) -> list[WarehouseStock]:
    """Every warehouse's numbers for one SKU."""
    rows = await pool_or_conn.fetch(
        """SELECT warehouse_code, on_hand, reserved, buffer,
                  greatest(on_hand - reserved + rehearsal_reserved - buffer, 0) AS available,
                  reorder_point, updated_at
             FROM stock WHERE sku = $1 ORDER BY warehouse_code""",
        sku,
    )
    return [WarehouseStock.of(r) for r in rows]


async def movements(pool: Queryable, sku: str, *, before: int | None, limit: int) -> list[Movement]:
    """A page of a SKU's ledger rows, newest first, older than the row `before`."""
    rows = await pool.fetch(
        """SELECT id, warehouse_code, on_hand_delta, reserved_delta, kind, reference, actor, at
             FROM stock_movements WHERE sku = $1 AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3""",
        sku,
        before,
        limit,
    )
    return [Movement.of(r) for r in rows]


async def set_levels(
    conn: Conn,
    *,
    sku: str,
    warehouse_codes: list[str] | None,
    buffer: int | None,
    reorder_point: int | None,
    actor: str,
) -> list[str]:
    """Set the sale buffer and/or reorder point of a SKU in these warehouses (all when None);
    returns the warehouses changed. Recorded as a zero-delta ledger row: who changed what."""
    rows = await conn.fetch(
        """UPDATE stock SET buffer = coalesce($3, buffer), reorder_point = coalesce($4, reorder_point),
                            updated_at = now()
            WHERE sku = $1 AND ($2::text[] IS NULL OR warehouse_code = ANY($2::text[]))
        RETURNING warehouse_code""",
        sku,
        warehouse_codes,
        buffer,
        reorder_point,
    )
    changed = sorted(r["warehouse_code"] for r in rows)
    note = ", ".join(
        part
        for part in (
            f"buffer={buffer}" if buffer is not None else "",
            f"reorder_point={reorder_point}" if reorder_point is not None else "",
        )
        if part
    )
    await conn.execute(
        """INSERT INTO stock_movements (sku, warehouse_code, kind, reference, actor)
           SELECT $1, w, 'levels', $3, $4 FROM unnest($2::text[]) AS w""",
        sku,
        changed,
        note,
        actor,
    )
    return changed


async def reorder_states(conn: Conn, pairs: list[tuple[str, str]]) -> list[ReorderState]:
    """Per (sku, warehouse) with a reorder point: available, the point and whether the alert is
    armed. Only rows this transaction already changed (so already locked) are asked for, which
    keeps the check from taking new row locks in an order that could deadlock."""
    rows = await conn.fetch(
        """SELECT s.sku, s.warehouse_code,
                  greatest(on_hand - reserved + rehearsal_reserved - buffer, 0) AS available,
                  reorder_point, low_stock_armed
             FROM stock s JOIN unnest($1::text[], $2::text[]) AS p(sku, warehouse_code)
               ON s.sku = p.sku AND s.warehouse_code = p.warehouse_code
            WHERE reorder_point IS NOT NULL ORDER BY 1, 2""",
        [sku for sku, _ in pairs],
        [wh for _, wh in pairs],
    )
    return [ReorderState(**dict(r)) for r in rows]


async def set_armed(conn: Conn, *, sku: str, warehouse_code: str, armed: bool) -> None:
    """Arm or disarm the low-stock alert of one SKU × warehouse."""
    await conn.execute(
        "UPDATE stock SET low_stock_armed = $3 WHERE sku = $1 AND warehouse_code = $2",
        sku,
        warehouse_code,
        armed,
    )
