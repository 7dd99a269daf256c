"""SQL of the console: the order read model, the merged timeline, operators and sessions."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chassis.db import Conn, Queryable
from contracts import StockChanged
from services.console.domain import desks, floor, metrics
from services.console.domain.decisions import CLOCK_TABS, TABS, Search, tabs_of
from services.console.domain.inbox import Ticket, TicketLine
from services.console.domain.stock import StockRow, latest, rows_of
from services.console.domain.view import OrderView, ReturnView, ShipmentView, TimelineEntry
from services.console.records import LiveSession, OperatorAccount, QueueRow

_OPEN_RETURN = {
    "REQUESTED",
    "APPROVED",
    "PICKUP_SCHEDULED",
    "PICKED_UP",
    "RECEIVED",
    "QC_PASSED",
    "QC_FAILED",
}
_OPEN_RETURN |= {"RESTOCKED", "QUARANTINED", "REFUND_PENDING"}

# --- the read model -----------------------------------------------------------------------------


def search_terms(view: OrderView) -> tuple[str, str]:
    """What the queue's search matches an order by: its lowercased ids, AWBs, name and email, and
    its phone's digits (stored in order_search, ADR 546)."""
    words = [view.order_id, view.channel_order_id, view.customer_name, view.email]
    words += [s.awb for s in view.shipments]
    return " ".join(w.lower() for w in words if w), "".join(c for c in view.phone or "" if c.isdigit())


def _row(view: OrderView) -> tuple[Any, ...]:
    ndr_open = any(s.status == "NDR" for s in view.shipments)
    return_open = any(r.status in _OPEN_RETURN for r in view.returns)
    return (
        view.order_id,
        view.first_seen_at,
        view.updated_at,
        view.sort_at,
        view.channel,
        view.channel_order_id,
        view.customer_name,
        view.phone,
        view.email,
        view.city,
        view.state,
        view.pincode,
        view.total_paise,
        view.payment_method,
        view.payment_status,
        view.status,
        view.status_reason,
        view.placed_at,
        view.shipment_status,
        sorted({s.warehouse_code for s in view.shipments}),
        sorted({s.courier for s in view.shipments}),
        sorted({s.awb for s in view.shipments if s.awb}),
        view.ndr_count,
        ndr_open,
        return_open,
        view.refunded_paise,
        view.messages_sent,
        view.messages_failed,
        view.contact_corrected,
        [list(line) for line in view.lines],
        [list(p) for p in view.problems],
        [_shipment_json(s) for s in view.shipments],
        [_return_json(r) for r in view.returns],
        [list(r) for r in view.refunds],
        {k: v.isoformat() for k, v in sorted(view.milestones.items())},
        tabs_of(view, ndr_open=ndr_open, return_open=return_open),
        view.promised_dispatch_by,
        view.unroutable_at,
        view.reserved_at,
        view.rehearsal,
    )


def _return_json(r: ReturnView) -> list[Any]:
    times = (r.requested_at, r.received_at, r.qc_at, r.refunded_at)
    return [
        r.return_id,
        r.status,
        [list(x) for x in r.lines],
        r.kind,
        r.sla_breached,
        r.refunded,
        *(t.isoformat() if t else None for t in times),
        r.refund_failure,
    ]


def _return_of(item: list[Any]) -> ReturnView:
    """A return from its stored list (the inverse of _return_json). Rows written before migration
    005 carry no SLA or refund flags, rows before ADR 211 no times or refund failure: `rebuild`
    fills them."""
    rid, status, lines, kind, *rest = item
    rest += [False, False, None, None, None, None, None][len(rest) :]
    sla_breached, refunded, *times, refund_failure = rest
    requested, received, qc, refunded_at = (datetime.fromisoformat(t) if t else None for t in times)
    return ReturnView(
        rid,
        status,
        tuple((sku, qty, reason) for sku, qty, reason in lines),
        kind,
        sla_breached=sla_breached,
        refunded=refunded,
        requested_at=requested,
        received_at=received,
        qc_at=qc,
        refunded_at=refunded_at,
        refund_failure=refund_failure,
    )


def _shipment_json(s: ShipmentView) -> dict[str, Any]:
    return {
        "shipment_id": s.shipment_id,
        "warehouse_code": s.warehouse_code,
        "courier": s.courier,
        "awb": s.awb,
        "status": s.status,
        "lines": [list(x) for x in s.lines],
        "ndr_attempts": list(s.ndr_attempts),
        "ndr_reason": s.ndr_reason,
        "location": s.location,
    }


_COLUMNS = """order_id, first_seen_at, updated_at, sort_at, channel, channel_order_id, customer_name, phone,
    email, city, state, pincode, total_paise, payment_method, payment_status, status, status_reason,
    placed_at, shipment_status, warehouses, couriers, awbs, ndr_count, ndr_open, return_open,
    refunded_paise, messages_sent, messages_failed, contact_corrected, lines, problems, shipments, returns,
    refunds, milestones, tabs, promised_dispatch_by, unroutable_at, reserved_at, rehearsal"""
_NAMES = tuple(c.strip() for c in _COLUMNS.split(","))
_TABS_AT = _NAMES.index("tabs")


def view_of(row: asyncpg.Record) -> OrderView:
    """An order's view from its row (the inverse of what save_views writes)."""
    return OrderView(
        order_id=row["order_id"],
        first_seen_at=row["first_seen_at"],
        updated_at=row["updated_at"],
        channel=row["channel"],
        channel_order_id=row["channel_order_id"],
        customer_name=row["customer_name"],
        phone=row["phone"],
        email=row["email"],
        city=row["city"],
        state=row["state"],
        pincode=row["pincode"],
        lines=tuple((sku, qty, price) for sku, qty, price in row["lines"]),
        total_paise=row["total_paise"],
        payment_method=row["payment_method"],
        payment_status=row["payment_status"],
        status=row["status"],
        status_reason=row["status_reason"],
        problems=tuple((f, p) for f, p in row["problems"]),
        placed_at=row["placed_at"],
        shipments=tuple(
            ShipmentView(
                shipment_id=s["shipment_id"],
                warehouse_code=s["warehouse_code"],
                courier=s["courier"],
                awb=s["awb"],
                status=s["status"],
                lines=tuple((sku, qty) for sku, qty in s["lines"]),
                ndr_attempts=tuple(s["ndr_attempts"]),
                ndr_reason=s["ndr_reason"],
                location=s["location"],
            )
            for s in row["shipments"]
        ),
        returns=tuple(_return_of(r) for r in row["returns"]),
        refunds=tuple((rid, amount) for rid, amount in row["refunds"]),
        messages_sent=row["messages_sent"],
        messages_failed=row["messages_failed"],
        milestones={k: datetime.fromisoformat(v) for k, v in row["milestones"].items()},
        contact_corrected=row["contact_corrected"],
        promised_dispatch_by=row["promised_dispatch_by"],
        unroutable_at=row["unroutable_at"],
        reserved_at=row["reserved_at"],
        rehearsal=row["rehearsal"],
    )


_ORDER_LOCKS = 81  # the advisory lock class of an order's view (ADR 81)


def _lock_key(order_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(order_id.encode(), digest_size=4).digest(), "big", signed=True)


async def _lock_orders(conn: Conn, order_ids: Iterable[str]) -> None:
    """Lock these orders for this transaction, whether or not they have a row yet.

    A row lock cannot cover an order not written yet: two consumers (two topics) folding the first
    events of one order would each start from nothing, and the second write would lose the first's
    facts and count the order twice. Keys are taken in one order, so two writers never deadlock."""
    keys = sorted({_lock_key(order_id) for order_id in order_ids})
    await conn.execute(
        "SELECT count(pg_advisory_xact_lock($1, k)) FROM unnest($2::int[]) AS k", _ORDER_LOCKS, keys
    )


@dataclass(frozen=True)
class LockedViews:
    """Orders' rows as stored, locked until the transaction ends: a fold starts from their views, and
    save_views writes only the rows that differ from them."""

    views: dict[str, OrderView]
    rows: dict[str, tuple[Any, ...]]


async def lock_views(conn: Conn, order_ids: Iterable[str]) -> LockedViews:
    """The current rows of these orders, locked for this transaction (new orders too)."""
    order_ids = sorted(set(order_ids))
    await _lock_orders(conn, order_ids)
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM order_view WHERE order_id = ANY($1::text[])
             ORDER BY order_id FOR UPDATE""",
        order_ids,
    )
    return LockedViews(
        views={r["order_id"]: view_of(r) for r in rows}, rows={r["order_id"]: tuple(r) for r in rows}
    )


def _json_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row as one element of the JSON array jsonb_populate_recordset reads (times as ISO text)."""
    return {
        name: v.isoformat() if isinstance(v, datetime) else v for name, v in zip(_NAMES, row, strict=True)
    }


_UPSERT = f"""INSERT INTO order_view ({_COLUMNS})
    SELECT {_COLUMNS} FROM jsonb_populate_recordset(NULL::order_view, $1::jsonb)
    ON CONFLICT (order_id) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in _NAMES[1:])}"""


async def save_views(conn: Conn, views: Sequence[OrderView], locked: LockedViews | None = None) -> None:
    """Write the views whose rows differ from the stored ones (new or changed) in one statement, and
    move the tab counts by the same writes, in this transaction.

    `locked` is what lock_views read in this transaction; without it the rows are locked and read
    here. A write moves the queue's version once, which the live queue watches; a batch that changed
    no row moves nothing (ADR 440, 520)."""
    rows = {v.order_id: _row(v) for v in views}
    if not rows:
        return
    if locked is None:
        locked = await lock_views(conn, rows)
    changed = [row for order_id, row in rows.items() if locked.rows.get(order_id) != row]
    if not changed:
        return
    moved: Counter[str] = Counter()
    for row in changed:
        if (old := locked.rows.get(row[0])) is not None:
            moved.subtract(old[_TABS_AT])
        moved.update(row[_TABS_AT])
    await conn.execute(_UPSERT, [_json_row(row) for row in changed])
    written = {row[0] for row in changed}
    await _save_search(conn, [v for v in views if v.order_id in written], locked)
    # The version row first: every writer waits on it, so the counts below are never locked by two
    # writers in different orders. Every tab has its row from the migration that introduced it.
    await conn.execute("UPDATE queue_version SET version = version + 1")
    if deltas := sorted((tab, n) for tab, n in moved.items() if n):
        tabs, counts = zip(*deltas, strict=True)
        await conn.execute(
            """UPDATE queue_counts AS q SET orders = q.orders + d.n
                 FROM unnest($1::text[], $2::bigint[]) AS d (tab, n) WHERE q.tab = d.tab""",
            list(tabs),
            list(counts),
        )


async def _save_search(conn: Conn, views: Sequence[OrderView], locked: LockedViews) -> None:
    """Write the search terms of the orders that are new or whose terms changed (ADR 546)."""
    terms = {v.order_id: search_terms(v) for v in views}
    changed = [
        (order_id, *t)
        for order_id, t in terms.items()
        if (old := locked.views.get(order_id)) is None or search_terms(old) != t
    ]
    if not changed:
        return
    order_ids, texts, digits = zip(*changed, strict=True)
    await conn.execute(
        """INSERT INTO order_search (order_id, search_text, phone_digits)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
           ON CONFLICT (order_id) DO UPDATE
              SET search_text = EXCLUDED.search_text, phone_digits = EXCLUDED.phone_digits""",
        list(order_ids),
        list(texts),
        list(digits),
    )


async def add_timeline(conn: Conn, entries: Sequence[TimelineEntry]) -> None:
    """Add lines to the merged timeline in one statement (an event's line is written once)."""
    if not entries:
        return
    await conn.execute(
        """INSERT INTO order_timeline (event_id, order_id, at, kind, text, actor)
           SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[])
           ON CONFLICT (event_id) DO NOTHING""",
        [e.event_id for e in entries],
        [e.order_id for e in entries],
        [e.at for e in entries],
        [e.kind for e in entries],
        [e.text for e in entries],
        [e.actor for e in entries],
    )


async def all_views(db: Queryable) -> dict[str, OrderView]:
    """Every order's view (the rebuild test compares these)."""
    return {r["order_id"]: view_of(r) for r in await db.fetch("SELECT * FROM order_view")}


async def all_timeline(db: Queryable) -> list[TimelineEntry]:
    rows = await db.fetch("SELECT * FROM order_timeline ORDER BY event_id")
    return [
        TimelineEntry(r["event_id"], r["order_id"], r["at"], r["kind"], r["text"], r["actor"]) for r in rows
    ]


async def replace_all(
    conn: Conn,
    views: Sequence[OrderView],
    timeline: Sequence[TimelineEntry],
    applied: Sequence[tuple[str, str]],
    stock: Sequence[StockChanged] = (),
    ticket_lines: Sequence[TicketLine] = (),
) -> None:
    """Swap the whole read model (orders, stock and tickets) for a rebuilt one, and mark its events
    applied (ADR 81, 320, 351)."""
    await conn.execute("TRUNCATE order_view, order_search, order_timeline, stock_view, ticket_lines")
    await add_ticket_lines(conn, ticket_lines)
    await conn.execute("UPDATE queue_counts SET orders = 0")
    await conn.execute("DELETE FROM inbox")
    await save_stock(conn, stock)
    await save_views(conn, views)
    await add_timeline(conn, timeline)
    await conn.executemany(
        "INSERT INTO inbox (event_id, topic) VALUES ($1, $2) ON CONFLICT DO NOTHING", list(applied)
    )


# --- the queue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilter:
    """What the operator narrowed the queue to."""

    tab: str = "all"
    status: str | None = None
    channel: str | None = None
    payment_method: str | None = None
    warehouse: str | None = None
    courier: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None
    search: Search | None = None
    now: datetime | None = None  # for the tabs that turn on the clock (late to dispatch)


def _where(f: QueueFilter) -> tuple[list[str], list[Any]]:
    if f.tab not in TABS:
        raise ValueError(f"tab: no tab {f.tab!r}")
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    # The tab is written into the SQL (a known name) so each tab's partial keyset index serves it.
    if f.tab in CLOCK_TABS:
        stored, column = CLOCK_TABS[f.tab]
        clauses = [f"tabs @> '{{{stored}}}'", f"{column} < coalesce({arg(f.now)}::timestamptz, now())"]
    else:
        clauses = ["true" if f.tab == "all" else f"tabs @> '{{{f.tab}}}'"]

    if f.status:
        clauses.append(f"status = {arg(f.status)}")
    if f.channel:
        clauses.append(f"channel = {arg(f.channel)}")
    if f.payment_method:
        clauses.append(f"payment_method = {arg(f.payment_method)}")
    if f.warehouse:
        clauses.append(f"warehouses @> ARRAY[{arg(f.warehouse)}]::text[]")
    if f.courier:
        clauses.append(f"couriers @> ARRAY[{arg(f.courier)}]::text[]")
    if f.placed_from:
        clauses.append(f"sort_at >= {arg(f.placed_from)}")
    if f.placed_to:
        clauses.append(f"sort_at < {arg(f.placed_to)}")
    if f.search is not None:
        text = f.search.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        match = f"search_text LIKE {arg('%' + text + '%')}"
        if f.search.digits:
            match += f" OR phone_digits LIKE {arg('%' + f.search.digits + '%')}"
        clauses.append(f"order_id IN (SELECT order_id FROM order_search WHERE {match})")
    return clauses, args


async def queue(
    db: Queryable, f: QueueFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[QueueRow]:
    """One page of the queue, newest first, after a keyset position."""
    clauses, args = _where(f)
    if after is not None:
        args += [after[0], after[1]]
        clauses.append(f"(sort_at, order_id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await db.fetch(
        f"""SELECT order_id, sort_at, channel, channel_order_id, customer_name, phone, city, pincode,
                   status, payment_method, payment_status, total_paise, shipment_status, couriers,
                   awbs, warehouses, ndr_count
            FROM order_view WHERE {" AND ".join(clauses)}
            ORDER BY sort_at DESC, order_id DESC LIMIT ${len(args)}""",
        *args,
    )
    return [QueueRow.of(r) for r in rows]


async def ndr_desk(
    db: Queryable, f: desks.NdrFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[OrderView]:
    """Orders with a parcel in NDR that passes the desk's filter, newest first by keyset (a page
    holds whole orders; desks.ndr_parcels picks their parcels)."""
    clauses, args = _where(QueueFilter(tab="ndr", search=f.search))

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.payment == "cod":
        clauses.append("payment_method = 'cod'")
    elif f.payment == "prepaid":
        clauses.append("payment_method IS DISTINCT FROM 'cod'")
    if f.min_paise is not None:
        clauses.append(f"total_paise >= {arg(f.min_paise)}")
    if f.max_paise is not None:
        clauses.append(f"total_paise <= {arg(f.max_paise)}")
    if f.courier is not None:
        clauses.append(f"couriers @> ARRAY[{arg(f.courier)}]::text[]")
    attempts = "jsonb_array_length(s->'ndr_attempts')"
    parcel = ["s->>'status' = 'NDR'"]
    if f.courier is not None:
        parcel.append(f"s->>'courier' = {arg(f.courier)}")
    if f.reasons is not None:
        parcel.append(f"coalesce(s->>'ndr_reason', 'other') = ANY({arg(f.reasons)}::text[])")
    if f.attempt is not None:
        parcel.append(f"{attempts} {'>=' if f.attempts_at_least else '='} {arg(f.attempt)}")
    clauses.append(
        f"EXISTS (SELECT 1 FROM jsonb_array_elements(shipments) AS s WHERE {' AND '.join(parcel)})"
    )
    if after is not None:
        clauses.append(f"(sort_at, order_id) < ({arg(after[0])}, {arg(after[1])})")
    rows = await db.fetch(
        f"""SELECT * FROM order_view WHERE {" AND ".join(clauses)}
            ORDER BY sort_at DESC, order_id DESC LIMIT {arg(limit)}""",
        *args,
    )
    return [view_of(r) for r in rows]


async def returns_desk(
    db: Queryable, *, search: Search | None, after: tuple[datetime, str] | None, limit: int
) -> list[OrderView]:
    """Orders with an open return (the stored `returns` tab), oldest first by keyset: the desk
    works through them in the order they came."""
    clauses, args = _where(QueueFilter(tab="returns", search=search))
    if after is not None:
        args += [after[0], after[1]]
        clauses.append(f"(sort_at, order_id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    rows = await db.fetch(
        f"""SELECT * FROM order_view WHERE {" AND ".join(clauses)}
            ORDER BY sort_at, order_id LIMIT ${len(args)}""",
        *args,
    )
    return [view_of(r) for r in rows]


async def ndr_reasons(db: Queryable) -> dict[str | None, int]:
    """Parcels in NDR per courier reason (the desk counts its buckets from these)."""
    rows = await db.fetch(
        """SELECT s->>'ndr_reason' AS reason, count(*) AS parcels
           FROM order_view, jsonb_array_elements(shipments) AS s
           WHERE tabs @> '{ndr}' AND s->>'status' = 'NDR' GROUP BY 1"""
    )
    return {r["reason"]: int(r["parcels"]) for r in rows}


async def ndr_couriers(db: Queryable) -> list[str]:
    """The couriers of orders in NDR (the desk's courier filter offers these)."""
    rows = await db.fetch(
        "SELECT DISTINCT unnest(couriers) AS courier FROM order_view WHERE tabs @> '{ndr}' ORDER BY 1"
    )
    return [r["courier"] for r in rows]


async def tab_counts(db: Queryable, *, now: datetime | None = None) -> dict[str, int]:
    """How many orders each tab holds (kept in step with every write, not counted on each read; a
    tab that turns on the clock is counted within its stored tab, a few rows, by its index)."""
    rows = await db.fetch("SELECT tab, orders FROM queue_counts")
    counts = {r["tab"]: int(r["orders"]) for r in rows}
    for tab, (stored, column) in CLOCK_TABS.items():
        counts[tab] = await db.fetchval(
            f"""SELECT count(*) FROM order_view
                WHERE tabs @> '{{{stored}}}' AND {column} < coalesce($1::timestamptz, now())""",
            now,
        )
    return {name: counts.get(name, 0) for name in TABS}


async def order(db: Queryable, order_id: str) -> OrderView | None:
    row = await db.fetchrow("SELECT * FROM order_view WHERE order_id = $1", order_id)
    return view_of(row) if row else None


async def timeline(db: Queryable, order_id: str) -> list[TimelineEntry]:
    rows = await db.fetch(
        """SELECT event_id, order_id, at, kind, text, actor FROM order_timeline WHERE order_id = $1
            ORDER BY at, event_id""",
        order_id,
    )
    return [
        TimelineEntry(r["event_id"], r["order_id"], r["at"], r["kind"], r["text"], r["actor"]) for r in rows
    ]


async def latest_seq(db: Queryable) -> int:
    """The read model's newest write; the live queue refreshes when it moves."""
    return int(await db.fetchval("SELECT version FROM queue_version"))


# --- stock (ADR 320) -----------------------------------------------------------------------------

_STOCK_COLUMNS = "sku, warehouse_code, available, on_hand, reserved, buffer, reorder_point, changed_at"


def _stock_row(r: asyncpg.Record) -> StockRow:
    return StockRow(**{k: r[k] for k in _STOCK_COLUMNS.split(", ")})


# An announcement `a` is applied unless a stored row of its SKU is newer.
_NOTHING_NEWER = "NOT EXISTS (SELECT 1 FROM stock_view n WHERE n.sku = a.sku AND n.changed_at > a.changed_at)"


async def save_stock(conn: Conn, announcements: Sequence[StockChanged]) -> None:
    """Replace each SKU's rows by its newest announcement here, unless a newer one is already stored
    (one partition per SKU keeps them in order; the time check keeps a replayed old one from
    winning): one delete and one insert for all the SKUs."""
    newest = sorted(latest(list(announcements)).values(), key=lambda e: e.sku)
    if not newest:
        return
    # A stored row newer than the announcement keeps its SKU as it is, in both statements: the
    # delete leaves such a SKU's rows, so the insert still finds the newer ones and skips it.
    await conn.execute(
        f"""DELETE FROM stock_view AS s USING unnest($1::text[], $2::timestamptz[]) AS a (sku, changed_at)
            WHERE s.sku = a.sku AND {_NOTHING_NEWER}""",
        [e.sku for e in newest],
        [e.changed_at for e in newest],
    )
    rows = [astuple(r) for e in newest for r in rows_of(e)]
    if not rows:
        return
    columns = [list(c) for c in zip(*rows, strict=True)]
    await conn.execute(
        f"""INSERT INTO stock_view ({_STOCK_COLUMNS})
            SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[],
                                 $7::int[], $8::timestamptz[]) AS a ({_STOCK_COLUMNS})
             WHERE {_NOTHING_NEWER}""",
        *columns,
    )


async def stock_page(
    db: Queryable,
    *,
    sku_prefix: str | None,
    warehouse: str | None,
    low: bool,
    after: tuple[str, str] | None,
    limit: int,
) -> list[StockRow]:
    """A page of SKU × warehouse rows by (sku, warehouse), after a keyset cursor; `low` keeps the
    rows at or below their reorder point."""
    rows = await db.fetch(
        f"""SELECT {_STOCK_COLUMNS} FROM stock_view
             WHERE ($1::text IS NULL OR sku ILIKE $1 || '%')
               AND ($2::text IS NULL OR warehouse_code = $2)
               AND (NOT $3 OR available <= reorder_point)
               AND ($4::text IS NULL OR (sku, warehouse_code) > ($4, $5))
             ORDER BY sku, warehouse_code LIMIT $6""",
        sku_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") if sku_prefix else None,
        warehouse,
        low,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_stock_row(r) for r in rows]


async def stock_of(db: Queryable, sku: str) -> list[StockRow]:
    """One SKU's rows, every warehouse."""
    rows = await db.fetch(
        f"SELECT {_STOCK_COLUMNS} FROM stock_view WHERE sku = $1 ORDER BY warehouse_code", sku
    )
    return [_stock_row(r) for r in rows]


async def low_stock_count(db: Queryable) -> int:
    """SKU × warehouse rows at or below their reorder point."""
    return int(await db.fetchval("SELECT count(*) FROM stock_view WHERE available <= reorder_point"))


async def stock_warehouses(db: Queryable) -> list[str]:
    """Warehouses the stock list knows, for its filter."""
    rows = await db.fetch("SELECT DISTINCT warehouse_code FROM stock_view ORDER BY 1")
    return [r["warehouse_code"] for r in rows]


# --- the fulfilment screen (ADR 380) -------------------------------------------------------------


async def floor_parcels(
    db: Queryable,
    warehouse: str,
    *,
    statuses: Sequence[str] | None = None,
    shipment_ids: Sequence[str] | None = None,
    limit: int = 500,
) -> list[floor.Parcel]:
    """A warehouse's parcels still on the floor, in some shipment statuses or with some ids, each
    with its order's facts; the warehouses index and the order's status narrow the orders read."""
    rows = await db.fetch(
        """SELECT o.order_id, o.channel_order_id, o.city, o.payment_method, s AS shipment
             FROM order_view AS o, jsonb_array_elements(o.shipments) AS s
            WHERE o.warehouses @> ARRAY[$1]::text[] AND o.status = ANY($2::text[])
              AND s->>'warehouse_code' = $1
              AND ($3::text[] IS NULL OR s->>'status' = ANY($3::text[]))
              AND ($4::text[] IS NULL OR s->>'shipment_id' = ANY($4::text[]))
            ORDER BY s->>'shipment_id'
            LIMIT $5""",
        warehouse,
        list(floor.ON_THE_FLOOR),
        None if statuses is None else list(statuses),
        None if shipment_ids is None else list(shipment_ids),
        limit,
    )
    return [floor.parcel_of(dict(r), r["shipment"]) for r in rows]


async def views(db: Queryable, order_ids: Sequence[str]) -> list[OrderView]:
    """The read model's rows of these orders (those it has)."""
    rows = await db.fetch("SELECT * FROM order_view WHERE order_id = ANY($1::text[])", list(order_ids))
    return [view_of(r) for r in rows]


# --- the numbers --------------------------------------------------------------------------------


async def orders_per_channel_day(db: Queryable, *, since: datetime) -> list[tuple[str, str, int]]:
    """(IST day, channel, orders placed) since a time; here and in every analytics number below,
    operators' rehearsal orders do not count (ADR 0360)."""
    rows = await db.fetch(
        """SELECT to_char(placed_at AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM-DD') AS day, channel, count(*) AS n
           FROM order_view WHERE placed_at >= $1 AND NOT rehearsal GROUP BY 1, 2 ORDER BY 1, 2""",
        since,
    )
    return [(r["day"], r["channel"], r["n"]) for r in rows]


async def units_sold(db: Queryable, *, since: datetime) -> dict[str, int]:
    """Units per SKU on orders placed since a time that were neither rejected nor cancelled."""
    rows = await db.fetch(
        """SELECT line->>0 AS sku, sum((line->>1)::int) AS units
           FROM order_view, jsonb_array_elements(lines) AS line
           WHERE placed_at >= $1 AND status NOT IN ('REJECTED', 'CANCELLED') AND NOT rehearsal
           GROUP BY 1""",
        since,
    )
    return {r["sku"]: int(r["units"]) for r in rows}


async def units_returned(db: Queryable, *, since: datetime) -> list[tuple[str, str, int]]:
    """(sku, reason, units) asked back on customers' returns of orders placed since a time."""
    rows = await db.fetch(
        """SELECT line->>0 AS sku, line->>2 AS reason, sum((line->>1)::int) AS units
           FROM order_view, jsonb_array_elements(returns) AS ret, jsonb_array_elements(ret->2) AS line
           WHERE placed_at >= $1 AND ret->>3 = 'return' AND NOT rehearsal
           GROUP BY 1, 2""",
        since,
    )
    return [(r["sku"], r["reason"], int(r["units"])) for r in rows]


async def metric_facts(db: Queryable, *, since: datetime) -> list[metrics.OrderFacts]:
    """What the analytics page's numbers need of each order placed since a time (not rejected)."""
    rows = await db.fetch(
        """SELECT order_id, payment_method, status, couriers, placed_at, milestones, promised_dispatch_by,
                  ndr_count, returns
           FROM order_view
           WHERE placed_at >= $1 AND status IS DISTINCT FROM 'REJECTED' AND NOT rehearsal""",
        since,
    )
    facts = []
    for r in rows:
        at = {k: datetime.fromisoformat(v) for k, v in r["milestones"].items()}
        wrong_item = any(
            kind == "return" and any(reason == "wrong_item" for _, _, reason in lines)
            for _, _, lines, kind, *_flags in r["returns"]
        )
        facts.append(
            metrics.OrderFacts(
                order_id=r["order_id"],
                payment_method=r["payment_method"],
                status=r["status"],
                couriers=tuple(r["couriers"]),
                placed=r["placed_at"],
                confirmed=at.get("confirmed"),
                picked_up=at.get("picked_up"),
                first_attempt=at.get("first_attempt"),
                delivered=at.get("delivered"),
                rto=at.get("rto"),
                promised_dispatch_by=r["promised_dispatch_by"],
                ndr_attempts=r["ndr_count"],
                wrong_item_returned=wrong_item,
            )
        )
    return facts


# --- operators and sessions ---------------------------------------------------------------------


async def add_operator(conn: Queryable, *, name: str, role: str, password_hash: str) -> bool:
    """Create an operator unless one of that name exists; True when created."""
    created = await conn.fetchval(
        """INSERT INTO operators (name, role, password_hash) VALUES ($1, $2, $3)
           ON CONFLICT (name) DO NOTHING RETURNING true""",
        name,
        role,
        password_hash,
    )
    return bool(created)


async def lock_operator(conn: Conn, name: str) -> OperatorAccount | None:
    """An operator's account, locked until the sign-in's transaction ends."""
    row = await conn.fetchrow(
        """SELECT name, role, password_hash, failed_sign_ins, locked_until FROM operators
            WHERE name = $1 FOR UPDATE""",
        name,
    )
    return OperatorAccount(**dict(row)) if row else None


async def record_sign_in_failure(conn: Conn, name: str, failures: int, locked_until: datetime | None) -> None:
    await conn.execute(
        """UPDATE operators SET failed_sign_ins = $2, locked_until = coalesce($3, locked_until)
           WHERE name = $1""",
        name,
        failures,
        locked_until,
    )


async def record_sign_in(conn: Conn, name: str, password_hash: str | None) -> None:
    """A good sign-in clears the failures (and stores a rehashed password when the policy moved)."""
    await conn.execute(
        """UPDATE operators SET failed_sign_ins = 0, locked_until = NULL,
               password_hash = coalesce($2, password_hash) WHERE name = $1""",
        name,
        password_hash,
    )


async def open_session(
    conn: Queryable, *, digest: str, operator: str, csrf: str, now: datetime, expires: datetime
) -> None:
    await conn.execute(
        """INSERT INTO sessions (token_digest, operator, csrf_token, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5)""",
        digest,
        operator,
        csrf,
        now,
        expires,
    )


async def session(db: Queryable, digest: str, now: datetime) -> LiveSession | None:
    """The live session of a token digest, with its operator's role."""
    row = await db.fetchrow(
        """SELECT s.operator, s.csrf_token, o.role FROM sessions s JOIN operators o ON o.name = s.operator
           WHERE s.token_digest = $1 AND s.expires_at > $2""",
        digest,
        now,
    )
    return (
        LiveSession(operator=row["operator"], role=row["role"], csrf_token=row["csrf_token"]) if row else None
    )


async def close_session(db: Queryable, digest: str) -> None:
    await db.execute("DELETE FROM sessions WHERE token_digest = $1", digest)


async def purge_sessions(db: Queryable, now: datetime) -> None:
    await db.execute("DELETE FROM sessions WHERE expires_at <= $1", now)


# --- the customer inbox (ADR 0351) ----------------------------------------------------------------

_TICKET_LINE = (
    "event_id, ticket_id, order_id, at, change, open, customer_name, customer_phone, text, actor, "
    "window_closes_at"
)


async def add_ticket_lines(conn: Conn, lines: Sequence[TicketLine]) -> None:
    """Add tickets' lines (an announcement's line is written once)."""
    await conn.executemany(
        f"""INSERT INTO ticket_lines ({_TICKET_LINE})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (event_id) DO NOTHING""",
        [astuple(line) for line in lines],
    )


async def all_ticket_lines(db: Queryable) -> list[TicketLine]:
    """Every ticket line (the rebuild test compares these)."""
    rows = await db.fetch(f"SELECT {_TICKET_LINE} FROM ticket_lines ORDER BY event_id")
    return [TicketLine(**dict(r)) for r in rows]


_TICKETS = """
    WITH newest AS (
        SELECT DISTINCT ON (ticket_id) ticket_id, order_id, customer_phone, open, at AS updated_at,
               window_closes_at
          FROM ticket_lines {where}
         ORDER BY ticket_id, at DESC, event_id DESC
    )
    SELECT n.*,
           (SELECT min(at) FROM ticket_lines l WHERE l.ticket_id = n.ticket_id) AS opened_at,
           (SELECT count(*) FROM ticket_lines l WHERE l.ticket_id = n.ticket_id AND l.text IS NOT NULL)
               AS messages,
           (SELECT customer_name FROM ticket_lines l WHERE l.ticket_id = n.ticket_id
               AND customer_name IS NOT NULL ORDER BY at DESC LIMIT 1) AS customer_name,
           last.text AS last_text, last.change AS last_change
      FROM newest n
      LEFT JOIN LATERAL (SELECT text, change FROM ticket_lines l WHERE l.ticket_id = n.ticket_id
                          AND l.text IS NOT NULL ORDER BY at DESC, event_id DESC LIMIT 1) last ON true
"""


async def tickets(db: Queryable, *, open_: bool, limit: int) -> list[Ticket]:
    """Open (or closed) tickets, the most recently changed first."""
    rows = await db.fetch(
        _TICKETS.format(where="") + " WHERE n.open = $1 ORDER BY n.updated_at DESC LIMIT $2", open_, limit
    )
    return [Ticket(**dict(r)) for r in rows]


async def ticket(db: Queryable, ticket_id: str) -> tuple[Ticket, list[TicketLine]] | None:
    """One ticket and its lines, oldest first."""
    row = await db.fetchrow(_TICKETS.format(where="WHERE ticket_id = $1"), ticket_id)
    if row is None:
        return None
    rows = await db.fetch(
        f"SELECT {_TICKET_LINE} FROM ticket_lines WHERE ticket_id = $1 ORDER BY at, event_id", ticket_id
    )
    return Ticket(**dict(row)), [TicketLine(**dict(r)) for r in rows]


async def open_ticket_count(db: Queryable) -> int:
    """Tickets whose newest line leaves them open."""
    return int(
        await db.fetchval(
            """SELECT count(*) FROM (SELECT DISTINCT ON (ticket_id) open FROM ticket_lines
                ORDER BY ticket_id, at DESC, event_id DESC) t WHERE open"""
        )
    )


async def tickets_opened(db: Queryable, *, since: datetime) -> int:
    """Tickets whose first message came since then (support tickets, for the numbers)."""
    return int(
        await db.fetchval(
            """SELECT count(*) FROM (SELECT ticket_id, min(at) AS opened FROM ticket_lines
                WHERE change = 'customer_wrote' GROUP BY ticket_id) t WHERE opened >= $1""",
            since,
        )
    )
