"""A CSV import of orders (offline, Instagram, phone), pure: every row checked, all rows or none,
each problem named as `row N.column`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chassis.spreadsheet import read_rows
from contracts import Channel, ChannelOrder

CSV_COLUMNS = (
    "channel_order_id",
    "placed_at",
    "customer_name",
    "phone",
    "line1",
    "city",
    "state",
    "pincode",
    "sku",
    "quantity",
    "unit_price_paise",
)
CSV_OPTIONAL = (
    "channel",
    "email",
    "line2",
    "landmark",
    "shipping_fee_paise",
    "discount_paise",
    "payment_method",
    "payment_status",
    "delivery_speed",
)
CSV_CHANNELS = frozenset({Channel.MANUAL, Channel.POS, Channel.WHATSAPP, Channel.WEBSITE, Channel.APP})

# Where each ChannelOrder field comes from in a row, to name the column of a problem.
_COLUMN_OF = {
    "channel": "channel",
    "placed_at": "placed_at",
    "customer.name": "customer_name",
    "customer.phone": "phone",
    "customer.email": "email",
    "shipping_address.line1": "line1",
    "shipping_address.line2": "line2",
    "shipping_address.landmark": "landmark",
    "shipping_address.city": "city",
    "shipping_address.state": "state",
    "shipping_address.pincode": "pincode",
    "shipping_fee_paise": "shipping_fee_paise",
    "discount_paise": "discount_paise",
    "payment.method": "payment_method",
    "payment.status": "payment_status",
    "delivery_speed": "delivery_speed",
}


@dataclass(frozen=True, slots=True)
class CsvImport:
    """A parsed import: the orders it holds, or every problem as ``row N.column: problem``."""

    orders: tuple[ChannelOrder, ...]
    problems: tuple[str, ...]


def _int(value: str, *, row: int, column: str, problems: list[str]) -> int:
    try:
        number = int(value.strip() or "0")
    except ValueError:
        problems.append(f"row {row}.{column}: {value!r} is not a whole number")
        return 0
    if number < 0:
        problems.append(f"row {row}.{column}: must not be negative")
    return number


def parse_csv(text: str) -> CsvImport:
    """Orders from a spreadsheet, one line per row; rows with the same channel_order_id are one order.
    Rows are numbered as a spreadsheet shows them (the header is row 1). All or nothing: any problem
    and no order is returned."""
    header, records = read_rows(text.lstrip("\ufeff"))
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return CsvImport((), tuple(f"row 1.{c}: column missing" for c in missing))
    problems: list[str] = []
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, raw in enumerate(records, start=2):
        row = {k.strip(): v.strip() for k, v in raw.items() if k and isinstance(v, str)}
        if not any(row.values()):
            continue
        for column in CSV_COLUMNS:
            if not row.get(column):
                problems.append(f"row {number}.{column}: required")
        grouped.setdefault(row.get("channel_order_id", ""), []).append((number, row))
    orders: list[ChannelOrder] = []
    for _, rows in grouped.items():
        first_no, first = rows[0]
        lines: list[dict[str, Any]] = []
        for number, row in rows:
            quantity = _int(row.get("quantity", ""), row=number, column="quantity", problems=problems)
            price = _int(
                row.get("unit_price_paise", ""), row=number, column="unit_price_paise", problems=problems
            )
            if quantity == 0:
                problems.append(f"row {number}.quantity: must be at least 1")
            lines.append({"sku": row.get("sku", ""), "quantity": quantity, "unit_price_paise": price})
        shipping = _int(
            first.get("shipping_fee_paise", ""), row=first_no, column="shipping_fee_paise", problems=problems
        )
        discount = _int(
            first.get("discount_paise", ""), row=first_no, column="discount_paise", problems=problems
        )
        total = sum(line["quantity"] * line["unit_price_paise"] for line in lines) + shipping - discount
        channel = first.get("channel") or Channel.MANUAL.value
        if channel not in {c.value for c in CSV_CHANNELS}:
            allowed = ", ".join(sorted(c.value for c in CSV_CHANNELS))
            problems.append(f"row {first_no}.channel: {channel!r} is not one of {allowed}")
            continue
        method = first.get("payment_method") or "cod"
        try:
            order = ChannelOrder.model_validate(
                {
                    "channel": channel,
                    "channel_order_id": first.get("channel_order_id"),
                    "placed_at": first.get("placed_at"),
                    "customer": {
                        "name": first.get("customer_name"),
                        "phone": first.get("phone"),
                        "email": first.get("email") or None,
                    },
                    "shipping_address": {
                        "line1": first.get("line1"),
                        "line2": first.get("line2") or None,
                        "landmark": first.get("landmark") or None,
                        "city": first.get("city"),
                        "state": first.get("state"),
                        "pincode": first.get("pincode"),
                    },
                    "lines": lines,
                    "shipping_fee_paise": shipping,
                    "discount_paise": discount,
                    "total_paise": max(total, 0),
                    "payment": {
                        "method": method,
                        "status": first.get("payment_status")
                        or ("pending" if method == "cod" else "captured"),
                        "gateway": None if method == "cod" else "manual",
                        "gateway_payment_id": None,
                        "amount_paise": max(total, 0),
                    },
                    "delivery_speed": first.get("delivery_speed") or "standard",
                }
            )
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(p) for p in err["loc"]]
                if loc[:1] == ["lines"] and len(loc) >= 3:
                    number = rows[int(loc[1])][0]
                    problems.append(f"row {number}.{loc[2]}: {err['msg']}")
                    continue
                column = _COLUMN_OF.get(".".join(loc[:2]), ".".join(loc))
                problems.append(f"row {first_no}.{column}: {err['msg']}")
            continue
        orders.append(order)
    if problems:
        return CsvImport((), tuple(dict.fromkeys(problems)))
    return CsvImport(tuple(orders), ())
