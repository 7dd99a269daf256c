"""The decisions of the channels service, pure: a store's order in Dabba's terms (SKU mapping,
the canonical shape), the stock number a store should show, when to try a push again, and what a
CSV import says. No I/O here; the edges gather facts and hand them over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, tzinfo
from typing import Any, TypeVar

from pydantic import ValidationError

from chassis.spreadsheet import read_rows
from contracts import Channel, ChannelOrder, FieldProblem, Payment, ShipmentStatus
from services.channels.stores.interface import StoreLine, StoreOrder

T = TypeVar("T")


def channel_order_id(account: str, store_order_id: str) -> str:
    """Our channel_order_id of a store's order: the account keeps two stores' #1001 apart."""
    return f"{account}-{store_order_id}"


@dataclass(frozen=True, slots=True)
class Mappings:
    """One account's SKU mappings: channel SKU → SKU, and the store's variant id → SKU."""

    by_channel_sku: Mapping[str, str]
    by_variant: Mapping[str, str]

    def sku_of(self, line: StoreLine) -> str | None:
        """The Dabba SKU of a store line: by its channel SKU first, else by its variant id."""
        if line.channel_sku and line.channel_sku in self.by_channel_sku:
            return self.by_channel_sku[line.channel_sku]
        if line.variant_id and line.variant_id in self.by_variant:
            return self.by_variant[line.variant_id]
        return None


def _problems(exc: ValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(field=".".join(str(p) for p in err["loc"]) or "order", problem=err["msg"])
        for err in exc.errors()
    ]


def to_channel_order(
    order: StoreOrder, *, channel: Channel, account: str, mappings: Mappings
) -> ChannelOrder | list[FieldProblem]:
    """The store's order as ``channel.orders.v1``, or the problems that stop it being one.

    An unmapped line does not stop it: the order goes out with the store's own SKU on that line and
    the line named in ``channel_problems``, so orders keeps it REJECTED, visible, naming the SKU; once
    the SKU is mapped the order is sent again and replaces the rejected one."""
    lines: list[dict[str, Any]] = []
    unmapped: list[FieldProblem] = []
    for i, line in enumerate(order.lines):
        sku = mappings.sku_of(line)
        if sku is None:
            variant = f" (variant {line.variant_id})" if line.variant_id else ""
            unmapped.append(
                FieldProblem(
                    field=f"lines.{i}.sku",
                    problem=f"channel SKU {line.channel_sku or '(none)'!r}{variant} on {account} "
                    "has no mapping to a Dabba SKU",
                )
            )
            sku = (line.channel_sku or line.variant_id or "(none)")[:64]
        lines.append({"sku": sku, "quantity": line.quantity, "unit_price_paise": line.unit_price_paise})
    try:
        return ChannelOrder.model_validate(
            {
                "channel": channel,
                "channel_order_id": channel_order_id(account, order.store_order_id),
                "placed_at": order.placed_at,
                "customer": {k: v for k, v in order.customer.items() if v is not None},
                "shipping_address": order.shipping_address,
                "lines": lines,
                "shipping_fee_paise": order.shipping_fee_paise,
                "discount_paise": order.discount_paise,
                "total_paise": order.total_paise,
                "payment": order.payment,
                "channel_problems": unmapped,
                "shipped_by_marketplace": order.shipped_by_marketplace,
            }
        )
    except ValidationError as exc:
        return [*unmapped, *_problems(exc)]


def store_order_json(order: StoreOrder) -> dict[str, Any]:
    """A store order as JSON, to keep and map again once its SKUs are mapped."""
    # By hand rather than dataclasses.asdict, whose deep copies cost as much as the rest of a webhook.
    data = {f.name: getattr(order, f.name) for f in fields(order)}
    data["customer"] = dict(order.customer)
    data["shipping_address"] = dict(order.shipping_address)
    data["lines"] = [{f.name: getattr(line, f.name) for f in fields(line)} for line in order.lines]
    data["placed_at"] = order.placed_at.isoformat()
    data["payment"] = order.payment.model_dump(mode="json")
    return data


def store_order_from_json(data: Mapping[str, Any]) -> StoreOrder:
    """The inverse of store_order_json."""
    return StoreOrder(
        **{
            **data,
            "placed_at": datetime.fromisoformat(data["placed_at"]),
            "payment": Payment.model_validate(data["payment"]),
            "lines": tuple(StoreLine(**line) for line in data["lines"]),
        }
    )


def marketplace_takes(order: StoreOrder | None, *, known: bool, known_cancelled: bool) -> bool:
    """Whether a marketplace order a poll listed is taken in (kept as a receipt for intake).

    New: only once its payment is authorised (Amazon's Pending waits; its next change lists it
    again), never one the marketplace fulfils from its own warehouse, never one already cancelled
    (it was never ours). Known: only its cancellation, once. Unreadable: kept, so intake says why."""
    if order is None:
        return not known
    if order.fulfilled_by_marketplace or order.news_status is not None:
        return False  # the marketplace's own stock, or news of a parcel already on its way (ADR 371)
    if known:
        return order.cancelled and not known_cancelled
    return not (order.cancelled or order.awaiting_payment)


LABELLED_BY = ("flipkart",)
"""Marketplaces whose label (and AWB) channels fetches for the parcels their logistics carry (ADR 370);
Amazon's Easy Ship parcels still take their AWB from an operator."""


def label_rates(mappings: Mappings, rates_by_sku: Mapping[str, str]) -> dict[str, str]:
    """Our invoice's GST rate per Dabba SKU as the marketplace names its items: by every channel SKU
    and listing id mapped to that SKU. An item mapped to no invoiced SKU gets none (never guessed)."""
    rates = {c: rates_by_sku[s] for c, s in mappings.by_channel_sku.items() if s in rates_by_sku}
    rates.update({v: rates_by_sku[s] for v, s in mappings.by_variant.items() if s in rates_by_sku})
    return rates


OUR_COURIER_HAS_IT = frozenset({ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT})
READY_FOR_THE_MARKETPLACE = frozenset(
    {ShipmentStatus.PACKED, ShipmentStatus.MANIFESTED, ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT}
)
MAY_BE_STORE_NEWS = OUR_COURIER_HAS_IT | READY_FOR_THE_MARKETPLACE


def store_told_at(status: ShipmentStatus, *, marketplace_carries: bool) -> bool:
    """Whether a parcel at ``status`` is news for its store. Ours once our courier has it (picked up,
    or a first scan in transit); one the marketplace's own logistics carry once it is packed under the
    marketplace's AWB (ADR 331), ready for its courier: Flipkart's ready-to-dispatch. That courier's
    pickup is the marketplace's to see, not ours."""
    return status in (READY_FOR_THE_MARKETPLACE if marketplace_carries else OUR_COURIER_HAS_IT)


# The couriers' public tracking pages, for a shipment event that carries no tracking URL of its own.
TRACKING_PAGES = {
    "delhivery": "https://www.delhivery.com/track/package/{awb}",
    "shiprocket": "https://shiprocket.co/tracking/{awb}",
    "xpressbees": "https://www.xpressbees.com/shipment/tracking?awbNo={awb}",
}


def tracking_url(courier: str, awb: str, given: str | None) -> str | None:
    """What the buyer clicks on the store's order: the courier's own link if the event had one, else
    the courier's public tracking page for the AWB (None for a courier we have no page for)."""
    if given:
        return given
    page = TRACKING_PAGES.get(courier.lower())
    return page.format(awb=awb) if page else None


def stock_to_show(
    available_total: int, *, buffer: int, share_pct: int | None = None, hide_below: int = 0
) -> int:
    """What a store should show: what we can sell less the channel's safety buffer, never negative;
    at most its share of what we can sell, when it has one; and 0 once fewer than ``hide_below``
    units are left (the low-stock rule: the last units sell only where the seller prefers, on the
    stores whose ``hide_below`` is 0)."""
    if available_total < hide_below:
        return 0
    shown = max(0, available_total - buffer)
    if share_pct is not None:
        shown = min(shown, max(0, available_total) * share_pct // 100)
    return shown


def last_full_push_due(now: datetime, *, at_hour: int, tz: tzinfo) -> datetime:
    """When the latest nightly full push was due: today's ``at_hour`` in the seller's time zone, or
    yesterday's when that hour has not come yet today. An account pushed before it is due now."""
    local = now.astimezone(tz)
    due = local.replace(hour=at_hour, minute=0, second=0, microsecond=0)
    return due if due <= local else due - timedelta(days=1)


def stock_batches(rows: Sequence[T], *, size: int, alone: Callable[[T], bool]) -> list[list[T]]:
    """Owed stock levels in calls of at most ``size``; a listing the store refused goes alone, so one
    refusal never holds back the others (ADR 142)."""
    together = [r for r in rows if not alone(r)]
    return [[r] for r in rows if alone(r)] + [together[i : i + size] for i in range(0, len(together), size)]


def next_try_in(attempts: int, *, retry_after_s: float | None, max_s: float) -> float:
    """Seconds before the next try: what the store asked for, else exponential from 1 s, capped."""
    if retry_after_s is not None:
        return min(retry_after_s, max_s)
    return float(min(2 ** max(attempts - 1, 0), max_s))


# --- CSV import -----------------------------------------------------------------------------------

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
