"""A batch's views are written in one statement and only when their rows changed: a view folded to
what is stored is left alone (no new row version, no move of the live queue), and a full view reads
back as exactly the row it was written from, so an unchanged order is recognised (ADR 520)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from services.console import store
from services.console.domain.view import OrderView, ReturnView, ShipmentView, TimelineEntry
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "console" / "migrations"
AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url,
        service="console_view_writes_test",
        migrations_dir=MIGRATIONS,
        min_size=1,
        max_size=2,
    )
    yield p
    await p.close()


def a_full_order(order_id: str) -> OrderView:
    """An order with something in every column: parcels, a return, a refund, milestones."""
    parcel = ShipmentView(
        f"SHP-{order_id}",
        "GGN1",
        "delhivery",
        "DL123",
        "NDR",
        lines=(("TEE-M", 2),),
        ndr_attempts=(1,),
        ndr_reason="customer unavailable",
        location="Jaipur hub",
    )
    ret = ReturnView(
        f"RET-{order_id}",
        "QC_PASSED",
        (("TEE-M", 1, "size"),),
        sla_breached=True,
        requested_at=AT + timedelta(days=3),
        qc_at=AT + timedelta(days=5, microseconds=250),
    )
    return OrderView(
        order_id=order_id,
        first_seen_at=AT,
        updated_at=AT + timedelta(days=5, seconds=1),
        channel="shopify",
        channel_order_id="#1001",
        customer_name="Asha Verma",
        phone="+91 98100 00001",
        email="asha@example.in",
        city="Jaipur",
        state="RJ",
        pincode="302001",
        lines=(("TEE-M", 2, 49900),),
        total_paise=99800,
        payment_method="prepaid",
        payment_status="CAPTURED",
        status="SHIPPED",
        problems=(("email", "bounced"),),
        placed_at=AT,
        shipments=(parcel,),
        returns=(ret,),
        refunds=((f"RFD-{order_id}", 49900),),
        messages_sent=2,
        messages_failed=1,
        milestones={"placed": AT, "confirmed": AT + timedelta(minutes=3)},
        promised_dispatch_by=AT + timedelta(days=1),
        reserved_at=AT + timedelta(minutes=1),
    )


async def save(pool: asyncpg.Pool, views: list[OrderView]) -> None:
    """What the fold does at the end of a consumer batch: lock, then write what changed."""
    async with pool.acquire() as conn, conn.transaction():
        locked = await store.lock_views(conn, (v.order_id for v in views))
        await store.save_views(conn, views, locked)


async def row_versions(pool: asyncpg.Pool, order_ids: list[str]) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT order_id, xmin::text AS v FROM order_view WHERE order_id = ANY($1::text[])", order_ids
    )
    return {r["order_id"]: r["v"] for r in rows}


async def test_a_batch_rewrites_only_the_orders_whose_rows_changed(pool: asyncpg.Pool) -> None:
    full, plain = a_full_order(unique("ORD-FULL")), OrderView(unique("ORD-PLAIN"), AT, AT, status="PLACED")
    await save(pool, [full, plain])
    assert await store.views(pool, [full.order_id]) == [full]
    written, version = await row_versions(pool, [full.order_id, plain.order_id]), await store.latest_seq(pool)

    await save(pool, [full, plain])
    assert await row_versions(pool, [full.order_id, plain.order_id]) == written
    assert await store.latest_seq(pool) == version

    sent = replace(plain, messages_sent=1, updated_at=AT + timedelta(minutes=1))
    await save(pool, [full, sent])
    now = await row_versions(pool, [full.order_id, plain.order_id])
    assert now[full.order_id] == written[full.order_id] and now[plain.order_id] != written[plain.order_id]
    assert await store.latest_seq(pool) == version + 1
    assert await store.views(pool, [plain.order_id]) == [sent]


async def test_a_batch_writes_each_timeline_line_once(pool: asyncpg.Pool) -> None:
    order_id = unique("ORD-TL")
    placed = TimelineEntry(unique("EVT"), order_id, AT, "placed", "Placed on Shopify")
    paid = TimelineEntry(unique("EVT"), order_id, AT + timedelta(seconds=5), "payment", "Paid", "razorpay")
    async with pool.acquire() as conn, conn.transaction():
        await store.add_timeline(conn, [placed, paid, placed])
        await store.add_timeline(conn, [paid])
    assert await store.timeline(pool, order_id) == [placed, paid]
