"""SQL for returns, their read models (orders, shipments), rules, QC, refunds and store credit.

Plain asyncpg, one function per question; every write runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from chassis.db import Conn, Queryable, row_fields
from contracts import OrderPlaced, OrderStatus, PaymentUpdated, ReturnStatus, ShipmentCreated
from services.returns.domain import QcVerdict, SkuRule
from services.returns.records import (
    ForwardShipment,
    HistoryEntry,
    OrderStanding,
    QcEntry,
    Refund,
    Return,
    ReturnDetail,
    ReturnView,
)

# --- read models ----------------------------------------------------------------------------


async def record_order_status(
    conn: Conn, *, order_id: str, status: OrderStatus, changed_at: datetime
) -> None:
    """Remember an order's latest status and when it was first delivered; an older change arriving
    late does not overwrite a newer one, and later statuses (RETURN_REQUESTED…) keep delivered_at."""
    delivered_at = changed_at if status is OrderStatus.DELIVERED else None
    await conn.execute(
        """INSERT INTO order_status (order_id, status, updated_at, delivered_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (order_id) DO UPDATE
              SET status = CASE WHEN order_status.updated_at <= EXCLUDED.updated_at
                                THEN EXCLUDED.status ELSE order_status.status END,
                  updated_at = GREATEST(order_status.updated_at, EXCLUDED.updated_at),
                  delivered_at = LEAST(order_status.delivered_at, EXCLUDED.delivered_at)""",
        order_id,
        status.value,
        changed_at,
        delivered_at,
    )


async def record_order(conn: Conn, event: OrderPlaced) -> None:
    """Keep what orders.placed.v1 said about an order (a redelivery changes nothing)."""
    await conn.execute(
        """INSERT INTO orders (order_id, channel, channel_order_id, customer, shipping_address, lines,
                               shipping_fee_paise, discount_paise, total_paise, payment, placed_at)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8, $9, $10::jsonb, $11)
           ON CONFLICT (order_id) DO NOTHING""",
        event.order_id,
        event.channel.value,
        event.channel_order_id,
        event.customer.model_dump(mode="json"),
        event.shipping_address.model_dump(mode="json"),
        [line.model_dump(mode="json") for line in event.lines],
        event.shipping_fee_paise,
        event.discount_paise,
        event.total_paise,
        event.payment.model_dump(mode="json"),
        event.placed_at,
    )


async def record_shipment(conn: Conn, event: ShipmentCreated) -> None:
    """Remember which warehouse shipped which lines of an order (filling in the lines of a row that
    a DELIVERED update, arriving first on its own topic, created without them)."""
    await conn.execute(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, lines)
           VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (shipment_id) DO UPDATE SET lines = EXCLUDED.lines
            WHERE shipments.lines = '[]'::jsonb""",
        event.shipment_id,
        event.order_id,
        event.warehouse_code,
        [line.model_dump(mode="json") for line in event.lines],
    )


async def record_shipment_delivered(
    conn: Conn, *, shipment_id: str, order_id: str, warehouse_code: str, delivered_at: datetime
) -> None:
    """Remember when a forward shipment was first delivered (a repeat keeps the first time)."""
    await conn.execute(
        """INSERT INTO shipments (shipment_id, order_id, warehouse_code, lines, delivered_at)
           VALUES ($1, $2, $3, '[]'::jsonb, $4)
           ON CONFLICT (shipment_id) DO UPDATE
              SET delivered_at = LEAST(COALESCE(shipments.delivered_at, EXCLUDED.delivered_at),
                                       EXCLUDED.delivered_at)""",
        shipment_id,
        order_id,
        warehouse_code,
        delivered_at,
    )


async def delivered_so_far(conn: Conn, order_id: str) -> tuple[dict[str, int], datetime | None]:
    """Units per SKU in this order's delivered shipments, and when the last of them was delivered;
    the rows stay locked, so two requests for one split order decide one after the other."""
    units: dict[str, int] = {}
    last: datetime | None = None
    for row in await conn.fetch(
        """SELECT lines, delivered_at FROM shipments
            WHERE order_id = $1 AND delivered_at IS NOT NULL ORDER BY shipment_id FOR UPDATE""",
        order_id,
    ):
        for line in row["lines"]:
            units[line["sku"]] = units.get(line["sku"], 0) + line["quantity"]
        last = row["delivered_at"] if last is None else max(last, row["delivered_at"])
    return units, last


async def get_order(conn: Conn, order_id: str) -> dict[str, Any] | None:
    """The order as placed, JSON columns decoded; its payment as captured when it was paid later."""
    row = await conn.fetchrow(
        """SELECT o.*, p.gateway AS paid_gateway, p.gateway_payment_id AS paid_payment_id,
                  p.amount_paise AS paid_amount_paise
             FROM orders o LEFT JOIN captured_payments p USING (order_id)
            WHERE o.order_id = $1""",
        order_id,
    )
    if row is None:
        return None
    order = dict(row)
    paid = (order.pop("paid_gateway"), order.pop("paid_payment_id"), order.pop("paid_amount_paise"))
    if paid[1] is not None:
        order["payment"] |= {
            "status": "captured",
            "gateway": paid[0],
            "gateway_payment_id": paid[1],
            "amount_paise": paid[2],
        }
    return order


async def record_captured_payment(conn: Conn, event: PaymentUpdated) -> None:
    """Remember the gateway payment an order was captured with (the first capture stands)."""
    await conn.execute(
        """INSERT INTO captured_payments (order_id, gateway, gateway_payment_id, amount_paise, captured_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (order_id) DO NOTHING""",
        event.order_id,
        event.gateway,
        event.gateway_payment_id,
        event.amount_paise,
        event.occurred_at,
    )


async def get_shipment(conn: Conn, shipment_id: str) -> ForwardShipment | None:
    """One forward shipment."""
    row = await conn.fetchrow("SELECT * FROM shipments WHERE shipment_id = $1", shipment_id)
    return (
        None
        if row is None
        else ForwardShipment(**row_fields(ForwardShipment, row, lines=tuple(row["lines"])))
    )


async def shipped_from(conn: Conn, order_id: str) -> dict[str, dict[str, int]]:
    """Units of each SKU per warehouse that shipped them, for this order."""
    shipped: dict[str, dict[str, int]] = {}
    for row in await conn.fetch("SELECT warehouse_code, lines FROM shipments WHERE order_id = $1", order_id):
        for line in row["lines"]:
            per = shipped.setdefault(row["warehouse_code"], {})
            per[line["sku"]] = per.get(line["sku"], 0) + line["quantity"]
    return shipped


async def lock_order_status(conn: Conn, order_id: str) -> OrderStanding | None:
    """The order's status row, locked so two requests for one order decide one after the other."""
    row = await conn.fetchrow(
        "SELECT status, updated_at, delivered_at FROM order_status WHERE order_id = $1 FOR UPDATE", order_id
    )
    return None if row is None else OrderStanding(**row_fields(OrderStanding, row))


# --- rules ----------------------------------------------------------------------------------


async def sku_rules(conn: Conn, skus: Collection[str]) -> dict[str, SkuRule]:
    """The configured rule of each SKU that has one."""
    rows = await conn.fetch(
        """SELECT s.sku, s.category, s.returnable, s.product, c.window_days
             FROM return_skus s LEFT JOIN return_categories c USING (category)
            WHERE s.sku = ANY($1::text[])""",
        list(skus),
    )
    return {
        r["sku"]: SkuRule(
            category=r["category"],
            window_days=r["window_days"],
            returnable=r["returnable"],
            product=r["product"],
        )
        for r in rows
    }


async def put_category(conn: Conn, *, category: str, window_days: int) -> None:
    await conn.execute(
        """INSERT INTO return_categories (category, window_days) VALUES ($1, $2)
           ON CONFLICT (category) DO UPDATE SET window_days = EXCLUDED.window_days""",
        category,
        window_days,
    )


async def category_exists(conn: Conn, category: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM return_categories WHERE category = $1", category))


async def put_sku_rule(
    conn: Conn, *, sku: str, category: str | None, returnable: bool, product: str | None = None
) -> None:
    await conn.execute(
        """INSERT INTO return_skus (sku, category, returnable, product) VALUES ($1, $2, $3, $4)
           ON CONFLICT (sku) DO UPDATE SET category = EXCLUDED.category, returnable = EXCLUDED.returnable,
                                           product = EXCLUDED.product""",
        sku,
        category,
        returnable,
        product,
    )


# --- returns --------------------------------------------------------------------------------


async def skus_in_returns(conn: Conn, *, order_id: str, statuses: Collection[ReturnStatus]) -> set[str]:
    """SKUs of the order already in a customer return with one of these statuses."""
    rows = await conn.fetch(
        """SELECT DISTINCT line->>'sku' AS sku
             FROM returns, jsonb_array_elements(lines) AS line
            WHERE order_id = $1 AND kind = 'return' AND status = ANY($2::text[])""",
        order_id,
        [s.value for s in statuses],
    )
    return {r["sku"] for r in rows}


async def units_returned(conn: Conn, order_id: str) -> dict[str, int]:
    """Units per SKU of the order in customer returns that were not rejected."""
    rows = await conn.fetch(
        """SELECT line->>'sku' AS sku, sum((line->>'quantity')::int) AS units
             FROM returns, jsonb_array_elements(lines) AS line
            WHERE order_id = $1 AND kind = 'return' AND status <> 'REJECTED'
            GROUP BY 1""",
        order_id,
    )
    return {r["sku"]: r["units"] for r in rows}


async def insert_return(
    conn: Conn,
    *,
    return_id: str,
    order_id: str,
    status: ReturnStatus,
    resolution: str,
    lines: Sequence[dict[str, Any]],
    kind: str = "return",
    pickup_mode: str = "reverse_pickup",
    warehouse_code: str | None = None,
    shipment_id: str | None = None,
    refund_to: dict[str, Any] | None = None,
    requested_by: str,
) -> Return | None:
    """Store a return; None if the id is taken (pick another) or this RTO shipment has one."""
    row = await conn.fetchrow(
        """INSERT INTO returns (return_id, order_id, status, resolution, lines, kind, pickup_mode,
                                warehouse_code, shipment_id, refund_to, requested_by)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10::jsonb, $11)
           ON CONFLICT DO NOTHING
           RETURNING *""",
        return_id,
        order_id,
        status.value,
        resolution,
        list(lines),
        kind,
        pickup_mode,
        warehouse_code,
        shipment_id,
        refund_to,
        requested_by,
    )
    return Return.of(row) if row is not None else None


async def add_history(
    conn: Conn, *, return_id: str, status: ReturnStatus, actor: str, note: str | None
) -> None:
    """One step of a return's timeline."""
    await conn.execute(
        "INSERT INTO return_history (return_id, status, actor, note) VALUES ($1, $2, $3, $4)",
        return_id,
        status.value,
        actor,
        note,
    )


async def lock_return(conn: Conn, return_id: str) -> Return | None:
    """A return, locked: its status changes one at a time."""
    row = await conn.fetchrow("SELECT * FROM returns WHERE return_id = $1 FOR UPDATE", return_id)
    return Return.of(row) if row is not None else None


async def set_status(conn: Conn, *, return_id: str, status: ReturnStatus, **columns: Any) -> None:
    """Move a return to a status, setting other columns (names are ours, never user input)."""
    sets = "".join(f", {name} = ${i}" for i, name in enumerate(columns, start=3))
    await conn.execute(
        f"UPDATE returns SET status = $2, updated_at = now(){sets} WHERE return_id = $1",
        return_id,
        status.value,
        *columns.values(),
    )


async def get_return(pool: Queryable, return_id: str) -> ReturnView | None:
    """One return as the API shows it, every column."""
    row = await pool.fetchrow("SELECT * FROM returns WHERE return_id = $1", return_id)
    return ReturnView.of(row) if row is not None else None


async def return_detail(pool: asyncpg.Pool, return_id: str) -> ReturnDetail | None:
    """One return with its timeline (oldest first), QC verdicts and refund."""
    row = await pool.fetchrow("SELECT * FROM returns WHERE return_id = $1", return_id)
    if row is None:
        return None
    timeline = await pool.fetch(
        "SELECT status, actor, note, at FROM return_history WHERE return_id = $1 ORDER BY id", return_id
    )
    qc = await pool.fetch(
        """SELECT sku, passed, failed, grade, note, actor, at
             FROM qc_lines WHERE return_id = $1 ORDER BY sku""",
        return_id,
    )
    return ReturnDetail(
        **row_fields(
            ReturnDetail,
            row,
            lines=tuple(row["lines"]),
            photo_urls=tuple(row["photo_urls"]),
            timeline=tuple(HistoryEntry(**row_fields(HistoryEntry, r)) for r in timeline),
            qc=tuple(QcEntry(**row_fields(QcEntry, r)) for r in qc),
            refund=_refund(await pool.fetchrow("SELECT * FROM refunds WHERE return_id = $1", return_id)),
        )
    )


async def list_returns(
    pool: asyncpg.Pool,
    *,
    order_id: str | None,
    status: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[ReturnView]:
    """A page of returns, newest first, older than the return `before` (created_at, return_id)."""
    rows = await pool.fetch(
        """SELECT * FROM returns
            WHERE ($1::text IS NULL OR order_id = $1) AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL OR (created_at, return_id) < ($3, $4::text))
            ORDER BY created_at DESC, return_id DESC LIMIT $5""",
        order_id,
        status,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [ReturnView.of(r) for r in rows]


async def record_qc(conn: Conn, *, return_id: str, verdicts: Iterable[QcVerdict], actor: str) -> None:
    """The desk's verdicts, one row per line."""
    await conn.executemany(
        """INSERT INTO qc_lines (return_id, sku, passed, failed, grade, note, actor)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(return_id, v.sku, v.passed, v.failed, v.grade, v.note, actor) for v in verdicts],
    )


# --- return links ---------------------------------------------------------------------------


async def revoke_link(
    conn: Conn, *, signature: str, order_id: str, expires_at: datetime, revoked_at: datetime, revoked_by: str
) -> bool:
    """Remember a revoked link; False if it was revoked already (the first revocation stands)."""
    done = await conn.execute(
        """INSERT INTO revoked_links (signature, order_id, expires_at, revoked_at, revoked_by)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (signature) DO NOTHING""",
        signature,
        order_id,
        expires_at,
        revoked_at,
        revoked_by,
    )
    return bool(done == "INSERT 0 1")


async def link_revoked(conn: Conn, signature: str) -> bool:
    """Whether an operator revoked the link with this signature."""
    return bool(await conn.fetchval("SELECT 1 FROM revoked_links WHERE signature = $1", signature))


async def bank_numbers_in_clear(conn: Conn) -> list[tuple[str, dict[str, Any]]]:
    """(return_id, refund_to) of returns whose refund bank account number was stored before sealing,
    locked to seal them."""
    rows = await conn.fetch(
        "SELECT return_id, refund_to FROM returns WHERE refund_to ? 'account_number' FOR UPDATE"
    )
    return [(r["return_id"], r["refund_to"]) for r in rows]


async def set_refund_to(conn: Conn, return_id: str, refund_to: dict[str, Any]) -> None:
    """Replace where a return's refund goes (its bank account number sealed)."""
    await conn.execute("UPDATE returns SET refund_to = $2::jsonb WHERE return_id = $1", return_id, refund_to)


# --- refunds --------------------------------------------------------------------------------


async def insert_refund(
    conn: Conn,
    *,
    refund_id: str,
    return_id: str,
    order_id: str,
    mode: str,
    amount_paise: int,
    shipping_fee_paise: int,
    gateway_payment_id: str | None,
) -> None:
    """Claim the return's one refund before any money moves (a second claim is a no-op)."""
    await conn.execute(
        """INSERT INTO refunds (refund_id, return_id, order_id, mode, amount_paise, shipping_fee_paise,
                                gateway_payment_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (return_id) DO NOTHING""",
        refund_id,
        return_id,
        order_id,
        mode,
        amount_paise,
        shipping_fee_paise,
        gateway_payment_id,
    )


async def claim_due_refunds(conn: Conn, *, limit: int, lease_seconds: float) -> list[Refund]:
    """Pending refunds no worker is calling the gateway for, leased to this one (committed at once,
    so no transaction stays open across the call); an expired lease means the call's answer was lost."""
    return _refunds(
        await conn.fetch(
            """UPDATE refunds r
                  SET lease_until = now() + make_interval(secs => $2), calls = calls + 1, updated_at = now()
                 FROM returns t
                WHERE r.return_id = t.return_id
                  AND r.refund_id IN (
                      SELECT refund_id FROM refunds
                       WHERE status = 'pending' AND (lease_until IS NULL OR lease_until < now())
                       ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING r.*, t.refund_to""",
            limit,
            lease_seconds,
        )
    )


async def claim_unanswered_refunds(conn: Conn, *, older_than_seconds: float, limit: int) -> list[Refund]:
    """Refunds the gateway took but whose webhook has not come for a while, leased for a status check
    (the lease also spaces the next check)."""
    return _refunds(
        await conn.fetch(
            """UPDATE refunds SET lease_until = now() + make_interval(secs => $1)
                WHERE refund_id IN (
                      SELECT refund_id FROM refunds
                       WHERE status = 'initiated' AND updated_at < now() - make_interval(secs => $1)
                         AND (lease_until IS NULL OR lease_until < now())
                       ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)
            RETURNING *""",
            older_than_seconds,
            limit,
        )
    )


def _refunds(rows: Iterable[asyncpg.Record]) -> list[Refund]:
    return [Refund.of(row) for row in rows]


def _refund(row: asyncpg.Record | None) -> Refund | None:
    return Refund.of(row) if row is not None else None


async def lock_refund(conn: Conn, refund_id: str) -> Refund | None:
    return _refund(await conn.fetchrow("SELECT * FROM refunds WHERE refund_id = $1 FOR UPDATE", refund_id))


async def lock_refund_by_gateway_id(conn: Conn, gateway_refund_id: str) -> Refund | None:
    return _refund(
        await conn.fetchrow(
            "SELECT * FROM refunds WHERE gateway_refund_id = $1 FOR UPDATE", gateway_refund_id
        )
    )


async def lock_refund_of_return(conn: Conn, return_id: str) -> Refund | None:
    return _refund(await conn.fetchrow("SELECT * FROM refunds WHERE return_id = $1 FOR UPDATE", return_id))


async def update_refund(conn: Conn, refund_id: str, **columns: Any) -> None:
    """Set refund columns (names are ours, never user input)."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE refunds SET {sets}, updated_at = now() WHERE refund_id = $1", refund_id, *columns.values()
    )


async def add_store_credit(
    conn: Conn, *, credit_id: str, return_id: str, phone: str, amount_paise: int
) -> None:
    await conn.execute(
        """INSERT INTO store_credits (credit_id, return_id, phone, amount_paise) VALUES ($1, $2, $3, $4)
           ON CONFLICT (return_id) DO NOTHING""",
        credit_id,
        return_id,
        phone,
        amount_paise,
    )


async def claim_overdue_refunds(
    conn: Conn, *, sla_days: float, limit: int = 100
) -> list[tuple[Refund, datetime]]:
    """Refunds not processed `sla_days` after QC and not yet alerted on, with when QC was done,
    locked for this sweep."""
    return [
        (Refund.of(row), row["qc_at"])
        for row in await conn.fetch(
            """SELECT r.*, t.qc_at
                 FROM refunds r JOIN returns t USING (return_id)
                WHERE r.status <> 'processed' AND r.sla_alerted_at IS NULL
                  AND t.qc_at < now() - make_interval(secs => $1)
                ORDER BY t.qc_at LIMIT $2
                  FOR UPDATE OF r SKIP LOCKED""",
            sla_days * 86400,
            limit,
        )
    ]


# --- analytics ------------------------------------------------------------------------------


async def analytics(pool: asyncpg.Pool, *, since: datetime, until: datetime) -> dict[str, Any]:
    """Return rate by SKU and reason, time from request to refund, QC failure rate (customer returns
    requested in [since, until); units sold are from orders placed in the same window)."""
    async with pool.acquire() as conn:
        by_sku = await conn.fetch(
            """WITH sold AS (
                   SELECT line->>'sku' AS sku, sum((line->>'quantity')::int) AS units
                     FROM orders, jsonb_array_elements(lines) AS line
                    WHERE placed_at >= $1 AND placed_at < $2 GROUP BY 1),
               back AS (
                   SELECT line->>'sku' AS sku, sum((line->>'quantity')::int) AS units
                     FROM returns, jsonb_array_elements(lines) AS line
                    WHERE kind = 'return' AND status <> 'REJECTED' AND created_at >= $1 AND created_at < $2
                    GROUP BY 1)
               SELECT coalesce(s.sku, b.sku) AS sku, coalesce(s.units, 0) AS sold,
                      coalesce(b.units, 0) AS returned
                 FROM sold s FULL JOIN back b USING (sku) ORDER BY returned DESC, sku""",
            since,
            until,
        )
        by_reason = await conn.fetch(
            """SELECT line->>'sku' AS sku, line->>'reason' AS reason, sum((line->>'quantity')::int) AS units
                 FROM returns, jsonb_array_elements(lines) AS line
                WHERE kind = 'return' AND status <> 'REJECTED' AND created_at >= $1 AND created_at < $2
                GROUP BY 1, 2 ORDER BY units DESC, sku, reason""",
            since,
            until,
        )
        timing = await conn.fetchrow(
            """SELECT count(*) AS refunded,
                      avg(extract(epoch FROM f.processed_at - t.created_at)) / 3600 AS avg_hours,
                      percentile_cont(0.5) WITHIN GROUP
                          (ORDER BY extract(epoch FROM f.processed_at - t.created_at)) / 3600 AS median_hours,
                      max(extract(epoch FROM f.processed_at - t.created_at)) / 3600 AS max_hours
                 FROM refunds f JOIN returns t USING (return_id)
                WHERE f.status = 'processed' AND t.created_at >= $1 AND t.created_at < $2""",
            since,
            until,
        )
        qc = await conn.fetch(
            """SELECT q.sku, coalesce(sum(q.passed), 0) AS passed, coalesce(sum(q.failed), 0) AS failed
                 FROM qc_lines q JOIN returns t USING (return_id)
                WHERE t.created_at >= $1 AND t.created_at < $2 GROUP BY ROLLUP (q.sku)""",
            since,
            until,
        )
        rto = await conn.fetchval(
            "SELECT count(*) FROM returns WHERE kind = 'rto' AND created_at >= $1 AND created_at < $2",
            since,
            until,
        )
    return {
        "by_sku": [dict(r) for r in by_sku],
        "by_reason": [dict(r) for r in by_reason],
        "timing": dict(timing) if timing else {},
        "qc": [dict(r) for r in qc],
        "rto_parcels": rto,
    }
