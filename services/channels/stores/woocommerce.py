"""WooCommerce: order webhooks (order.created, order.updated; a cancellation is status cancelled)
signed with X-WC-Webhook-Signature; stock through the REST API v3 products/batch and
products/{id}/variations/batch (at most 100 a call); tracking as status completed plus a customer note.

Shapes: WooCommerce REST API v3 docs (Order properties: id, number, status, date_created_gmt,
billing, shipping, line_items[].sku/product_id/variation_id/price, shipping_total, discount_total,
total, payment_method, transaction_id, date_paid; batch update; order notes with customer_note),
and WC_Webhook's delivery headers (X-WC-Webhook-Topic/-Resource/-Event/-Signature/-ID/-Delivery-ID;
the signature is base64 HMAC-SHA256 of the body under the webhook's secret).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from chassis.signatures import signed_by_base64
from contracts import CancelReason, Payment, PaymentMethod, PaymentStatus
from services.channels.stores.common import (
    call,
    full_name,
    polled_delivery_id,
    read_payload,
    state_name,
    to_paise,
)
from services.channels.stores.interface import (
    Account,
    Delivery,
    Listing,
    PolledOrder,
    StockLevel,
    StoreError,
    StoreLine,
    StoreOrder,
    StoreUnreadable,
    Tracking,
    WebhookRefused,
)

ORDER_TOPICS = frozenset({"order.created", "order.updated"})
PAID = frozenset({"processing", "completed", "on-hold"})


def payment_of(order: Mapping[str, Any], total_paise: int) -> Payment:
    """payment_method cod is COD; another gateway with a transaction id (or a paid date) is captured."""
    method = str(order.get("payment_method") or "")
    if method == "cod":
        return Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=total_paise)
    paid = bool(order.get("date_paid") or order.get("date_paid_gmt")) or (
        bool(order.get("transaction_id")) and order.get("status") in PAID
    )
    kind = PaymentMethod.UPI if "upi" in method else PaymentMethod.CARD
    return Payment(
        method=kind,
        status=PaymentStatus.CAPTURED if paid else PaymentStatus.PENDING,
        gateway=method or "woocommerce",
        gateway_payment_id=(str(order.get("transaction_id") or order["id"]) if paid else None),
        amount_paise=total_paise,
    )


def _money(value: Any, field: str) -> int:
    """WooCommerce money: strings ("29.35") or, for line prices, floats (10.989999)."""
    if isinstance(value, float):
        value = f"{value:.2f}"
    return to_paise(value, field=field)


def read_order_payload(order: Mapping[str, Any]) -> StoreOrder:
    """A WooCommerce Order in our terms; StoreUnreadable naming the first field it cannot read."""
    if not isinstance(order, Mapping) or not isinstance(order.get("id"), int | str) or order["id"] == "":
        raise StoreUnreadable("id: missing; not a WooCommerce order")  # a null id would be order "None"
    ship = order.get("shipping") or {}
    bill = order.get("billing") or {}
    address = ship if ship.get("address_1") else bill
    lines = []
    for i, item in enumerate(order.get("line_items") or []):
        variation = item.get("variation_id") or 0
        lines.append(
            StoreLine(
                channel_sku=str(item.get("sku") or ""),
                quantity=int(item.get("quantity") or 0),
                unit_price_paise=_money(item.get("price"), f"line_items.{i}.price"),
                variant_id=str(variation or item.get("product_id") or "") or None,
                title=item.get("name"),
            )
        )
    if not lines:
        raise StoreUnreadable("line_items: an order needs at least one line")
    raw_time = order.get("date_created_gmt") or order.get("date_created")
    try:
        placed_at = datetime.fromisoformat(str(raw_time))
    except ValueError:
        raise StoreUnreadable(f"date_created_gmt: {raw_time!r} is not a timestamp") from None
    if placed_at.tzinfo is None:
        placed_at = placed_at.replace(tzinfo=UTC)  # *_gmt fields are UTC without an offset
    total = _money(order.get("total"), "total")
    return StoreOrder(
        store_order_id=str(order["id"]),
        name=f"#{order.get('number') or order['id']}",
        placed_at=placed_at,
        customer={
            "name": full_name(address.get("first_name"), address.get("last_name")),
            "phone": ship.get("phone") or bill.get("phone"),
            "email": bill.get("email") or None,
        },
        shipping_address={
            "line1": address.get("address_1"),
            "line2": address.get("address_2") or None,
            "city": address.get("city"),
            "state": state_name(address.get("state")),
            "pincode": str(address.get("postcode") or "").replace(" ", ""),
        },
        lines=tuple(lines),
        shipping_fee_paise=_money(order.get("shipping_total"), "shipping_total"),
        discount_paise=_money(order.get("discount_total"), "discount_total"),
        total_paise=total,
        payment=payment_of(order, total),
        cancelled=order.get("status") == "cancelled",
    )


class WooCommerceStore:
    """A WooCommerce store's REST API v3 and webhooks."""

    platform = "woocommerce"
    max_stock_batch = 100

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    def verify_webhook(self, account: Account, headers: Mapping[str, str], body: bytes) -> Delivery:
        if not signed_by_base64(account.webhook_secret, body, headers.get("x-wc-webhook-signature")):
            raise WebhookRefused("X-WC-Webhook-Signature does not match the body under this account's secret")
        delivery = headers.get("x-wc-webhook-delivery-id")
        topic = headers.get("x-wc-webhook-topic")
        if not delivery or not topic:
            raise WebhookRefused("X-WC-Webhook-Delivery-ID and X-WC-Webhook-Topic are required", status=400)
        return Delivery(delivery_id=delivery, topic=topic, body=body)

    def read_order(self, delivery: Delivery) -> StoreOrder | None:
        if delivery.topic not in ORDER_TOPICS:
            return None
        return read_payload(delivery.body, read_order_payload, platform="WooCommerce")

    def _url(self, account: Account, path: str) -> str:
        return f"{account.base_url.rstrip('/')}/wp-json/wc/v3/{path}"

    def _auth(self, account: Account) -> tuple[str, str]:
        return (account.api_key, account.api_secret)

    async def set_stock(self, account: Account, levels: list[StockLevel]) -> dict[str, int]:
        # Simple products go to products/batch; a variation to its parent's variations/batch.
        simple: list[StockLevel] = []
        by_parent: dict[str, list[StockLevel]] = {}
        for level in levels:
            listing = level.listing
            if not listing.product_id:
                raise StoreError(f"{listing.channel_sku}: no product id on its mapping", retryable=False)
            if listing.variant_id and listing.variant_id != listing.product_id:
                by_parent.setdefault(listing.product_id, []).append(level)
            else:
                simple.append(level)
        confirmed: dict[str, int] = {}
        batches: list[tuple[str, list[StockLevel], str]] = []
        if simple:
            batches.append(("products/batch", simple, "product_id"))
        for parent, group in by_parent.items():
            batches.append((f"products/{parent}/variations/batch", group, "variant_id"))
        for path, group, id_field in batches:
            by_id = {str(getattr(lv.listing, id_field)): lv for lv in group}
            answer = await call(
                self._client,
                "POST",
                self._url(account, path),
                "update stock",
                auth=self._auth(account),
                json={
                    "update": [
                        {"id": int(i), "manage_stock": True, "stock_quantity": lv.quantity}
                        for i, lv in by_id.items()
                    ]
                },
            )
            for item in answer.get("update") or []:
                sent = by_id.get(str(item.get("id")))
                if sent is not None and item.get("stock_quantity") is not None:
                    confirmed[sent.listing.channel_sku] = int(item["stock_quantity"])
        return confirmed

    async def read_stock(self, account: Account, listings: list[Listing]) -> dict[str, int]:
        # Simple products from products?include=…; a variation from its parent's variations?include=….
        groups: dict[str, list[Listing]] = {}
        for x in listings:
            if not x.product_id:
                continue
            variation = x.variant_id and x.variant_id != x.product_id
            path = f"products/{x.product_id}/variations" if variation else "products"
            groups.setdefault(path, []).append(x)
        shown: dict[str, int] = {}
        for path, group in groups.items():
            id_of = {str(x.variant_id if path != "products" else x.product_id): x.channel_sku for x in group}
            items = await call(
                self._client,
                "GET",
                self._url(account, path),
                "read stock",
                auth=self._auth(account),
                params={"include": ",".join(id_of), "per_page": 100},
            )
            for item in items:
                sku = id_of.get(str(item.get("id")))
                if sku is not None and item.get("stock_quantity") is not None:
                    shown[sku] = int(item["stock_quantity"])
        return shown

    async def orders_changed_since(self, account: Account, since: datetime) -> list[PolledOrder]:
        # modified_after (WooCommerce 5.8+) with dates_are_gmt: the cursor is UTC, as are *_gmt fields.
        found: list[PolledOrder] = []
        page = 1
        while True:
            orders = await call(
                self._client,
                "GET",
                self._url(account, "orders"),
                "list orders changed",
                auth=self._auth(account),
                params={
                    "modified_after": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "dates_are_gmt": "true",
                    "orderby": "modified",
                    "order": "asc",
                    "per_page": 100,
                    "page": page,
                },
            )
            for order in orders:
                updated = datetime.fromisoformat(str(order.get("date_modified_gmt")))
                updated = updated if updated.tzinfo else updated.replace(tzinfo=UTC)
                found.append(
                    PolledOrder(
                        updated_at=updated,
                        delivery=Delivery(
                            delivery_id=polled_delivery_id(order["id"], updated, order.get("status")),
                            topic="order.updated",
                            body=json.dumps(order).encode(),
                        ),
                    )
                )
            if len(orders) < 100:
                return found
            page += 1

    async def fulfil(self, account: Account, store_order_id: str, tracking: Tracking) -> None:
        notes = await call(
            self._client,
            "GET",
            self._url(account, f"orders/{store_order_id}/notes"),
            "read order notes",
            auth=self._auth(account),
        )
        if not any(tracking.awb in str(n.get("note", "")) for n in notes):
            text = f"Shipped with {tracking.courier}, AWB {tracking.awb}."
            if tracking.url:
                text += f" Track it at {tracking.url}"
            await call(
                self._client,
                "POST",
                self._url(account, f"orders/{store_order_id}/notes"),
                "add tracking note",
                auth=self._auth(account),
                json={"note": text, "customer_note": True},
            )
        await call(
            self._client,
            "PUT",
            self._url(account, f"orders/{store_order_id}"),
            "complete order",
            auth=self._auth(account),
            json={"status": "completed"},
        )

    async def cancel(self, account: Account, store_order_id: str, *, reason: CancelReason, note: str) -> str:
        order = await call(
            self._client,
            "GET",
            self._url(account, f"orders/{store_order_id}"),
            "read order",
            auth=self._auth(account),
        )
        if order.get("status") in ("cancelled", "refunded"):
            return "already cancelled on the store"
        await call(
            self._client,
            "POST",
            self._url(account, f"orders/{store_order_id}/notes"),
            "add cancellation note",
            auth=self._auth(account),
            json={"note": f"Cancelled in Dabba ({reason.value}): {note}", "customer_note": False},
        )
        await call(
            self._client,
            "PUT",
            self._url(account, f"orders/{store_order_id}"),
            "cancel order",
            auth=self._auth(account),
            json={"status": "cancelled"},
        )
        return "cancelled on the store"
