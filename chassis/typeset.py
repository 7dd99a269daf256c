"""Text on PDF documents in every Indian script: a font per script, shaped by HarfBuzz, fitted in a box.

Labels, manifests, invoices and credit notes draw names and addresses with `fit` and `draw` (ADR 390):
the text is cut into runs by script, each run in its Noto Sans face (Debian's fonts-noto-core,
installed by `make install`) and shaped by HarfBuzz (conjuncts, matras, reph); lines wrap at spaces
(a word wider than the box breaks between clusters), the size shrinks until the text fits, and only
below the smallest size is the text cut with an ellipsis. Nothing is drawn outside its box: the fit is
checked against the shaped glyphs' ink, not the font's nominal height. Every line carries its source
text as ActualText, so extracting or copying it gives what the customer typed, not visual-order glyphs.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import uharfbuzz
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, shapeStr

from chassis.logging import get_logger

__all__ = ["Align", "Block", "Box", "Line", "draw", "fit", "runs", "script_of", "width", "write"]

log = get_logger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype/noto"), Path("/usr/share/fonts/truetype/dejavu"))
LATIN = "Latin"
# Unicode blocks of the scripts India writes addresses in; a character elsewhere is Latin or common.
_BLOCKS = (
    (0x0900, 0x097F, "Devanagari"),
    (0x1CD0, 0x1CFF, "Devanagari"),
    (0xA8E0, 0xA8FF, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0A00, 0x0A7F, "Gurmukhi"),
    (0x0A80, 0x0AFF, "Gujarati"),
    (0x0B00, 0x0B7F, "Oriya"),
    (0x0B80, 0x0BFF, "Tamil"),
    (0x0C00, 0x0C7F, "Telugu"),
    (0x0C80, 0x0CFF, "Kannada"),
    (0x0D00, 0x0D7F, "Malayalam"),
    (0x0600, 0x06FF, "Arabic"),  # Urdu is written in it (Nastaliq or Naskh), right to left
    (0x0750, 0x077F, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
)
RIGHT_TO_LEFT = frozenset({"Arabic"})
_NUMBERS = frozenset({"EN", "AN"})  # digits run left to right even inside right-to-left text
# The dandas sit in the Devanagari block but end sentences in Bengali, Gurmukhi and Oriya too.
_SHARED = {"\u0964", "\u0965"}
_ZW = {"\u200c", "\u200d"}  # zero-width non-joiner and joiner: part of the cluster around them
# The same features reportlab's shapeStr asks for, so what is measured is what is drawn.
_FEATURES = {"kern": True, "liga": True, "dlig": True}
ELLIPSIS = "…"
Align = Literal["left", "right", "centre"]


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on the page in points, from its bottom-left corner (PDF's coordinates)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def contains(self, other: Box, slack: float = 1e-6) -> bool:
        return (
            other.x >= self.x - slack
            and other.y >= self.y - slack
            and other.right <= self.right + slack
            and other.top <= self.top + slack
        )


@dataclass(frozen=True, slots=True)
class _Face:
    name: str  # as registered with reportlab
    script: str
    hb: Any  # uharfbuzz.Font at 1000 units per em
    ascent: float  # per 1000 units of size
    descent: float  # negative
    chars: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Run:
    face: _Face
    text: str
    advance: float  # per 1000 units of size
    ink: tuple[float, float, float, float] | None  # left, bottom, right, top from the run's origin


@dataclass(frozen=True, slots=True)
class _Shaped:
    runs: tuple[_Run, ...]  # in the order they are drawn, left to right
    right_to_left: bool  # the line starts with right-to-left text: it reads (and aligns) from the right
    advance: float
    ink: tuple[float, float, float, float] | None  # left, bottom, right, top from the line's origin


@dataclass(frozen=True, slots=True)
class Line:
    """One drawn line: its source text, where its baseline starts, and the ink it puts on the page."""

    text: str
    x: float
    baseline: float
    ink: Box | None  # None for a line of spaces


@dataclass(frozen=True, slots=True)
class Block:
    """Text fitted in a box: the size it shrank to, its lines, and whether it had to be cut."""

    text: str
    box: Box
    size: float
    bold: bool
    lines: tuple[Line, ...]
    cut: bool

    @property
    def ink(self) -> Box | None:
        boxes = [line.ink for line in self.lines if line.ink is not None]
        if not boxes:
            return None
        left, bottom = min(b.x for b in boxes), min(b.y for b in boxes)
        right, top = max(b.right for b in boxes), max(b.top for b in boxes)
        return Box(left, bottom, right - left, top - bottom)


def script_of(char: str) -> str | None:
    """The script a character belongs to, or None for one any script uses (spaces, digits, marks)."""
    code = ord(char)
    if char in _SHARED or unicodedata.bidirectional(char) in _NUMBERS:
        return None
    for first, last, script in _BLOCKS:
        if first <= code <= last:
            return script
    if char.isalpha():
        return LATIN
    return None


# Urdu reads best in Nastaliq, but Noto's stands two and a half ems tall; Naskh is the compact,
# widely read Arabic style that fits a document's lines.
_FAMILY = {"Arabic": "NotoNaskhArabic"}


def _font_file(script: str, bold: bool) -> Path | None:
    weight = "Bold" if bold else "Regular"
    stems = [f"{_FAMILY.get(script, 'NotoSans' + ('' if script == LATIN else script))}-{weight}"]
    if script == LATIN:
        stems.append("DejaVuSans-Bold" if bold else "DejaVuSans")
    for stem in stems:
        for folder in FONT_DIRS:
            if (folder / f"{stem}.ttf").is_file():
                return folder / f"{stem}.ttf"
    return None


@functools.cache
def _face(script: str, bold: bool) -> _Face:
    path = _font_file(script, bold)
    if path is None:
        if script == LATIN:
            raise RuntimeError(
                "no font for documents: install Debian's fonts-noto-core (make install does, as root)"
            )
        # Still a document, with this script's letters as empty boxes, rather than no label at all.
        log.warning("document font missing: run make install", script=script, bold=bold)
        return _face(LATIN, bold)
    name = f"Dabba-{script}{'-Bold' if bold else ''}"
    font = TTFont(name, str(path))
    pdfmetrics.registerFont(font)
    hb_font = uharfbuzz.Font(uharfbuzz.Face(uharfbuzz.Blob.from_file_path(str(path))))
    scale = 1000 / font.face.unitsPerEm
    hb_font.scale = (1000, 1000)
    return _Face(
        name=name,
        script=script,
        hb=hb_font,
        ascent=font.face.ascent * scale,
        descent=font.face.descent * scale,
        chars=frozenset(font.face.charToGlyph),
    )


def _runs(text: str, bold: bool) -> Iterator[tuple[_Face, str, bool]]:
    """The text cut where the script or the direction changes, each run with whether it reads right to
    left; a common character (space, digit, comma) stays with the script before it when that font
    has it, else goes with the script after it, else with Latin; digits are a left-to-right run of
    their own even inside right-to-left text."""
    scripts = [script_of(c) for c in text]
    resolved: list[tuple[str, bool]] = []
    for i, char in enumerate(text):
        script = scripts[i]
        number = unicodedata.bidirectional(char) in _NUMBERS
        if script is None:
            before = resolved[-1][0] if resolved else None
            after = next((s for s in scripts[i + 1 :] if s is not None), None)
            script = LATIN
            for candidate in (before, after):
                if candidate is not None and ord(char) in _face(candidate, bold).chars:
                    script = candidate
                    break
        resolved.append((script, script in RIGHT_TO_LEFT and not number))
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or resolved[i] != resolved[start]:
            yield _face(resolved[start][0], bold), text[start:i], resolved[start][1]
            start = i


def runs(text: str, bold: bool = False) -> list[tuple[str, str]]:
    """The text's runs as (script of the font that sets it, text)."""
    return [(face.script, part) for face, part, _ in _runs(text, bold)]


def _shape_run(face: _Face, text: str) -> _Run:
    buf = uharfbuzz.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    uharfbuzz.shape(face.hb, buf, _FEATURES)
    pen = 0.0
    left = bottom = float("inf")
    right = top = float("-inf")
    for info, pos in zip(buf.glyph_infos, buf.glyph_positions, strict=True):
        extents = face.hb.get_glyph_extents(info.codepoint)
        if extents is not None and extents.width and extents.height:
            x0 = pen + pos.x_offset + extents.x_bearing
            y0 = pos.y_offset + extents.y_bearing  # the glyph's top; height is negative
            left, right = min(left, x0), max(right, x0 + extents.width)
            top, bottom = max(top, y0), min(bottom, y0 + extents.height)
        pen += pos.x_advance
    ink = None if left == float("inf") else (left, bottom, right, top)
    return _Run(face=face, text=text, advance=pen, ink=ink)


def _kind(text: str) -> str:
    """A run's bidirectional class: L (has left-to-right letters), R (right-to-left letters), N
    (digits and what goes with them), or W (spaces and punctuation only)."""
    classes = {unicodedata.bidirectional(c) for c in text}
    if classes & {"R", "AL"}:
        return "R"
    if "L" in classes:
        return "L"
    return "N" if classes & _NUMBERS else "W"


def _visual(runs: list[_Run], right_to_left: bool) -> list[_Run]:
    """Runs in the order they are drawn: Unicode's bidirectional algorithm (UAX #9) applied to whole
    runs. Digits after right-to-left letters are an Arabic number (W2), spaces and punctuation take
    the direction of the letters on both sides or else the line's (N1, N2); levels follow (I1, I2)
    and every stretch at or above each odd level is reversed (L2). HarfBuzz already gives each run's
    glyphs in visual order."""
    kinds = [_kind(run.text) for run in runs]
    base = "R" if right_to_left else "L"
    strong = base
    for i, kind in enumerate(kinds):
        if kind == "N":
            kinds[i] = "AN" if strong == "R" else "L"
        elif kind in ("L", "R"):
            strong = kind
    for i, kind in enumerate(kinds):
        if kind == "W":
            before = next(("R" if k == "AN" else k for k in reversed(kinds[:i]) if k != "W"), base)
            after = next(("R" if k == "AN" else k for k in kinds[i + 1 :] if k != "W"), base)
            kinds[i] = before if before == after else base
    levels = [
        (1 if kind == "R" else 2 if kind == "AN" or kind == "L" else 0)
        if right_to_left
        else (1 if kind == "R" else 2 if kind == "AN" else 0)
        for kind in kinds
    ]
    order = list(range(len(runs)))
    for level in range(max(levels, default=0), 0, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return [runs[i] for i in order]


@functools.lru_cache(maxsize=8192)
def _shape(text: str, bold: bool) -> _Shaped:
    logical = [_shape_run(face, part) for face, part, _ in _runs(text, bold)]
    strong = next((c for c in text if unicodedata.bidirectional(c) in ("L", "R", "AL")), "")
    right_to_left = unicodedata.bidirectional(strong) in ("R", "AL") if strong else False
    runs = []
    pen = 0.0
    left = bottom = float("inf")
    right = top = float("-inf")
    for run in _visual(logical, right_to_left):
        if run.ink is not None:
            left, right = min(left, pen + run.ink[0]), max(right, pen + run.ink[2])
            bottom, top = min(bottom, run.ink[1]), max(top, run.ink[3])
        runs.append(run)
        pen += run.advance
    ink = None if left == float("inf") else (left, bottom, right, top)
    return _Shaped(runs=tuple(runs), right_to_left=right_to_left, advance=pen, ink=ink)


def width(text: str, size: float, bold: bool = False) -> float:
    """The advance of text set on one line at this size, in points."""
    return _shape(text, bold).advance * size / 1000


def _span(text: str, size: float, bold: bool) -> tuple[float, float]:
    """How far a line reaches left of its origin (≤ 0) and right of it, ink or advance, in points."""
    shaped = _shape(text, bold)
    left, right = 0.0, shaped.advance
    if shaped.ink is not None:
        left, right = min(left, shaped.ink[0]), max(right, shaped.ink[2])
    return left * size / 1000, right * size / 1000


def _fits(text: str, size: float, bold: bool, room: float) -> bool:
    left, right = _span(text, size, bold)
    return right - left <= room


def _breaks(word: str) -> list[int]:
    """Where a word may be broken when it is wider than its box: between clusters, never before a
    mark or a joiner, nor after a virama or a joiner."""
    return [
        i
        for i in range(1, len(word))
        if not unicodedata.category(word[i]).startswith("M")
        and word[i] not in _ZW
        and word[i - 1] not in _ZW
        and unicodedata.combining(word[i - 1]) != 9
    ]


def _split_word(word: str, size: float, bold: bool, room: float) -> list[str]:
    pieces = []
    while not _fits(word, size, bold, room):
        cut = max((i for i in _breaks(word) if _fits(word[:i], size, bold, room)), default=None)
        if cut is None:  # one cluster wider than the box: nothing can fit it
            break
        pieces.append(word[:cut])
        word = word[cut:]
    pieces.append(word)
    return pieces


def _wrap(text: str, size: float, bold: bool, room: float) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if _fits(candidate, size, bold, room):
                current = candidate
                continue
            if current:
                lines.append(current)
            pieces = _split_word(word, size, bold, room)
            lines.extend(pieces[:-1])
            current = pieces[-1]
        lines.append(current)
    return lines


def _metrics(lines: list[str], bold: bool) -> tuple[float, float]:
    """Ascent and descent (per 1000) for a block: Latin's and those of every face its lines use, so
    cells of one row set at one size share a baseline whatever their script."""
    faces = {_face(LATIN, bold)} | {run.face for line in lines for run in _shape(line, bold).runs}
    return max(f.ascent for f in faces), min(f.descent for f in faces)


def _baselines(lines: list[str], size: float, bold: bool, top: float) -> tuple[list[float], float]:
    """Each line's baseline from the box's top, and the lowest ink or descent of the last line."""
    ascent, descent = _metrics(lines, bold)
    first = _shape(lines[0], bold).ink if lines else None
    reach = max(ascent, first[3] if first else ascent) * size / 1000
    step = (ascent - descent) * size / 1000
    baselines = [top - reach - i * step for i in range(len(lines))]
    last = _shape(lines[-1], bold).ink if lines else None
    low = min(descent, last[1] if last else descent) * size / 1000
    return baselines, (baselines[-1] + low if baselines else top)


def _place(text: str, box: Box, lines: list[str], size: float, bold: bool, align: str, cut: bool) -> Block:
    baselines, _ = _baselines(lines, size, bold, box.top)
    placed = []
    for line, baseline in zip(lines, baselines, strict=True):
        left, right = _span(line, size, bold)
        if align == "right" or (align == "left" and _shape(line, bold).right_to_left):
            x = box.right - right
        elif align == "centre":
            x = box.x + (box.width - (right - left)) / 2 - left
        else:
            x = box.x - left
        ink = _shape(line, bold).ink
        drawn = (
            None
            if ink is None
            else Box(
                x + ink[0] * size / 1000,
                baseline + ink[1] * size / 1000,
                (ink[2] - ink[0]) * size / 1000,
                (ink[3] - ink[1]) * size / 1000,
            )
        )
        placed.append(Line(text=line, x=x, baseline=baseline, ink=drawn))
    return Block(text=text, box=box, size=size, bold=bold, lines=tuple(placed), cut=cut)


def _ellipsise(line: str, size: float, bold: bool, room: float) -> str:
    """The longest start of a line that fits with an ellipsis after it."""
    cuts = [*_breaks(line), len(line)]
    for i in reversed(cuts):
        candidate = line[:i].rstrip() + ELLIPSIS
        if _fits(candidate, size, bold, room):
            return candidate
    return ELLIPSIS


def fit(
    text: str,
    box: Box,
    *,
    size: float,
    min_size: float | None = None,
    bold: bool = False,
    align: Align = "left",
    max_lines: int | None = None,
) -> Block:
    """Set text in a box: wrapped at spaces, shrunk by half points from `size` to `min_size` until it
    fits; at the smallest size what does not fit is cut and the last line ends with an ellipsis."""
    smallest = size if min_size is None else min_size
    if smallest <= 0 or smallest > size:
        raise ValueError(f"min_size must be above 0 and at most size, got {smallest} for size {size}")
    text = "\n".join(" ".join(paragraph.split()) for paragraph in text.split("\n"))
    current = size
    while True:
        lines = _wrap(text, current, bold, box.width)
        _, bottom = _baselines(lines, current, bold, box.top)
        too_many = max_lines is not None and len(lines) > max_lines
        too_wide = any(not _fits(line, current, bold, box.width) for line in lines)
        if bottom >= box.y - 1e-6 and not too_many and not too_wide:
            return _place(text, box, lines, current, bold, align, cut=False)
        if current <= smallest:
            break
        current = max(smallest, current - 0.5)
    # The smallest size still does not fit: keep the lines that do, the last one ending in "…".
    kept: list[str] = []
    for line in lines:
        trial = [*kept, line]
        if (max_lines is not None and len(trial) > max_lines) or _baselines(trial, current, bold, box.top)[
            1
        ] < box.y - 1e-6:
            break
        kept = trial
    if not kept:
        raise ValueError(f"box {box} is too small for one line of text at {current} points")
    last = kept[-1] if len(kept) < len(lines) or not _fits(kept[-1], current, bold, box.width) else None
    if last is not None:
        kept[-1] = _ellipsise(last, current, bold, box.width)
    return _place(text, box, kept, current, bold, align, cut=True)


def _actual_text(text: str) -> str:
    return "<FEFF" + text.encode("utf-16-be").hex().upper() + ">"


def draw(pdf: Any, block: Block) -> Block:
    """Draw a fitted block on a reportlab canvas in the current fill colour; each line is marked with
    its source text (ActualText), so text extraction reads it in logical order."""
    for line in block.lines:
        if line.ink is None:
            continue
        pdf.addLiteral(f"/Span <</ActualText {_actual_text(line.text)}>> BDC")
        pen = line.x
        for run in _shape(line.text, block.bold).runs:
            shaped = shapeStr(run.text, run.face.name, block.size)
            text = pdf.beginText(pen, line.baseline)
            text.setFont(run.face.name, block.size)
            text.textOut(shaped)
            pdf.drawText(text)
            pen += run.advance * block.size / 1000
        pdf.addLiteral("EMC")
    return block


def write(pdf: Any, text: str, box: Box, **how: Any) -> Block:
    """Fit text in a box and draw it (see `fit` for how)."""
    return draw(pdf, fit(text, box, **how))
