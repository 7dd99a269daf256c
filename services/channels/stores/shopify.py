"""Shopify: order webhooks (orders/create, orders/updated, orders/cancelled) signed with
X-Shopify-Hmac-Sha256; stock through the GraphQL Admin API's inventorySetQuantities (compare-and-set
with changeFromQuantity, an @idempotent key, at most 250 quantities a call); tracking through
fulfillmentCreate on the order's open fulfillment orders.

Shapes: Shopify's webhook docs (headers), the Order webhook payload (REST Order resource fields:
id, name, created_at, line_items[].sku/variant_id/price, total_price, total_discounts,
total_shipping_price_set, financial_status, payment_gateway_names, cancelled_at) and the GraphQL
Admin reference for InventorySetQuantitiesInput / InventoryQuantityInput (2026-04).
"""

from __future__ import annotations

import json
import uuid
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

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
COD_GATEWAYS = ("cash on delivery", "cod")

LEVELS = """query Levels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}"""

SET_QUANTITIES = """mutation SetStock($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}"""

FULFILLMENT_ORDERS = """query FulfillmentOrders($id: ID!) {
  order(id: $id) { fulfillmentOrders(first: 20) { nodes { id status } } }
}"""

FULFILL = """mutation Fulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"""

CANCEL = """mutation Cancel($orderId: ID!, $reason: OrderCancelReason!,
                 $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!,
                 $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { code field message }
  }
}"""

# Shopify's OrderCancelReason for each of ours.
CANCEL_REASONS = {
    CancelReason.CUSTOMER_REQUEST: "CUSTOMER",
    CancelReason.PAYMENT_EXPIRED: "DECLINED",
    CancelReason.PAYMENT_FAILED: "DECLINED",
    CancelReason.COD_DECLINED: "DECLINED",
    CancelReason.OUT_OF_STOCK: "INVENTORY",
    CancelReason.UNROUTABLE: "INVENTORY",
    CancelReason.FRAUD_SUSPECTED: "FRAUD",
    CancelReason.OPERATOR: "STAFF",
    CancelReason.OTHER: "OTHER",
}

ORDERS_CHANGED = """query OrdersChanged($query: String!, $after: String) {
  orders(first: 50, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      legacyResourceId name email phone createdAt updatedAt cancelledAt
      displayFinancialStatus paymentGatewayNames
      totalPriceSet { shopMoney { amount } }
      totalDiscountsSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      shippingAddress { firstName lastName name address1 address2 city province provinceCode zip phone }
      customer { firstName lastName email phone }
      lineItems(first: 100) {
        nodes {
          sku quantity title variant { legacyResourceId } originalUnitPriceSet { shopMoney { amount } }
        }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _amount(money_set: Mapping[str, Any] | None) -> Any:
    return ((money_set or {}).get("shopMoney") or {}).get("amount")


def rest_order_of(node: Mapping[str, Any]) -> dict[str, Any]:
    """A GraphQL Order node in the REST Order shape of the order webhooks, so one reader serves both.
    GraphQL's displayFinancialStatus is the REST financial_status upper-cased."""
    address = node.get("shippingAddress") or {}
    customer = node.get("customer") or {}
    return {
        "id": int(node["legacyResourceId"]),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "financial_status": str(node.get("displayFinancialStatus") or "pending").lower(),
        "payment_gateway_names": node.get("paymentGatewayNames") or [],
        "total_price": _amount(node.get("totalPriceSet")),
        "total_discounts": _amount(node.get("totalDiscountsSet")),
        "total_shipping_price_set": {"shop_money": {"amount": _amount(node.get("totalShippingPriceSet"))}},
        "shipping_address": {
            "first_name": address.get("firstName"),
            "last_name": address.get("lastName"),
            "name": address.get("name"),
            "address1": address.get("address1"),
            "address2": address.get("address2"),
            "city": address.get("city"),
            "province": address.get("province"),
            "province_code": address.get("provinceCode"),
            "zip": address.get("zip"),
            "phone": address.get("phone"),
        },
        "customer": {
            "first_name": customer.get("firstName"),
            "last_name": customer.get("lastName"),
            "email": customer.get("email"),
            "phone": customer.get("phone"),
        },
        "line_items": [
            {
                "sku": item.get("sku"),
                "quantity": item.get("quantity"),
                "title": item.get("title"),
                "variant_id": (item.get("variant") or {}).get("legacyResourceId"),
                "price": _amount(item.get("originalUnitPriceSet")),
            }
            for item in ((node.get("lineItems") or {}).get("nodes") or [])
        ],
    }


def gid(kind: str, value: str) -> str:
    """Shopify's global id of a numeric id (an id that already is one is kept)."""
    return value if value.startswith("gid://") else f"gid://shopify/{kind}/{value}"


def payment_of(order: Mapping[str, Any], total_paise: int) -> Payment:
    """Shopify's financial status and gateway names in our terms: the COD gateway pending is COD;
    paid is captured by the gateway that took it."""
    gateways = [str(g).lower() for g in order.get("payment_gateway_names") or []]
    status = str(order.get("financial_status") or "pending")
    if any(cod in g for g in gateways for cod in COD_GATEWAYS):
        return Payment(method=PaymentMethod.COD, status=PaymentStatus.PENDING, amount_paise=total_paise)
    gateway = gateways[0] if gateways else "shopify"
    method = PaymentMethod.CARD
    for word, kind in (
        ("upi", PaymentMethod.UPI),
        ("wallet", PaymentMethod.WALLET),
        ("paytm", PaymentMethod.WALLET),
    ):
        if any(word in g for g in gateways):
            method = kind
    mapped = {
        "paid": PaymentStatus.CAPTURED,
        "partially_refunded": PaymentStatus.CAPTURED,
        "authorized": PaymentStatus.AUTHORIZED,
    }.get(status, PaymentStatus.PENDING)
    return Payment(
        method=method,
        status=mapped,
        gateway=gateway,
        # The order webhook carries no transaction id; the order's own id identifies the payment.
        gateway_payment_id=str(order.get("checkout_token") or order.get("id"))
        if mapped is not PaymentStatus.PENDING
        else None,
        amount_paise=total_paise,
    )


def read_order_payload(order: Mapping[str, Any]) -> StoreOrder:
    """A Shopify Order payload in our terms; StoreUnreadable naming the first field it cannot read."""
    if not isinstance(order, Mapping) or not isinstance(order.get("id"), int | str) or order["id"] == "":
        raise StoreUnreadable("id: missing; not a Shopify order")  # a null id would be order "None"
    address = order.get("shipping_address") or order.get("billing_address") or {}
    customer = order.get("customer") or {}
    lines = []
    for i, item in enumerate(order.get("line_items") or []):
        lines.append(
            StoreLine(
                channel_sku=str(item.get("sku") or ""),
                quantity=int(item.get("quantity") or 0),
                unit_price_paise=to_paise(item.get("price"), field=f"line_items.{i}.price"),
                variant_id=str(item["variant_id"]) if item.get("variant_id") is not None else None,
                title=item.get("title") or item.get("name"),
            )
        )
    if not lines:
        raise StoreUnreadable("line_items: an order needs at least one line")
    shipping_set = ((order.get("total_shipping_price_set") or {}).get("shop_money") or {}).get("amount")
    if shipping_set is None:
        shipping_set = (
            sum(
                to_paise(s.get("price"), field="shipping_lines.price")
                for s in order.get("shipping_lines") or []
            )
            / 100
        )
    total = to_paise(order.get("total_price"), field="total_price")
    try:
        placed_at = datetime.fromisoformat(str(order.get("created_at")))
    except ValueError:
        raise StoreUnreadable(f"created_at: {order.get('created_at')!r} is not a timestamp") from None
    return StoreOrder(
        store_order_id=str(order["id"]),
        name=str(order.get("name") or order["id"]),
        placed_at=placed_at,
        customer={
            "name": full_name(address.get("first_name"), address.get("last_name"))
            or address.get("name")
            or full_name(customer.get("first_name"), customer.get("last_name")),
            "phone": address.get("phone") or order.get("phone") or customer.get("phone"),
            "email": order.get("email") or order.get("contact_email") or customer.get("email"),
        },
        shipping_address={
            "line1": address.get("address1"),
            "line2": address.get("address2") or None,
            "city": address.get("city"),
            "state": state_name(address.get("province") or address.get("province_code")),
            "pincode": str(address.get("zip") or "").replace(" ", ""),
        },
        lines=tuple(lines),
        shipping_fee_paise=to_paise(shipping_set, field="total_shipping_price_set"),
        discount_paise=to_paise(order.get("total_discounts"), field="total_discounts"),
        total_paise=total,
        payment=payment_of(order, total),
        cancelled=order.get("cancelled_at") is not None,
    )


class ShopifyStore:
    """A Shopify store's Admin API (GraphQL) and webhooks."""

    platform = "shopify"
    max_stock_batch = 250

    def __init__(self, client: httpx.AsyncClient, *, api_version: str) -> None:
        self._client = client
        self._version = api_version

    def verify_webhook(self, account: Account, headers: Mapping[str, str], body: bytes) -> Delivery:
        if not signed_by_base64(account.webhook_secret, body, headers.get("x-shopify-hmac-sha256")):
            raise WebhookRefused("X-Shopify-Hmac-Sha256 does not match the body under this account's secret")
        delivery = headers.get("x-shopify-webhook-id")
        topic = headers.get("x-shopify-topic")
        if not delivery or not topic:
            raise WebhookRefused("X-Shopify-Webhook-Id and X-Shopify-Topic are required", status=400)
        return Delivery(delivery_id=delivery, topic=topic, body=body)

    def read_order(self, delivery: Delivery) -> StoreOrder | None:
        if delivery.topic not in ORDER_TOPICS:
            return None
        order = read_payload(delivery.body, read_order_payload, platform="Shopify")
        if delivery.topic == "orders/cancelled" and not order.cancelled:
            raise StoreUnreadable("cancelled_at: orders/cancelled without a cancellation time")
        return order

    async def _graphql(self, account: Account, query: str, variables: dict[str, Any], what: str) -> Any:
        answer = await call(
            self._client,
            "POST",
            f"{account.base_url.rstrip('/')}/admin/api/{self._version}/graphql.json",
            what,
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": account.api_secret},
        )
        errors = answer.get("errors") or []
        if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
            # Cost-based limit: wait until the bucket holds what this call costs.
            cost = (answer.get("extensions") or {}).get("cost") or {}
            status = cost.get("throttleStatus") or {}
            needed = float(cost.get("requestedQueryCost") or 10) - float(
                status.get("currentlyAvailable") or 0
            )
            wait = max(needed, 1.0) / max(float(status.get("restoreRate") or 50), 1.0)
            raise StoreError(f"{what}: throttled", retry_after_s=wait)
        if errors:
            raise StoreError(f"{what}: {errors[0].get('message')}", retryable=False)
        return answer["data"]

    async def _available(self, account: Account, levels: list[StockLevel]) -> dict[str, int]:
        """What the store shows now, by inventory item gid."""
        data = await self._graphql(
            account,
            LEVELS,
            {
                "ids": [gid("InventoryItem", str(level.listing.inventory_item_id)) for level in levels],
                "locationId": gid("Location", str(account.location_id)),
            },
            "read inventory levels",
        )
        found: dict[str, int] = {}
        for node in data.get("nodes") or []:
            if node and node.get("inventoryLevel"):
                for q in node["inventoryLevel"]["quantities"]:
                    if q["name"] == "available":
                        found[node["id"]] = int(q["quantity"])
        return found

    async def set_stock(self, account: Account, levels: list[StockLevel]) -> dict[str, int]:
        missing = [lv.listing.channel_sku for lv in levels if not lv.listing.inventory_item_id]
        if missing or not account.location_id:
            raise StoreError(
                f"no inventory item id for {missing} or no location on the account", retryable=False
            )
        by_item = {gid("InventoryItem", str(lv.listing.inventory_item_id)): lv for lv in levels}
        for _ in range(3):  # compare-and-set: a sale on the store between read and write → read again
            now = await self._available(account, levels)
            quantities = [
                {
                    "inventoryItemId": item,
                    "locationId": gid("Location", str(account.location_id)),
                    "quantity": level.quantity,
                    "changeFromQuantity": now.get(item),
                }
                for item, level in by_item.items()
            ]
            data = await self._graphql(
                account,
                SET_QUANTITIES,
                {
                    "input": {
                        "name": "available",
                        "reason": "correction",
                        "referenceDocumentUri": "dabba://channels/stock-sync",
                        "quantities": quantities,
                    },
                    "key": str(uuid.uuid4()),
                },
                "set inventory quantities",
            )
            errors = data["inventorySetQuantities"]["userErrors"]
            if any(e.get("code") == "CHANGE_FROM_QUANTITY_STALE" for e in errors):
                continue
            if errors:
                raise StoreError(f"set inventory quantities: {errors[0].get('message')}", retryable=False)
            confirmed = await self._available(account, levels)
            return {
                by_item[item].listing.channel_sku: qty for item, qty in confirmed.items() if item in by_item
            }
        raise StoreError("set inventory quantities: the store's numbers kept changing under us")

    async def read_stock(self, account: Account, listings: list[Listing]) -> dict[str, int]:
        known = [x for x in listings if x.inventory_item_id]
        if not known or not account.location_id:
            return {}
        shown = await self._available(account, [StockLevel(listing=x, quantity=0) for x in known])
        return {
            x.channel_sku: shown[item]
            for x in known
            if (item := gid("InventoryItem", str(x.inventory_item_id))) in shown
        }

    async def orders_changed_since(self, account: Account, since: datetime) -> list[PolledOrder]:
        stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        found: list[PolledOrder] = []
        after: str | None = None
        while True:
            data = await self._graphql(
                account,
                ORDERS_CHANGED,
                {"query": f"updated_at:>'{stamp}'", "after": after},
                "list orders changed",
            )
            page = data["orders"]
            for node in page["nodes"]:
                order = rest_order_of(node)
                updated = datetime.fromisoformat(str(order["updated_at"]))
                found.append(
                    PolledOrder(
                        updated_at=updated,
                        delivery=Delivery(
                            delivery_id=polled_delivery_id(
                                order["id"], updated, "cancelled" if order.get("cancelled_at") else "open"
                            ),
                            topic="orders/updated",
                            body=json.dumps(order).encode(),
                        ),
                    )
                )
            if not page["pageInfo"]["hasNextPage"]:
                return found
            after = page["pageInfo"]["endCursor"]

    async def fulfil(self, account: Account, store_order_id: str, tracking: Tracking) -> None:
        data = await self._graphql(
            account, FULFILLMENT_ORDERS, {"id": gid("Order", store_order_id)}, "read fulfillment orders"
        )
        order = data.get("order")
        if order is None:
            raise StoreError(f"order {store_order_id} is not on the store", retryable=False)
        open_orders = [
            n["id"] for n in order["fulfillmentOrders"]["nodes"] if n["status"] in ("OPEN", "IN_PROGRESS")
        ]
        if not open_orders:
            return  # already fulfilled (by us before a crash, or by the seller): nothing owed
        data = await self._graphql(
            account,
            FULFILL,
            {
                "fulfillment": {
                    "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo} for fo in open_orders],
                    "notifyCustomer": True,
                    "trackingInfo": {
                        "company": tracking.courier,
                        "number": tracking.awb,
                        "url": tracking.url,
                    },
                }
            },
            "create fulfillment",
        )
        errors = data["fulfillmentCreate"]["userErrors"]
        if errors:
            raise StoreError(f"create fulfillment: {errors[0].get('message')}", retryable=False)

    async def cancel(self, account: Account, store_order_id: str, *, reason: CancelReason, note: str) -> str:
        data = await self._graphql(
            account,
            CANCEL,
            {
                "orderId": gid("Order", store_order_id),
                "reason": CANCEL_REASONS.get(reason, "OTHER"),
                "refundMethod": {"originalPaymentMethodsRefund": True},
                "restock": False,
                "notifyCustomer": True,
                "staffNote": note[:255],
            },
            "cancel order",
        )
        errors = data["orderCancel"]["orderCancelUserErrors"]
        if any("already" in str(e.get("message", "")).lower() for e in errors):
            return "already cancelled on the store"
        if errors:
            raise StoreError(f"cancel order: {errors[0].get('message')}", retryable=False)
        return "cancelled on the store"
