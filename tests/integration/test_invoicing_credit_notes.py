"""Credit notes against the real PostgreSQL server (ADR 0240): their own gapless series per GSTIN and
financial year even with many issuers at once, one credit per return or RTO however often it is
delivered, an RTO that waits for its invoice, and never more credited than an invoice carried."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest

from chassis.refusal import Refusal
from contracts import CreditNoteIssued, InvoiceIssued
from contracts.values import SkuQuantity
from services.invoicing import api, crediting, documents, issuing, store
from services.invoicing.settings import InvoicingSettings
from tests import infra, pdf_checks
from tests.integration.invoicing_seller import Emitted, mumbai_order, packed, seller_database

pytestmark = pytest.mark.integration

SETTINGS = InvoicingSettings()


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    async with seller_database(servers, "invoicing_cn_test", trade_name=None) as p:
        yield p


async def _packed(pool: asyncpg.Pool, at: datetime, *, issue: bool = True) -> tuple[str, str, Emitted]:
    """An order of 2 × ₹349 tea to Mumbai (CGST + SGST), its parcel packed (and invoiced)."""
    order = mumbai_order()
    emitted = Emitted()
    async with pool.acquire() as conn, conn.transaction():
        shipment_id = await packed(conn, order, at)
        if issue:
            assert (
                await issuing.issue(conn, emitted, shipment_id=shipment_id, now=at, settings=SETTINGS)
                == "issued"
            )
    return order.order_id, shipment_id, emitted


async def _rto(pool: asyncpg.Pool, order_id: str, shipment_id: str, at: datetime) -> Emitted:
    """What the handler does with the parcel's RTO_DELIVERED."""
    emitted = Emitted()
    async with pool.acquire() as conn, conn.transaction():
        source = f"rto:{shipment_id}"
        if await store.request_credit(
            conn, source=source, reason="rto", order_id=order_id, shipment_id=shipment_id, requested_at=at
        ):
            await crediting.credit(conn, emitted, source=source, now=at)
    return emitted


async def _refund(
    pool: asyncpg.Pool, order_id: str, return_id: str, at: datetime, *, units: int, items: int
) -> Emitted:
    """What the handler does with a return's returns.refunded.v1."""
    emitted = Emitted()
    async with pool.acquire() as conn, conn.transaction():
        source = f"return:{return_id}"
        if await store.request_credit(
            conn,
            source=source,
            reason="return",
            order_id=order_id,
            return_id=return_id,
            lines=[SkuQuantity(sku="TEA-ASSAM-250", quantity=units)],
            items_paise=items,
            requested_at=at,
        ):
            await crediting.credit(conn, emitted, source=source, now=at)
    return emitted


async def test_a_refunded_return_has_one_credit_note_citing_its_invoice_however_often_it_arrives(
    pool: asyncpg.Pool,
) -> None:
    at = datetime(2041, 6, 1, 6, 0, tzinfo=UTC)
    order_id, _, issued = await _packed(pool, at)
    invoice = next(e for e in issued if isinstance(e, InvoiceIssued))
    first = await _refund(pool, order_id, "RET-A1", at + timedelta(days=9), units=1, items=34900)
    again = await _refund(pool, order_id, "RET-A1", at + timedelta(days=9), units=1, items=34900)
    assert again == []
    [note] = first
    assert isinstance(note, CreditNoteIssued)
    assert (note.number, note.invoice_number, note.invoice_issued_at, note.reason, note.return_id) == (
        "CN/41-42/000001",
        invoice.number,
        invoice.issued_at,
        "return",
        "RET-A1",
    )
    # One of two units of ₹349 at 5% within Maharashtra: 33238 taxable, 831 CGST, 831 SGST.
    assert (
        note.supply,
        note.taxable_paise,
        note.cgst_paise,
        note.sgst_paise,
        note.igst_paise,
        note.total_paise,
    ) == (
        "intra_state",
        33238,
        831,
        831,
        0,
        34900,
    )
    rows = await pool.fetch("SELECT number FROM credit_notes WHERE order_id = $1", order_id)
    assert [r["number"] for r in rows] == ["CN/41-42/000001"]


async def test_credit_notes_racing_take_every_serial_once_and_restart_on_1_april_ist(
    pool: asyncpg.Pool,
) -> None:
    march_31_late = datetime(2043, 3, 31, 18, 29, 59, tzinfo=UTC)  # 23:59:59 IST
    april_1 = datetime(2043, 3, 31, 18, 30, tzinfo=UTC)  # 00:00 IST
    packed_at = datetime(2043, 3, 1, 6, 0, tzinfo=UTC)
    parcels = [await _packed(pool, packed_at) for _ in range(16)]
    results = await asyncio.gather(
        *(_rto(pool, o, s, march_31_late) for o, s, _ in parcels[:8]),
        *(
            _refund(pool, o, f"RET-{s}", april_1, units=2, items=69800)
            if i % 2
            else _rto(pool, o, s, april_1)
            for i, (o, s, _) in enumerate(parcels[8:])
        ),
    )
    numbers = sorted(e.number for events in results for e in events if isinstance(e, CreditNoteIssued))
    assert numbers == [f"CN/42-43/{i:06d}" for i in range(1, 9)] + [f"CN/43-44/{i:06d}" for i in range(1, 9)]
    # Invoices kept their own series: the credit notes took none of their numbers.
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM invoices WHERE financial_year = 2042 AND number LIKE 'INV/42-43/%'"
        )
        == 16
    )


async def test_an_rto_and_a_return_of_one_parcel_at_once_never_credit_more_than_its_invoice(
    pool: asyncpg.Pool,
) -> None:
    at = datetime(2045, 6, 1, 6, 0, tzinfo=UTC)
    order_id, shipment_id, issued = await _packed(pool, at)
    invoice = next(e for e in issued if isinstance(e, InvoiceIssued))
    later = at + timedelta(days=5)
    await asyncio.gather(
        _rto(pool, order_id, shipment_id, later),
        _refund(pool, order_id, "RET-B1", later, units=1, items=34900),
    )
    totals = await pool.fetchrow(
        """SELECT sum(taxable_paise) AS taxable, sum(cgst_paise) AS cgst, sum(sgst_paise) AS sgst,
                  sum(total_paise) AS total FROM credit_notes WHERE invoice_id = $1""",
        invoice.invoice_id,
    )
    assert (totals["taxable"], totals["cgst"], totals["sgst"], totals["total"]) == (
        invoice.taxable_paise,
        invoice.cgst_paise,
        invoice.sgst_paise,
        invoice.total_paise,
    )


async def test_an_rto_before_its_invoice_waits_saying_why_and_is_credited_once_the_invoice_is_issued(
    pool: asyncpg.Pool,
) -> None:
    at = datetime(2047, 6, 1, 6, 0, tzinfo=UTC)
    order_id, shipment_id, _ = await _packed(pool, at, issue=False)
    assert await _rto(pool, order_id, shipment_id, at + timedelta(days=3)) == []
    row = await pool.fetchrow(
        "SELECT state, problem FROM credit_requests WHERE source = $1", f"rto:{shipment_id}"
    )
    assert row["state"] == "due" and f"parcel {shipment_id} has no invoice yet" in row["problem"]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM series WHERE kind = 'credit_note' AND financial_year = 2047"
        )
        == 0
    )
    emitted = Emitted()
    async with pool.acquire() as conn, conn.transaction():
        await issuing.issue(conn, emitted, shipment_id=shipment_id, now=at, settings=SETTINGS)
    async with pool.acquire() as conn, conn.transaction():
        state = await crediting.credit(conn, emitted, source=f"rto:{shipment_id}", now=at + timedelta(days=4))
    assert state == "credited"
    invoice, note = emitted
    assert isinstance(invoice, InvoiceIssued) and isinstance(note, CreditNoteIssued)
    assert (note.invoice_number, note.total_paise, note.reason) == (
        invoice.number,
        invoice.total_paise,
        "rto",
    )


async def test_a_refund_heard_before_the_orders_parcel_waits_and_is_credited_once_the_parcel_is_invoiced(
    pool: asyncpg.Pool,
) -> None:
    at = datetime(2049, 6, 1, 6, 0, tzinfo=UTC)
    order_id = f"ORD-{uuid.uuid4().hex[:10]}"
    assert await _refund(pool, order_id, "RET-EARLY", at, units=1, items=34900) == []
    row = await pool.fetchrow("SELECT state, problem FROM credit_requests WHERE source = 'return:RET-EARLY'")
    assert (row["state"], row["problem"]) == ("due", f"no parcel of order {order_id} is known yet")
    # The order and its parcel arrive late; the parcel is invoiced; the sweep's retry credits it.
    emitted = Emitted()
    async with pool.acquire() as conn, conn.transaction():
        shipment_id = await packed(conn, mumbai_order(order_id), at)
        await issuing.issue(conn, emitted, shipment_id=shipment_id, now=at, settings=SETTINGS)
    async with pool.acquire() as conn, conn.transaction():
        assert "return:RET-EARLY" in await store.due_credit_requests(conn, limit=1000)
        state = await crediting.credit(conn, emitted, source="return:RET-EARLY", now=at + timedelta(hours=1))
    assert state == "credited"
    invoice, note = emitted
    assert isinstance(invoice, InvoiceIssued) and isinstance(note, CreditNoteIssued)
    assert (note.invoice_number, note.total_paise, note.return_id) == (invoice.number, 34900, "RET-EARLY")


def _request(pool: asyncpg.Pool) -> Any:
    """What a route reads of its request: the service's pool."""
    return SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(service=SimpleNamespace(pool=pool))))


async def test_an_invoice_and_the_rtos_credit_note_are_served_as_pdfs_the_note_citing_the_invoice(
    pool: asyncpg.Pool,
) -> None:
    at = datetime(2047, 8, 14, 20, 0, tzinfo=UTC)  # 15 August in India
    order_id, shipment_id, issued = await _packed(pool, at)
    invoice = next(e for e in issued if isinstance(e, InvoiceIssued))
    [note] = await _rto(pool, order_id, shipment_id, at + timedelta(days=6))
    assert isinstance(note, CreditNoteIssued)

    served = await api.invoice_pdf(_request(pool), invoice.invoice_id)
    assert served.media_type == "application/pdf"
    assert (
        served.headers["content-disposition"] == f'inline; filename="{invoice.number.replace("/", "-")}.pdf"'
    )
    text = pdf_checks.words(pdf_checks.text(bytes(served.body)))
    for field in (
        "TAX INVOICE",
        f"Invoice no. {invoice.number}",
        "Date 15-08-2047",
        "GSTIN 27AAPFU0939F1ZV",
        "Place of supply Maharashtra (27)",
        f"CGST {documents.money(invoice.cgst_paise)}",
        f"SGST {documents.money(invoice.sgst_paise)}",
        f"Total invoice value (₹) {documents.money(invoice.total_paise)}",
    ):
        assert field in text, field

    served = await api.credit_note_pdf(_request(pool), note.credit_note_id)
    text = pdf_checks.words(pdf_checks.text(bytes(served.body)))
    for field in (
        "CREDIT NOTE",
        f"Credit note no. {note.number}",
        "Date 21-08-2047",
        f"Against invoice {invoice.number} dated 15-08-2047",
        "Parcel returned undelivered (RTO)",
        f"Total credited (₹) {documents.money(note.total_paise)}",
    ):
        assert field in text, field

    with pytest.raises(Refusal) as missing:
        await api.invoice_pdf(_request(pool), "INV-NONE")
    assert (missing.value.status, missing.value.problems) == (404, [("invoice_id", "no invoice INV-NONE")])
