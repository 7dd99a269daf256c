"""The item master as plain data: what a valid item is, and reading many of them from a CSV.

Barcodes are checked with the GS1 check digit (EAN-8, UPC-A, EAN-13, GTIN-14); HSN codes are the
4, 6 or 8 digits GST invoices carry. Every problem names its field (and row, for CSV).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from chassis.spreadsheet import read_rows

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
CSV_COLUMNS = (
    "sku",
    "name",
    "category",
    "barcode",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "hsn_code",
    "mrp_paise",
)
REQUIRED_COLUMNS = ("sku", "name", "weight_grams", "mrp_paise")


def gtin_is_valid(code: str) -> bool:
    """Whether an EAN-8/UPC-A/EAN-13/GTIN-14 has the right length and GS1 check digit."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    weighted = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - weighted % 10) % 10 == check


class Item(BaseModel):
    """One SKU of the catalogue as the warehouse and the GST invoice need it."""

    sku: Annotated[str, Field(pattern=SKU_PATTERN, examples=["TEA-ASSAM-250"])]
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["Assam tea 250 g"])]
    category: Annotated[str | None, Field(max_length=80, examples=["tea"])] = None
    barcode: Annotated[str | None, Field(examples=["8901234567897"])] = None
    weight_grams: Annotated[int, Field(gt=0, le=1_000_000, examples=[270])]
    length_mm: Annotated[int | None, Field(gt=0, le=10_000)] = None
    width_mm: Annotated[int | None, Field(gt=0, le=10_000)] = None
    height_mm: Annotated[int | None, Field(gt=0, le=10_000)] = None
    hsn_code: Annotated[str | None, Field(examples=["0902"])] = None
    mrp_paise: Annotated[int, Field(ge=0, le=10_000_000_00, examples=[34900])]

    @field_validator("barcode")
    @classmethod
    def _barcode(cls, value: str | None) -> str | None:
        if value is not None and not gtin_is_valid(value):
            raise ValueError("must be an EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a valid check digit")
        return value

    @field_validator("hsn_code")
    @classmethod
    def _hsn(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"\d{4}|\d{6}|\d{8}", value):
            raise ValueError("must be 4, 6 or 8 digits")
        return value


def problems_of(exc: ValidationError, *, prefix: str = "") -> list[tuple[str, str]]:
    """(field, problem) for every error of a validation."""
    return [
        (prefix + ".".join(str(p) for p in err["loc"]) or "body", err["msg"].removeprefix("Value error, "))
        for err in exc.errors()
    ]


def parse_csv(text: str) -> tuple[list[Item], list[tuple[str, str]]]:
    """Items from a CSV with a header row; or every problem as ("row N.column", problem), where
    row 1 is the header, so N is the line a spreadsheet shows."""
    header, rows = read_rows(text)
    problems: list[tuple[str, str]] = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    if missing:
        problems.append(("header", f"missing column(s): {', '.join(missing)}"))
    if unknown:
        problems.append(("header", f"unknown column(s): {', '.join(unknown)}"))
    if problems:
        return [], problems
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(rows, start=2):
        row: dict[str, Any] = {
            k.strip(): (v.strip() or None) for k, v in raw.items() if k is not None and isinstance(v, str)
        }
        if None in raw:
            problems.append((f"row {number}", "has more values than the header has columns"))
            continue
        try:
            item = Item.model_validate(row)
        except ValidationError as exc:
            problems.extend(problems_of(exc, prefix=f"row {number}."))
            continue
        if item.sku in seen:
            problems.append((f"row {number}.sku", f"{item.sku} already appears on row {seen[item.sku]}"))
            continue
        seen[item.sku] = number
        items.append(item)
    if not items and not problems:
        problems.append(("body", "the CSV has a header but no rows"))
    return items, problems
