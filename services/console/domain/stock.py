"""The stock screen's decisions: a SKU's rows from inventory's announcement, which are low, and what
a receive, adjust or transfer form asks inventory to do. Plain functions over plain data (ADR 320)."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from chassis.text import text_problem
from contracts import StockChanged

Problems = list[tuple[str, str]]

# Inventory's adjustment reasons (its AdjustmentReason) with what the form says of each.
ADJUST_REASONS: dict[str, str] = {
    "cycle_count": "Cycle count (either way)",
    "damage": "Damaged (takes units away)",
    "loss": "Lost (takes units away)",
    "found": "Found (adds units)",
}
_CODE = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")
_UNITS = re.compile(r"^[+-]?\d{1,7}$")


@dataclass(frozen=True)
class StockRow:
    """One SKU in one warehouse as inventory last announced it. The numbers behind available are
    None for an announcement published before inventory sent them (ADR 320)."""

    sku: str
    warehouse_code: str
    available: int
    on_hand: int | None
    reserved: int | None
    buffer: int | None
    reorder_point: int | None
    changed_at: datetime

    @property
    def low(self) -> bool:
        """At or below its reorder point: inventory's own low-stock rule (`low_stock_alert`)."""
        return self.reorder_point is not None and self.available <= self.reorder_point


def rows_of(event: StockChanged) -> list[StockRow]:
    """Every warehouse's row of the SKU: an announcement is the whole SKU (inventory reads all its
    warehouses), so these rows replace whatever the console knew of it."""
    levels = event.levels or {}
    rows = []
    for warehouse, available in sorted(event.by_warehouse.items()):
        level = levels.get(warehouse)
        rows.append(
            StockRow(
                sku=event.sku,
                warehouse_code=warehouse,
                available=available,
                on_hand=level.on_hand if level else None,
                reserved=level.reserved if level else None,
                buffer=level.buffer if level else None,
                reorder_point=level.reorder_point if level else None,
                changed_at=event.changed_at,
            )
        )
    return rows


def latest(events: list[StockChanged]) -> dict[str, StockChanged]:
    """The newest announcement per SKU of a batch (by its time; on a tie the later one, as read)."""
    newest: dict[str, StockChanged] = {}
    for event in events:
        kept = newest.get(event.sku)
        if kept is None or event.changed_at >= kept.changed_at:
            newest[event.sku] = event
    return newest


def encode_cursor(sku: str, warehouse_code: str) -> str:
    """An opaque keyset cursor: the last row's (sku, warehouse) on the page."""
    return base64.urlsafe_b64encode(f"{sku}|{warehouse_code}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The (sku, warehouse) a cursor names; ValueError when it is not one of ours."""
    try:
        sku, warehouse = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("cursor is not one this console gave out") from exc
    if not sku or text_problem(sku) is not None or text_problem(warehouse) is not None:
        raise ValueError("cursor is not one this console gave out")
    return sku, warehouse


def _text(form: Mapping[str, str], field: str, problems: Problems, *, code: bool = True) -> str:
    value = (form.get(field) or "").strip()
    if not value:
        problems.append((field, "required"))
    elif code and not _CODE.fullmatch(value):
        problems.append((field, f"{value!r} is not a code (letters, digits and . _ : / -, at most 64)"))
    return value


def _units(form: Mapping[str, str], field: str, problems: Problems, *, signed: bool = False) -> int:
    value = (form.get(field) or "").strip()
    if not value:
        problems.append((field, "required"))
        return 0
    if not _UNITS.fullmatch(value) or (not signed and value[0] in "+-"):
        kind = "a whole number of units, e.g. -2 or 5" if signed else "a whole number of units, e.g. 12"
        problems.append((field, f"{value!r} is not {kind}"))
        return 0
    units = int(value)
    if signed and units == 0:
        problems.append((field, "must not be 0"))
    if not signed and units <= 0:
        problems.append((field, "must be more than 0"))
    return units


def _note(form: Mapping[str, str], field: str) -> str | None:
    return (form.get(field) or "").strip() or None


def stock_request(action: str, form: Mapping[str, str]) -> tuple[str, dict[str, Any] | None, Problems]:
    """(inventory's path, its JSON body) for a receive, adjust or transfer form, or the problems
    naming each field. Whether the units exist is inventory's to say: it refuses an adjustment or a
    transfer that would take more than is unreserved, naming the field."""
    problems: Problems = []
    sku = _text(form, "sku", problems)
    body: dict[str, Any]
    if action == "receive":
        path = "/stock/receipts"
        body = {
            "sku": sku,
            "warehouse_code": _text(form, "warehouse_code", problems),
            "quantity": _units(form, "quantity", problems),
            "reference": _note(form, "reference"),
        }
    elif action == "adjust":
        path = "/stock/adjustments"
        reason = (form.get("reason") or "").strip()
        if reason not in ADJUST_REASONS:
            problems.append(("reason", f"{reason or '(none)'!r} is not one of {', '.join(ADJUST_REASONS)}"))
        body = {
            "sku": sku,
            "warehouse_code": _text(form, "warehouse_code", problems),
            "reason": reason,
            "delta": _units(form, "delta", problems, signed=True),
            "note": _note(form, "note"),
        }
    elif action == "transfer":
        path = "/stock/transfers"
        source = _text(form, "from_warehouse", problems)
        target = _text(form, "to_warehouse", problems)
        if source and source == target:
            problems.append(("to_warehouse", "must differ from from_warehouse"))
        body = {
            "sku": sku,
            "from_warehouse": source,
            "to_warehouse": target,
            "quantity": _units(form, "quantity", problems),
            "reference": _note(form, "reference"),
        }
    else:
        return "", None, [("action", f"{action!r} is not one of receive, adjust, transfer, levels")]
    return (path, None, problems) if problems else (path, body, [])


def stock_answer(action: str, body: Mapping[str, Any], answer: Any) -> str:
    """What the operator reads after inventory accepted: the warehouses touched, with their numbers
    now (inventory's answer, so it is true before the read model catches up)."""
    touched = {body.get("warehouse_code"), body.get("from_warehouse"), body.get("to_warehouse")} - {None}
    rows = answer.get("warehouses", []) if isinstance(answer, Mapping) else []
    now = "; ".join(
        f"{r['warehouse_code']} on hand {r['on_hand']}, available {r['available']}"
        for r in rows
        if r.get("warehouse_code") in touched
    )
    done = {
        "receive": f"received {body.get('quantity')} × {body.get('sku')}",
        "adjust": f"adjusted {body.get('sku')} by {body.get('delta', 0):+d}",
        "transfer": f"moved {body.get('quantity')} × {body.get('sku')}",
    }[action]
    return f"{done}: {now}" if now else done


def _level(form: Mapping[str, str], field: str, problems: Problems) -> int | None:
    value = (form.get(field) or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 7:
        problems.append((field, f"{value!r} is not a whole number of units, e.g. 0 or 20"))
        return None
    return int(value)


def levels_request(form: Mapping[str, str]) -> tuple[str, dict[str, Any] | None, Problems]:
    """(inventory's path, its JSON body) for the levels form: a sale buffer and/or a reorder point in
    one warehouse, or in every warehouse of the SKU when none is named; or the problems."""
    problems: Problems = []
    sku = _text(form, "sku", problems)
    warehouse = (form.get("warehouse_code") or "").strip()
    if warehouse and not _CODE.fullmatch(warehouse):
        problems.append(("warehouse_code", f"{warehouse!r} is not a code (letters, digits and . _ : / -)"))
    buffer, reorder_point = _level(form, "buffer", problems), _level(form, "reorder_point", problems)
    if buffer is None and reorder_point is None and not problems:
        problems.append(("buffer", "give a buffer, a reorder point or both"))
    if problems:
        return "", None, problems
    body = {
        "warehouse_codes": [warehouse] if warehouse else None,
        "buffer": buffer,
        "reorder_point": reorder_point,
    }
    return f"/stock/{quote(sku, safe='')}/levels", body, []


def _or_dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def levels_answer(sku: str, body: Mapping[str, Any], answer: Any) -> str:
    """What the operator reads after inventory set the levels: each warehouse's buffer and point now."""
    named = body.get("warehouse_codes")
    rows = answer.get("warehouses", []) if isinstance(answer, Mapping) else []
    now = "; ".join(
        f"{r['warehouse_code']} buffer {r['buffer']}, reorder at {_or_dash(r['reorder_point'])}"
        for r in rows
        if named is None or r.get("warehouse_code") in named
    )
    return f"levels of {sku} set: {now}" if now else f"levels of {sku} set"
