"""The console's stock read model on real PostgreSQL: an announcement replaces its SKU's rows, an
older one replayed after it changes nothing, the low-stock list and the keyset pages read what was
written, and a rebuild swaps the stock with the orders (ADR 320)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from contracts import StockChanged, StockLevels
from services.console import store
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "console" / "migrations"
AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="console_stock_test",
        migrations_dir=MIGRATIONS,
        min_size=1,
        max_size=2,
    )
    yield p
    await p.close()


def announced(sku: str, at: datetime, **levels: tuple[int, int, int, int | None]) -> StockChanged:
    """inventory.stock_changed.v1 with (on hand, reserved, buffer, reorder point) per warehouse."""
    return StockChanged(
        sku=sku,
        available_total=sum(max(h - r - b, 0) for h, r, b, _ in levels.values()),
        by_warehouse={w: max(h - r - b, 0) for w, (h, r, b, _) in levels.items()},
        levels={
            w: StockLevels(on_hand=h, reserved=r, buffer=b, reorder_point=p)
            for w, (h, r, b, p) in levels.items()
        },
        changed_at=at,
    )


async def numbers(pool: asyncpg.Pool, sku: str) -> dict[str, tuple[int | None, int | None, int]]:
    return {r.warehouse_code: (r.on_hand, r.reserved, r.available) for r in await store.stock_of(pool, sku)}


async def test_the_newest_announcement_of_a_sku_stands_and_an_older_one_replayed_changes_nothing(
    pool: asyncpg.Pool,
) -> None:
    sku = unique("INT-STK")
    async with pool.acquire() as conn, conn.transaction():
        await store.save_stock(conn, [announced(sku, AT, BOM1=(10, 0, 0, None), GGN1=(4, 1, 0, 5))])
    assert await numbers(pool, sku) == {"BOM1": (10, 0, 10), "GGN1": (4, 1, 3)}

    async with pool.acquire() as conn, conn.transaction():
        await store.save_stock(
            conn, [announced(sku, AT + timedelta(seconds=2), BOM1=(15, 2, 0, None), GGN1=(4, 4, 0, 5))]
        )
        await store.save_stock(conn, [announced(sku, AT + timedelta(seconds=1), BOM1=(99, 0, 0, None))])
    assert await numbers(pool, sku) == {"BOM1": (15, 2, 13), "GGN1": (4, 4, 0)}

    low = await store.stock_page(pool, sku_prefix=sku, warehouse=None, low=True, after=None, limit=10)
    assert [(r.sku, r.warehouse_code) for r in low] == [(sku, "GGN1")]


async def test_one_batch_of_announcements_leaves_each_sku_as_its_newest_says(pool: asyncpg.Pool) -> None:
    moved, dropped, stale, fresh = (unique(f"INT-B{i}") for i in range(4))
    async with pool.acquire() as conn, conn.transaction():
        await store.save_stock(
            conn,
            [
                announced(moved, AT, BOM1=(5, 0, 0, None)),
                announced(dropped, AT, BOM1=(3, 0, 0, None), GGN1=(2, 0, 0, None)),
                announced(stale, AT + timedelta(minutes=1), BLR1=(8, 0, 0, None)),
            ],
        )
    async with pool.acquire() as conn, conn.transaction():
        await store.save_stock(
            conn,
            [
                announced(moved, AT + timedelta(seconds=2), BOM1=(9, 1, 0, None)),
                announced(stale, AT, BLR1=(1, 0, 0, None)),
                announced(moved, AT + timedelta(seconds=1), BOM1=(99, 0, 0, None)),
                announced(dropped, AT + timedelta(seconds=1), GGN1=(6, 0, 0, None)),
                announced(fresh, AT, BOM1=(4, 0, 0, 4), BLR1=(0, 0, 0, None)),
            ],
        )
    assert await numbers(pool, moved) == {"BOM1": (9, 1, 8)}
    assert await numbers(pool, dropped) == {"GGN1": (6, 0, 6)}
    assert await numbers(pool, stale) == {"BLR1": (8, 0, 8)}
    assert await numbers(pool, fresh) == {"BLR1": (0, 0, 0), "BOM1": (4, 0, 4)}


async def test_the_stock_list_pages_by_sku_and_warehouse_without_repeating_or_skipping_a_row(
    pool: asyncpg.Pool,
) -> None:
    prefix = unique("INT-PG")
    async with pool.acquire() as conn, conn.transaction():
        await store.save_stock(
            conn,
            [announced(f"{prefix}-{i}", AT, BOM1=(i, 0, 0, None), BLR1=(1, 0, 0, None)) for i in range(5)],
        )
    seen, after = [], None
    while True:
        page = await store.stock_page(
            pool, sku_prefix=prefix, warehouse=None, low=False, after=after, limit=3
        )
        seen += [(r.sku, r.warehouse_code) for r in page]
        if len(page) < 3:
            break
        after = (page[-1].sku, page[-1].warehouse_code)
    assert seen == sorted((f"{prefix}-{i}", w) for i in range(5) for w in ("BLR1", "BOM1"))
    only_bom = await store.stock_page(
        pool, sku_prefix=prefix, warehouse="BOM1", low=False, after=None, limit=10
    )
    assert {r.warehouse_code for r in only_bom} == {"BOM1"} and len(only_bom) == 5
    # An operator's % or _ is a character of the SKU, not a wildcard.
    assert (
        await store.stock_page(
            pool, sku_prefix=f"{prefix[:-1]}_", warehouse=None, low=False, after=None, limit=10
        )
        == []
    )


async def test_a_rebuild_replaces_the_stock_with_what_the_topics_said(pool: asyncpg.Pool) -> None:
    sku = unique("INT-RB")
    async with pool.acquire() as conn, conn.transaction():
        await store.save_stock(conn, [announced(sku, AT, BOM1=(1, 0, 0, None))])
        await store.replace_all(conn, [], [], [], [announced(sku, AT - timedelta(days=1), BLR1=(7, 0, 0, 2))])
    assert await numbers(pool, sku) == {"BLR1": (7, 0, 7)}
    assert await pool.fetchval("SELECT count(*) FROM stock_view WHERE sku <> $1", sku) == 0
