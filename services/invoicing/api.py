"""HTTP routes of the invoicing service: the seller's GST registrations, which warehouse ships under
which, each SKU's tax class, the invoices and credit notes issued, and what is held and why."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, field_validator

from chassis.auth import STAFF, Principal, Role, require
from chassis.clock import IST
from chassis.http import errors, text_answer
from chassis.pages import Cursor, Limit, Page, after_key, next_cursor, next_key, position
from chassis.refusal import Refusal
from services.invoicing import crediting, documents, domain, einvoicing, records, store
from services.invoicing.domain import Supply, ewaybill, gstr1
from services.invoicing.domain.einvoice import einvoice_json

router = APIRouter(tags=["invoicing"])

GstinPath = Annotated[str, Path(min_length=15, max_length=15, examples=["27AAPFU0939F1ZV"])]
Code = Annotated[str, Path(min_length=1, max_length=32, examples=["BOM1"])]
SkuPath = Annotated[str, Path(min_length=1, max_length=64, examples=["TEA-ASSAM-250"])]
InvoiceId = Annotated[str, Path(min_length=1, max_length=64)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
PDF: dict[int | str, dict[str, Any]] = {200: text_answer("application/pdf", "The PDF", binary=True)}


def _gstin_refusal(gstin: str, field: str = "gstin") -> None:
    problem = domain.gstin_problem(gstin)
    if problem:
        raise Refusal(field, problem)


class RegistrationIn(BaseModel):
    """A GST registration of the seller (one per state it ships from)."""

    legal_name: Text = Field(examples=["Chai Point Retail Private Limited"])
    trade_name: Annotated[str | None, Field(max_length=200)] = None
    address: Annotated[
        str, Field(min_length=1, max_length=500, examples=["Plot 12, Bhiwandi MIDC, Thane 421302"])
    ]
    turnover_band: Literal["up_to_5_crore", "above_5_crore"] = Field(
        description="Aggregate turnover last year: decides 4- or 6-digit HSN codes on invoices, and "
        "above ₹5 crore B2B invoices are e-invoiced (registered with the IRP)."
    )
    city: Annotated[str | None, Field(min_length=3, max_length=50, examples=["Bhiwandi"])] = Field(
        default=None, description="The town of the address, as an e-invoice's seller location."
    )
    pincode: Annotated[str | None, Field(pattern=r"^[1-9][0-9]{5}$", examples=["421302"])] = Field(
        default=None, description="The address's pincode, as an e-invoice states it."
    )


class Registration(BaseModel):
    """A registration as invoicing holds it; its state is the GSTIN's first two digits."""

    gstin: str
    legal_name: str
    trade_name: str | None
    address: str
    state_code: str
    turnover_band: str
    city: str | None
    pincode: str | None
    updated_by: str
    created_at: datetime
    updated_at: datetime


@router.put(
    "/registrations/{gstin}",
    summary="Create or replace a GST registration (the GSTIN's check digit is verified)",
    response_model=Registration,
)
async def put_registration(
    request: Request, gstin: GstinPath, body: RegistrationIn, principal: Principal = require(Role.OPS)
) -> records.Registration:
    _gstin_refusal(gstin)
    async with request.app.state.service.pool.acquire() as conn:
        await store.upsert_registration(conn, gstin=gstin, **body.model_dump(), actor=principal.actor)
        written = await store.registration(conn, gstin)
    assert written is not None
    return written


@router.get(
    "/registrations/{gstin}",
    summary="One registration",
    dependencies=[require(*STAFF)],
    response_model=Registration,
    responses=errors(404),
)
async def get_registration(request: Request, gstin: GstinPath) -> records.Registration:
    found = await store.registration(request.app.state.service.pool, gstin)
    if found is None:
        raise Refusal("gstin", f"no registration {gstin}", status=404)
    return found


@router.get(
    "/registrations",
    summary="Registrations by GSTIN, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Registration],
)
async def list_registrations(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    rows = await store.registrations(request.app.state.service.pool, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.gstin)}


class WarehouseIn(BaseModel):
    """The registration a warehouse ships under (a registration of the warehouse's state)."""

    gstin: Annotated[str, Field(min_length=15, max_length=15, examples=["27AAPFU0939F1ZV"])]


class WarehouseRegistration(BaseModel):
    warehouse_code: str
    gstin: str
    updated_by: str
    updated_at: datetime


@router.put(
    "/warehouses/{code}",
    summary="Name the GSTIN a warehouse ships under",
    response_model=WarehouseRegistration,
    responses=errors(409),
)
async def put_warehouse(
    request: Request, code: Code, body: WarehouseIn, principal: Principal = require(Role.OPS)
) -> records.WarehouseRegistration:
    _gstin_refusal(body.gstin, "gstin")
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        if await store.registration(conn, body.gstin) is None:
            raise Refusal(
                "gstin", f"no registration {body.gstin}: PUT /registrations/{body.gstin} first", status=409
            )
        return await store.set_warehouse_registration(
            conn, warehouse_code=code, gstin=body.gstin, actor=principal.actor
        )


@router.get(
    "/warehouses",
    summary="Warehouses and the GSTINs they ship under, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[WarehouseRegistration],
)
async def list_warehouses(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    rows = await store.warehouse_registrations(
        request.app.state.service.pool, after=after_key(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.warehouse_code)}


class TaxClassIn(BaseModel):
    """How a SKU is described and taxed on invoices."""

    description: Text = Field(examples=["Assam tea, 250 g"])
    hsn_code: Annotated[str, Field(pattern=r"^([0-9]{4}|[0-9]{6}|[0-9]{8})$", examples=["0902"])]
    gst_rate: Decimal = Field(
        examples=["5"], description="Percent: one of 0, 0.1, 0.25, 1.5, 3, 5, 12, 18, 28, 40."
    )
    unit: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="GST unit quantity code.")] = "NOS"

    @field_validator("gst_rate")
    @classmethod
    def _rate(cls, value: Decimal) -> Decimal:
        if value not in domain.GST_RATES:
            raise ValueError("not a GST rate: one of " + ", ".join(str(r) for r in sorted(domain.GST_RATES)))
        return value


class TaxClass(BaseModel):
    sku: str
    description: str
    hsn_code: str
    gst_rate: Decimal
    unit: str
    updated_by: str
    updated_at: datetime


@router.put("/tax-classes/{sku}", summary="Create or replace a SKU's tax class", response_model=TaxClass)
async def put_tax_class(
    request: Request, sku: SkuPath, body: TaxClassIn, principal: Principal = require(Role.OPS)
) -> records.TaxClass:
    async with request.app.state.service.pool.acquire() as conn:
        await store.upsert_tax_class(conn, sku=sku, **body.model_dump(), actor=principal.actor)
        written = await store.tax_class(conn, sku)
    assert written is not None
    return written


@router.get(
    "/tax-classes",
    summary="Tax classes by SKU, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[TaxClass],
)
async def list_tax_classes(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    rows = await store.tax_class_page(request.app.state.service.pool, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.sku)}


class InvoiceLine(BaseModel):
    sku: str
    description: str
    hsn_code: str
    quantity: int
    unit: str
    gst_rate: str
    gross_paise: int
    discount_paise: int
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int


class Invoice(BaseModel):
    """A tax invoice as issued (status cancelled once its shipment was cancelled)."""

    invoice_id: str
    number: str
    gstin: str
    financial_year: int
    order_id: str
    shipment_id: str
    channel: str
    channel_order_id: str
    issued_at: datetime
    supplier: dict[str, Any]
    recipient: dict[str, Any]
    place_of_supply: str
    supply: str
    lines: list[InvoiceLine]
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    status: str
    cancelled_at: datetime | None


@router.get(
    "/invoices",
    summary="Invoices newest first (one order's with order_id), a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Invoice],
)
async def list_invoices(
    request: Request,
    order_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    rows = await store.invoice_page(
        request.app.state.service.pool, order_id=order_id, before=position(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_cursor(rows, limit, lambda r: (r.issued_at, r.invoice_id))}


def _pdf(content: bytes, number: str) -> Response:
    """A document to print; its file is named by its number ("INV/26-27/000001" → INV-26-27-000001.pdf)."""
    name = number.replace("/", "-")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
    )


# Before /invoices/{invoice_id}, which would otherwise take "….pdf" as an invoice id.
@router.get(
    "/invoices/{invoice_id}.pdf",
    summary="An invoice as PDF, every Rule 46 field (printed at the pack station beside the label)",
    dependencies=[require(*STAFF)],
    response_class=Response,
    responses={**PDF, **errors(404)},
)
async def invoice_pdf(request: Request, invoice_id: InvoiceId) -> Response:
    pool = request.app.state.service.pool
    found = await store.invoice(pool, invoice_id)
    if found is None:
        raise Refusal("invoice_id", f"no invoice {invoice_id}", status=404)
    registration = await store.einvoice(pool, invoice_id)
    return _pdf(documents.pdf(documents.of_invoice(found, registration)), found.number)


class EInvoice(BaseModel):
    """An e-invoice in NIC's schema (INV-01, version 1.1), as sent to the IRP's Generate IRN."""

    Version: str = Field(examples=["1.1"])
    TranDtls: dict[str, Any] = Field(description="TaxSch GST, SupTyp B2B, RegRev N, IgstOnIntra N.")
    DocDtls: dict[str, str] = Field(description="Typ INV, No (the invoice number), Dt (dd/mm/yyyy).")
    SellerDtls: dict[str, Any]
    BuyerDtls: dict[str, Any]
    ItemList: list[dict[str, Any]]
    ValDtls: dict[str, Any]


@router.get(
    "/invoices/{invoice_id}/einvoice.json",
    summary="A B2B invoice's e-invoice: the JSON the IRP registers (NIC schema INV-01, version 1.1)",
    dependencies=[require(*STAFF)],
    response_model=EInvoice,
    responses=errors(404, 409),
)
async def invoice_einvoice(request: Request, invoice_id: InvoiceId) -> dict[str, Any]:
    found = await store.invoice(request.app.state.service.pool, invoice_id)
    if found is None:
        raise Refusal("invoice_id", f"no invoice {invoice_id}", status=404)
    if not einvoicing.is_einvoiced(found):
        raise Refusal(
            "invoice_id",
            f"invoice {found.number} is not e-invoiced: only a B2B invoice (the order names the buyer's "
            "GSTIN) of a seller above ₹5 crore turnover is",
            status=404,
        )
    document = einvoice_json(einvoicing.facts(found))
    if isinstance(document, list):
        raise Refusal.of([("einvoice", problem) for problem in document], status=409)
    return document


class EwayBillUpload(BaseModel):
    """An e-way bill's Part A as the e-way bill system's JSON upload (version 1.0.0621)."""

    version: str = Field(examples=["1.0.0621"])
    billLists: list[dict[str, Any]] = Field(
        description="One bill: the invoice's document, parties, values and items; Part B left empty."
    )


@router.get(
    "/invoices/{invoice_id}/ewaybill.json",
    summary="A parcel's e-way bill (Part A) when its invoice is above ₹50,000, as the e-way bill JSON upload",
    dependencies=[require(*STAFF)],
    response_model=EwayBillUpload,
    responses=errors(404),
)
async def invoice_ewaybill(request: Request, invoice_id: InvoiceId) -> dict[str, Any]:
    found = await store.invoice(request.app.state.service.pool, invoice_id)
    if found is None:
        raise Refusal("invoice_id", f"no invoice {invoice_id}", status=404)
    if found.status == "cancelled" or not ewaybill.needed(found.total_paise):
        raise Refusal(
            "invoice_id",
            f"invoice {found.number} needs no e-way bill: it is cancelled or worth ₹50,000 or less",
            status=404,
        )
    return ewaybill.bill(einvoicing.consignment(found))


@router.get(
    "/invoices/{invoice_id}",
    summary="One invoice",
    dependencies=[require(*STAFF)],
    response_model=Invoice,
    responses=errors(404),
)
async def get_invoice(request: Request, invoice_id: InvoiceId) -> records.Invoice:
    found = await store.invoice(request.app.state.service.pool, invoice_id)
    if found is None:
        raise Refusal("invoice_id", f"no invoice {invoice_id}", status=404)
    return found


class EInvoiceState(BaseModel):
    """A B2B invoice's registration with the IRP: due (to send; `problem` says what held the last
    try), registered (with its IRN and acknowledgement), rejected (the IRP's errors in `problem`),
    void (the invoice was cancelled before it was registered: never sent), cancel_due (its shipment
    was cancelled: the IRN is being cancelled at the IRP) or cancelled."""

    invoice_id: str
    number: str
    gstin: str
    state: Literal["due", "registered", "rejected", "void", "cancel_due", "cancelled"]
    calls: int
    problem: str | None
    irn: str | None
    ack_no: str | None
    ack_at: datetime | None
    requested_at: datetime
    registered_at: datetime | None
    cancelled_at: datetime | None


@router.get(
    "/einvoices",
    summary="B2B e-invoices and where their IRP registration stands (state=due or rejected: why)",
    dependencies=[require(*STAFF)],
    response_model=Page[EInvoiceState],
)
async def list_einvoices(
    request: Request,
    state: Literal["due", "registered", "rejected", "void", "cancel_due", "cancelled"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await store.einvoice_page(
        request.app.state.service.pool, state=state, after=after_key(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.invoice_id)}


@router.post(
    "/invoices/{invoice_id}/einvoice/retry",
    summary="Send a rejected e-invoice to the IRP again, once what it refused is put right",
    response_model=EInvoiceState,
    responses=errors(404, 409),
)
async def retry_einvoice(
    request: Request, invoice_id: InvoiceId, principal: Principal = require(Role.OPS)
) -> records.EInvoiceState:
    pool = request.app.state.service.pool
    async with pool.acquire() as conn, conn.transaction():
        found = await store.einvoice(conn, invoice_id)
        if found is None:
            raise Refusal("invoice_id", f"invoice {invoice_id} is not e-invoiced", status=404)
        if not await store.retry_einvoice(conn, invoice_id):
            raise Refusal("invoice_id", f"its e-invoice is {found.state}, not rejected", status=409)
        retried = await store.einvoice_state(conn, invoice_id)
    assert retried is not None
    return retried


class ShipmentInvoiceState(BaseModel):
    """A parcel and where its invoice stands: none (not packed), due (with the problem holding it),
    issued, marketplace (the marketplace invoices it) or void (cancelled before packing)."""

    shipment_id: str
    order_id: str
    warehouse_code: str
    packed_at: datetime | None
    invoice_state: str
    problem: str | None


@router.get(
    "/shipments",
    summary="Parcels and where their invoices stand (invoice_state=due: what is held and why)",
    dependencies=[require(*STAFF)],
    response_model=Page[ShipmentInvoiceState],
)
async def list_shipments(
    request: Request,
    invoice_state: Literal["none", "due", "issued", "marketplace", "void", "rehearsal"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await store.shipment_page(
        request.app.state.service.pool, state=invoice_state, after=after_key(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.shipment_id)}


class CreditNote(BaseModel):
    """A credit note as issued, citing the invoice it reduces (its number and date)."""

    credit_note_id: str
    number: str
    gstin: str
    financial_year: int
    reason: Literal["return", "rto"]
    invoice_id: str
    invoice_number: str
    invoice_date: datetime
    order_id: str
    shipment_id: str | None
    return_id: str | None
    issued_at: datetime
    place_of_supply: str
    supply: str
    lines: list[InvoiceLine]
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int


@router.get(
    "/credit-notes",
    summary="Credit notes newest first (one order's with order_id), a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[CreditNote],
)
async def list_credit_notes(
    request: Request,
    order_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    rows = await store.credit_note_page(
        request.app.state.service.pool, order_id=order_id, before=position(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_cursor(rows, limit, lambda r: (r.issued_at, r.credit_note_id))}


@router.get(
    "/credit-notes/{credit_note_id}.pdf",
    summary="A credit note as PDF, every Rule 53 field, citing its invoice's number and date",
    dependencies=[require(*STAFF)],
    response_class=Response,
    responses={**PDF, **errors(404)},
)
async def credit_note_pdf(request: Request, credit_note_id: InvoiceId) -> Response:
    pool = request.app.state.service.pool
    note = await store.credit_note(pool, credit_note_id)
    if note is None:
        raise Refusal("credit_note_id", f"no credit note {credit_note_id}", status=404)
    invoice = await store.invoice(pool, note.invoice_id)
    if invoice is None:  # a foreign key guarantees it; say so rather than fail obscurely
        raise Refusal("credit_note_id", f"credit note {credit_note_id} cites no stored invoice", status=404)
    return _pdf(documents.pdf(documents.of_credit_note(note, invoice)), note.number)


@router.get(
    "/credit-notes/{credit_note_id}",
    summary="One credit note",
    dependencies=[require(*STAFF)],
    response_model=CreditNote,
    responses=errors(404),
)
async def get_credit_note(request: Request, credit_note_id: InvoiceId) -> records.CreditNote:
    found = await store.credit_note(request.app.state.service.pool, credit_note_id)
    if found is None:
        raise Refusal("credit_note_id", f"no credit note {credit_note_id}", status=404)
    return found


class CreditRequestState(BaseModel):
    """A refunded return or an RTO parcel and where its credit stands: due (with the problem
    holding it), credited, or nothing (no invoice of ours, or nothing left to credit)."""

    source: str
    reason: Literal["return", "rto"]
    order_id: str
    shipment_id: str | None
    return_id: str | None
    requested_at: datetime
    state: str
    problem: str | None


@router.get(
    "/credit-requests",
    summary="Returns and RTOs to credit and where they stand (state=due: what is held and why)",
    dependencies=[require(*STAFF)],
    response_model=Page[CreditRequestState],
)
async def list_credit_requests(
    request: Request,
    state: Literal["due", "credited", "nothing"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await store.credit_request_page(
        request.app.state.service.pool, state=state, after=after_key(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.source)}


Month = Annotated[str, Path(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", examples=["2026-11"])]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """A calendar month in India: from 00:00 IST on its first day to 00:00 IST on the next month's."""
    year, number = int(month[:4]), int(month[5:])
    start = datetime(year, number, 1, tzinfo=IST)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=IST)
    return start, end


@router.get(
    "/gstr1/{gstin}/{month}/{section}.csv",
    summary="A month's GSTR-1 section (b2b, b2cl, b2cs, cdnur, hsn, docs) as the GST Offline Tool's CSV",
    dependencies=[require(*STAFF)],
    response_class=Response,
    responses={200: text_answer("text/csv", "The section's header row, then its rows"), **errors(404)},
)
async def gstr1_section(
    request: Request,
    gstin: GstinPath,
    month: Month,
    section: Literal["b2b", "b2cl", "b2cs", "cdnur", "hsn", "docs"],
) -> Response:
    pool = request.app.state.service.pool
    if await store.registration(pool, gstin) is None:
        raise Refusal("gstin", f"no registration {gstin}", status=404)
    start, end = month_bounds(month)
    invoices = [
        gstr1.MonthInvoice(
            number=x.number,
            serial=x.serial,
            issued_at=x.issued_at,
            cancelled=x.status == "cancelled",
            place_of_supply=x.place_of_supply,
            supply=Supply(x.supply),
            lines=tuple(crediting.taxed_line(line) for line in x.lines),
            buyer_gstin=x.recipient.get("gstin"),
            buyer_name=x.recipient.get("name", ""),
        )
        for x in await store.month_invoices(pool, gstin=gstin, start=start, end=end)
    ]
    notes = [
        gstr1.MonthCreditNote(
            number=x.number,
            serial=x.serial,
            issued_at=x.issued_at,
            place_of_supply=x.place_of_supply,
            supply=Supply(x.supply),
            lines=tuple(crediting.taxed_line(line) for line in x.lines),
            invoice_total_paise=invoice_total,
            buyer_gstin=buyer_gstin,
        )
        for x, invoice_total, buyer_gstin in await store.month_credit_notes(
            pool, gstin=gstin, start=start, end=end
        )
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(gstr1.section(section, invoices, notes))
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="gstr1-{gstin}-{month}-{section}.csv"'},
    )
