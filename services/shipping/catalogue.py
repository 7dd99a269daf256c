"""Courier data from CSV: serviceability per pincode and rate cards per zone, checked line by line.

A file with any bad line loads nothing; every problem names its line and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import TypeVar

import indian_pincode

from chassis.geo import Zone
from services.shipping.domain.allocation import RateCard, Serviceability

T = TypeVar("T")
Problem = tuple[str, str]

SERVICEABILITY_COLUMNS = ("courier", "pincode", "prepaid", "cod", "reverse_pickup")
PICKUP_COLUMN = "pickup"
"""Optional (ADR 0410): whether the courier picks up from a warehouse at the pincode, as Delhivery's
pincode API answers per pincode; without it the courier is taken to pick up anywhere."""
RATE_CARD_COLUMNS = (
    "courier",
    "zone",
    "first_slab_grams",
    "first_slab_paise",
    "additional_slab_grams",
    "additional_slab_paise",
    "cod_fixed_paise",
    "cod_percent_bp",
    "sla_days",
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


def _read(
    text: str, columns: tuple[str, ...], row: Callable[[dict[str, str], list[Problem], str], T | None]
) -> tuple[list[T], list[Problem]]:
    reader = csv.DictReader(io.StringIO(text.strip()))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        return [], [("header", f"missing column(s): {', '.join(missing)}")]
    rows: list[T] = []
    problems: list[Problem] = []
    for number, raw in enumerate(reader, start=2):
        values = {k: (v or "").strip() for k, v in raw.items() if k}
        parsed = row(values, problems, f"line {number}")
        if parsed is not None:
            rows.append(parsed)
    if not rows and not problems:
        problems.append(("body", "no rows"))
    return rows, problems


def _flag(values: dict[str, str], name: str, where: str, problems: list[Problem]) -> bool:
    value = values[name].lower()
    if value not in _TRUE | _FALSE:
        problems.append((f"{where}.{name}", f"{values[name]!r} is not true or false"))
    return value in _TRUE


def _int(values: dict[str, str], name: str, where: str, problems: list[Problem], minimum: int = 0) -> int:
    try:
        number = int(values[name])
    except ValueError:
        problems.append((f"{where}.{name}", f"{values[name]!r} is not a whole number"))
        return 0
    if number < minimum:
        problems.append((f"{where}.{name}", f"must be at least {minimum}"))
    return number


def parse_serviceability(
    text: str, *, couriers: tuple[str, ...]
) -> tuple[list[Serviceability], list[Problem]]:
    """Rows of courier,pincode,prepaid,cod,reverse_pickup and optionally pickup; pincodes must
    exist. Without the pickup column every row's pickup is None (unknown)."""

    def row(values: dict[str, str], problems: list[Problem], where: str) -> Serviceability | None:
        before = len(problems)
        if values["courier"] not in couriers:
            problems.append(
                (f"{where}.courier", f"{values['courier']!r} is not one of {', '.join(couriers)}")
            )
        if not indian_pincode.get_details(values["pincode"]):
            problems.append((f"{where}.pincode", f"{values['pincode']!r} is not an Indian pincode"))
        prepaid, cod, reverse_pickup = (
            _flag(values, n, where, problems) for n in ("prepaid", "cod", "reverse_pickup")
        )
        pickup = _flag(values, PICKUP_COLUMN, where, problems) if PICKUP_COLUMN in values else None
        if len(problems) > before:
            return None
        return Serviceability(values["courier"], values["pincode"], prepaid, cod, reverse_pickup, pickup)

    return _read(text, SERVICEABILITY_COLUMNS, row)


def parse_rate_cards(text: str, *, couriers: tuple[str, ...]) -> tuple[list[RateCard], list[Problem]]:
    """Rows of a rate card: one per courier × zone, money in paise, COD % in basis points."""

    def row(values: dict[str, str], problems: list[Problem], where: str) -> RateCard | None:
        before = len(problems)
        if values["courier"] not in couriers:
            problems.append(
                (f"{where}.courier", f"{values['courier']!r} is not one of {', '.join(couriers)}")
            )
        if values["zone"] not in {z.value for z in Zone}:
            problems.append((f"{where}.zone", f"{values['zone']!r} is not one of A, B, C, D, E"))
        numbers = {
            name: _int(values, name, where, problems, minimum=1 if name.endswith("_grams") else 0)
            for name in RATE_CARD_COLUMNS[2:]
        }
        if len(problems) > before:
            return None
        return RateCard(courier=values["courier"], zone=Zone(values["zone"]), **numbers)

    return _read(text, RATE_CARD_COLUMNS, row)
