"""A Shopify store: order webhooks signed with X-Shopify-Hmac-Sha256 (sent, duplicated or dropped on
request), and the GraphQL Admin API calls channels makes — inventory levels (nodes), the
inventorySetQuantities mutation (compare-and-set by changeFromQuantity, @idempotent required as from
2026-04), fulfillment orders and fulfillmentCreate — behind a cost bucket that answers THROTTLED.

Control under /_sandbox/shopify/{shop}: set the store up, place or cancel an order, redeliver a
webhook, read the store's state (stock, fulfilments, webhooks sent).
"""

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request

from sandbox.control import fault_gate
from sandbox.errors import ProviderError
from sandbox.state import Provider
from sandbox.store_webhooks import (
    Listing,
    PlaceOrder,
    SentWebhook,
    StoreSetup,
    StoreState,
    later,
    rupees,
    sell,
    sign,
    stock,
)
from sandbox.store_webhooks import redeliver as redeliver_webhook
from sandbox.store_webhooks import send as send_webhook

BUCKET_SIZE = 1000.0
RESTORE_PER_S = 50.0
LOCATION_ID = 1
_GID = re.compile(r"^gid://shopify/(\w+)/(\d+)$")


@dataclass
class Shop:
    """One store's catalogue, orders, fulfilments, webhooks and cost bucket."""

    name: str
    webhook_url: str = ""
    webhook_secret: str = ""
    listings: dict[str, Listing] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    fulfillment_orders: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    fulfillments: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[SentWebhook] = field(default_factory=list)
    idempotency: dict[str, dict[str, Any]] = field(default_factory=dict)
    bucket: float = BUCKET_SIZE
    clock: Callable[[], float] = time.monotonic
    bucket_at: float = field(default_factory=time.monotonic)
    set_calls: int = 0

    def take(self, cost: float) -> dict[str, Any] | None:
        """Spend from the bucket; the throttle status when it cannot pay (Shopify's shape)."""
        now = self.clock()
        self.bucket = min(BUCKET_SIZE, self.bucket + (now - self.bucket_at) * RESTORE_PER_S)
        self.bucket_at = now
        if self.bucket < cost:
            return {
                "requestedQueryCost": cost,
                "throttleStatus": {
                    "maximumAvailable": BUCKET_SIZE,
                    "currentlyAvailable": int(self.bucket),
                    "restoreRate": RESTORE_PER_S,
                },
            }
        self.bucket -= cost
        return None


@dataclass
class ShopifyState(StoreState):
    next_id: int = 5_940_139_491_000
    shops: dict[str, Shop] = field(default_factory=dict)

    def shop(self, name: str) -> Shop:
        if name not in self.shops:
            self.shops[name] = Shop(name=name)
        return self.shops[name]


async def get_shopify(request: Request) -> ShopifyState:
    state: ShopifyState = request.app.state.shopify
    return state


Shopify = Annotated[ShopifyState, Depends(get_shopify)]
control = APIRouter(prefix="/_sandbox/shopify", tags=["sandbox: shopify"])
router = APIRouter(tags=["shopify admin api"])


def render_fault(status_code: int) -> ProviderError:
    headers = {"Retry-After": "1.0"} if status_code == 429 else None
    return ProviderError(status_code, {"errors": "Sandbox injected fault"}, headers)


@control.put("/{shop}")
async def setup(shop: str, body: StoreSetup, state: Shopify) -> dict[str, Any]:
    """Point the store's webhooks at channels and stock its catalogue (ids kept across calls)."""
    store = state.shop(shop)
    store.webhook_url, store.webhook_secret = body.webhook_url, body.webhook_secret
    stock(store.listings, body.products, lambda: (state.new_id(), state.new_id(), state.new_id()))
    return {"location_id": str(LOCATION_ID), "products": [vars(x) for x in store.listings.values()]}


@control.get("/{shop}")
async def inspect(shop: str, state: Shopify) -> dict[str, Any]:
    store = state.shop(shop)
    return {
        "stock": {sku: x.available for sku, x in store.listings.items()},
        "orders": {
            str(oid): {
                "name": o["name"],
                "cancelled_at": o["cancelled_at"],
                "cancel_reason": o.get("cancel_reason"),
                "fulfillment_status": o["fulfillment_status"],
            }
            for oid, o in store.orders.items()
        },
        "fulfillments": store.fulfillments,
        "webhooks": [w.summary() for w in store.webhooks],
        "set_quantities_calls": store.set_calls,
    }


def order_payload(store: Shop, order_id: int, number: int, body: PlaceOrder) -> dict[str, Any]:
    """An order in the shape of Shopify's orders/create webhook (the REST Order resource)."""
    b = body.buyer
    first, _, last = b.name.partition(" ")
    items: list[dict[str, Any]] = []
    subtotal = 0
    for line in body.lines:
        listing = store.listings.get(line.sku)
        if listing is None:
            raise HTTPException(422, detail=f"the store does not sell {line.sku}")
        subtotal += listing.price_paise * line.quantity
        items.append(
            {
                "id": order_id * 10 + len(items),
                "variant_id": listing.variant_id,
                "product_id": listing.product_id,
                "sku": listing.sku,
                "title": listing.sku,
                "name": listing.sku,
                "quantity": line.quantity,
                "price": rupees(listing.price_paise),
                "fulfillable_quantity": line.quantity,
                "fulfillment_status": None,
                "requires_shipping": True,
                "taxable": True,
            }
        )
    total = subtotal + body.shipping_paise
    address = {
        "first_name": first,
        "last_name": last,
        "name": b.name,
        "address1": b.line1,
        "address2": b.line2,
        "city": b.city,
        "province": b.state,
        "province_code": b.state_code,
        "zip": b.pincode,
        "country": "India",
        "country_code": "IN",
        "phone": b.phone,
        "company": None,
    }
    now = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    money = {"amount": rupees(body.shipping_paise), "currency_code": "INR"}
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": f"#{number}",
        "order_number": number,
        "email": b.email,
        "contact_email": b.email,
        "phone": None,
        "created_at": now,
        "updated_at": now,
        "processed_at": now,
        "currency": "INR",
        "presentment_currency": "INR",
        "subtotal_price": rupees(subtotal),
        "total_line_items_price": rupees(subtotal),
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "taxes_included": True,
        "total_price": rupees(total),
        "total_shipping_price_set": {"shop_money": money, "presentment_money": money},
        "shipping_lines": [{"title": "Standard", "price": rupees(body.shipping_paise), "code": "Standard"}],
        "financial_status": "pending" if body.cod else "paid",
        "payment_gateway_names": ["Cash on Delivery (COD)"] if body.cod else ["razorpay"],
        "checkout_token": uuid.uuid4().hex,
        "fulfillment_status": None,
        "cancelled_at": None,
        "cancel_reason": None,
        "test": True,
        "customer": {
            "id": order_id + 7,
            "email": b.email,
            "first_name": first,
            "last_name": last,
            "phone": b.phone,
        },
        "shipping_address": address,
        "billing_address": address,
        "line_items": items,
    }


async def send(
    state: ShopifyState, store: Shop, topic: str, payload: dict[str, Any], delivery: str = "once"
) -> SentWebhook:
    """Sign and send one webhook as Shopify does (or not, or twice)."""
    body = json.dumps(payload).encode()
    delivery_id = str(uuid.uuid4())
    hook = SentWebhook(
        delivery_id=delivery_id,
        topic=topic,
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(store.webhook_secret, body),
            "X-Shopify-Shop-Domain": f"{store.name}.myshopify.com",
            "X-Shopify-API-Version": "2026-04",
            "X-Shopify-Webhook-Id": delivery_id,
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
        },
    )
    return await send_webhook(state, store.webhook_url, store.webhooks, hook, delivery)


@control.post("/{shop}/orders")
async def place_order(shop: str, body: PlaceOrder, state: Shopify) -> dict[str, Any]:
    """A buyer checks out: stock goes down on the store, and orders/create goes to the webhook URL."""
    store = state.shop(shop)
    order_id = state.new_id()
    payload = order_payload(store, order_id, 1000 + len(store.orders) + 1, body)
    sell(store.listings, body.lines)
    store.orders[order_id] = payload
    store.fulfillment_orders[order_id] = [{"id": state.new_id(), "status": "OPEN"}]
    hook = await send(state, store, "orders/create", payload, body.delivery)
    return {"id": order_id, "name": payload["name"], "webhook": hook.summary()}


@control.post("/{shop}/orders/{order_id}/cancel")
async def cancel_order(shop: str, order_id: int, state: Shopify) -> dict[str, Any]:
    store = state.shop(shop)
    payload = store.orders.get(order_id)
    if payload is None:
        raise HTTPException(404, detail=f"no order {order_id}")
    payload["cancelled_at"] = payload["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    payload["cancel_reason"] = "customer"
    hook = await send(state, store, "orders/cancelled", payload)
    return {"id": order_id, "webhook": hook.summary()}


@control.post("/{shop}/webhooks/{delivery_id}/redeliver")
async def redeliver(shop: str, delivery_id: str, state: Shopify) -> dict[str, Any]:
    store = state.shop(shop)
    return await redeliver_webhook(state, store.webhook_url, store.webhooks, delivery_id)


# --- GraphQL Admin API ---------------------------------------------------------------------------


def _id(value: Any, kind: str) -> int:
    match = _GID.match(str(value))
    if match is None or match.group(1) != kind:
        raise ValueError(f"{value!r} is not a {kind} id")
    return int(match.group(2))


def _levels(store: Shop, ids: list[str]) -> dict[str, Any]:
    by_item = {x.inventory_item_id: x for x in store.listings.values()}
    nodes = []
    for raw in ids:
        listing = by_item.get(_id(raw, "InventoryItem"))
        nodes.append(
            None
            if listing is None
            else {
                "id": raw,
                "inventoryLevel": {"quantities": [{"name": "available", "quantity": listing.available}]},
            }
        )
    return {"nodes": nodes}


def _set_quantities(store: Shop, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    if "@idempotent" not in query:
        raise ValueError("inventorySetQuantities requires the @idempotent directive as from 2026-04")
    key = str(variables.get("key") or variables.get("idempotencyKey") or "")
    if key in store.idempotency:
        return store.idempotency[key]
    data = variables["input"]
    by_item = {x.inventory_item_id: x for x in store.listings.values()}
    errors, plan = [], []
    if data.get("name") != "available":
        errors.append(
            {"code": "INVALID_NAME", "field": ["input", "name"], "message": "only available is set here"}
        )
    for i, q in enumerate(data.get("quantities") or []):
        where = ["input", "quantities", str(i)]
        listing = by_item.get(_id(q["inventoryItemId"], "InventoryItem"))
        if listing is None:
            errors.append(
                {
                    "code": "INVALID_INVENTORY_ITEM",
                    "field": [*where, "inventoryItemId"],
                    "message": "not found",
                }
            )
        elif "changeFromQuantity" not in q:
            errors.append(
                {
                    "code": "INVALID_QUANTITY",
                    "field": [*where, "changeFromQuantity"],
                    "message": "changeFromQuantity is required",
                }
            )
        elif q["changeFromQuantity"] is not None and q["changeFromQuantity"] != listing.available:
            errors.append(
                {
                    "code": "CHANGE_FROM_QUANTITY_STALE",
                    "field": [*where, "changeFromQuantity"],
                    "message": "The specified compare quantity does not match the current quantity.",
                }
            )
        else:
            plan.append((listing, int(q["quantity"])))
    if errors:
        return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
    changes = []
    for listing, quantity in plan:
        changes.append(
            {"name": "available", "delta": quantity - listing.available, "quantityAfterChange": quantity}
        )
        listing.available = quantity
    store.set_calls += 1
    result = {
        "inventorySetQuantities": {
            "inventoryAdjustmentGroup": {"reason": data.get("reason"), "changes": changes},
            "userErrors": [],
        }
    }
    store.idempotency[key] = result
    return result


_UPDATED_AFTER = re.compile(r"updated_at:>'?([0-9T:.+Z-]+)'?")


def _order_node(order: dict[str, Any]) -> dict[str, Any]:
    """A stored order (REST shape) as the GraphQL Admin API's Order object."""

    def money(amount: Any) -> dict[str, Any]:
        return {"shopMoney": {"amount": amount, "currencyCode": "INR"}}

    a = order["shipping_address"]
    c = order["customer"]
    return {
        "legacyResourceId": str(order["id"]),
        "name": order["name"],
        "email": order["email"],
        "phone": order["phone"],
        "createdAt": order["created_at"],
        "updatedAt": order["updated_at"],
        "cancelledAt": order["cancelled_at"],
        "displayFinancialStatus": str(order["financial_status"]).upper(),
        "paymentGatewayNames": order["payment_gateway_names"],
        "totalPriceSet": money(order["total_price"]),
        "totalDiscountsSet": money(order["total_discounts"]),
        "totalShippingPriceSet": money(order["total_shipping_price_set"]["shop_money"]["amount"]),
        "shippingAddress": {
            "firstName": a["first_name"],
            "lastName": a["last_name"],
            "name": a["name"],
            "address1": a["address1"],
            "address2": a["address2"],
            "city": a["city"],
            "province": a["province"],
            "provinceCode": a["province_code"],
            "zip": a["zip"],
            "phone": a["phone"],
        },
        "customer": {
            "firstName": c["first_name"],
            "lastName": c["last_name"],
            "email": c["email"],
            "phone": c["phone"],
        },
        "lineItems": {
            "nodes": [
                {
                    "sku": item["sku"],
                    "quantity": item["quantity"],
                    "title": item["title"],
                    "variant": {"legacyResourceId": str(item["variant_id"])},
                    "originalUnitPriceSet": money(item["price"]),
                }
                for item in order["line_items"]
            ]
        },
    }


def _orders_changed(store: Shop, variables: dict[str, Any]) -> dict[str, Any]:
    """orders(first: 50, after:, query: "updated_at:>'…'", sortKey: UPDATED_AT), cursor = position."""
    match = _UPDATED_AFTER.search(str(variables.get("query") or ""))
    after = datetime.fromisoformat(match.group(1).replace("Z", "+00:00")) if match else None
    found = sorted(
        (
            o
            for o in store.orders.values()
            if after is None or datetime.fromisoformat(o["updated_at"]) > after
        ),
        key=lambda o: (datetime.fromisoformat(o["updated_at"]), o["id"]),
    )
    start = int(variables.get("after") or 0)
    page = found[start : start + 50]
    more = start + 50 < len(found)
    return {
        "orders": {
            "nodes": [_order_node(o) for o in page],
            "pageInfo": {"hasNextPage": more, "endCursor": str(start + 50) if more else None},
        }
    }


def _fulfillment_orders(store: Shop, variables: dict[str, Any]) -> dict[str, Any]:
    order_id = _id(variables["id"], "Order")
    if order_id not in store.orders:
        return {"order": None}
    nodes = [
        {"id": f"gid://shopify/FulfillmentOrder/{fo['id']}", "status": fo["status"]}
        for fo in store.fulfillment_orders[order_id]
    ]
    return {"order": {"fulfillmentOrders": {"nodes": nodes}}}


REASONS = frozenset({"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"})


def _cancel(state: ShopifyState, store: Shop, variables: dict[str, Any]) -> dict[str, Any]:
    """orderCancel: a job that cancels the order, then orders/cancelled goes to the webhook URL."""
    order = store.orders.get(_id(variables["orderId"], "Order"))
    if variables["reason"] not in REASONS or not isinstance(variables["restock"], bool):
        raise ValueError("reason must be an OrderCancelReason and restock a Boolean")
    if "originalPaymentMethodsRefund" not in variables["refundMethod"]:
        raise ValueError("refundMethod needs originalPaymentMethodsRefund")
    errors = []
    if order is None:
        errors.append({"code": "NOT_FOUND", "field": ["orderId"], "message": "Order does not exist"})
    elif order.get("cancelled_at"):
        already = "Order has already been cancelled"
        errors.append({"code": "INVALID", "field": ["orderId"], "message": already})
    if errors:
        return {"orderCancel": {"job": None, "orderCancelUserErrors": errors}}
    assert order is not None
    order["cancelled_at"] = order["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    order["cancel_reason"] = str(variables["reason"]).lower()
    order["note"] = variables.get("staffNote")
    later(send(state, store, "orders/cancelled", order))
    job = {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": False}
    return {"orderCancel": {"job": job, "orderCancelUserErrors": []}}


def _fulfil(state: ShopifyState, store: Shop, variables: dict[str, Any]) -> dict[str, Any]:
    data = variables["fulfillment"]
    wanted = {_id(x["fulfillmentOrderId"], "FulfillmentOrder") for x in data["lineItemsByFulfillmentOrder"]}
    found = [(oid, fo) for oid, fos in store.fulfillment_orders.items() for fo in fos if fo["id"] in wanted]
    if len(found) != len(wanted) or any(fo["status"] == "CLOSED" for _, fo in found):
        return {
            "fulfillmentCreate": {
                "fulfillment": None,
                "userErrors": [{"field": ["fulfillment"], "message": "Fulfillment order is not open"}],
            }
        }
    for oid, fo in found:
        fo["status"] = "CLOSED"
        store.orders[oid]["fulfillment_status"] = "fulfilled"
    tracking = data.get("trackingInfo") or {}
    fulfillment = {
        "id": f"gid://shopify/Fulfillment/{state.new_id()}",
        "status": "SUCCESS",
        "trackingInfo": [
            {"company": tracking.get("company"), "number": tracking.get("number"), "url": tracking.get("url")}
        ],
        "order_id": found[0][0],
    }
    store.fulfillments.append(fulfillment)
    return {"fulfillmentCreate": {"fulfillment": fulfillment, "userErrors": []}}


@router.post(
    "/shopify/{shop}/admin/api/{version}/graphql.json",
    dependencies=[Depends(fault_gate(Provider.SHOPIFY, render_fault))],
)
async def graphql(
    shop: str,
    request: Request,
    state: Shopify,
    x_shopify_access_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    if not x_shopify_access_token:
        raise ProviderError(
            401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
        )
    store = state.shop(shop)
    payload = await request.json()
    query, variables = str(payload.get("query") or ""), payload.get("variables") or {}
    mutation = query.lstrip().startswith("mutation")
    cost = 10.0 if mutation else 1.0 + len(variables.get("ids") or []) / 10
    throttled = store.take(cost)
    if throttled is not None:
        return {
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": throttled},
        }
    try:
        if "inventorySetQuantities" in query:
            data = _set_quantities(store, query, variables)
        elif "orderCancel" in query:
            data = _cancel(state, store, variables)
        elif "fulfillmentCreate" in query:
            data = _fulfil(state, store, variables)
        elif "fulfillmentOrders" in query:
            data = _fulfillment_orders(store, variables)
        elif "orders(" in query:
            data = _orders_changed(store, variables)
        elif "nodes(" in query:
            data = _levels(store, list(variables.get("ids") or []))
        else:
            return {"errors": [{"message": "this query is not served by the sandbox"}]}
    except (KeyError, ValueError, TypeError) as exc:
        return {"errors": [{"message": f"Variable validation failed: {exc}"}]}
    cost_info = {
        "requestedQueryCost": cost,
        "actualQueryCost": cost,
        "throttleStatus": {
            "maximumAvailable": BUCKET_SIZE,
            "currentlyAvailable": int(store.bucket),
            "restoreRate": RESTORE_PER_S,
        },
    }
    return {"data": data, "extensions": {"cost": cost_info}}
