"""Warehouses' cut-offs as orders keeps them from routing's announcements, on real PostgreSQL: the
newest announcement of a warehouse wins whatever order they arrive in, and a warehouse without a
cut-off of its own is left to the default (ADR 0361)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from services.orders import lifecycle, store
from services.orders.lifecycle import Step
from services.orders.settings import OrdersSettings
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parents[2] / "services" / "orders" / "migrations"
EARLY, LATE = datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="orders_cutoffs_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=2,
    )  # fmt: skip
    yield p
    await p.close()


async def test_the_newest_announcement_of_a_warehouses_cut_off_wins_in_any_order(pool: asyncpg.Pool) -> None:
    ggn, blr, bom = unique("GGN"), unique("BLR"), unique("BOM")
    async with pool.acquire() as conn:
        await store.save_cutoff(conn, warehouse_code=ggn, cutoff=time(16, 30), changed_at=LATE)
        await store.save_cutoff(
            conn, warehouse_code=ggn, cutoff=time(12, 0), changed_at=EARLY
        )  # late arrival
        await store.save_cutoff(conn, warehouse_code=blr, cutoff=time(11, 0), changed_at=EARLY)
        await store.save_cutoff(conn, warehouse_code=blr, cutoff=None, changed_at=LATE)  # cut-off removed

        known = await store.cutoffs(conn)

    assert {code: known[code] for code in (ggn, blr, bom) if code in known} == {ggn: time(16, 30)}


async def test_an_order_confirmed_after_a_cut_off_changed_in_the_same_transaction_uses_the_new_one(
    pool: asyncpg.Pool,
) -> None:
    """Cut-offs are read once per consumer transaction; an announcement handled in that transaction
    makes the next order read them again, so it is never decided on the old cut-off."""
    ggn = unique("GGN")
    async with pool.acquire() as conn, conn.transaction():
        step = Step.direct(conn, OrdersSettings(), cause="test")
        assert ggn not in await lifecycle.cutoffs(step)
        await store.save_cutoff(conn, warehouse_code=ggn, cutoff=time(15, 0), changed_at=LATE)
        assert ggn not in await lifecycle.cutoffs(step)  # the transaction's copy, until told

        lifecycle.forget_cutoffs(step.shared)

        assert (await lifecycle.cutoffs(step))[ggn] == time(15, 0)
