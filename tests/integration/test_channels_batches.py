"""Channels' consumer works a batch at a time, on the real PostgreSQL server: every orders.placed of
a batch is written in one statement, yet a cancellation later in the same batch still finds its
order and owes the store (ADR 430); a batch's stock changes owe each listing the SKU's last number
once, through each store's rules (ADR 431)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from chassis import db
from chassis.consumer import Consumer
from chassis.service import Service
from contracts import (
    Address,
    CancelReason,
    Channel,
    Customer,
    OrderCancelled,
    OrderLine,
    OrderPlaced,
    Payment,
    PaymentMethod,
    PaymentStatus,
    StockChanged,
)
from contracts._base import utcnow
from services.channels import handlers, store
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import Account
from tests import infra
from tests.helpers import FakeRecord, unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "channels" / "migrations"


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="channels_links_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=4,
    )  # fmt: skip
    yield p
    await p.close()


def placed(channel_order_id: str, order_id: str) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        channel=Channel.SHOPIFY,
        channel_order_id=channel_order_id,
        placed_at=utcnow(),
        customer=Customer(name="Asha Verma", phone="+919812345678"),
        shipping_address=Address(line1="12 MI Road", city="Jaipur", state="Rajasthan", pincode="302001"),
        lines=[OrderLine(sku="TEA-ASSAM-250", quantity=1, unit_price_paise=34900)],
        total_paise=34900,
        payment=Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=34900),
    )


def consumer_of(pool: asyncpg.Pool, dead: list[str]) -> Consumer:
    """Channels' own handlers behind the real consumer (inbox, before-commit hooks)."""
    service = Service("channels", settings=ChannelsSettings(database_url="postgresql://unused"))
    service.include_handlers(handlers.subscriptions, None)

    async def dead_letter(_record: Any, error: str) -> None:
        dead.append(error)

    return Consumer(
        service="channels",
        pool=pool,
        subscriptions=service._subscriptions,
        dead_letter=dead_letter,
        before_commit=service._before_commit,
    )


async def test_a_batch_of_stock_changes_owes_each_listing_the_skus_last_number_once(
    pool: asyncpg.Pool,
) -> None:
    shop, woo = unique("shop").lower(), unique("woo").lower()
    tea, coffee = unique("TEA"), unique("COFFEE")
    async with pool.acquire() as conn:
        await store.upsert_account(
            conn, Account(account=shop, platform="shopify", base_url="http://x", webhook_secret="s")
        )
        await store.upsert_account(
            conn,
            Account(
                account=woo, platform="woocommerce", base_url="http://x", webhook_secret="s", stock_buffer=2
            ),
        )
        await store.upsert_mappings(
            conn, shop, [{"channel_sku": "S-TEA", "sku": tea}, {"channel_sku": "S-COF", "sku": coffee}]
        )
        await store.upsert_mappings(conn, woo, [{"channel_sku": "W-TEA", "sku": tea}])
    dead: list[str] = []
    changes = [(tea, 10), (coffee, 5), (tea, 9), (tea, 7)]
    events = [StockChanged(sku=sku, available_total=n, by_warehouse={"GGN1": n}) for sku, n in changes]

    await consumer_of(pool, dead).apply_batch([FakeRecord(e, n) for n, e in enumerate(events)])  # type: ignore[misc]

    assert dead == []
    rows = await pool.fetch(
        """SELECT account, channel_sku, quantity, version FROM stock_pushes
            WHERE account = ANY($1::text[]) ORDER BY account, channel_sku""",
        [shop, woo],
    )
    assert sorted((r["account"], r["channel_sku"], r["quantity"], r["version"]) for r in rows) == sorted(
        [(shop, "S-COF", 5, 1), (shop, "S-TEA", 7, 1), (woo, "W-TEA", 5, 1)]
    )
    assert await pool.fetchval("SELECT available_total FROM sku_stock WHERE sku = $1", tea) == 7


async def test_order_ids_of_a_batch_are_learnt_together_and_a_cancellation_in_it_finds_its_order(
    pool: asyncpg.Pool,
) -> None:
    account = unique("shop").lower()
    stores = [unique("1001"), unique("1002"), unique("1003")]
    async with pool.acquire() as conn:
        await store.upsert_account(
            conn, Account(account=account, platform="shopify", base_url="http://x", webhook_secret="s")
        )
        for store_order_id in stores:
            await store.insert_channel_order(
                conn, account=account, store_order_id=store_order_id, channel="shopify",
                channel_order_id=f"{account}-{store_order_id}", status="sent", problems=[], store_order={},
            )  # fmt: skip
    dead: list[str] = []
    consumer = consumer_of(pool, dead)
    order_ids = [unique("ORD") for _ in stores]
    events = [placed(f"{account}-{s}", o) for s, o in zip(stores, order_ids, strict=True)]
    cancelled = OrderCancelled(
        order_id=order_ids[1],
        channel=Channel.SHOPIFY,
        channel_order_id=f"{account}-{stores[1]}",
        reason_code=CancelReason.CUSTOMER_REQUEST,
    )
    events.insert(2, cancelled)

    await consumer.apply_batch([FakeRecord(e, n) for n, e in enumerate(events)])  # type: ignore[misc]

    assert dead == []
    rows = await pool.fetch(
        """SELECT store_order_id, order_id, dabba_cancelled_at IS NOT NULL AS owed FROM channel_orders
            WHERE account = $1 ORDER BY store_order_id""",
        account,
    )
    assert [(r["store_order_id"], r["order_id"], r["owed"]) for r in rows] == [
        (stores[0], order_ids[0], False),
        (stores[1], order_ids[1], True),
        (stores[2], order_ids[2], False),
    ]
