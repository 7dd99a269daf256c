"""SQL for warehouses, rules, the stock read model, warehouse load and routing decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from chassis.db import Conn, Queryable
from contracts import FulfilmentPlan, OrderLine
from services.routing.domain import Order, Rules, Served, Warehouse
from services.routing.records import Decision, Rule, Site


async def upsert_warehouse(conn: Queryable, *, wh: Warehouse, state: str, active: bool) -> None:
    """Create or update a warehouse."""
    await conn.execute(
        """INSERT INTO warehouses (code, name, pincode, state, latitude, longitude, active, priority,
                                   daily_capacity, cutoff_time)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, pincode = EXCLUDED.pincode,
               state = EXCLUDED.state, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
               active = EXCLUDED.active, priority = EXCLUDED.priority,
               daily_capacity = EXCLUDED.daily_capacity, cutoff_time = EXCLUDED.cutoff_time,
               updated_at = now()""",
        wh.code,
        wh.name,
        wh.pincode,
        state,
        wh.latitude,
        wh.longitude,
        active,
        wh.priority,
        wh.daily_capacity,
        wh.cutoff,
    )


async def active_warehouses(conn: Queryable) -> list[Warehouse]:
    """Warehouses that can take orders."""
    rows = await conn.fetch(
        """SELECT code, name, pincode, latitude, longitude, priority, daily_capacity, cutoff_time AS cutoff
             FROM warehouses WHERE active ORDER BY code"""
    )
    return [Warehouse(**dict(r)) for r in rows]


async def all_warehouses(pool: Queryable, *, after: str | None, limit: int) -> list[Site]:
    """A page of warehouses by code, active or not, after the code `after`."""
    rows = await pool.fetch(
        "SELECT * FROM warehouses WHERE $1::text IS NULL OR code > $1 ORDER BY code LIMIT $2", after, limit
    )
    return [Site.of(r) for r in rows]


async def warehouse_exists(conn: Queryable, code: str) -> bool:
    """Whether a warehouse of that code is known."""
    return bool(await conn.fetchval("SELECT true FROM warehouses WHERE code = $1", code))


# rules -------------------------------------------------------------------------------------------


async def add_rule(conn: Queryable, *, rule: dict[str, Any], actor: str) -> Rule:
    """Store one rule; a channel's preference replaces the previous one."""
    if rule["kind"] == "prefer_for_channel":
        await conn.execute(
            "DELETE FROM routing_rules WHERE kind = 'prefer_for_channel' AND channel = $1", rule["channel"]
        )
    row = await conn.fetchrow(
        """INSERT INTO routing_rules (kind, warehouse_code, channel, pincode_from, pincode_to, sku,
                                      created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *""",
        rule["kind"],
        rule["warehouse_code"],
        rule.get("channel"),
        rule.get("pincode_from"),
        rule.get("pincode_to"),
        rule.get("sku"),
        actor,
    )
    assert row is not None
    return Rule.of(row)


async def list_rules(pool: Queryable, *, after: int | None, limit: int) -> list[Rule]:
    """A page of rules, oldest first, after the rule `after`."""
    rows = await pool.fetch(
        "SELECT * FROM routing_rules WHERE $1::bigint IS NULL OR id > $1 ORDER BY id LIMIT $2", after, limit
    )
    return [Rule.of(r) for r in rows]


async def delete_rule(pool: Queryable, rule_id: int) -> bool:
    """Remove a rule; False when there was none."""
    return await pool.fetchval("DELETE FROM routing_rules WHERE id = $1 RETURNING true", rule_id) is not None


async def rules(conn: Queryable) -> Rules:
    """The rules as the planner takes them."""
    preferred: dict[str, str] = {}
    excluded: list[tuple[str, str, str]] = []
    pinned: dict[str, set[str]] = {}
    for r in await conn.fetch("SELECT * FROM routing_rules ORDER BY id"):
        if r["kind"] == "prefer_for_channel":
            preferred[r["channel"]] = r["warehouse_code"]
        elif r["kind"] == "exclude_pincodes":
            excluded.append((r["pincode_from"], r["pincode_to"], r["warehouse_code"]))
        else:
            pinned.setdefault(r["sku"], set()).add(r["warehouse_code"])
    return Rules(
        preferred_for_channel=preferred,
        excluded_pincodes=excluded,
        pinned_skus={sku: frozenset(codes) for sku, codes in pinned.items()},
    )


# stock view and load -----------------------------------------------------------------------------


async def record_stock(conn: Conn, *, sku: str, by_warehouse: dict[str, int], changed_at: datetime) -> None:
    """Apply a stock change to the read model; an older change never overwrites a newer one."""
    await conn.execute(
        """INSERT INTO stock_view (sku, warehouse_code, available, changed_at)
           SELECT $1, w, a, $4 FROM unnest($2::text[], $3::int[]) AS s(w, a)
           ON CONFLICT (sku, warehouse_code) DO UPDATE
               SET available = EXCLUDED.available, changed_at = EXCLUDED.changed_at
             WHERE stock_view.changed_at <= EXCLUDED.changed_at""",
        sku,
        list(by_warehouse),
        list(by_warehouse.values()),
        changed_at,
    )


async def available_for(conn: Queryable, skus: list[str]) -> dict[tuple[str, str], int]:
    """(sku, warehouse_code) → available, for these SKUs."""
    rows = await conn.fetch(
        "SELECT sku, warehouse_code, available FROM stock_view WHERE sku = ANY($1::text[])", skus
    )
    return {(r["sku"], r["warehouse_code"]): r["available"] for r in rows}


async def reserved(
    conn: Queryable, *, order_id: str, warehouse_codes: list[str], day: date, outcome: str
) -> None:
    """Inventory reserved the order's latest plan, in one round trip: one more order for each of its
    warehouses that day, the outcome on the decision, and the order no longer waits for stock."""
    await conn.execute(
        """WITH loaded AS (
               INSERT INTO warehouse_load (warehouse_code, day, orders)
               SELECT w, $2, 1 FROM unnest($1::text[]) w
               ON CONFLICT (warehouse_code, day) DO UPDATE SET orders = warehouse_load.orders + 1
           ), told AS (
               UPDATE route_decisions SET outcome = $4
                WHERE order_id = $3
                  AND attempt = (SELECT max(attempt) FROM route_decisions WHERE order_id = $3)
           )
           DELETE FROM stockless_orders WHERE order_id = $3""",
        warehouse_codes,
        day,
        order_id,
        outcome,
    )


async def load_on(conn: Queryable, day: date) -> dict[str, int]:
    """Orders each warehouse took on a day."""
    rows = await conn.fetch("SELECT warehouse_code, orders FROM warehouse_load WHERE day = $1", day)
    return {r["warehouse_code"]: r["orders"] for r in rows}


# orders and decisions ----------------------------------------------------------------------------


async def remember_order(conn: Queryable, *, order_id: str, order: Order) -> int:
    """Keep what a re-plan needs, and start a round of attempts: the first for a new order, the next
    one after the attempts made so far when orders asks again (a released unroutable order, perhaps
    with a corrected address). Returns the round's first attempt number."""
    return int(
        await conn.fetchval(
            """INSERT INTO routed_orders (order_id, channel, customer_pincode, lines, round_start, cod,
                                         shipped_by_marketplace, rehearsal)
               VALUES ($1, $2, $3, $4::jsonb,
                       coalesce((SELECT max(attempt) FROM route_decisions WHERE order_id = $1), 0) + 1,
                       $5, $6, $7)
               ON CONFLICT (order_id) DO UPDATE
                  SET channel = excluded.channel, customer_pincode = excluded.customer_pincode,
                      lines = excluded.lines, round_start = excluded.round_start, cod = excluded.cod,
                      shipped_by_marketplace = excluded.shipped_by_marketplace,
                      rehearsal = routed_orders.rehearsal OR excluded.rehearsal
               RETURNING round_start""",
            order_id,
            order.channel or "",
            order.customer_pincode,
            [line.model_dump() for line in order.lines],
            order.cod,
            order.shipped_by_marketplace,
            order.rehearsal,
        )
    )


async def order_of(conn: Queryable, order_id: str) -> tuple[Order, int] | None:
    """A routed order and the first attempt of its current round, for re-planning."""
    row = await conn.fetchrow("SELECT * FROM routed_orders WHERE order_id = $1", order_id)
    if row is None:
        return None
    order = Order(
        lines=[OrderLine.model_validate(line) for line in row["lines"]],
        customer_pincode=row["customer_pincode"],
        channel=row["channel"] or None,
        cod=row["cod"],
        shipped_by_marketplace=row["shipped_by_marketplace"],
        rehearsal=row["rehearsal"],
    )
    return order, int(row["round_start"])


# serviceability (ADR 0311, 0410) ------------------------------------------------------------------


async def served(conn: Queryable, pincode: str, warehouse_pincodes: list[str]) -> Served:
    """What routing knows of couriers at a destination and at these warehouse pincodes: one index
    lookup per pincode asked (nothing is known before shipping's first announcement)."""
    rows = await conn.fetch(
        """SELECT h.courier, h.pickup_known, p.pincode, p.pickup, p.prepaid, p.cod
             FROM couriers_heard h
             LEFT JOIN courier_pincodes p ON p.courier = h.courier AND p.pincode = ANY($1::text[])""",
        [pincode, *warehouse_pincodes],
    )
    at_destination = [r for r in rows if r["pincode"] == pincode]
    pickup: dict[str, set[str]] = {}
    for r in rows:
        if r["pickup"]:
            pickup.setdefault(r["pincode"], set()).add(r["courier"])
    return Served(
        known=bool(rows),
        prepaid=frozenset(r["courier"] for r in at_destination if r["prepaid"]),
        cod=frozenset(r["courier"] for r in at_destination if r["cod"]),
        pickup={pin: frozenset(couriers) for pin, couriers in pickup.items()},
        pickup_anywhere=frozenset(r["courier"] for r in rows if not r["pickup_known"]),
    )


async def replace_courier(
    conn: Conn,
    *,
    courier: str,
    pickup: list[str] | None,
    prepaid: list[str],
    cod: list[str],
    loaded_at: datetime,
) -> bool:
    """Take shipping's announcement of one courier unless a newer one of it was taken; True when
    it replaced that courier's pincodes."""
    taken = await conn.fetchval(
        """INSERT INTO couriers_heard (courier, pickup_known, loaded_at) VALUES ($1, $2, $3)
           ON CONFLICT (courier) DO UPDATE
              SET pickup_known = excluded.pickup_known, loaded_at = excluded.loaded_at
            WHERE couriers_heard.loaded_at < excluded.loaded_at
        RETURNING true""",
        courier,
        pickup is not None,
        loaded_at,
    )
    if not taken:
        return False
    await conn.execute("DELETE FROM courier_pincodes WHERE courier = $1", courier)
    await conn.execute(
        """INSERT INTO courier_pincodes (pincode, courier, pickup, prepaid, cod)
           SELECT pin, $1, bool_or(kind = 'pickup'), bool_or(kind = 'prepaid'), bool_or(kind = 'cod')
             FROM (SELECT unnest($2::text[]), 'pickup'
                   UNION ALL SELECT unnest($3::text[]), 'prepaid'
                   UNION ALL SELECT unnest($4::text[]), 'cod') AS listed (pin, kind)
            GROUP BY pin""",
        courier,
        pickup or [],
        prepaid,
        cod,
    )
    return True


async def hold_for_courier(conn: Queryable, *, order_id: str, pincode: str, cod: bool) -> None:
    """Remember an order no courier could carry, to plan it again when serviceability changes."""
    await conn.execute(
        """INSERT INTO courierless_orders (order_id, pincode, cod) VALUES ($1, $2, $3)
           ON CONFLICT (order_id) DO UPDATE SET pincode = excluded.pincode, cod = excluded.cod""",
        order_id,
        pincode,
        cod,
    )


async def held_where_it_delivers(conn: Queryable, courier: str) -> list[str]:
    """Orders held for want of a courier whose pincode and payment this courier now delivers to,
    oldest first: the only held orders its announcement can have made servable."""
    rows = await conn.fetch(
        """SELECT c.order_id FROM courierless_orders c
             JOIN courier_pincodes p ON p.pincode = c.pincode AND p.courier = $1
            WHERE CASE WHEN c.cod THEN p.cod ELSE p.prepaid END
            ORDER BY c.held_at, c.order_id""",
        courier,
    )
    return [r["order_id"] for r in rows]


async def hold_for_stock(conn: Queryable, *, order_id: str, skus: list[str]) -> None:
    """Remember an order no stock could be found for, to plan it again when one of its SKUs is
    announced with stock. Kept in the place it first took in the queue."""
    await conn.execute(
        """INSERT INTO stockless_orders (order_id, skus) VALUES ($1, $2)
           ON CONFLICT (order_id) DO UPDATE SET skus = excluded.skus""",
        order_id,
        sorted(set(skus)),
    )


async def forget_stockless(conn: Queryable, order_id: str) -> None:
    """The order was planned (or reserved): it no longer waits for stock."""
    await conn.execute("DELETE FROM stockless_orders WHERE order_id = $1", order_id)


async def waiting_for(conn: Queryable, sku: str, *, limit: int) -> list[str]:
    """Orders waiting for stock that need this SKU, oldest first."""
    rows = await conn.fetch(
        """SELECT order_id FROM stockless_orders WHERE skus @> ARRAY[$1::text]
            ORDER BY held_at, order_id LIMIT $2""",
        sku,
        limit,
    )
    return [r["order_id"] for r in rows]


async def record_decision(
    conn: Queryable,
    *,
    order_id: str,
    attempt: int,
    pincode: str,
    plans: list[FulfilmentPlan],
    notes: list[str],
    served: bool = False,
) -> bool:
    """Keep the plans made for an order so the decision can be explained later; False if this
    attempt was already planned (a redelivered trigger). For an order some courier serves
    (`served`), the same round trip settles its waiting: not for a courier any more, and once a
    plan is found not for stock either (a redelivered trigger leaves the stock wait as it was)."""
    done = await conn.fetchval(
        """WITH unheld AS (
               DELETE FROM courierless_orders WHERE order_id = $1 AND $7
           ), decided AS (
               INSERT INTO route_decisions (order_id, attempt, customer_pincode, plans, notes)
               VALUES ($1, $2, $3, $4::jsonb, $5::jsonb) ON CONFLICT DO NOTHING RETURNING true
           ), stocked AS (
               DELETE FROM stockless_orders
                WHERE order_id = $1 AND $7 AND $6 AND EXISTS (SELECT 1 FROM decided)
           )
           SELECT EXISTS (SELECT 1 FROM decided)""",
        order_id,
        attempt,
        pincode,
        [p.model_dump() for p in plans],
        notes,
        bool(plans),
        served,
    )
    return bool(done)


async def record_outcome(conn: Queryable, *, order_id: str, attempt: int | None, outcome: str) -> None:
    """What inventory made of an attempt (reserved, failed, final failure); None: the latest."""
    await conn.execute(
        """UPDATE route_decisions SET outcome = $3
            WHERE order_id = $1
              AND attempt = coalesce($2, (SELECT max(attempt) FROM route_decisions WHERE order_id = $1))""",
        order_id,
        attempt,
        outcome,
    )


async def decisions(pool: Queryable, order_id: str) -> list[Decision]:
    """Every plan made for an order, first attempt first."""
    rows = await pool.fetch("SELECT * FROM route_decisions WHERE order_id = $1 ORDER BY attempt", order_id)
    return [Decision.of(r) for r in rows]
