"""Tax invoices and credit notes as PDF: every field CGST Rule 46 (invoice) and Rule 53 (credit note)
asks for, in the customer's own script (chassis.typeset, ADR 390; the layout is ADR 391).

Pure: `TaxDocument` is plain data built from a stored invoice or credit note, and `render` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from reportlab.lib.pagesizes import A4

from chassis.clock import IST
from chassis.sheet import Document, Sheet
from chassis.typeset import Align, Box, fit
from services.invoicing import crediting
from services.invoicing.domain import STATE_CODES, Supply, TaxedLine, rupees_in_words
from services.invoicing.domain.gstr1 import rate_text
from services.invoicing.records import CreditNote, EInvoice, Invoice

Kind = Literal["invoice", "credit_note"]
REASONS = {"return": "Goods returned by the customer", "rto": "Parcel returned undelivered (RTO)"}


@dataclass(frozen=True, slots=True)
class Supplier:
    legal_name: str
    trade_name: str | None
    address: str
    gstin: str
    state_code: str


@dataclass(frozen=True, slots=True)
class Recipient:
    name: str
    address: tuple[str, ...]
    city: str
    state: str
    pincode: str
    gstin: str | None


@dataclass(frozen=True, slots=True)
class TaxDocument:
    """What one invoice or credit note prints."""

    kind: Kind
    number: str
    issued_at: datetime
    supplier: Supplier
    recipient: Recipient
    place_of_supply: str  # state code
    supply: Supply
    lines: tuple[TaxedLine, ...]
    taxable_paise: int
    cgst_paise: int
    sgst_paise: int
    igst_paise: int
    total_paise: int
    order_id: str
    channel_order_id: str
    reverse_charge: bool = False
    cancelled: bool = False
    # A credit note's invoice (number, date) and why it credits it.
    invoice_number: str | None = None
    invoice_date: datetime | None = None
    reason: str | None = None
    # A registered e-invoice's IRN, acknowledgement and the IRP's signed QR code (ADR 0401).
    irn: str | None = None
    ack_no: str | None = None
    ack_at: datetime | None = None
    signed_qr_code: str | None = None


def _supplier(stored: dict[str, Any]) -> Supplier:
    return Supplier(
        legal_name=stored["legal_name"],
        trade_name=stored.get("trade_name"),
        address=stored["address"],
        gstin=stored["gstin"],
        state_code=stored["state_code"],
    )


def _recipient(stored: dict[str, Any]) -> Recipient:
    return Recipient(
        name=stored["name"],
        address=tuple(stored.get("address") or ()),
        city=stored["city"],
        state=stored["state"],
        pincode=stored["pincode"],
        gstin=stored.get("gstin"),
    )


def of_invoice(invoice: Invoice, einvoice: EInvoice | None = None) -> TaxDocument:
    """The tax invoice as issued (marked cancelled when its shipment was cancelled after), with its
    IRN and signed QR code once the IRP registered it."""
    registered = einvoice if einvoice is not None and einvoice.state == "registered" else None
    return TaxDocument(
        kind="invoice",
        number=invoice.number,
        issued_at=invoice.issued_at,
        supplier=_supplier(invoice.supplier),
        recipient=_recipient(invoice.recipient),
        place_of_supply=invoice.place_of_supply,
        supply=Supply(invoice.supply),
        lines=tuple(crediting.taxed_line(x) for x in invoice.lines),
        taxable_paise=invoice.taxable_paise,
        cgst_paise=invoice.cgst_paise,
        sgst_paise=invoice.sgst_paise,
        igst_paise=invoice.igst_paise,
        total_paise=invoice.total_paise,
        order_id=invoice.order_id,
        channel_order_id=invoice.channel_order_id,
        cancelled=invoice.status == "cancelled",
        irn=registered.irn if registered else None,
        ack_no=registered.ack_no if registered else None,
        ack_at=registered.ack_at if registered else None,
        signed_qr_code=registered.signed_qr_code if registered else None,
    )


def of_credit_note(note: CreditNote, invoice: Invoice) -> TaxDocument:
    """A credit note: its supplier and recipient are its invoice's, which it cites by number and date."""
    return TaxDocument(
        kind="credit_note",
        number=note.number,
        issued_at=note.issued_at,
        supplier=_supplier(invoice.supplier),
        recipient=_recipient(invoice.recipient),
        place_of_supply=note.place_of_supply,
        supply=Supply(note.supply),
        lines=tuple(crediting.taxed_line(x) for x in note.lines),
        taxable_paise=note.taxable_paise,
        cgst_paise=note.cgst_paise,
        sgst_paise=note.sgst_paise,
        igst_paise=note.igst_paise,
        total_paise=note.total_paise,
        order_id=note.order_id,
        channel_order_id=invoice.channel_order_id,
        invoice_number=note.invoice_number,
        invoice_date=note.invoice_date,
        reason=REASONS.get(note.reason, note.reason),
    )


def money(paise: int) -> str:
    """Rupees grouped the Indian way: 12345678 → "1,23,456.78"."""
    sign = "-" if paise < 0 else ""
    rupees, rest = divmod(abs(paise), 100)
    digits = str(rupees)
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join([*groups, tail]) + f".{rest:02d}"


def day(at: datetime) -> str:
    """A document's date as India reads it, in India's calendar: 07-12-2026."""
    return f"{at.astimezone(IST):%d-%m-%Y}"


def state(code: str) -> str:
    """A state with its GST code, as Rule 46 asks: "Rajasthan (08)"."""
    return f"{STATE_CODES.get(code, 'unknown state')} ({code})"


def pdf(document: TaxDocument) -> bytes:
    """The invoice's or credit note's PDF (A4, as many pages as its lines need)."""
    return render(document).pdf


# Each column: title, width, alignment; the tax columns depend on the supply.
_Column = tuple[str, float, Align]
_HEAD: tuple[_Column, ...] = (("#", 16, "left"), ("Description", 0, "left"), ("HSN/SAC", 44, "left"))
_QUANTITY: tuple[_Column, ...] = (("Qty", 28, "right"), ("Unit", 28, "left"), ("Taxable value", 60, "right"))
_INTRA: tuple[_Column, ...] = (
    ("CGST %", 30, "right"),
    ("CGST", 50, "right"),
    ("SGST %", 30, "right"),
    ("SGST", 50, "right"),
)
_INTER: tuple[_Column, ...] = (("IGST %", 32, "right"), ("IGST", 58, "right"))
_TOTAL: tuple[_Column, ...] = (("Total", 62, "right"),)
# Heights (points) of what a page stacks: the title, the parties (first page), the table's head, a
# line of goods at least (taller when its description needs it), and the totals with the signature.
HEAD, PARTIES, TABLE_HEAD, ROW, FOOTER = 28.0, 186.0, 24.0, 30.0, 130.0
EINVOICE = 104.0  # a registered e-invoice's IRN, acknowledgement and QR code, above the parties
DESCRIPTION_SIZES = (8.0, 6.5)  # a description's size, and the least it shrinks to in a row GROWN tall
GROWN = 80.0


def _columns(supply: Supply, inner: float) -> list[tuple[str, float, float, Align]]:
    """(title, left edge, width, alignment) of each column, the description taking what is left."""
    taxes = _INTRA if supply is Supply.INTRA_STATE else _INTER
    chosen = [*_HEAD, *_QUANTITY, *taxes, *_TOTAL]
    rest = inner - sum(width for _, width, _ in chosen)
    placed = []
    x = 0.0
    for title, width, align in chosen:
        width = width or rest
        placed.append((title, x, width, align))
        x += width
    return placed


def _cells(line: TaxedLine, number: int, supply: Supply) -> list[str]:
    rate = line.gst_rate
    description = line.description if line.sku == line.description else f"{line.description} ({line.sku})"
    if line.discount_paise:
        description += f"\nValue {money(line.gross_paise)} less discount {money(line.discount_paise)}"
    head = [str(number), description, line.hsn_code, str(line.quantity), line.unit, money(line.taxable_paise)]
    if supply is Supply.INTRA_STATE:
        half = rate_text(rate / 2)
        taxes = [half, money(line.cgst_paise), half, money(line.sgst_paise)]
    else:
        taxes = [rate_text(rate), money(line.igst_paise)]
    return [*head, *taxes, money(line.total_paise)]


def _row_height(description: str, width: float) -> float:
    """A line of goods' height: ROW, or taller by tens of points until its description fits uncut at
    8 points (so rows read alike); past GROWN it may also shrink to 6.5 points."""
    size, smallest = DESCRIPTION_SIZES
    height = ROW
    while height < 200:
        least = size if height <= GROWN else smallest
        if not fit(description, Box(0, 0, width, height - 4), size=size, min_size=least).cut:
            break
        height += 10
    return height


def _pages(heights: list[float], first: float, other: float) -> list[list[int]]:
    """Which lines go on which page: as many as fit; the last page keeps room for the totals and the
    signature, or they go on a page of their own."""
    pages: list[list[int]] = [[]]
    room = first
    for i, height in enumerate(heights):
        if height > room and pages[-1]:
            pages.append([])
            room = other
        pages[-1].append(i)
        room -= height
    if room < FOOTER:
        pages.append([])
    return pages


def render(document: TaxDocument) -> Document:
    """The document and the box of everything on it (see pdf)."""
    width, height = (float(side) for side in A4)
    title = "TAX INVOICE" if document.kind == "invoice" else "CREDIT NOTE"
    sheet = Sheet((width, height), f"{title.title()} {document.number}")
    margin = 36.0
    inner = width - 2 * margin
    half = inner / 2 - 6
    right = margin + inner / 2 + 6
    columns = _columns(document.supply, inner)
    rows = [_cells(line, i, document.supply) for i, line in enumerate(document.lines, start=1)]
    described = columns[1][2] - 2
    heights = [_row_height(cells[1], described) for cells in rows]
    table = height - 2 * margin - HEAD - TABLE_HEAD
    band = EINVOICE if document.irn and document.signed_qr_code else 0.0
    pages = _pages(heights, first=table - PARTIES - band, other=table)

    def one(text: str, box: Box, size: float, bold: bool = False, align: Align = "left") -> None:
        sheet.text(text, box, size=size, min_size=min(size, 5), bold=bold, align=align, max_lines=1)

    def block(text: str, box: Box, size: float, bold: bool = False) -> None:
        sheet.text(text, box, size=size, min_size=5, bold=bold)

    def page_head(page: int, pages: int) -> float:
        top = height - margin
        one(title, Box(margin + 120, top - 22, inner - 240, 22), 16, bold=True, align="centre")
        one(f"Page {page} of {pages}", Box(width - margin - 110, top - 12, 110, 12), 8, align="right")
        copy = "Original for recipient" if document.kind == "invoice" else "Original"
        one(copy, Box(width - margin - 110, top - 24, 110, 11), 7, align="right")
        if document.cancelled:
            one("CANCELLED", Box(margin, top - 22, 118, 22), 14, bold=True)
        return top - HEAD

    def registered(top: float) -> float:
        assert document.irn and document.signed_qr_code
        sheet.rule(margin, width - margin, top)
        one("e-Invoice", Box(margin, top - 14, half, 12), 9, bold=True)
        one(f"IRN {document.irn}", Box(margin, top - 30, inner - 110, 12), 8)
        one(f"Ack No. {document.ack_no}", Box(margin, top - 45, half, 12), 8)
        if document.ack_at:
            one(f"Ack Date {day(document.ack_at)}", Box(margin, top - 60, half, 12), 8)
        sheet.qr(document.signed_qr_code, Box(width - margin - 100, top - EINVOICE + 2, 100, 100))
        return top - EINVOICE

    def parties(top: float) -> float:
        supplier = document.supplier
        sheet.rule(margin, width - margin, top)
        one("Supplier", Box(margin, top - 12, half, 11), 7, bold=True)
        one(supplier.legal_name, Box(margin, top - 27, half, 15), 10, bold=True)
        if supplier.trade_name and supplier.trade_name != supplier.legal_name:
            one(f"Trading as {supplier.trade_name}", Box(margin, top - 38, half, 11), 7.5)
        block(supplier.address, Box(margin, top - 64, half, 25), 8)
        one(f"GSTIN {supplier.gstin}", Box(margin, top - 77, half, 12), 8.5, bold=True)
        one(f"State {state(supplier.state_code)}", Box(margin, top - 89, half, 12), 8)

        label = "Invoice no." if document.kind == "invoice" else "Credit note no."
        facts = [(label, document.number), ("Date", day(document.issued_at))]
        if document.invoice_number and document.invoice_date:
            facts.append(("Against invoice", f"{document.invoice_number} dated {day(document.invoice_date)}"))
        facts += [
            ("Place of supply", state(document.place_of_supply)),
            (
                "Supply",
                "Intra-state (CGST + SGST)"
                if document.supply is Supply.INTRA_STATE
                else "Inter-state (IGST)",
            ),
            ("Reverse charge", "Yes" if document.reverse_charge else "No"),
            ("Order", f"{document.order_id} ({document.channel_order_id})"),
        ]
        if document.reason:
            facts.append(("Reason", document.reason))
        y = top - 3
        for name, value in facts:
            one(name, Box(right, y - 11, 78, 11), 7.5, bold=True)
            one(value, Box(right + 80, y - 11, half - 80, 11), 7.5)
            y -= 11
        y = top - 92  # room for eight facts, a credit note's most

        who = document.recipient
        sheet.rule(margin, width - margin, y - 2)
        y -= 2
        one("Recipient (billed and shipped to)", Box(margin, y - 12, inner, 11), 7, bold=True)
        one(who.name, Box(margin, y - 29, inner, 17), 11, bold=True)
        address = "\n".join([*who.address, f"{who.city}, {who.state} {who.pincode}"])
        block(address, Box(margin, y - 74, inner, 45), 9)
        one(f"State {state(document.place_of_supply)}", Box(margin, y - 87, half, 13), 8.5)
        one(f"GSTIN {who.gstin or 'Unregistered'}", Box(right, y - 87, half, 13), 8.5)
        return top - PARTIES

    def table_head(top: float) -> float:
        sheet.rule(margin, width - margin, top)
        for name, x, column, align in columns:
            sheet.text(
                name,
                Box(margin + x + 1, top - 22, column - 2, 20),
                size=7,
                min_size=5,
                bold=True,
                align=align,
            )
        sheet.rule(margin, width - margin, top - 24)
        return top - TABLE_HEAD

    def totals(top: float) -> float:
        rows = [("Taxable value", document.taxable_paise)]
        if document.supply is Supply.INTRA_STATE:
            rows += [("CGST", document.cgst_paise), ("SGST", document.sgst_paise)]
        else:
            rows += [("IGST", document.igst_paise)]
        y = top - 4
        for name, amount in rows:
            one(name, Box(right, y - 12, 140, 12), 8.5)
            one(money(amount), Box(width - margin - 110, y - 12, 110, 12), 8.5, align="right")
            y -= 12
        sheet.rule(right, width - margin, y - 1)
        total = "Total invoice value (₹)" if document.kind == "invoice" else "Total credited (₹)"
        one(total, Box(right, y - 16, 150, 14), 10, bold=True)
        one(
            money(document.total_paise),
            Box(width - margin - 110, y - 16, 110, 14),
            10,
            bold=True,
            align="right",
        )
        one("Amount in words", Box(margin, top - 16, half, 11), 7, bold=True)
        block(rupees_in_words(document.total_paise), Box(margin, top - 44, half, 28), 8.5)
        return min(y - 20, top - 48)

    def signature(top: float) -> None:
        note = (
            "Tax is not payable on reverse charge. Certified that the particulars given above are true "
            "and correct."
            if document.kind == "invoice"
            else "Tax on the value above is reduced from our output tax; the recipient's input tax "
            "credit, if any, is to be reversed."
        )
        block(note, Box(margin, top - 34, half, 30), 7.5)
        one(f"For {document.supplier.legal_name}", Box(right, top - 14, half, 12), 8.5, bold=True)
        sheet.rule(right + 40, width - margin, top - 52, width=0.6)
        one("Authorised signatory", Box(right + 40, top - 64, half - 40, 11), 8, align="right")

    for page, indexes in enumerate(pages, start=1):
        if page > 1:
            sheet.page()
        y = page_head(page, len(pages))
        if page == 1 and band:
            y = registered(y)
        if page == 1:
            y = parties(y)
        y = table_head(y)
        for i in indexes:
            row = heights[i]
            for text, (_, x, column, align) in zip(rows[i], columns, strict=True):
                box = Box(margin + x + 1, y - row + 2, column - 2, row - 4)
                if align == "left":
                    size, smallest = DESCRIPTION_SIZES
                    sheet.text(text, box, size=size, min_size=smallest)
                else:
                    one(text, box, 8, align=align)
            y -= row
            sheet.rule(margin, width - margin, y, width=0.3)
    y = totals(y)
    signature(y)
    return sheet.finish()
