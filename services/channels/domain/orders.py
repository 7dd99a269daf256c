"""A store's order in Dabba's terms, pure: our channel order id, SKU mapping, the canonical shape,
and whether a marketplace order is ours to take yet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from contracts import Channel, ChannelOrder, FieldProblem, Payment
from services.channels.stores.interface import StoreLine, StoreOrder


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
