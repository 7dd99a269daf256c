"""SQL for orders, their timeline, webhook deliveries and the risk blocklist; plain asyncpg.

One function per question or change. Functions that change an order expect it locked by `lock_order`
in the same transaction, so one order has one writer at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

import asyncpg

from chassis.db import Conn, Queryable, row_fields
from contracts import (
    ChannelOrder,
    DeliverySpeed,
    FieldProblem,
    OrderStatus,
    Payment,
    PaymentMethod,
)
from contracts.values import Address, Customer
from services.orders.domain import RiskFacts
from services.orders.domain.priority import PriorityFacts
from services.orders.records import (
    AwaitingDispatch,
    BlockEntry,
    NewEntry,
    Order,
    OrderChanges,
    OrderDetail,
    OrderSummary,
    TimelineEntry,
)

RTO_DONE = (OrderStatus.RTO_DELIVERED.value,)


def _timeline_of(source: str, *, first: int) -> str:
    """The INSERT of a timeline entry for the order a WITH query (`source`) returned, so an order's
    change and its entry are one statement; the entry's fields are the six parameters from `$first`
    on, as `_entry_args` gives them."""
    fields = ", ".join(f"${n}::text" for n in range(first, first + 6))
    return f"""INSERT INTO order_timeline (order_id, from_status, to_status, reason, cause,
                                       cause_event_id, actor)
           SELECT order_id, {fields} FROM {source}"""


async def insert_placed(
    conn: Conn,
    *,
    order_id: str,
    order: ChannelOrder,
    customer: Customer,
    risk_reasons: list[str],
    payment_expires_at: datetime | None,
    entered_by: str | None,
    noted: NewEntry,
    rehearsal: bool = False,
) -> bool:
    """Store a new order with the first entry of its timeline; False (and nothing written) if this
    (channel, channel_order_id) is already known."""
    status = await conn.execute(
        """WITH placed AS (
               INSERT INTO orders (order_id, channel, channel_order_id, status, placed_at, customer,
                                   shipping_address, lines, shipping_fee_paise, discount_paise,
                                   total_paise, payment, delivery_speed, phone, risk_reasons,
                                   payment_expires_at, entered_by, shipped_by_marketplace, rehearsal)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9, $10, $11, $12::jsonb,
                       $13, $14, $15::jsonb, $16, $17, $18, $19)
               ON CONFLICT (channel, channel_order_id) DO NOTHING
               RETURNING order_id)
           """
        + _timeline_of("placed", first=20),
        order_id,
        order.channel.value,
        order.channel_order_id,
        OrderStatus.PLACED.value,
        order.placed_at,
        customer.model_dump(mode="json"),
        order.shipping_address.model_dump(mode="json"),
        [line.model_dump() for line in order.lines],
        order.shipping_fee_paise,
        order.discount_paise,
        order.total_paise,
        order.payment.model_dump(mode="json"),
        order.delivery_speed.value,
        customer.phone,
        risk_reasons,
        payment_expires_at,
        entered_by,
        order.shipped_by_marketplace,
        rehearsal,
        *_entry_args(noted),
    )
    return bool(status == "INSERT 0 1")


async def replace_rejected(
    conn: Conn,
    *,
    order_id: str,
    order: ChannelOrder,
    customer: Customer,
    risk_reasons: list[str],
    payment_expires_at: datetime | None,
    entered_by: str | None,
) -> None:
    """Turn a refused order into a placed one with the operator's corrected content."""
    await conn.execute(
        """UPDATE orders SET channel = $2, channel_order_id = $3, placed_at = $4, customer = $5::jsonb,
                  shipping_address = $6::jsonb, lines = $7::jsonb, shipping_fee_paise = $8,
                  discount_paise = $9, total_paise = $10, payment = $11::jsonb, delivery_speed = $12,
                  phone = $13, risk_reasons = $14::jsonb, payment_expires_at = $15, entered_by = $16,
                  shipped_by_marketplace = $17, problems = NULL, updated_at = now()
            WHERE order_id = $1""",
        order_id,
        order.channel.value,
        order.channel_order_id,
        order.placed_at,
        customer.model_dump(mode="json"),
        order.shipping_address.model_dump(mode="json"),
        [line.model_dump() for line in order.lines],
        order.shipping_fee_paise,
        order.discount_paise,
        order.total_paise,
        order.payment.model_dump(mode="json"),
        order.delivery_speed.value,
        customer.phone,
        risk_reasons,
        payment_expires_at,
        entered_by,
        order.shipped_by_marketplace,
    )


async def insert_rejected(
    conn: Conn,
    *,
    order_id: str,
    channel: str,
    channel_order_id: str,
    received: Any,
    problems: list[FieldProblem],
    noted: NewEntry,
) -> bool:
    """Keep a refused order with its reasons and what was received, and the first entry of its
    timeline; False (and nothing written) if already known."""
    status = await conn.execute(
        """WITH refused AS (
               INSERT INTO orders (order_id, channel, channel_order_id, status, problems, received)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
               ON CONFLICT (channel, channel_order_id) DO NOTHING
               RETURNING order_id)
           """
        + _timeline_of("refused", first=7),
        order_id,
        channel,
        channel_order_id,
        OrderStatus.REJECTED.value,
        [p.model_dump() for p in problems],
        received,
        *_entry_args(noted),
    )
    return bool(status == "INSERT 0 1")


async def order_id_of(conn: Conn, channel: str, channel_order_id: str) -> str | None:
    """The order a channel's order id already became, if any."""
    found = await conn.fetchval(
        "SELECT order_id FROM orders WHERE channel = $1 AND channel_order_id = $2", channel, channel_order_id
    )
    return str(found) if found is not None else None


def _order(row: asyncpg.Record | None) -> Order | None:
    return Order.of(row) if row is not None else None


async def lock_order(conn: Conn, order_id: str) -> Order | None:
    """The order, locked until the transaction ends (one writer at a time per order)."""
    return _order(await conn.fetchrow("SELECT * FROM orders WHERE order_id = $1 FOR UPDATE", order_id))


async def lock_order_by_channel(conn: Conn, channel: str, channel_order_id: str) -> Order | None:
    """The order a channel's order id became, locked."""
    return _order(
        await conn.fetchrow(
            "SELECT * FROM orders WHERE channel = $1 AND channel_order_id = $2 FOR UPDATE",
            channel,
            channel_order_id,
        )
    )


async def lock_order_by_payment(conn: Conn, gateway_payment_id: str) -> Order | None:
    """The order a gateway payment belongs to, locked."""
    return _order(
        await conn.fetchrow(
            "SELECT * FROM orders WHERE payment->>'gateway_payment_id' = $1 FOR UPDATE", gateway_payment_id
        )
    )


async def keep_early_payment(
    conn: Conn, *, payment_id: str, order_ref: str | None, event: dict[str, Any]
) -> None:
    """Keep a gateway event whose order has not arrived yet (``event``: its fields)."""
    await conn.execute(
        "INSERT INTO early_payments (payment_id, order_ref, event) VALUES ($1, $2, $3)",
        payment_id,
        order_ref,
        event,
    )


async def take_early_payments(
    conn: Conn, *, order_id: str, channel_order_id: str, payment_id: str | None
) -> list[dict[str, Any]]:
    """The kept gateway events (their fields, oldest first) of a just-placed order, marked matched."""
    rows = await conn.fetch(
        """UPDATE early_payments SET matched_order_id = $1, matched_at = now()
            WHERE matched_order_id IS NULL
              AND (order_ref = ANY($2::text[]) OR payment_id = $3)
        RETURNING id, event""",
        order_id,
        [order_id, channel_order_id],
        payment_id,
    )
    return [r["event"] for r in sorted(rows, key=lambda r: r["id"])]


async def risk_facts(conn: Conn, *, phone: str, pincode: str) -> RiskFacts:
    """Blocklist entries and past returns to origin for a phone and pincode."""
    row = await conn.fetchrow(
        """SELECT (SELECT reason FROM risk_blocklist WHERE kind = 'phone' AND value = $1)
                      AS phone_blocked,
                  (SELECT reason FROM risk_blocklist WHERE kind = 'pincode' AND value = $2)
                      AS pincode_blocked,
                  (SELECT count(*) FROM orders WHERE phone = $1 AND status = ANY($3::text[])) AS past_rtos""",
        phone,
        pincode,
        list(RTO_DONE),
    )
    assert row is not None
    return RiskFacts(
        phone_blocked=row["phone_blocked"], pincode_blocked=row["pincode_blocked"], past_rtos=row["past_rtos"]
    )


def _entry_args(entry: NewEntry) -> tuple[str | None, ...]:
    return (
        entry.from_status.value if entry.from_status else None,
        entry.to_status.value,
        entry.reason,
        entry.cause,
        entry.cause_event_id,
        entry.actor,
    )


async def record_status(conn: Conn, order_id: str, entry: NewEntry) -> None:
    """Set the status an entry moves to, and append the entry to the order's timeline."""
    await update_order(conn, order_id, {"status": entry.to_status}, noted=entry)


async def add_timeline(conn: Conn, order_id: str, entry: NewEntry) -> None:
    """Append an entry to the order's timeline (a note: nothing on the order itself changes)."""
    await conn.execute(
        """INSERT INTO order_timeline (order_id, from_status, to_status, reason, cause, cause_event_id, actor)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        order_id,
        *_entry_args(entry),
    )


# Each settable key of OrderChanges: its SET clause ({0}: its parameter) and how its value is bound.
# The order is fixed, so one kind of change is always the same statement.
_SET: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "status": ("status = {0}, updated_at = now()", lambda s: s.value),
    "held_for": ("held_for = {0}", lambda v: v),
    "cod_confirm_by": ("cod_confirm_by = {0}", lambda v: v),
    "reservation_id": ("reservation_id = {0}", lambda v: v),
    "allocations": ("allocations = {0}::jsonb", lambda a: [x.model_dump() for x in a]),
    "warehouse_codes": ("warehouse_codes = {0}", list),
    "unroutable": ("unroutable = {0}", lambda v: v),
    "promised_dispatch_by": ("promised_dispatch_by = {0}", lambda v: v),
    "priority": ("priority = {0}", lambda v: v),
    "priority_reasons": ("priority_reasons = {0}", list),
    "shipments": ("shipments = {0}::jsonb", lambda v: v),
    "awb": ("awbs = array_append(awbs, {0})", lambda v: v),
}


async def update_order(
    conn: Conn, order_id: str, changes: OrderChanges, *, noted: NewEntry | None = None
) -> None:
    """Write everything one step changes on a locked order in one UPDATE, and in the same statement
    the entry it adds to the timeline, if any (nothing at all if neither)."""
    sets: list[str] = []
    args: list[Any] = [order_id]
    for key, (clause, bound) in _SET.items():
        if key in changes:
            args.append(bound(changes[key]))  # type: ignore[literal-required]
            sets.append(clause.format(f"${len(args)}"))
    if not sets:
        if noted is not None:
            await add_timeline(conn, order_id, noted)
        return
    update = f"UPDATE orders SET {', '.join(sets)} WHERE order_id = $1"
    if noted is None:
        await conn.execute(update, *args)
        return
    await conn.execute(
        f"WITH changed AS ({update} RETURNING order_id) " + _timeline_of("changed", first=len(args) + 1),
        *args,
        *_entry_args(noted),
    )


async def set_payment(
    conn: Conn,
    *,
    order_id: str,
    payment: Payment,
    refunded_paise: int | None = None,
    refund_id: str | None = None,
    stop_expiry: bool = False,
) -> None:
    """Store the payment's new state; a refund adds to the total refunded, once per refund id."""
    await conn.execute(
        """UPDATE orders SET payment = $2::jsonb,
                  refunded_paise = coalesce($3, refunded_paise),
                  refund_ids = CASE WHEN $4::text IS NULL THEN refund_ids
                                    ELSE array_append(refund_ids, $4) END,
                  payment_expires_at = CASE WHEN $5 THEN NULL ELSE payment_expires_at END,
                  updated_at = now()
            WHERE order_id = $1""",
        order_id,
        payment.model_dump(mode="json"),
        refunded_paise,
        refund_id,
        stop_expiry,
    )


async def priority_weights(conn: Queryable) -> dict[str, Any] | None:
    """The operator's stored priority weights (as stored JSON), or None when the settings apply."""
    raw = await conn.fetchval("SELECT weights FROM priority_rules")
    return None if raw is None else dict(raw)


async def set_priority_weights(conn: Conn, *, weights: dict[str, Any] | None, actor: str) -> None:
    """Store the operator's weights, replacing any before; None goes back to the settings."""
    if weights is None:
        await conn.execute("DELETE FROM priority_rules")
        return
    await conn.execute(
        """INSERT INTO priority_rules (singleton, weights, updated_by) VALUES (true, $1::jsonb, $2)
           ON CONFLICT (singleton) DO UPDATE
              SET weights = EXCLUDED.weights, updated_by = EXCLUDED.updated_by, updated_at = now()""",
        weights,
        actor,
    )


async def waiting_for_dispatch(conn: Queryable, limit: int) -> list[AwaitingDispatch]:
    """Confirmed orders not yet packed, with what their priority is decided on, most urgent first."""
    rows = await conn.fetch(
        """SELECT order_id, channel, delivery_speed, payment->>'method' AS payment_method, total_paise,
                  shipping_address->>'pincode' AS pincode, promised_dispatch_by, priority
             FROM orders
            WHERE status = 'CONFIRMED'
            ORDER BY promised_dispatch_by NULLS LAST, priority DESC, order_id
            LIMIT $1""",
        limit,
    )
    return [
        AwaitingDispatch(
            order_id=r["order_id"],
            promised_dispatch_by=r["promised_dispatch_by"],
            priority=r["priority"],
            facts=PriorityFacts(
                speed=DeliverySpeed(r["delivery_speed"]),
                prepaid=r["payment_method"] != PaymentMethod.COD.value,
                total_paise=r["total_paise"],
                channel=r["channel"],
                pincode=r["pincode"],
            ),
        )
        for r in rows
    ]


async def set_contact(
    conn: Conn, *, order_id: str, customer: Customer, address: Address, risk_reasons: list[str]
) -> None:
    """Store a corrected phone and address (already validated)."""
    await conn.execute(
        """UPDATE orders SET customer = $2::jsonb, phone = $3, shipping_address = $4::jsonb,
                  risk_reasons = $5::jsonb, updated_at = now()
            WHERE order_id = $1""",
        order_id,
        customer.model_dump(mode="json"),
        customer.phone,
        address.model_dump(mode="json"),
        risk_reasons,
    )


async def set_returned(conn: Conn, order_id: str, returned: dict[str, dict[str, int]]) -> None:
    """Units received back, per return and SKU."""
    await conn.execute("UPDATE orders SET returned = $2::jsonb WHERE order_id = $1", order_id, returned)


async def claim_webhook(conn: Conn, *, provider: str, webhook_id: str, event: str) -> bool:
    """Record a delivery as being applied in this transaction; False if it was applied before."""
    status = await conn.execute(
        """INSERT INTO processed_webhooks (provider, webhook_id, event, outcome)
           VALUES ($1, $2, $3, 'pending') ON CONFLICT DO NOTHING""",
        provider,
        webhook_id,
        event,
    )
    return bool(status == "INSERT 0 1")


async def webhook_outcome(
    conn: Conn, *, provider: str, webhook_id: str, order_id: str | None, outcome: str
) -> None:
    """What applying the delivery did."""
    await conn.execute(
        """UPDATE processed_webhooks SET order_id = $3, outcome = $4
            WHERE provider = $1 AND webhook_id = $2""",
        provider,
        webhook_id,
        order_id,
        outcome,
    )


async def due(
    conn: Conn, *, deadline_column: str, statuses: list[str], now: datetime, limit: int
) -> list[str]:
    """Orders in these statuses whose deadline passed, locked and skipped by other sweepers."""
    assert deadline_column in ("payment_expires_at", "cod_confirm_by")
    rows = await conn.fetch(
        f"""SELECT order_id FROM orders
             WHERE status = ANY($1::text[]) AND {deadline_column} < $2
             ORDER BY {deadline_column} LIMIT $3
             FOR UPDATE SKIP LOCKED""",
        statuses,
        now,
        limit,
    )
    return [r["order_id"] for r in rows]


async def block(conn: Conn, *, kind: str, value: str, reason: str, added_by: str) -> None:
    """Put a phone or pincode on the blocklist (or update why)."""
    await conn.execute(
        """INSERT INTO risk_blocklist (kind, value, reason, added_by) VALUES ($1, $2, $3, $4)
           ON CONFLICT (kind, value) DO UPDATE SET reason = EXCLUDED.reason, added_by = EXCLUDED.added_by,
                                                   added_at = now()""",
        kind,
        value,
        reason,
        added_by,
    )


async def unblock(conn: Conn, *, kind: str, value: str) -> bool:
    """Take an entry off the blocklist; False if it was not there."""
    return bool(
        await conn.execute("DELETE FROM risk_blocklist WHERE kind = $1 AND value = $2", kind, value)
        == "DELETE 1"
    )


async def blocklist_page(conn: Conn, *, before: tuple[datetime, str] | None, limit: int) -> list[BlockEntry]:
    """A page of the blocklist, newest first, older than `before` (added_at, `kind:value`)."""
    rows = await conn.fetch(
        """SELECT kind, value, reason, added_by, added_at
             FROM risk_blocklist
            WHERE $1::timestamptz IS NULL OR (added_at, kind || ':' || value) < ($1, $2::text)
            ORDER BY added_at DESC, kind || ':' || value DESC LIMIT $3""",
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [BlockEntry(**row_fields(BlockEntry, r)) for r in rows]


async def blocked(conn: Conn, *, kind: str, value: str) -> BlockEntry | None:
    """One blocklist entry, or None when the phone or pincode is not blocked."""
    row = await conn.fetchrow(
        "SELECT kind, value, reason, added_by, added_at FROM risk_blocklist WHERE kind = $1 AND value = $2",
        kind,
        value,
    )
    return None if row is None else BlockEntry(**row_fields(BlockEntry, row))


async def list_orders(
    conn: Conn,
    *,
    status: str | None,
    channel: str | None,
    payment_method: str | None,
    warehouse: str | None,
    received_from: datetime | None,
    received_to: datetime | None,
    search: str | None,
    phone: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[OrderSummary]:
    """Newest first, filtered, with keyset pagination on (created_at, order_id)."""
    rows = list(
        await conn.fetch(
            """SELECT order_id, channel, channel_order_id, status, total_paise,
                      payment->>'method' AS payment_method, payment->>'status' AS payment_status,
                      warehouse_codes, awbs, risk_reasons, promised_dispatch_by, priority,
                      priority_reasons, created_at
                 FROM orders
                WHERE ($1::text IS NULL OR status = $1)
                  AND ($2::text IS NULL OR channel = $2)
                  AND ($3::text IS NULL OR payment->>'method' = $3)
                  AND ($4::text IS NULL OR $4 = ANY (warehouse_codes))
                  AND ($5::timestamptz IS NULL OR created_at >= $5)
                  AND ($6::timestamptz IS NULL OR created_at < $6)
                  AND ($7::text IS NULL OR order_id = $7 OR channel_order_id = $7 OR $7 = ANY (awbs)
                       OR phone = $8)
                  AND ($9::timestamptz IS NULL OR (created_at, order_id) < ($9, $10))
                ORDER BY created_at DESC, order_id DESC
                LIMIT $11""",
            status,
            channel,
            payment_method,
            warehouse,
            received_from,
            received_to,
            search,
            phone,
            before[0] if before else None,
            before[1] if before else None,
            limit,
        )
    )
    return [OrderSummary.of(r) for r in rows]


async def get_order(conn: Conn, order_id: str) -> OrderDetail | None:
    """One order, every column as stored, and its timeline, oldest change first."""
    order = await conn.fetchrow("SELECT * FROM orders WHERE order_id = $1", order_id)
    if order is None:
        return None
    timeline = await conn.fetch(
        """SELECT from_status, to_status, reason, cause, cause_event_id, actor, at
             FROM order_timeline WHERE order_id = $1 ORDER BY id""",
        order_id,
    )
    return OrderDetail(
        **row_fields(
            OrderDetail,
            order,
            awbs=tuple(order["awbs"]),
            risk_reasons=tuple(order["risk_reasons"]),
            warehouse_codes=tuple(order["warehouse_codes"]),
            refund_ids=tuple(order["refund_ids"]),
            priority_reasons=tuple(order["priority_reasons"]),
            timeline=tuple(TimelineEntry(**row_fields(TimelineEntry, t)) for t in timeline),
        )
    )


# warehouses' cut-offs, as routing announces them (ADR 0361) --------------------------------------


async def save_cutoff(conn: Conn, *, warehouse_code: str, cutoff: time | None, changed_at: datetime) -> None:
    """A warehouse's cut-off as routing last announced it; an older announcement changes nothing."""
    await conn.execute(
        """INSERT INTO warehouse_cutoffs (warehouse_code, cutoff_time, changed_at) VALUES ($1, $2, $3)
           ON CONFLICT (warehouse_code) DO UPDATE
              SET cutoff_time = EXCLUDED.cutoff_time, changed_at = EXCLUDED.changed_at
            WHERE warehouse_cutoffs.changed_at < EXCLUDED.changed_at""",
        warehouse_code,
        cutoff,
        changed_at,
    )


async def cutoffs(conn: Queryable) -> dict[str, time]:
    """The cut-off of every warehouse that has one (a handful of rows: read once per transaction)."""
    rows = await conn.fetch(
        "SELECT warehouse_code, cutoff_time FROM warehouse_cutoffs WHERE cutoff_time IS NOT NULL"
    )
    return {r["warehouse_code"]: r["cutoff_time"] for r in rows}
