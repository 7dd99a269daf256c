"""SQL of the channels service; plain asyncpg, one function per question or change."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from chassis.db import Conn
from services.channels.domain import Mappings, store_order_from_json
from services.channels.records import (
    AccountSummary,
    CancellationOwed,
    ChannelOrderSummary,
    Drift,
    FulfilmentOwed,
    FullPushDone,
    KnownOrder,
    ListingRules,
    ListingStock,
    MarketplaceLabel,
    NewsOwed,
    PollCursor,
    PollDue,
    Receipt,
    SkuMapping,
    StockOwed,
    StoreCancellationOwed,
    StoreOrderRef,
)
from services.channels.stores.interface import Account, Delivery, StoreOrder

# --- accounts -------------------------------------------------------------------------------------

_ACCOUNT = """account, platform, base_url, webhook_secret, api_key, api_secret, location_id, stock_buffer,
              stock_share_pct, low_stock_hide_below, refresh_token, seller_id, marketplace_id, auth_url,
              sqs_queue_url, sqs_region, sqs_access_key_id, sqs_secret_access_key, orders_api"""


def _account(row: asyncpg.Record) -> Account:
    return Account(**dict(row))


async def upsert_account(conn: Conn, account: Account, *, enabled: bool = True) -> None:
    """Create or change a channel account (secrets included)."""
    await conn.execute(
        f"""INSERT INTO channel_accounts ({_ACCOUNT}, enabled)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $9)
            ON CONFLICT (account) DO UPDATE
               SET platform = $2, base_url = $3, webhook_secret = $4, api_key = $5, api_secret = $6,
                   location_id = $7, stock_buffer = $8, enabled = $9, stock_share_pct = $10,
                   low_stock_hide_below = $11, refresh_token = $12, seller_id = $13,
                   marketplace_id = $14, auth_url = $15, sqs_queue_url = $16, sqs_region = $17,
                   sqs_access_key_id = $18, sqs_secret_access_key = $19, orders_api = $20,
                   updated_at = now()""",
        account.account,
        account.platform,
        account.base_url,
        account.webhook_secret,
        account.api_key,
        account.api_secret,
        account.location_id,
        account.stock_buffer,
        enabled,
        account.stock_share_pct,
        account.low_stock_hide_below,
        account.refresh_token,
        account.seller_id,
        account.marketplace_id,
        account.auth_url,
        account.sqs_queue_url,
        account.sqs_region,
        account.sqs_access_key_id,
        account.sqs_secret_access_key,
        account.orders_api,
    )


async def get_account(conn: Conn, account: str) -> Account | None:
    """An enabled account, with its secrets (for signatures and store calls only)."""
    row = await conn.fetchrow(
        f"SELECT {_ACCOUNT} FROM channel_accounts WHERE account = $1 AND enabled", account
    )
    return None if row is None else _account(row)


async def notified_accounts(conn: Conn) -> list[Account]:
    """Enabled accounts whose marketplace tells of changed orders through a queue (ADR 420)."""
    rows = await conn.fetch(
        f"""SELECT {_ACCOUNT} FROM channel_accounts
             WHERE enabled AND sqs_queue_url IS NOT NULL ORDER BY account"""
    )
    return [_account(r) for r in rows]


async def list_accounts(pool: asyncpg.Pool, *, after: str | None, limit: int) -> list[AccountSummary]:
    """A page of accounts by name, without their secrets: only whether each is set."""
    rows = await pool.fetch(
        """SELECT account, platform, base_url, location_id, stock_buffer, stock_share_pct,
                  low_stock_hide_below, enabled, created_at, updated_at,
                  webhook_secret <> '' AS webhook_secret_set, api_secret <> '' AS api_secret_set
             FROM channel_accounts WHERE $1::text IS NULL OR account > $1 ORDER BY account LIMIT $2""",
        after,
        limit,
    )
    return [AccountSummary.of(r) for r in rows]


# --- SKU mappings --------------------------------------------------------------------------------


async def upsert_mappings(conn: Conn, account: str, rows: list[dict[str, Any]]) -> None:
    """Map these listings of an account to Dabba SKUs (a listing mapped again is re-pointed). A
    variant another channel SKU of the account held now belongs to the listing mapped here: the
    store says so (a product re-created, a sandbox store set up again), so the old mapping loses it."""
    await conn.execute(
        "UPDATE sku_mappings SET variant_id = NULL WHERE account = $1 AND variant_id = ANY($2::text[])",
        account,
        [r["variant_id"] for r in rows if r.get("variant_id")],
    )
    await conn.executemany(
        """INSERT INTO sku_mappings (account, channel_sku, sku, product_id, variant_id, inventory_item_id)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (account, channel_sku) DO UPDATE
              SET sku = $3, product_id = $4, variant_id = $5, inventory_item_id = $6""",
        [
            (
                account,
                r["channel_sku"],
                r["sku"],
                r.get("product_id"),
                r.get("variant_id"),
                r.get("inventory_item_id"),
            )
            for r in rows
        ],
    )


async def mappings_of(conn: Conn, account: str) -> Mappings:
    rows = await conn.fetch(
        "SELECT channel_sku, variant_id, sku FROM sku_mappings WHERE account = $1", account
    )
    return Mappings(
        by_channel_sku={r["channel_sku"]: r["sku"] for r in rows},
        by_variant={r["variant_id"]: r["sku"] for r in rows if r["variant_id"]},
    )


async def list_mappings(
    pool: asyncpg.Pool, account: str, *, after: str | None, limit: int
) -> list[SkuMapping]:
    """A page of an account's mappings by channel SKU."""
    rows = await pool.fetch(
        """SELECT channel_sku, sku, product_id, variant_id, inventory_item_id
             FROM sku_mappings WHERE account = $1 AND ($2::text IS NULL OR channel_sku > $2)
            ORDER BY channel_sku LIMIT $3""",
        account,
        after,
        limit,
    )
    return [SkuMapping.of(r) for r in rows]


# --- webhook receipts ----------------------------------------------------------------------------


async def insert_receipt(conn: Conn, account: str, delivery: Delivery) -> bool:
    """Keep a verified webhook; False when this delivery id was already received (a retry)."""
    [fresh] = await insert_receipts(conn, [(account, delivery)])
    return fresh


async def insert_receipts(conn: Conn, deliveries: Sequence[tuple[str, Delivery]]) -> list[bool]:
    """Keep verified webhooks in one statement; for each, False when its delivery id was already
    received (a retry, or the same delivery twice in this batch)."""
    if not deliveries:
        return []
    rows = await conn.fetch(
        """INSERT INTO webhook_receipts (account, delivery_id, topic, body)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
           ON CONFLICT (account, delivery_id) DO NOTHING
           RETURNING account, delivery_id""",
        [a for a, _ in deliveries],
        [d.delivery_id for _, d in deliveries],
        [d.topic for _, d in deliveries],
        [d.body for _, d in deliveries],
    )
    inserted = {(r["account"], r["delivery_id"]) for r in rows}
    fresh = []
    for account, delivery in deliveries:
        key = (account, delivery.delivery_id)
        fresh.append(key in inserted)
        inserted.discard(key)  # the same delivery twice in one batch: only the first is new
    return fresh


async def claim_receipts(conn: Conn, *, limit: int, account: str | None = None) -> list[Receipt]:
    """Unprocessed receipts, oldest first, locked so another worker skips them."""
    rows = await conn.fetch(
        """SELECT r.account, r.delivery_id, r.topic, r.body, a.platform
             FROM webhook_receipts r JOIN channel_accounts a USING (account)
            WHERE r.processed_at IS NULL AND ($2::text IS NULL OR r.account = $2)
            ORDER BY r.received_at LIMIT $1
              FOR UPDATE OF r SKIP LOCKED""",
        limit,
        account,
    )
    return [Receipt.of(r) for r in rows]


async def finish_receipts(conn: Conn, outcomes: Sequence[tuple[str, str, str]]) -> None:
    """(account, delivery_id, outcome) of receipts just processed."""
    await conn.execute(
        """UPDATE webhook_receipts r SET processed_at = now(), outcome = o.outcome
             FROM unnest($1::text[], $2::text[], $3::text[]) AS o(account, delivery_id, outcome)
            WHERE r.account = o.account AND r.delivery_id = o.delivery_id""",
        [o[0] for o in outcomes],
        [o[1] for o in outcomes],
        [o[2] for o in outcomes],
    )


# --- channel orders ------------------------------------------------------------------------------


async def lock_channel_orders(
    conn: Conn, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], KnownOrder]:
    """The known ones among these (account, store_order_id), locked for this transaction."""
    rows = await conn.fetch(
        """SELECT c.account, c.store_order_id, c.cancelled_on_store_at
             FROM channel_orders c
             JOIN unnest($1::text[], $2::text[]) AS k(account, store_order_id)
               ON c.account = k.account AND c.store_order_id = k.store_order_id
            ORDER BY c.account, c.store_order_id
              FOR UPDATE OF c""",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return {
        (r["account"], r["store_order_id"]): KnownOrder(
            r["account"], r["store_order_id"], cancelled_on_store=r["cancelled_on_store_at"] is not None
        )
        for r in rows
    }


@dataclass(frozen=True, slots=True)
class NewChannelOrder:
    """One store order seen for the first time, as its row."""

    account: str
    store_order_id: str
    channel: str
    channel_order_id: str
    status: str
    problems: list[dict[str, str]]
    store_order: dict[str, Any]
    cancelled: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.account, self.store_order_id)


async def insert_channel_orders(conn: Conn, orders: Sequence[NewChannelOrder]) -> set[tuple[str, str]]:
    """Record orders stores sent, in one statement; the (account, store_order_id) of those inserted
    (an order another worker recorded first is left as it is)."""
    if not orders:
        return set()
    rows = await conn.fetch(
        """INSERT INTO channel_orders (account, store_order_id, channel, channel_order_id, status, problems,
                                       store_order, cancelled_on_store_at, cancel_next_try_at)
           SELECT account, store_order_id, channel, channel_order_id, status, problems::jsonb,
                  store_order::jsonb, CASE WHEN cancelled THEN now() END, CASE WHEN cancelled THEN now() END
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::bool[])
                  AS o(account, store_order_id, channel, channel_order_id, status, problems, store_order,
                       cancelled)
           ON CONFLICT DO NOTHING
           RETURNING account, store_order_id""",
        [o.account for o in orders],
        [o.store_order_id for o in orders],
        [o.channel for o in orders],
        [o.channel_order_id for o in orders],
        [o.status for o in orders],
        # as JSON text: asyncpg would read a list inside the array as another dimension of it
        [json.dumps(o.problems) for o in orders],
        [json.dumps(o.store_order) for o in orders],
        [o.cancelled for o in orders],
    )
    return {(r["account"], r["store_order_id"]) for r in rows}


async def insert_channel_order(
    conn: Conn,
    *,
    account: str,
    store_order_id: str,
    channel: str,
    channel_order_id: str,
    status: str,
    problems: list[dict[str, str]],
    store_order: dict[str, Any],
    cancelled: bool = False,
) -> bool:
    """Record an order a store sent; False if this store's order is already known."""
    result = await conn.execute(
        """INSERT INTO channel_orders (account, store_order_id, channel, channel_order_id, status, problems,
                                       store_order, cancelled_on_store_at,
                                       cancel_next_try_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, CASE WHEN $8 THEN now() END,
                   CASE WHEN $8 THEN now() END)
           ON CONFLICT DO NOTHING""",
        account,
        store_order_id,
        channel,
        channel_order_id,
        status,
        problems,
        store_order,
        cancelled,
    )
    return bool(result == "INSERT 0 1")


async def set_channel_order_status(
    conn: Conn, account: str, store_order_id: str, *, status: str, problems: list[dict[str, str]]
) -> None:
    await conn.execute(
        """UPDATE channel_orders SET status = $3, problems = $4::jsonb, updated_at = now()
            WHERE account = $1 AND store_order_id = $2""",
        account,
        store_order_id,
        status,
        problems,
    )


async def mark_cancelled_on_store(conn: Conn, account: str, store_order_id: str) -> None:
    """The store cancelled it: Dabba is owed the cancellation (sync.push_cancellations), unless
    Dabba cancelled it first and this is the store echoing our own cancellation."""
    await conn.execute(
        """UPDATE channel_orders SET cancelled_on_store_at = coalesce(cancelled_on_store_at, now()),
                                     cancel_next_try_at = CASE WHEN dabba_cancelled_at IS NULL
                                         THEN coalesce(cancel_next_try_at, now()) END,
                                     cancel_outcome = CASE WHEN dabba_cancelled_at IS NULL THEN cancel_outcome
                                         ELSE coalesce(cancel_outcome, 'cancelled in Dabba first') END,
                                     updated_at = now()
            WHERE account = $1 AND store_order_id = $2""",
        account,
        store_order_id,
    )


async def claim_cancellations(conn: Conn, *, limit: int, hold_s: float = 60) -> list[CancellationOwed]:
    """Store cancellations owed to orders, once orders has placed the order; held for this try."""
    rows = await conn.fetch(
        """SELECT account, store_order_id, order_id, cancel_attempts FROM channel_orders
            WHERE cancel_next_try_at <= now() AND cancel_outcome IS NULL AND order_id IS NOT NULL
            ORDER BY cancel_next_try_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    await conn.executemany(
        """UPDATE channel_orders SET cancel_next_try_at = now() + make_interval(secs => $3)
            WHERE account = $1 AND store_order_id = $2""",
        [(r["account"], r["store_order_id"], hold_s) for r in rows],
    )
    return [CancellationOwed(**dict(r)) for r in rows]


async def cancellation_done(conn: Conn, account: str, store_order_id: str, outcome: str) -> None:
    """What orders answered, for good: cancelled, or refused (dispatched already) for an operator."""
    await conn.execute(
        """UPDATE channel_orders SET cancel_outcome = $3, cancel_next_try_at = NULL, updated_at = now()
            WHERE account = $1 AND store_order_id = $2""",
        account,
        store_order_id,
        outcome,
    )


async def cancellation_failed(conn: Conn, account: str, store_order_id: str, *, wait_s: float) -> None:
    await conn.execute(
        """UPDATE channel_orders SET cancel_attempts = cancel_attempts + 1,
                                     cancel_next_try_at = now() + make_interval(secs => $3)
            WHERE account = $1 AND store_order_id = $2""",
        account,
        store_order_id,
        wait_s,
    )


async def owe_store_cancellation(conn: Conn, order_id: str, reason: str) -> bool:
    """Dabba cancelled one of our stores' orders: the store is owed it, unless the store started it.
    The first cancellation's reason is kept (a second orders.cancelled of the same order changes
    nothing). False when the order is not from a store, or the store cancelled it first."""
    result = await conn.execute(
        """UPDATE channel_orders
              SET dabba_cancelled_at = coalesce(dabba_cancelled_at, now()),
                  dabba_cancel_reason = coalesce(dabba_cancel_reason, $2),
                  store_cancel_next_try_at = coalesce(store_cancel_next_try_at, now()), updated_at = now()
            WHERE order_id = $1 AND account <> 'csv' AND cancelled_on_store_at IS NULL
              AND store_cancel_outcome IS NULL""",
        order_id,
        reason,
    )
    return result != "UPDATE 0"


async def claim_store_cancellations(
    conn: Conn, *, limit: int, hold_s: float = 60
) -> list[StoreCancellationOwed]:
    """Dabba's cancellations owed to stores and due; held for this try."""
    rows = await conn.fetch(
        """SELECT account, store_order_id, order_id, dabba_cancel_reason, store_cancel_attempts
             FROM channel_orders
            WHERE store_cancel_next_try_at <= now() AND store_cancel_outcome IS NULL
            ORDER BY store_cancel_next_try_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    await conn.executemany(
        """UPDATE channel_orders SET store_cancel_next_try_at = now() + make_interval(secs => $3)
            WHERE account = $1 AND store_order_id = $2""",
        [(r["account"], r["store_order_id"], hold_s) for r in rows],
    )
    return [StoreCancellationOwed(**dict(r)) for r in rows]


async def store_cancellation_done(conn: Conn, account: str, store_order_id: str, outcome: str) -> None:
    """What the store answered, for good: cancelled, or refused (kept for an operator)."""
    await conn.execute(
        """UPDATE channel_orders SET store_cancel_outcome = $3, store_cancel_next_try_at = NULL,
                                     store_cancel_error = NULL, updated_at = now()
            WHERE account = $1 AND store_order_id = $2""",
        account,
        store_order_id,
        outcome,
    )


async def store_cancellation_failed(
    conn: Conn, account: str, store_order_id: str, *, error: str, wait_s: float
) -> None:
    await conn.execute(
        """UPDATE channel_orders SET store_cancel_attempts = store_cancel_attempts + 1,
                                     store_cancel_error = $3,
                                     store_cancel_next_try_at = now() + make_interval(secs => $4)
            WHERE account = $1 AND store_order_id = $2""",
        account,
        store_order_id,
        error,
        wait_s,
    )


async def accounts_to_poll(conn: Conn) -> list[PollDue]:
    """Every enabled account with where its last poll got to (None: never polled)."""
    rows = await conn.fetch(
        """SELECT a.account, c.updated_at FROM channel_accounts a
             LEFT JOIN poll_cursors c USING (account) WHERE a.enabled ORDER BY a.account"""
    )
    return [PollDue(r["account"], r["updated_at"]) for r in rows]


async def lock_poll(conn: Conn, account: str) -> bool:
    """One poller per account at a time across replicas (released with the transaction)."""
    return bool(
        await conn.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('channels.poll:' || $1))", account)
    )


async def advance_poll(conn: Conn, account: str, updated_at: Any, *, error: str | None = None) -> None:
    await conn.execute(
        """INSERT INTO poll_cursors (account, updated_at, last_error) VALUES ($1, $2, $3)
           ON CONFLICT (account) DO UPDATE
              SET updated_at = greatest(poll_cursors.updated_at, $2), polled_at = now(), last_error = $3""",
        account,
        updated_at,
        error,
    )


async def poll_cursor(conn: Conn, account: str) -> PollCursor | None:
    """Where an account's poll got to: the end of the last finished window, and the window being
    paged through with the page to ask for next (marketplaces)."""
    row = await conn.fetchrow(
        "SELECT updated_at, window_from, window_to, next_page FROM poll_cursors WHERE account = $1", account
    )
    return PollCursor(**dict(row)) if row else None


async def save_poll_page(
    conn: Conn, account: str, *, window_from: datetime, window_to: datetime, next_page: str | None
) -> None:
    """A page taken in: keep the page to ask for next, or, the window done, move the cursor to its end."""
    await conn.execute(
        """INSERT INTO poll_cursors (account, updated_at, window_from, window_to, next_page)
           VALUES ($1, CASE WHEN $4::text IS NULL THEN $3::timestamptz ELSE $2::timestamptz END,
                   $2, $3, $4)
           ON CONFLICT (account) DO UPDATE
              SET updated_at = CASE WHEN $4::text IS NULL THEN greatest(poll_cursors.updated_at, $3)
                                    ELSE poll_cursors.updated_at END,
                  window_from = CASE WHEN $4::text IS NULL THEN NULL ELSE $2 END,
                  window_to = CASE WHEN $4::text IS NULL THEN NULL ELSE $3 END,
                  next_page = $4, polled_at = now(), last_error = NULL""",
        account,
        window_from,
        window_to,
        next_page,
    )


async def poll_failed(conn: Conn, account: str, error: str) -> None:
    await conn.execute(
        "UPDATE poll_cursors SET last_error = $2, polled_at = now() WHERE account = $1", account, error
    )


async def cancelled_store_orders(conn: Conn, account: str, store_order_ids: list[str]) -> dict[str, bool]:
    """The known orders among these, each with whether its store's cancellation is recorded."""
    rows = await conn.fetch(
        """SELECT store_order_id, cancelled_on_store_at IS NOT NULL AS cancelled FROM channel_orders
            WHERE account = $1 AND store_order_id = ANY($2::text[])""",
        account,
        store_order_ids,
    )
    return {r["store_order_id"]: r["cancelled"] for r in rows}


async def note_marketplace(conn: Conn, account: str, notes: Sequence[tuple[str, str | None, bool]]) -> None:
    """What a marketplace said beyond the order: (store order id, the buyer's cancellation request,
    whether the marketplace ships it). A request once made stays recorded."""
    await conn.executemany(
        """UPDATE channel_orders
              SET buyer_cancel_reason = coalesce($3, buyer_cancel_reason), shipped_by_marketplace = $4,
                  updated_at = now()
            WHERE account = $1 AND store_order_id = $2
              AND (buyer_cancel_reason IS DISTINCT FROM coalesce($3, buyer_cancel_reason)
                   OR shipped_by_marketplace <> $4)""",
        [(account, oid, reason, shipped) for oid, reason, shipped in notes],
    )


async def known_store_orders(conn: Conn, account: str, store_order_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT store_order_id FROM channel_orders WHERE account = $1 AND store_order_id = ANY($2::text[])",
        account,
        store_order_ids,
    )
    return {r["store_order_id"] for r in rows}


async def unmapped_orders(conn: Conn, account: str) -> list[StoreOrder]:
    """An account's store orders held for unmapped SKUs, as the store sent them, oldest first."""
    rows = await conn.fetch(
        """SELECT store_order FROM channel_orders WHERE account = $1 AND status = 'unmapped'
            ORDER BY received_at FOR UPDATE SKIP LOCKED""",
        account,
    )
    return [store_order_from_json(r["store_order"]) for r in rows]


async def link_order(conn: Conn, channel: str, channel_order_id: str, order_id: str) -> None:
    """Orders placed one of our channel orders under this id."""
    await link_orders(conn, [(channel, channel_order_id, order_id)])


async def link_orders(conn: Conn, links: Sequence[tuple[str, str, str]]) -> None:
    """(channel, channel_order_id, order_id) orders placed, in one statement; the last of two links
    of one channel order wins, as it would one by one."""
    last = {(c, co): o for c, co, o in links}
    await conn.execute(
        """UPDATE channel_orders c SET order_id = l.order_id, updated_at = now()
             FROM unnest($1::text[], $2::text[], $3::text[]) AS l(channel, channel_order_id, order_id)
            WHERE c.channel = l.channel AND c.channel_order_id = l.channel_order_id
              AND c.order_id IS DISTINCT FROM l.order_id""",
        [c for c, _ in last],
        [co for _, co in last],
        list(last.values()),
    )


async def channel_order_of(conn: Conn, order_id: str) -> StoreOrderRef | None:
    """The store order one of our orders came from (None: not from one of our stores)."""
    row = await conn.fetchrow(
        """SELECT account, store_order_id, shipped_by_marketplace
             FROM channel_orders WHERE order_id = $1 AND account <> 'csv'""",
        order_id,
    )
    return StoreOrderRef(**dict(row)) if row else None


async def list_channel_orders(
    pool: asyncpg.Pool,
    *,
    account: str | None,
    status: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[ChannelOrderSummary]:
    """A page of store orders, newest first, older than `before` (received_at, `account:store_order_id`)."""
    rows = await pool.fetch(
        """SELECT account, store_order_id, channel, channel_order_id, status, problems, order_id,
                  cancelled_on_store_at, cancel_outcome, dabba_cancelled_at, store_cancel_outcome,
                  store_cancel_error, received_at, updated_at
             FROM channel_orders
            WHERE ($1::text IS NULL OR account = $1) AND ($2::text IS NULL OR status = $2)
              AND ($3::timestamptz IS NULL
                   OR (received_at, account || ':' || store_order_id) < ($3, $4::text))
            ORDER BY received_at DESC, account || ':' || store_order_id DESC LIMIT $5""",
        account,
        status,
        before[0] if before else None,
        before[1] if before else None,
        limit,
    )
    return [ChannelOrderSummary.of(r) for r in rows]


# --- stock owed to the stores --------------------------------------------------------------------


async def keep_available(conn: Conn, sku: str, available_total: int) -> None:
    """Inventory's latest number for a SKU: what every rule is applied to."""
    await keep_available_many(conn, {sku: available_total})


async def keep_available_many(conn: Conn, numbers: Mapping[str, int]) -> None:
    """Inventory's latest number of each of these SKUs, in one statement."""
    await conn.execute(
        """INSERT INTO sku_stock (sku, available_total)
           SELECT * FROM unnest($1::text[], $2::int[])
           ON CONFLICT (sku) DO UPDATE SET available_total = excluded.available_total, changed_at = now()""",
        list(numbers),
        list(numbers.values()),
    )


async def listings_with_rules(
    conn: Conn, *, sku: str | None = None, account: str | None = None, skus: Sequence[str] | None = None
) -> list[ListingRules]:
    """Every listing of a SKU (or of these SKUs, or of an account) on an enabled store, with the
    store's stock rules and the SKU's latest number (None when inventory has not told us one yet)."""
    rows = await conn.fetch(
        """SELECT m.account, m.channel_sku, m.sku, m.product_id, m.variant_id, m.inventory_item_id,
                  a.stock_buffer, a.stock_share_pct, a.low_stock_hide_below, s.available_total
             FROM sku_mappings m JOIN channel_accounts a USING (account)
             LEFT JOIN sku_stock s ON s.sku = m.sku
            WHERE a.enabled AND ($1::text IS NULL OR m.sku = $1) AND ($2::text IS NULL OR m.account = $2)
              AND ($3::text[] IS NULL OR m.sku = ANY($3::text[]))""",
        sku,
        account,
        None if skus is None else list(skus),
    )
    return [ListingRules.of(r) for r in rows]


async def owe_stock(conn: Conn, levels: Sequence[tuple[str, str, str, int]]) -> int:
    """(account, channel_sku, sku, quantity) each listing should now show; returns how many listings.
    A newer number overwrites an unsent one: the push sends only the latest."""
    if not levels:
        return 0
    # Rows are locked in key order, as stock_pushed and stock_failed lock them: a consumer batch
    # owing many listings and a push recording one store's never wait on each other in a circle.
    result = await conn.execute(
        """INSERT INTO stock_pushes (account, channel_sku, sku, quantity)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
                         AS l(account, channel_sku, sku, quantity)
            ORDER BY account, channel_sku
           ON CONFLICT (account, channel_sku) DO UPDATE
              SET quantity = excluded.quantity, version = stock_pushes.version + 1, changed_at = now(),
                  next_try_at = least(stock_pushes.next_try_at, now())""",
        [lv[0] for lv in levels],
        [lv[1] for lv in levels],
        [lv[2] for lv in levels],
        [lv[3] for lv in levels],
    )
    return int(result.split()[-1])


async def claim_stock(conn: Conn, *, limit: int) -> list[StockOwed]:
    """Stock levels owed and due, locked for this push; with each listing's ids."""
    rows = await conn.fetch(
        """SELECT p.account, p.channel_sku, p.sku, p.quantity, p.version, p.attempts, p.changed_at,
                  p.push_alone, m.product_id, m.variant_id, m.inventory_item_id
             FROM stock_pushes p JOIN sku_mappings m USING (account, channel_sku)
            WHERE p.version > p.pushed_version AND p.next_try_at <= now()
              AND (p.claimed_at IS NULL OR p.claimed_at < now() - interval '60 seconds')
            ORDER BY p.account, p.changed_at LIMIT $1
              FOR UPDATE OF p SKIP LOCKED""",
        limit,
    )
    return [StockOwed.of(r) for r in rows]


async def mark_stock_claimed(conn: Conn, keys: list[tuple[str, str]]) -> None:
    await conn.executemany(
        "UPDATE stock_pushes SET claimed_at = now() WHERE account = $1 AND channel_sku = $2", keys
    )


async def stock_pushed(conn: Conn, rows: list[tuple[str, str, int, int | None]]) -> None:
    """(account, channel_sku, version sent, quantity the store read back)."""
    await conn.executemany(
        """UPDATE stock_pushes
              SET pushed_version = greatest(pushed_version, $3), confirmed_quantity = $4,
                  confirmed_at = now(), claimed_at = NULL, attempts = 0, last_error = NULL,
                  push_alone = false
            WHERE account = $1 AND channel_sku = $2""",
        sorted(rows, key=lambda r: (r[0], r[1])),
    )


async def stock_failed(conn: Conn, keys: list[tuple[str, str]], *, error: str, wait_s: float) -> None:
    await conn.executemany(
        """UPDATE stock_pushes
              SET claimed_at = NULL, attempts = attempts + 1, last_error = $3,
                  next_try_at = now() + make_interval(secs => $4)
            WHERE account = $1 AND channel_sku = $2""",
        [(a, c, error, wait_s) for a, c in sorted(keys)],
    )


async def stock_refused(conn: Conn, account: str, channel_sku: str, *, error: str, wait_s: float) -> None:
    """A listing the store refused: pushed alone from now on, the reason kept for an operator."""
    await conn.execute(
        """UPDATE stock_pushes
              SET claimed_at = NULL, attempts = attempts + 1, last_error = $3, push_alone = true,
                  next_try_at = now() + make_interval(secs => $4)
            WHERE account = $1 AND channel_sku = $2""",
        account,
        channel_sku,
        error,
        wait_s,
    )


async def list_stock(
    pool: asyncpg.Pool, account: str, *, after: str | None, limit: int
) -> list[ListingStock]:
    """A page of an account's stock numbers by channel SKU."""
    rows = await pool.fetch(
        """SELECT channel_sku, sku, quantity, confirmed_quantity, confirmed_at,
                  version > pushed_version AS owed, attempts, last_error
             FROM stock_pushes WHERE account = $1 AND ($2::text IS NULL OR channel_sku > $2)
            ORDER BY channel_sku LIMIT $3""",
        account,
        after,
        limit,
    )
    return [ListingStock.of(r) for r in rows]


# --- full push and drift -------------------------------------------------------------------------


async def full_pushes(conn: Conn) -> dict[str, Any]:
    """When each enabled account last had a full push (a new account: when it was created, so its
    first full push is the next night's)."""
    rows = await conn.fetch(
        """SELECT a.account, coalesce(f.pushed_at, a.created_at) AS pushed_at FROM channel_accounts a
             LEFT JOIN full_pushes f USING (account) WHERE a.enabled ORDER BY a.account"""
    )
    return {r["account"]: r["pushed_at"] for r in rows}


async def record_full_push(
    conn: Conn,
    account: str,
    *,
    listings: int,
    drift: Sequence[tuple[str, str, int | None, int]],
    error: str | None,
) -> None:
    """A full push's outcome, and its drift: (channel_sku, sku, what the store showed, ours)."""
    await conn.execute(
        """INSERT INTO full_pushes (account, pushed_at, listings, drifted, error)
           VALUES ($1, now(), $2, $3, $4)
           ON CONFLICT (account) DO UPDATE
              SET pushed_at = now(), listings = $2, drifted = $3, error = $4""",
        account,
        listings,
        len(drift),
        error,
    )
    await conn.executemany(
        """INSERT INTO stock_drift (account, channel_sku, sku, store_quantity, dabba_quantity)
           VALUES ($1, $2, $3, $4, $5)""",
        [(account, *d) for d in drift],
    )


async def drift_report(pool: asyncpg.Pool, account: str) -> tuple[FullPushDone | None, list[Drift]]:
    """An account's last full push and the drift it found."""
    last = await pool.fetchrow(
        "SELECT pushed_at, listings, drifted, error FROM full_pushes WHERE account = $1", account
    )
    if last is None:
        return None, []
    rows = await pool.fetch(
        """SELECT channel_sku, sku, store_quantity, dabba_quantity, found_at FROM stock_drift
            WHERE account = $1 AND found_at >= $2 ORDER BY channel_sku""",
        account,
        last["pushed_at"],
    )
    return FullPushDone(**dict(last)), [Drift(**dict(r)) for r in rows]


# --- tracking owed to the stores -----------------------------------------------------------------


async def owe_fulfilment(
    conn: Conn,
    *,
    shipment_id: str,
    account: str,
    store_order_id: str,
    courier: str,
    awb: str,
    tracking_url: str | None,
) -> None:
    await conn.execute(
        """INSERT INTO fulfilment_pushes (shipment_id, account, store_order_id, courier, awb, tracking_url)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (shipment_id) DO NOTHING""",
        shipment_id,
        account,
        store_order_id,
        courier,
        awb,
        tracking_url,
    )


async def claim_fulfilments(conn: Conn, *, limit: int) -> list[FulfilmentOwed]:
    rows = await conn.fetch(
        """SELECT f.*, coalesce(o.shipped_by_marketplace, false) AS shipped_by_marketplace
             FROM fulfilment_pushes f
             LEFT JOIN channel_orders o ON o.account = f.account AND o.store_order_id = f.store_order_id
            WHERE f.done_at IS NULL AND f.next_try_at <= now()
              AND (f.claimed_at IS NULL OR f.claimed_at < now() - interval '60 seconds')
            ORDER BY f.created_at LIMIT $1 FOR UPDATE OF f SKIP LOCKED""",
        limit,
    )
    await conn.executemany(
        "UPDATE fulfilment_pushes SET claimed_at = now() WHERE shipment_id = $1",
        [(r["shipment_id"],) for r in rows],
    )
    return [FulfilmentOwed.of(r) for r in rows]


async def fulfilment_done(conn: Conn, shipment_id: str) -> None:
    await conn.execute(
        """UPDATE fulfilment_pushes SET done_at = now(), claimed_at = NULL, last_error = NULL
            WHERE shipment_id = $1""",
        shipment_id,
    )


async def fulfilment_failed(conn: Conn, shipment_id: str, *, error: str, wait_s: float) -> None:
    await conn.execute(
        """UPDATE fulfilment_pushes
              SET claimed_at = NULL, attempts = attempts + 1, last_error = $2,
                  next_try_at = now() + make_interval(secs => $3)
            WHERE shipment_id = $1""",
        shipment_id,
        error,
        wait_s,
    )


# --- marketplace labels and news (ADR 370, 371) ---------------------------------------------------


async def owe_label(
    conn: Conn,
    *,
    shipment_id: str,
    order_id: str,
    invoice_number: str,
    issued_at: datetime,
    rates: dict[str, str],
    platforms: Sequence[str],
) -> bool:
    """Owe the marketplace's label of a parcel it carries, now that our invoice is issued; False when
    the order is not one a labelling marketplace carries, or the label is owed already."""
    status = await conn.execute(
        """INSERT INTO marketplace_labels
               (shipment_id, order_id, account, store_order_id, invoice_number, invoice_issued_at, rates)
           SELECT $1, $2, o.account, o.store_order_id, $3, $4, $5::jsonb
             FROM channel_orders o JOIN channel_accounts a ON a.account = o.account
            WHERE o.order_id = $2 AND o.shipped_by_marketplace AND a.platform = ANY($6::text[])
           ON CONFLICT (shipment_id) DO NOTHING""",
        shipment_id,
        order_id,
        invoice_number,
        issued_at,
        rates,
        list(platforms),
    )
    return bool(status.endswith(" 1"))


async def label_of(conn: Conn, shipment_id: str) -> MarketplaceLabel | None:
    """A marketplace label owed or fetched, by our shipment id."""
    row = await conn.fetchrow("SELECT * FROM marketplace_labels WHERE shipment_id = $1", shipment_id)
    return MarketplaceLabel.of(row) if row else None


async def claim_labels(conn: Conn, *, limit: int) -> list[MarketplaceLabel]:
    """Owed labels due now, claimed for a minute (a crashed worker's return after that)."""
    rows = await conn.fetch(
        """SELECT * FROM marketplace_labels
            WHERE state = 'owed' AND next_try_at <= now()
              AND (claimed_at IS NULL OR claimed_at < now() - interval '60 seconds')
            ORDER BY next_try_at LIMIT $1 FOR UPDATE SKIP LOCKED""",
        limit,
    )
    await conn.executemany(
        "UPDATE marketplace_labels SET claimed_at = now() WHERE shipment_id = $1",
        [(r["shipment_id"],) for r in rows],
    )
    return [MarketplaceLabel.of(r) for r in rows]


async def label_settled(
    conn: Conn, shipment_id: str, *, state: str, awb: str | None = None, carrier: str | None = None,
    outcome: str | None = None,
) -> None:  # fmt: skip
    """The label recorded on shipping (with its AWB), or refused for good (with why); a label cancelled
    while the worker was at the marketplace stays cancelled."""
    await conn.execute(
        """UPDATE marketplace_labels
              SET state = $2, awb = coalesce($3, awb), carrier = coalesce($4, carrier), outcome = $5,
                  claimed_at = NULL, last_error = NULL, updated_at = now()
            WHERE shipment_id = $1 AND state = 'owed'""",
        shipment_id,
        state,
        awb,
        carrier,
        outcome,
    )


async def label_failed(
    conn: Conn,
    shipment_id: str,
    *,
    error: str,
    wait_s: float,
    awb: str | None = None,
    carrier: str | None = None,
) -> None:
    """Not yet: tried again after ``wait_s``; an AWB already read from the marketplace is kept."""
    await conn.execute(
        """UPDATE marketplace_labels
              SET claimed_at = NULL, attempts = attempts + 1, last_error = $2, updated_at = now(),
                  next_try_at = now() + make_interval(secs => $3),
                  awb = coalesce($4, awb), carrier = coalesce($5, carrier)
            WHERE shipment_id = $1 AND state = 'owed'""",
        shipment_id,
        error,
        wait_s,
        awb,
        carrier,
    )


async def list_labels(
    pool: asyncpg.Pool, *, state: str | None, after: str | None, limit: int
) -> list[MarketplaceLabel]:
    """A page of marketplace labels by shipment id, those in ``state`` only when given."""
    rows = await pool.fetch(
        """SELECT * FROM marketplace_labels
             WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR shipment_id > $2)
             ORDER BY shipment_id LIMIT $3""",
        state,
        after,
        limit,
    )
    return [MarketplaceLabel.of(r) for r in rows]


async def retry_label(conn: Conn, shipment_id: str) -> tuple[str, MarketplaceLabel] | None:
    """A label refused for good, owed again from now (an AWB already read is kept, so the marketplace
    is not asked to pack twice): the state it was in and the label as it is now; None if unknown."""
    was = await conn.fetchval(
        "SELECT state FROM marketplace_labels WHERE shipment_id = $1 FOR UPDATE", shipment_id
    )
    if was is None:
        return None
    await conn.execute(
        """UPDATE marketplace_labels
              SET state = 'owed', outcome = NULL, last_error = NULL, attempts = 0, claimed_at = NULL,
                  next_try_at = now(), updated_at = now()
            WHERE shipment_id = $1 AND state = 'refused'""",
        shipment_id,
    )
    label = await label_of(conn, shipment_id)
    assert label is not None
    return str(was), label


async def cancel_label(conn: Conn, shipment_id: str, *, why: str) -> bool:
    """Our invoice of the parcel was cancelled: a label still owed is not asked for (ADR 422). False
    when none is owed (recorded already, refused, or never owed)."""
    status = await conn.execute(
        """UPDATE marketplace_labels
              SET state = 'cancelled', outcome = $2, claimed_at = NULL, updated_at = now()
            WHERE shipment_id = $1 AND state = 'owed'""",
        shipment_id,
        why,
    )
    return status == "UPDATE 1"


async def note_news(conn: Conn, account: str, news: Sequence[tuple[str, str, str, datetime]]) -> None:
    """What the marketplace reported of parcels it carries: (store order id, status, its own state,
    when). Each status of a parcel is owed to shipping once."""
    await conn.executemany(
        """INSERT INTO marketplace_news (account, store_order_id, status, code, occurred_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        [(account, oid, status, code, at) for oid, status, code, at in news],
    )


async def claim_news(conn: Conn, *, limit: int) -> list[NewsOwed]:
    """Owed news due now with the shipment it is about (None when no shipment of ours is known)."""
    rows = await conn.fetch(
        """SELECT n.*, coalesce(
                      (SELECT l.shipment_id FROM marketplace_labels l
                        WHERE l.account = n.account AND l.store_order_id = n.store_order_id LIMIT 1),
                      (SELECT f.shipment_id FROM fulfilment_pushes f
                        WHERE f.account = n.account AND f.store_order_id = n.store_order_id LIMIT 1)
                  ) AS shipment_id
             FROM marketplace_news n
            WHERE n.outcome IS NULL AND n.next_try_at <= now()
              AND (n.claimed_at IS NULL OR n.claimed_at < now() - interval '60 seconds')
            ORDER BY n.occurred_at LIMIT $1 FOR UPDATE OF n SKIP LOCKED""",
        limit,
    )
    await conn.executemany(
        """UPDATE marketplace_news SET claimed_at = now()
            WHERE account = $1 AND store_order_id = $2 AND status = $3""",
        [(r["account"], r["store_order_id"], r["status"]) for r in rows],
    )
    return [NewsOwed.of(r) for r in rows]


async def news_settled(conn: Conn, account: str, store_order_id: str, status: str, *, outcome: str) -> None:
    await conn.execute(
        """UPDATE marketplace_news SET outcome = $4, claimed_at = NULL, last_error = NULL
            WHERE account = $1 AND store_order_id = $2 AND status = $3""",
        account,
        store_order_id,
        status,
        outcome,
    )


async def news_failed(
    conn: Conn, account: str, store_order_id: str, status: str, *, error: str, wait_s: float
) -> None:
    await conn.execute(
        """UPDATE marketplace_news
              SET claimed_at = NULL, attempts = attempts + 1, last_error = $4,
                  next_try_at = now() + make_interval(secs => $5)
            WHERE account = $1 AND store_order_id = $2 AND status = $3""",
        account,
        store_order_id,
        status,
        error,
        wait_s,
    )
