"""The fonts the console serves: Noto Sans and the Noto Sans of India's scripts, from npm
(services/console/assets/package-lock.json, installed by `make install`), so a customer's name in
Hindi, Bengali or Tamil reads the same on every operator's machine instead of as empty boxes."""

from __future__ import annotations

import re
from pathlib import Path

from chassis.logging import get_logger

log = get_logger(__name__)

FONTSOURCE = Path(__file__).parent / "assets" / "node_modules" / "@fontsource"
# Latin first: the browser takes each character from the first family that has it, and each family
# declares its scripts by unicode-range, so a page downloads only the scripts it shows.
FAMILIES = (
    "noto-sans",
    "noto-sans-devanagari",
    "noto-sans-bengali",
    "noto-sans-tamil",
    "noto-sans-telugu",
    "noto-sans-gujarati",
    "noto-sans-gurmukhi",
    "noto-sans-kannada",
    "noto-sans-malayalam",
    "noto-sans-oriya",
)
WEIGHTS = ("400", "700")  # body text and bold (headings, counts)
ROUTE = "/static/fonts"
_FILE = re.compile(r"[a-z0-9-]+\.woff2?")


def stylesheet(root: Path = FONTSOURCE) -> str:
    """Every family's @font-face rules in one stylesheet, pointing at the console's font route."""
    parts = []
    missing = []
    for family in FAMILIES:
        for weight in WEIGHTS:
            css = root / family / f"{weight}.css"
            if not css.is_file():
                missing.append(f"{family}/{weight}")
                continue
            parts.append(css.read_text().replace("url(./files/", f"url({ROUTE}/{family}/"))
    if missing:
        # The console still works on the system's fonts; Indian scripts may show as boxes.
        log.warning("console fonts missing: run make install", missing=missing)
    return "\n".join(parts)


def font_file(family: str, name: str, root: Path = FONTSOURCE) -> Path | None:
    """The font file a stylesheet rule names, or None for anything else (no path ever leaves the
    fonts' folders)."""
    if family not in FAMILIES or not _FILE.fullmatch(name):
        return None
    path = root / family / "files" / name
    return path if path.is_file() else None
