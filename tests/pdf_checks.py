"""Checks on rendered documents: the text a PDF gives back, ink outside the boxes it was drawn in, and
whether a line's glyphs are HarfBuzz's shaping of its text (compared with Pillow's own raqm shaping)."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
from PIL import Image, ImageChops, ImageDraw, ImageFont

from chassis.sheet import Document
from chassis.typeset import Block, Box

INK = 160  # a pixel darker than this is ink


def text(pdf: bytes, page: int = 0) -> str:
    """The page's text as pdfium extracts it (lines joined by \\r\\n)."""
    return str(pypdfium2.PdfDocument(pdf)[page].get_textpage().get_text_range())


def words(value: str) -> str:
    """Whitespace made single spaces, for comparing wrapped text with what was typed."""
    return " ".join(value.split())


def png(pdf: bytes, page: int = 0, scale: float = 3, keep: str | None = None) -> Image.Image:
    """The page rendered in grey; with keep, also saved under /tmp for a person to look at."""
    image = pypdfium2.PdfDocument(pdf)[page].render(scale=scale).to_pil().convert("L")
    if keep:
        image.save(Path("/tmp") / f"dabba-{keep}.png")
    return image


def _pixels(box: Box, height: float, scale: float, grow: int = 1) -> tuple[int, int, int, int]:
    return (
        int(box.x * scale) - grow,
        int((height - box.top) * scale) - grow,
        int(box.right * scale + 0.999) + grow,
        int((height - box.y) * scale + 0.999) + grow,
    )


def ink_outside(
    document: Document, scale: float = 3, keep: str | None = None
) -> list[tuple[int, tuple[int, ...]]]:
    """Pages with ink outside every box they recorded: (page, bounding box in pixels) each."""
    found = []
    for page, boxes in enumerate(document.pages):
        image = png(document.pdf, page, scale, keep=f"{keep}-{page + 1}" if keep else None)
        mask = image.point(lambda v: 255 if v < INK else 0)
        paint = ImageDraw.Draw(mask)
        for box in boxes:
            paint.rectangle(_pixels(box, document.size[1], scale), fill=0)
        stray = mask.getbbox()
        if stray is not None:
            found.append((page, tuple(stray)))
    return found


def boxes_off_page(document: Document, margin: float = 0) -> list[tuple[int, Box]]:
    """Boxes that reach into the page's margins or off the page: (page, box) each."""
    width, height = document.size
    inside = Box(margin, margin, width - 2 * margin, height - 2 * margin)
    return [
        (page, box) for page, boxes in enumerate(document.pages) for box in boxes if not inside.contains(box)
    ]


def crop_ink(image: Image.Image) -> Image.Image:
    mask = image.point(lambda v: 255 if v < INK else 0)
    bbox = mask.getbbox()
    assert bbox is not None, "no ink"
    return image.crop(bbox)


def line_image(document: Document, box: Box, scale: float = 4, page: int = 0) -> Image.Image:
    """The ink of one box of a page."""
    image = png(document.pdf, page, scale)
    return crop_ink(image.crop(_pixels(box, document.size[1], scale, grow=0)))


def pillow_line(value: str, font: Path, size_px: float, shaped: bool) -> Image.Image:
    """The line as Pillow draws it: shaped by raqm (HarfBuzz) or laid out glyph by glyph, unshaped."""
    layout = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
    face = ImageFont.truetype(str(font), round(size_px), layout_engine=layout)
    left, top, right, bottom = face.getbbox(value)
    image = Image.new("L", (right - left + 20, bottom - top + 20), 255)
    ImageDraw.Draw(image).text((10 - left, 10 - top), value, font=face, fill=0)
    return crop_ink(image)


def against_pillow(document: Document, block: Block, font: Path, page: int = 0) -> tuple[float, float]:
    """How far a one-line block's ink is from Pillow's shaped rendering of its text, and from an
    unshaped one (mean pixel differences, 0–255): shaped glyphs are near the first, far from the second."""
    drawn = line_image(document, block.box, scale=4, page=page)
    shaped = pillow_line(block.text, font, block.size * 4, shaped=True)
    unshaped = pillow_line(block.text, font, block.size * 4, shaped=False)
    return difference(drawn, shaped), difference(drawn, unshaped)


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference (0–255) of two ink crops scaled to the same size."""
    b = b.resize(a.size)
    histogram = ImageChops.difference(a, b).histogram()
    return sum(i * n for i, n in enumerate(histogram)) / (a.size[0] * a.size[1])
