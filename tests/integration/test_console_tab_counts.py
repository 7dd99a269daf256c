"""The queue's tab counts, kept in step with the read model by every write: whatever orders move
between tabs, concurrently or in a rebuild, the counts equal a count of the rows themselves."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from services.console import store
from services.console.domain.decisions import TABS
from services.console.domain.view import OrderView, ReturnView, ShipmentView
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "console" / "migrations"
STATUSES = ("PLACED", "REJECTED", "ON_HOLD", "PENDING_COD_CONFIRMATION", "CONFIRMED", "DELIVERED")
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="console_counts_test",
        migrations_dir=MIGRATIONS,
        min_size=4,
        max_size=8,
    )
    await p.execute("TRUNCATE order_view; UPDATE queue_counts SET orders = 0")
    yield p
    await p.close()


def an_order(rng: random.Random, order_id: str, i: int) -> OrderView:
    at = START + timedelta(minutes=i)
    parcel = ShipmentView(f"SHP-{order_id}", "GGN1", "delhivery", None, rng.choice(("IN_TRANSIT", "NDR")))
    ret = ReturnView(f"RET-{order_id}", rng.choice(("REQUESTED", "CLOSED")), ())
    return OrderView(
        order_id=order_id,
        first_seen_at=at,
        updated_at=at,
        status=rng.choice(STATUSES),
        shipments=(parcel,) if rng.random() < 0.5 else (),
        returns=(ret,) if rng.random() < 0.3 else (),
    )


async def counted(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT tab, count(*) AS n FROM order_view, unnest(tabs) AS tab GROUP BY tab")
    found = {r["tab"]: r["n"] for r in rows}
    return {tab: found.get(tab, 0) for tab in TABS}


async def test_counts_follow_every_write_concurrent_or_rebuilt(pool: asyncpg.Pool) -> None:
    rng = random.Random(81)
    ids = [unique("ORD-TAB") for _ in range(60)]
    views = {oid: an_order(rng, oid, i) for i, oid in enumerate(ids)}

    async def write(batch: list[OrderView]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await store.lock_views(conn, (v.order_id for v in batch))
            await store.save_views(conn, batch)

    # Six writers at once, each batch touching orders others touch too: no deadlock, no lost count.
    written: set[str] = set()
    for _ in range(5):
        batches = []
        for _ in range(6):
            chosen = rng.sample(ids, 12)
            for oid in chosen:
                views[oid] = replace(an_order(rng, oid, ids.index(oid)), order_id=oid)
            batches.append([views[oid] for oid in chosen])
            written.update(chosen)
        await asyncio.gather(*(write(b) for b in batches))
        assert await store.tab_counts(pool) == await counted(pool)

    expected = Counter(tab for row in await pool.fetch("SELECT tabs FROM order_view") for tab in row["tabs"])
    assert expected["all"] == len(written) and 0 < expected["rejected"] < 60 and expected["ndr"] > 0
    assert await store.tab_counts(pool) == {tab: expected[tab] for tab in TABS}

    async with pool.acquire() as conn, conn.transaction():
        await store.replace_all(conn, list(views.values())[:10], [], [])
    assert (await store.tab_counts(pool))["all"] == 10
    assert await store.tab_counts(pool) == await counted(pool)
