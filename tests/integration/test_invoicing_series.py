"""Invoicing against the real PostgreSQL server: one gapless series per GSTIN and financial year,
never a repeated number with two issuers at once, a new series at midnight IST on 1 April, and one
invoice per parcel however often its "packed" arrives."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from contracts import Event, InvoiceIssued
from services.invoicing import issuing, store
from services.invoicing.settings import InvoicingSettings
from tests import infra
from tests.integration.invoicing_seller import BHIWANDI_GSTIN, Emitted, mumbai_order, packed, seller_database

pytestmark = pytest.mark.integration

SETTINGS = InvoicingSettings()


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    async with seller_database(servers, "invoicing_test", legal_name="चाय पॉइंट रिटेल प्राइवेट लिमिटेड") as p:
        yield p


async def test_two_issuers_at_once_take_every_serial_once_and_a_rollback_leaves_no_gap(
    pool: asyncpg.Pool,
) -> None:
    async def take(n: int, fail_at: int | None = None) -> list[int]:
        got = []
        async with pool.acquire() as conn:
            for i in range(n):
                try:
                    async with conn.transaction():
                        serial = await store.next_serial(
                            conn, gstin=BHIWANDI_GSTIN, kind="credit_note", financial_year=2031
                        )
                        if i == fail_at:
                            raise RuntimeError("the issuer failed after taking a number")
                        got.append(serial)
                except RuntimeError:
                    continue
        return got

    first, second = await asyncio.gather(take(40), take(40, fail_at=7))
    taken = sorted(first + second)
    assert taken == list(range(1, 80)), "79 issued: no number twice, none skipped by the rollback"


async def _packed_shipment(pool: asyncpg.Pool, at: datetime) -> tuple[str, str]:
    order = mumbai_order()
    async with pool.acquire() as conn, conn.transaction():
        shipment_id = await packed(conn, order, at)
    return order.order_id, shipment_id


async def _issue(pool: asyncpg.Pool, shipment_id: str, now: datetime) -> list[Event]:
    emitted = Emitted()
    async with pool.acquire() as conn, conn.transaction():
        await issuing.issue(conn, emitted, shipment_id=shipment_id, now=now, settings=SETTINGS)
    return emitted


async def test_the_series_starts_again_at_midnight_ist_on_1_april_and_parcels_racing_never_share_a_number(
    pool: asyncpg.Pool,
) -> None:
    march_31_late = datetime(2035, 3, 31, 18, 29, 59, tzinfo=UTC)  # 23:59:59 IST
    april_1 = datetime(2035, 3, 31, 18, 30, tzinfo=UTC)  # 00:00 IST
    before = [await _packed_shipment(pool, march_31_late) for _ in range(6)]
    after = [await _packed_shipment(pool, april_1) for _ in range(6)]
    results = await asyncio.gather(
        *(_issue(pool, s, march_31_late) for _, s in before), *(_issue(pool, s, april_1) for _, s in after)
    )
    numbers = [e.number for events in results for e in events if isinstance(e, InvoiceIssued)]
    assert sorted(n for n in numbers if n.startswith("INV/34-35/")) == [
        f"INV/34-35/{i:06d}" for i in range(1, 7)
    ]
    assert sorted(n for n in numbers if n.startswith("INV/35-36/")) == [
        f"INV/35-36/{i:06d}" for i in range(1, 7)
    ]
    # Bhiwandi (27) to Mumbai (400001, 27): CGST + SGST on 2 × ₹349 of tea at 5%.
    first = next(e for events in results for e in events if isinstance(e, InvoiceIssued))
    assert (first.supply, first.place_of_supply, first.cgst_paise, first.sgst_paise, first.igst_paise) == (
        "intra_state",
        "27",
        1662,
        1662,
        0,
    )
    # Each goods line says its GST rate: a marketplace's label asks for it per item (ADR 370).
    assert [(x.sku, x.quantity, x.gst_rate) for x in first.lines] == [("TEA-ASSAM-250", 2, "5")]


async def test_a_parcel_packed_twice_or_redelivered_has_one_invoice(pool: asyncpg.Pool) -> None:
    at = datetime(2036, 6, 1, 6, 0, tzinfo=UTC)
    order_id, shipment_id = await _packed_shipment(pool, at)
    first = await _issue(pool, shipment_id, at)
    async with pool.acquire() as conn:
        again = await store.mark_packed(
            conn, shipment_id=shipment_id, order_id=order_id, warehouse_code="BOM1", at=at
        )
    second = await _issue(pool, shipment_id, at)
    assert len(first) == 1 and not again and second == []
    rows = await pool.fetch("SELECT number FROM invoices WHERE order_id = $1", order_id)
    assert [r["number"] for r in rows] == ["INV/36-37/000001"]


async def test_a_parcel_without_a_tax_class_waits_saying_why_and_takes_no_number(pool: asyncpg.Pool) -> None:
    at = datetime(2037, 6, 1, 6, 0, tzinfo=UTC)
    _, shipment_id = await _packed_shipment(pool, at)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE shipments SET lines = $2 WHERE shipment_id = $1",
            shipment_id,
            [{"sku": "UNKNOWN-SKU", "quantity": 1}],
        )
    assert await _issue(pool, shipment_id, at) == []
    row = await pool.fetchrow(
        "SELECT invoice_state, problem FROM shipments WHERE shipment_id = $1", shipment_id
    )
    assert row["invoice_state"] == "due" and "no tax class for UNKNOWN-SKU" in row["problem"]
    assert await pool.fetchval("SELECT count(*) FROM series WHERE financial_year = 2037") == 0
