"""Issue the credit notes a refunded return or an RTO parcel asks for: gather the invoices it
reduces and what earlier notes took of them, let the domain decide each line, number each note in
its GSTIN's credit-note series and store it with its event, all in the caller's transaction (ADR 0240).

A request is stored once per return or parcel (a redelivery asks nothing new) and stays `due`, saying
why, while its invoice is not issued yet; the sweep tries it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from chassis.db import Conn
from chassis.ids import time_ordered_id
from chassis.logging import get_logger
from chassis.service import Service
from contracts import CreditNoteIssued, Event
from services.invoicing import domain, store
from services.invoicing.domain import DocumentKind, InvoiceToCredit, Supply, TaxedLine
from services.invoicing.issuing import line_json
from services.invoicing.records import CreditNote, CreditRequest, Invoice

Emit = Callable[[Event], Awaitable[str]]

log = get_logger(__name__)


def taxed_line(stored: dict[str, Any]) -> TaxedLine:
    """An invoice or credit-note line as stored (JSON) back as the domain's line."""
    return TaxedLine(
        sku=stored["sku"],
        description=stored["description"],
        hsn_code=stored["hsn_code"],
        quantity=int(stored["quantity"]),
        unit=stored["unit"],
        gst_rate=Decimal(str(stored["gst_rate"])),
        gross_paise=int(stored["gross_paise"]),
        discount_paise=int(stored["discount_paise"]),
        taxable_paise=int(stored["taxable_paise"]),
        cgst_paise=int(stored["cgst_paise"]),
        sgst_paise=int(stored["sgst_paise"]),
        igst_paise=int(stored["igst_paise"]),
    )


def to_credit(invoice: Invoice, notes: list[CreditNote]) -> InvoiceToCredit:
    """An invoice's lines less what its earlier credit notes took."""
    return domain.invoice_left(
        invoice.invoice_id,
        Supply(invoice.supply),
        [taxed_line(x) for x in invoice.lines],
        [taxed_line(x) for note in notes if note.invoice_id == invoice.invoice_id for x in note.lines],
    )


async def _why_wait(conn: Conn, request: CreditRequest) -> str | None:
    """Why the invoices this request reduces cannot be read yet, or None when they can."""
    if request.shipment_id is not None:
        state = await store.shipment_invoice_state(conn, request.shipment_id)
        if state in (None, "none", "due"):
            return f"parcel {request.shipment_id} has no invoice yet"
        return None
    states = await store.parcel_invoice_states(conn, request.order_id)
    if not states:
        # The refund came before invoicing heard of the order's parcels (a lagging topic).
        return f"no parcel of order {request.order_id} is known yet"
    waiting = [shipment for shipment, state in states if state == "due"]
    if waiting:
        return f"parcel {waiting[0]} of order {request.order_id} has no invoice yet"
    return None


async def credit(conn: Conn, emit: Emit, *, source: str, now: datetime) -> str:
    """Issue a credit request's notes if it is due and its invoices are known; its state after."""
    request = await store.credit_request_for_update(conn, source)
    if request is None or request.state != "due":
        return request.state if request else "none"
    why = await _why_wait(conn, request)
    if why is not None:
        await store.set_credit_state(conn, source, "due", why)
        return "due"
    invoices = [
        x
        for x in await store.invoices_for_update(
            conn, order_id=request.order_id, shipment_id=request.shipment_id
        )
        if x.status == "issued"
    ]
    notes = await store.credit_notes_of_invoices(conn, [x.invoice_id for x in invoices])
    credits_due = [to_credit(x, notes) for x in invoices]
    if request.reason == "rto":
        lines = {x.invoice_id: domain.rto_credit(x) for x in credits_due}
    else:
        lines = domain.refund_credit(
            credits_due,
            returned=[(x.sku, x.quantity) for x in request.lines],
            items_paise=request.items_paise,
            shipping_fee_paise=request.shipping_fee_paise,
        )
    lines = {k: v for k, v in lines.items() if v}
    if not lines:
        problem = "no invoice of ours stands for it" if not invoices else "nothing left to credit"
        await store.set_credit_state(conn, source, "nothing", problem)
        log.info("nothing to credit", source=source, order_id=request.order_id, why=problem)
        return "nothing"
    for invoice in invoices:
        if invoice.invoice_id in lines:
            note = await _store_credit_note(conn, request, invoice, lines[invoice.invoice_id], now)
            await emit(issued_event(note))
    await store.set_credit_state(conn, source, "credited")
    return "credited"


async def credit_due(service: Service, *, now: datetime, batch: int = 50) -> int:
    """Try again the credit requests that waited for an invoice; how many were credited. One
    transaction per request, so one that still waits does not hold the others back."""
    credited = 0
    async with service.pool.acquire() as conn:
        async with conn.transaction():
            due = await store.due_credit_requests(conn, limit=batch)
        for source in due:
            async with conn.transaction():
                state = await credit(conn, lambda e: service.emit(conn, e), source=source, now=now)
            credited += state == "credited"
    return credited


async def _store_credit_note(
    conn: Conn, request: CreditRequest, invoice: Invoice, lines: list[TaxedLine], now: datetime
) -> CreditNote:
    # Never dated before the invoice it reduces (a clock behind, an event replayed late).
    issued_at = max(now, invoice.issued_at)
    year = domain.financial_year(issued_at)
    serial = await store.next_serial(
        conn, gstin=invoice.gstin, kind=DocumentKind.CREDIT_NOTE.value, financial_year=year
    )
    totals = domain.totals(lines)
    return await store.insert_credit_note(
        conn,
        {
            "credit_note_id": time_ordered_id("CRN"),
            "number": domain.document_number(DocumentKind.CREDIT_NOTE, year, serial),
            "gstin": invoice.gstin,
            "financial_year": year,
            "serial": serial,
            "source": request.source,
            "reason": request.reason,
            "invoice_id": invoice.invoice_id,
            "invoice_number": invoice.number,
            "invoice_date": invoice.issued_at,
            "order_id": request.order_id,
            "shipment_id": invoice.shipment_id,
            "return_id": request.return_id,
            "issued_at": issued_at,
            "place_of_supply": invoice.place_of_supply,
            "supply": invoice.supply,
            "lines": [line_json(x) for x in lines],
            "taxable_paise": totals.taxable_paise,
            "cgst_paise": totals.cgst_paise,
            "sgst_paise": totals.sgst_paise,
            "igst_paise": totals.igst_paise,
            "total_paise": totals.total_paise,
        },
    )


def issued_event(note: CreditNote) -> CreditNoteIssued:
    """The event of an issued credit note."""
    return CreditNoteIssued(
        order_id=note.order_id,
        credit_note_id=note.credit_note_id,
        number=note.number,
        gstin=note.gstin,
        invoice_id=note.invoice_id,
        invoice_number=note.invoice_number,
        invoice_issued_at=note.invoice_date,
        issued_at=note.issued_at,
        place_of_supply=note.place_of_supply,
        supply="intra_state" if note.supply == "intra_state" else "inter_state",
        taxable_paise=note.taxable_paise,
        cgst_paise=note.cgst_paise,
        sgst_paise=note.sgst_paise,
        igst_paise=note.igst_paise,
        total_paise=note.total_paise,
        reason="rto" if note.reason == "rto" else "return",
        return_id=note.return_id,
    )
