"""Fix a rejected order: what the channel sent, as form fields named by their JSON path, and back.

Field names are the dotted paths orders names its problems by (`shipping_address.pincode`), so a
refusal lands beside the field it is about. The console only turns text into numbers; orders
validates the corrected order with its own intake rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FixField:
    """One field of the fix form: its JSON path, label, and whether it holds paise or may be blank."""

    path: str
    label: str
    paise: bool = False
    optional: bool = False


FIELDS: tuple[FixField, ...] = (
    FixField("customer.name", "Customer name"),
    FixField("customer.phone", "Phone"),
    FixField("customer.email", "Email", optional=True),
    FixField("shipping_address.line1", "Address line 1"),
    FixField("shipping_address.line2", "Address line 2", optional=True),
    FixField("shipping_address.landmark", "Landmark", optional=True),
    FixField("shipping_address.city", "City"),
    FixField("shipping_address.state", "State"),
    FixField("shipping_address.pincode", "Pincode"),
    FixField("shipping_fee_paise", "Shipping fee (paise)", paise=True),
    FixField("discount_paise", "Discount (paise)", paise=True),
    FixField("total_paise", "Total (paise)", paise=True),
    FixField("payment.method", "Payment method"),
    FixField("payment.status", "Payment status"),
    FixField("payment.amount_paise", "Payment amount (paise)", paise=True),
    FixField("payment.gateway", "Gateway", optional=True),
    FixField("payment.gateway_payment_id", "Gateway payment id", optional=True),
    FixField("delivery_speed", "Delivery speed"),
)
LINE_FIELDS: tuple[FixField, ...] = (
    FixField("sku", "SKU"),
    FixField("quantity", "Quantity", paise=True),
    FixField("unit_price_paise", "Unit price (paise)", paise=True),
)
_DEFAULTS = {"shipping_fee_paise": "0", "discount_paise": "0", "delivery_speed": "standard"}


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def form_values(received: Any) -> tuple[dict[str, str], int]:
    """The form's values from what the channel sent (whatever shape it had), and how many line rows
    to show: the received lines plus one blank row for a line the channel left out."""
    values = {f.path: _text(_at(received, f.path), _DEFAULTS.get(f.path, "")) for f in FIELDS}
    lines = _at(received, "lines")
    count = len(lines) if isinstance(lines, list) else 0
    for i in range(count):
        for f in LINE_FIELDS:
            values[f"lines.{i}.{f.path}"] = _text(_at(lines, f"{i}.{f.path}"), "")
    return values, count + 1


def _text(value: Any, default: str) -> str:
    if value is None or isinstance(value, dict | list):
        return default
    return str(value)


def resubmission(form: Mapping[str, str], line_rows: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The resubmission's JSON body from the form, and the problems of fields that are not numbers.

    Blank optional fields become null; a line row left wholly blank is dropped."""
    body: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for f in FIELDS:
        value = _field(form, f.path, f, problems)
        if value is None and not f.optional:
            value = ""
        _put(body, f.path, value)
    lines = []
    for i in range(line_rows):
        row = {f.path: form.get(f"lines.{i}.{f.path}", "").strip() for f in LINE_FIELDS}
        if not any(row.values()):
            continue
        line = {f.path: _field(form, f"lines.{i}.{f.path}", f, problems) for f in LINE_FIELDS}
        lines.append({k: "" if v is None else v for k, v in line.items()})
    body["lines"] = lines
    if not lines:
        problems.append(("lines", "at least one line: a SKU, its quantity and unit price"))
    return body, problems


def _field(form: Mapping[str, str], name: str, f: FixField, problems: list[tuple[str, str]]) -> Any:
    text = form.get(name, "").strip()
    if not text:
        return None
    if not f.paise:
        return text
    if not text.isdigit():
        problems.append((name, f"{text!r} is not a whole number"))
        return None
    return int(text)


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[leaf] = value
