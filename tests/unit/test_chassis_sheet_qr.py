"""A QR code on a sheet (an e-invoice's signed QR, ADR 401) is module for module the one reportlab's own
QrCodeWidget draws, top row at the top and inside its box, however it is drawn faster."""

from __future__ import annotations

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing

from chassis.sheet import QUIET_ZONE, Sheet, qr_modules
from chassis.typeset import Box
from tests import pdf_checks

VALUE = "eyJhbGciOiJSUzI1NiJ9." + "x" * 600 + ".signature"  # the size of an IRP's signed QR JWT


def test_the_qr_code_drawn_is_reportlabs_own_module_for_module() -> None:
    box = Box(20, 20, 160, 160)
    ours = Sheet((200, 200), "ours")
    ours.qr(VALUE, box)
    drawn = ours.finish()
    assert drawn.pages == ((box,),)
    assert pdf_checks.ink_outside(drawn) == []

    theirs = Sheet((200, 200), "theirs")
    widget = QrCodeWidget(VALUE)
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(160, 160, transform=[160 / (x1 - x0), 0, 0, 160 / (y1 - y0), 0, 0])
    drawing.add(widget)
    renderPDF.draw(drawing, theirs.pdf, 20, 20)
    reference = theirs.finish()

    # Every module's centre, read from both pages, is dark exactly where the code says.
    modules = qr_modules(VALUE)
    count, scale = len(modules), 4
    cell = 160 / (count + 2 * QUIET_ZONE)

    def read(pdf: bytes) -> list[list[bool]]:
        image = pdf_checks.png(pdf, scale=scale)
        top = image.size[1] - (20 + 160) * scale
        return [
            [
                image.getpixel(
                    (
                        round((20 + (QUIET_ZONE + c + 0.5) * cell) * scale),
                        round(top + (QUIET_ZONE + r + 0.5) * cell * scale),
                    )
                )
                < pdf_checks.INK
                for c in range(count)
            ]
            for r in range(count)
        ]

    expected = [list(row) for row in modules]
    assert read(drawn.pdf) == expected
    assert read(reference.pdf) == expected, "reportlab's widget reads the same"
    assert expected != expected[::-1], "upside down it would differ (and not scan)"
