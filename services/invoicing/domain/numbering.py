"""Invoice and credit-note numbers: one gapless series per GSTIN, kind and financial year (1 April
to 31 March in India), at most 16 characters of letters, digits, `-` and `/` (CGST Rule 46(b))."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from chassis.clock import india_date

MAX_LENGTH = 16
_ALLOWED = re.compile(r"[A-Za-z0-9/-]{1,16}")


class DocumentKind(StrEnum):
    """A series of its own: tax invoices and credit notes never share numbers."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


PREFIXES = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


def financial_year(at: datetime) -> int:
    """The financial year of a moment, named by the calendar year it starts in: 1 April 00:00 IST
    starts a new one (31 March 23:59 IST of 2027 is still 2026, i.e. 2026-27)."""
    day = india_date(at)
    return day.year if day.month >= 4 else day.year - 1


def fy_label(year: int) -> str:
    """2026 → "26-27"."""
    return f"{year % 100:02d}-{(year + 1) % 100:02d}"


def document_number(kind: DocumentKind, year: int, serial: int) -> str:
    """The printed number: INV/26-27/000001, CN/26-27/000001 (serials past 999999 grow a digit while
    they still fit in 16 characters; ValueError after that)."""
    if serial < 1:
        raise ValueError("serials start at 1")
    number = f"{PREFIXES[kind]}/{fy_label(year)}/{serial:06d}"
    if not _ALLOWED.fullmatch(number):
        raise ValueError(f"{number} is longer than {MAX_LENGTH} characters: the series is full")
    return number
