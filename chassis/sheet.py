"""A PDF being drawn that remembers the box of everything on it, page by page.

Documents (labels, manifests, invoices, credit notes) draw text, rules, frames and barcodes through a
Sheet, so each has a place of its own: a test renders the pages and checks that no ink lies outside
those boxes, which is how "an address never runs off the label" is proved rather than hoped (ADR 390).
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.barcode import code128, qrencoder
from reportlab.pdfgen import canvas

from chassis.typeset import Block, Box, write

__all__ = ["Document", "Sheet"]


QUIET_ZONE = 4
"""Light modules around a QR code, as the standard asks (reportlab's widget leaves the same)."""


@functools.lru_cache(maxsize=256)
def qr_modules(value: str) -> tuple[tuple[bool, ...], ...]:
    """A QR code's modules, top row first (reportlab's encoder, error correction L, best mask); kept
    for reprints, since encoding a signed e-invoice QR (~900 characters) costs ~0.1 s."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.L)
    code.addData(value)
    code.make()
    return tuple(tuple(bool(dark) for dark in row) for row in code.modules)


@dataclass(frozen=True, slots=True)
class Document:
    """A rendered PDF and, for each page, the boxes everything on it was drawn in."""

    pdf: bytes
    size: tuple[float, float]
    pages: tuple[tuple[Box, ...], ...]
    blocks: tuple[tuple[Block, ...], ...]


class Sheet:
    """A reportlab canvas whose drawing calls each name the box they draw in."""

    def __init__(self, size: tuple[float, float], title: str) -> None:
        self._out = io.BytesIO()
        self.size = size
        self.pdf: Any = canvas.Canvas(self._out, pagesize=size)
        self.pdf.setTitle(title)
        self._pages: list[list[Box]] = [[]]
        self._blocks: list[list[Block]] = [[]]

    def text(self, text: str, box: Box, **how: Any) -> Block:
        """Text fitted in a box (chassis.typeset.fit: wrapped, shrunk, never outside the box)."""
        block = write(self.pdf, text, box, **how)
        self._pages[-1].append(box)
        self._blocks[-1].append(block)
        return block

    def rule(self, x1: float, x2: float, y: float, width: float = 0.75) -> None:
        """A horizontal line."""
        self.pdf.setLineWidth(width)
        self.pdf.line(x1, y, x2, y)
        self._pages[-1].append(Box(x1, y - width / 2, x2 - x1, width))

    def frame(self, box: Box, width: float = 1.0, fill: bool = False) -> None:
        """A rectangle's outline (its stroke straddles the box's edge, so the box grows by half of it),
        or the rectangle filled in the current fill colour."""
        self.pdf.setLineWidth(width)
        self.pdf.rect(box.x, box.y, box.width, box.height, stroke=0 if fill else 1, fill=1 if fill else 0)
        grow = 0 if fill else width / 2
        self._pages[-1].append(Box(box.x - grow, box.y - grow, box.width + 2 * grow, box.height + 2 * grow))

    def barcode(self, value: str, box: Box, bar_width: float) -> None:
        """A Code 128 barcode centred in a box, its bars narrowed when the value is too long for it."""
        probe = code128.Code128(value, barHeight=box.height, barWidth=1, humanReadable=False)
        bar_width = min(bar_width, box.width / probe.width)
        code = code128.Code128(value, barHeight=box.height, barWidth=bar_width, humanReadable=False)
        code.drawOn(self.pdf, box.x + (box.width - code.width) / 2, box.y)
        self._pages[-1].append(box)

    def qr(self, value: str, box: Box) -> None:
        """A QR code of the value (its quiet zone included), as large a square as the box holds, centred:
        each row's dark stretches as rectangles of one filled path (reportlab's QrCodeWidget encodes
        twice and builds a shape per module, six times slower)."""
        modules = qr_modules(value)
        count = len(modules)
        side = min(box.width, box.height)
        cell = side / (count + 2 * QUIET_ZONE)
        left = box.x + (box.width - side) / 2 + QUIET_ZONE * cell
        top = box.y + (box.height + side) / 2 - QUIET_ZONE * cell
        path = self.pdf.beginPath()
        for r, row in enumerate(modules):
            c = 0
            while c < count:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < count and row[c]:
                    c += 1
                path.rect(left + start * cell, top - (r + 1) * cell, (c - start) * cell, cell)
        self.pdf.drawPath(path, stroke=0, fill=1)
        self._pages[-1].append(box)

    def page(self) -> None:
        """Start a new page."""
        self.pdf.showPage()
        self._pages.append([])
        self._blocks.append([])

    def finish(self) -> Document:
        self.pdf.showPage()
        self.pdf.save()
        return Document(
            pdf=self._out.getvalue(),
            size=self.size,
            pages=tuple(tuple(p) for p in self._pages),
            blocks=tuple(tuple(b) for b in self._blocks),
        )
