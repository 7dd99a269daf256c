"""Shipping documents as PDF bytes: the 4×6 inch label and the courier's pickup manifest.

Pure: they take plain data and return bytes. Every name, address and city is set by chassis.typeset
(ADR 390): shaped in its script's font, wrapped or shrunk inside its box, never past the label's edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib.pagesizes import A4, inch, landscape

from chassis.clock import IST
from chassis.sheet import Document, Sheet
from chassis.typeset import Align, Box

LABEL_SIZE = (4 * inch, 6 * inch)


@dataclass(frozen=True, slots=True)
class Party:
    """A name and an address as printed on a label."""

    name: str
    lines: tuple[str, ...]
    pincode: str
    phone: str


@dataclass(frozen=True, slots=True)
class Label:
    """What a 4×6 label shows."""

    courier: str
    awb: str
    routing_code: str | None
    order_id: str
    shipment_id: str
    ship_to: Party
    ship_from: Party
    cod_amount_paise: int
    value_paise: int
    weight_grams: int
    items: tuple[tuple[str, int], ...]
    reverse: bool = False


def rupees(paise: int) -> str:
    return f"₹{paise // 100:,}.{paise % 100:02d}"


def label_pdf(label: Label) -> bytes:
    """One 4×6 inch page: courier and routing code, AWB barcode, COD or PREPAID, to, from, items."""
    return label_document(label).pdf


def label_document(label: Label) -> Document:
    """The label and the box of everything on it (see label_pdf)."""
    return labels_document([label], title=f"Label {label.awb}")


def labels_pdf(labels: list[Label], *, title: str) -> bytes:
    """One 4×6 inch page per label, in the order given: a batch printed in one go (ADR 380)."""
    return labels_document(labels, title=title).pdf


def labels_document(labels: list[Label], *, title: str) -> Document:
    """The labels, a page each, and the box of everything on each page."""
    sheet = Sheet(LABEL_SIZE, title)
    for i, label in enumerate(labels):
        if i:
            sheet.page()
        _draw_label(sheet, label)
    return sheet.finish()


def _draw_label(sheet: Sheet, label: Label) -> None:
    width, height = LABEL_SIZE
    margin = 10
    inner = width - 2 * margin

    def one(text: str, box: Box, size: float, bold: bool = False, align: Align = "left") -> None:
        """One line, shrunk (to 5 points at most) rather than wrapped."""
        sheet.text(text, box, size=size, min_size=min(size, 5), bold=bold, align=align, max_lines=1)

    top = height - margin
    if label.routing_code:
        sheet.frame(Box(width - margin - 96, top - 24, 96, 24), width=1.5)
        one(label.routing_code, Box(width - margin - 92, top - 21, 88, 18), 13, bold=True, align="centre")
    one(label.courier.upper(), Box(margin, top - 24, inner - 104, 24), 16, bold=True)
    sheet.rule(margin, width - margin, top - 30)

    sheet.barcode(label.awb, Box(margin, top - 92, inner, 54), bar_width=1.3)
    one(f"AWB {label.awb}", Box(margin, top - 112, inner, 18), 12, bold=True, align="centre")

    if label.reverse:
        payment = "REVERSE PICKUP - NO COLLECTION"
    elif label.cod_amount_paise:
        payment = f"COD: COLLECT {rupees(label.cod_amount_paise)}"
    else:
        payment = "PREPAID - DO NOT COLLECT CASH"
    banner = Box(margin, top - 142, inner, 26)
    sheet.pdf.setFillGray(0)
    sheet.frame(banner, fill=True)
    sheet.pdf.setFillGray(1)
    one(payment, Box(margin + 4, banner.y + 2, inner - 8, 22), 14, bold=True, align="centre")
    sheet.pdf.setFillGray(0)

    def party(title: str, who: Party, y: float, size: float, address_height: float) -> float:
        """A party's block from y down: title, name, address (wrapped, shrunk), PIN and phone; returns
        where it ends."""
        one(title, Box(margin, y - 10, inner, 10), 6.5, bold=True)
        y -= 10 + size * 1.6
        one(who.name, Box(margin, y, inner, size * 1.6), size + 1, bold=True)
        y -= address_height
        sheet.text("\n".join(who.lines), Box(margin, y, inner, address_height), size=size, min_size=5)
        y -= size * 1.6
        if who.pincode:
            one(f"PIN {who.pincode}", Box(margin, y, 110, size * 1.6), size + 1, bold=True)
        if who.phone:
            one(f"Ph {who.phone}", Box(margin + 112, y, inner - 112, size * 1.6), size)
        return y - 3

    y = party("SHIP TO", label.ship_to, top - 147, 10, 56)
    sheet.rule(margin, width - margin, y)
    title = "DELIVER TO WAREHOUSE" if label.reverse else "FROM (RETURN TO)"
    y = party(title, label.ship_from, y - 2, 7.5, 26)
    sheet.rule(margin, width - margin, y)

    y -= 13
    one(f"Order {label.order_id}", Box(margin, y, inner - 92, 11), 7.5, bold=True)
    one(
        f"Weight {label.weight_grams / 1000:.2f} kg",
        Box(width - margin - 88, y, 88, 11),
        7.5,
        bold=True,
        align="right",
    )
    y -= 10
    one(f"Shipment {label.shipment_id}   Value {rupees(label.value_paise)}", Box(margin, y, inner, 10), 6.5)
    y -= 12
    one("ITEMS", Box(margin, y, inner, 10), 6.5, bold=True)
    rows = int((y - margin) // 10)
    shown = label.items if len(label.items) <= rows else label.items[: rows - 1]
    for sku, qty in shown:
        y -= 10
        one(f"{qty} x {sku}", Box(margin, y, inner, 10), 6.5)
    if len(label.items) > len(shown):
        one(f"... and {len(label.items) - len(shown)} more line(s)", Box(margin, y - 10, inner, 10), 6.5)


@dataclass(frozen=True, slots=True)
class ManifestRow:
    awb: str
    order_id: str
    destination: str
    cod_amount_paise: int
    weight_grams: int
    units: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """The courier's handover sheet: every parcel one warehouse gives one courier at one pickup."""

    manifest_id: str
    courier: str
    warehouse: str
    pickup_date: date
    created_at: datetime
    rows: tuple[ManifestRow, ...]


# Each column's title, left edge from the margin, and width.
_COLUMNS = (
    ("#", 0, 22),
    ("AWB", 24, 96),
    ("Barcode", 122, 204),
    ("Order", 330, 146),
    ("Destination", 480, 106),
    ("Payment", 590, 86),
    ("Weight", 680, 56),
    ("Units", 740, 30),
)
ROWS_PER_PAGE = 13  # and the totals and signatures below the last, inside the margin


def manifest_pdf(manifest: Manifest) -> bytes:
    """A4 landscape pages: header, one row per parcel with its AWB barcode, totals and signatures."""
    return manifest_document(manifest).pdf


def manifest_document(manifest: Manifest) -> Document:
    """The manifest and the box of everything on it (see manifest_pdf)."""
    width, height = (float(side) for side in landscape(A4))
    sheet = Sheet((width, height), f"Manifest {manifest.manifest_id}")
    margin = 36
    inner = width - 2 * margin
    cod_total = sum(r.cod_amount_paise for r in manifest.rows)

    def header(page: int, pages: int) -> float:
        top = height - margin
        sheet.text(
            f"PICKUP MANIFEST - {manifest.courier.upper()}",
            Box(margin, top - 20, inner - 110, 20),
            size=16,
            min_size=9,
            bold=True,
            max_lines=1,
        )
        sheet.text(
            f"Page {page} of {pages}",
            Box(width - margin - 100, top - 20, 100, 20),
            size=10,
            align="right",
            max_lines=1,
        )
        sheet.text(
            f"Manifest {manifest.manifest_id}   Warehouse {manifest.warehouse}   "
            f"Pickup {manifest.pickup_date.isoformat()}   "
            f"Printed {manifest.created_at.astimezone(IST):%Y-%m-%d %H:%M} IST",
            Box(margin, top - 38, inner, 16),
            size=10,
            min_size=6,
            max_lines=1,
        )
        y = top - 56
        for title, x, column in _COLUMNS:
            sheet.text(title, Box(margin + x, y, column, 13), size=9, bold=True, max_lines=1)
        sheet.rule(margin, width - margin, y - 2)
        return y - 4

    chunks = [manifest.rows[i : i + ROWS_PER_PAGE] for i in range(0, len(manifest.rows), ROWS_PER_PAGE)]
    chunks = chunks or [()]
    number = 0
    y = 0.0
    for page, chunk in enumerate(chunks, start=1):
        if page > 1:
            sheet.page()
        y = header(page, len(chunks))
        for row in chunk:
            number += 1
            y -= 30
            payment = f"COD {rupees(row.cod_amount_paise)}" if row.cod_amount_paise else "PREPAID"
            cells = (
                str(number),
                row.awb,
                None,
                row.order_id,
                row.destination,
                payment,
                f"{row.weight_grams / 1000:.2f} kg",
                str(row.units),
            )
            for text, (_, x, column) in zip(cells, _COLUMNS, strict=True):
                if text is None:
                    sheet.barcode(row.awb, Box(margin + x, y + 3, column, 22), bar_width=0.9)
                else:
                    sheet.text(text, Box(margin + x, y + 1, column, 27), size=9, min_size=5.5)
    sheet.rule(margin, width - margin, y - 3)
    sheet.text(
        f"Parcels: {len(manifest.rows)}    COD to collect: {rupees(cod_total)}",
        Box(margin, y - 22, inner, 16),
        size=11,
        min_size=7,
        bold=True,
        max_lines=1,
    )
    sheet.text(
        "Handed over by (warehouse): ____________________",
        Box(margin, y - 50, 370, 16),
        size=10,
        min_size=6,
        max_lines=1,
    )
    sheet.text(
        "Received by (courier pickup): ____________________  Count: _____",
        Box(margin + 380, y - 50, inner - 380, 16),
        size=10,
        min_size=6,
        max_lines=1,
    )
    return sheet.finish()
