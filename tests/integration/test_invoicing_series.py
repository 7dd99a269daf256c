"""Invoicing against the real PostgreSQL server: one gapless series per GSTIN and financial year,
never a repeated number with two issuers at once, a new series at midnight IST on 1 April, and one
invoice per parcel however often its "packed" arrives."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest

from chassis import db
from contracts import Event, InvoiceIssued
from contracts.examples import order_placed
from contracts.values import SkuQuantity
from services.invoicing import issuing, store
from services.invoicing.settings import InvoicingSettings
from tests import infra

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "invoicing" / "migrations"
BHIWANDI_GSTIN = "27AAPFU0939F1ZV"  # Maharashtra
SETTINGS = InvoicingSettings()


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    # A database of its own per run: the series start at 1.
    p = await db.open_database(
        server_url=servers.database_url,
        service=f"invoicing_test_{uuid.uuid4().hex[:8]}",
        migrations_dir=MIGRATIONS,
        min_size=4,
        max_size=12,
    )
    async with p.acquire() as conn:
        await store.upsert_registration(
            conn,
            gstin=BHIWANDI_GSTIN,
            legal_name="चाय पॉइंट रिटेल प्राइवेट लिमिटेड",
            trade_name="Chai Point",
            address="Plot 12, Bhiwandi MIDC, Thane, Maharashtra 421302",
            turnover_band="up_to_5_crore",
            actor="test",
        )
        await store.set_warehouse_registration(
            conn, warehouse_code="BOM1", gstin=BHIWANDI_GSTIN, actor="test"
        )
        await store.upsert_tax_class(
            conn,
            sku="TEA-ASSAM-250",
            description="Assam tea 250 g",
            hsn_code="0902",
            gst_rate=Decimal(5),
            unit="NOS",
            actor="test",
        )
    yield p
    await p.close()


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
    order = order_placed().model_copy(update={"order_id": f"ORD-{uuid.uuid4().hex[:10]}"})
    order = order.model_copy(
        update={"shipping_address": order.shipping_address.model_copy(update={"pincode": "400001"})}
    )
    shipment_id = f"SHP-{uuid.uuid4().hex[:10]}"
    async with pool.acquire() as conn, conn.transaction():
        await store.record_order(conn, order)
        await store.record_shipment(
            conn,
            shipment_id=shipment_id,
            order_id=order.order_id,
            warehouse_code="BOM1",
            lines=[SkuQuantity(sku="TEA-ASSAM-250", quantity=2)],
        )
        assert await store.mark_packed(
            conn, shipment_id=shipment_id, order_id=order.order_id, warehouse_code="BOM1", at=at
        )
    return order.order_id, shipment_id


async def _issue(pool: asyncpg.Pool, shipment_id: str, now: datetime) -> list[Event]:
    emitted: list[Event] = []

    async def emit(event: Event) -> str:
        emitted.append(event)
        return "id"

    async with pool.acquire() as conn, conn.transaction():
        await issuing.issue(conn, emit, shipment_id=shipment_id, now=now, settings=SETTINGS)
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
