"""Shipping documents as PDF bytes (reportlab): the 4×6 inch label and the courier's pickup manifest.

Pure: they take plain data and return bytes. Standard PDF fonts have no rupee sign, so money reads
"Rs." as on most courier labels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4, inch, landscape
from reportlab.pdfgen import canvas

from chassis.clock import IST

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
    return f"Rs. {paise // 100:,}.{paise % 100:02d}"


def label_pdf(label: Label) -> bytes:
    """One 4×6 inch page: courier and routing code, AWB barcode, COD or PREPAID, to, from, items."""
    out = io.BytesIO()
    width, height = LABEL_SIZE
    pdf = canvas.Canvas(out, pagesize=LABEL_SIZE)
    pdf.setTitle(f"Label {label.awb}")
    margin = 10
    y = height - margin

    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(margin, y - 16, label.courier.upper())
    if label.routing_code:
        pdf.setLineWidth(1.5)
        pdf.rect(width - margin - 96, y - 22, 96, 24)
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawCentredString(width - margin - 48, y - 15, label.routing_code)
    y -= 30

    barcode = code128.Code128(label.awb, barHeight=54, barWidth=1.3, humanReadable=False)
    pdf.line(margin, y, width - margin, y)
    barcode.drawOn(pdf, (width - barcode.width) / 2, y - 62)
    pdf.setFont("Helvetica-Bold", 13)
    pdf.drawCentredString(width / 2, y - 76, f"AWB {label.awb}")
    y -= 86

    pdf.setFillGray(0)
    pdf.rect(margin, y - 26, width - 2 * margin, 26, fill=1)
    pdf.setFillGray(1)
    pdf.setFont("Helvetica-Bold", 15)
    if label.reverse:
        payment = "REVERSE PICKUP - NO COLLECTION"
    elif label.cod_amount_paise:
        payment = f"COD: COLLECT {rupees(label.cod_amount_paise)}"
    else:
        payment = "PREPAID - DO NOT COLLECT CASH"
    pdf.drawCentredString(width / 2, y - 19, payment)
    pdf.setFillGray(0)
    y -= 34

    def party(title: str, who: Party, top: float, size: int) -> float:
        pdf.setFont("Helvetica-Bold", 8)
        pdf.drawString(margin, top - 8, title)
        pdf.setFont("Helvetica-Bold", size + 1)
        pdf.drawString(margin, top - 10 - size, who.name[:40])
        pdf.setFont("Helvetica", size)
        line_y = top - 12 - 2 * size
        for text in who.lines:
            pdf.drawString(margin, line_y, text[:52])
            line_y -= size + 2
        pdf.setFont("Helvetica-Bold", size + 2)
        pdf.drawString(margin, line_y - 2, f"PIN {who.pincode}")
        pdf.setFont("Helvetica", size)
        pdf.drawString(margin + 110, line_y - 2, f"Ph {who.phone}")
        return line_y - size - 8

    y = party("SHIP TO", label.ship_to, y, 10)
    pdf.line(margin, y + 2, width - margin, y + 2)
    y = party("FROM (RETURN TO)" if not label.reverse else "DELIVER TO WAREHOUSE", label.ship_from, y, 8)
    pdf.line(margin, y + 2, width - margin, y + 2)

    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(margin, y - 8, f"Order {label.order_id}")
    pdf.drawRightString(width - margin, y - 8, f"Weight {label.weight_grams / 1000:.2f} kg")
    pdf.setFont("Helvetica", 7)
    pdf.drawString(margin, y - 17, f"Shipment {label.shipment_id}   Value {rupees(label.value_paise)}")
    y -= 28
    pdf.setFont("Helvetica-Bold", 8)
    pdf.drawString(margin, y, "ITEMS")
    pdf.setFont("Helvetica", 8)
    shown = label.items[:6]
    for sku, qty in shown:
        y -= 10
        pdf.drawString(margin, y, f"{qty} x {sku}"[:60])
    if len(label.items) > len(shown):
        y -= 10
        pdf.drawString(margin, y, f"... and {len(label.items) - len(shown)} more line(s)")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


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


def manifest_pdf(manifest: Manifest) -> bytes:
    """A4 landscape pages: header, one row per parcel with its AWB barcode, totals and signatures."""
    out = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(out, pagesize=(width, height))
    pdf.setTitle(f"Manifest {manifest.manifest_id}")
    margin = 36
    columns = (
        ("#", 0),
        ("AWB", 24),
        ("Barcode", 130),
        ("Order", 330),
        ("Destination", 480),
        ("Payment", 590),
        ("Weight", 680),
        ("Units", 740),
    )
    cod_total = sum(r.cod_amount_paise for r in manifest.rows)
    rows_per_page = 14

    def header(page: int, pages: int) -> float:
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(margin, height - margin - 8, f"PICKUP MANIFEST - {manifest.courier.upper()}")
        pdf.setFont("Helvetica", 10)
        pdf.drawString(
            margin,
            height - margin - 26,
            f"Manifest {manifest.manifest_id}   Warehouse {manifest.warehouse}   "
            f"Pickup {manifest.pickup_date.isoformat()}   "
            f"Printed {manifest.created_at.astimezone(IST):%Y-%m-%d %H:%M} IST",
        )
        pdf.drawRightString(width - margin, height - margin - 8, f"Page {page} of {pages}")
        y = height - margin - 50
        pdf.setFont("Helvetica-Bold", 9)
        for title, x in columns:
            pdf.drawString(margin + x, y, title)
        pdf.line(margin, y - 4, width - margin, y - 4)
        return float(y - 8)

    chunks = [manifest.rows[i : i + rows_per_page] for i in range(0, len(manifest.rows), rows_per_page)] or [
        ()
    ]
    number = 0
    for page, chunk in enumerate(chunks, start=1):
        y = header(page, len(chunks))
        for row in chunk:
            number += 1
            y -= 30
            pdf.setFont("Helvetica", 9)
            pdf.drawString(margin, y + 8, str(number))
            pdf.drawString(margin + 24, y + 8, row.awb)
            code128.Code128(row.awb, barHeight=22, barWidth=0.9).drawOn(pdf, margin + 122, y)
            pdf.drawString(margin + 330, y + 8, row.order_id[:26])
            pdf.drawString(margin + 480, y + 8, row.destination[:20])
            pdf.drawString(
                margin + 590,
                y + 8,
                f"COD {rupees(row.cod_amount_paise)}" if row.cod_amount_paise else "PREPAID",
            )
            pdf.drawString(margin + 680, y + 8, f"{row.weight_grams / 1000:.2f} kg")
            pdf.drawString(margin + 740, y + 8, str(row.units))
        if page < len(chunks):
            pdf.showPage()
    y -= 30
    pdf.line(margin, y + 12, width - margin, y + 12)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(margin, y - 4, f"Parcels: {len(manifest.rows)}    COD to collect: {rupees(cod_total)}")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(margin, y - 40, "Handed over by (warehouse): ____________________")
    pdf.drawString(margin + 380, y - 40, "Received by (courier pickup): ____________________  Count: _____")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
