"""A WooCommerce store: order webhooks signed with X-WC-Webhook-Signature (sent, duplicated or
dropped on request) and the REST API v3 calls channels makes — products/batch and
products/{id}/variations/batch for stock, order notes, and order status — behind Basic auth.

Control under /_sandbox/woocommerce/{site}: set the store up, place or cancel an order, redeliver a
webhook, read the store's state.
"""

import base64
import json
import uuid
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


@dataclass
class Site:
    name: str
    webhook_url: str = ""
    webhook_secret: str = ""
    listings: dict[str, Listing] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    webhooks: list[SentWebhook] = field(default_factory=list)
    batch_calls: int = 0


@dataclass
class WooState(StoreState):
    next_id: int = 700
    sites: dict[str, Site] = field(default_factory=dict)

    def site(self, name: str) -> Site:
        if name not in self.sites:
            self.sites[name] = Site(name=name)
        return self.sites[name]


async def get_woo(request: Request) -> WooState:
    state: WooState = request.app.state.woocommerce
    return state


Woo = Annotated[WooState, Depends(get_woo)]
control = APIRouter(prefix="/_sandbox/woocommerce", tags=["sandbox: woocommerce"])
router = APIRouter(prefix="/woocommerce/{site}/wp-json/wc/v3", tags=["woocommerce rest api"])


def render_fault(status_code: int) -> ProviderError:
    headers = {"Retry-After": "1"} if status_code == 429 else None
    body = {
        "code": "woocommerce_rest_sandbox_fault",
        "message": "Sandbox injected fault",
        "data": {"status": status_code},
    }
    return ProviderError(status_code, body, headers)


async def basic_auth(authorization: Annotated[str | None, Header()] = None) -> None:
    scheme, _, encoded = (authorization or "").partition(" ")
    try:
        key, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        key = secret = ""
    if scheme.lower() != "basic" or not key or not secret:
        raise ProviderError(
            401,
            {
                "code": "woocommerce_rest_cannot_view",
                "message": "Sorry, you cannot list resources.",
                "data": {"status": 401},
            },
        )


@control.put("/{site}")
async def setup(site: str, body: StoreSetup, state: Woo) -> dict[str, Any]:
    """Point the store's webhooks at channels and stock its catalogue (simple products)."""
    store = state.site(site)
    store.webhook_url, store.webhook_secret = body.webhook_url, body.webhook_secret
    # A simple product: its product id stands for the variant and the inventory item too.
    stock(store.listings, body.products, lambda: (state.new_id(),) * 3)
    return {"products": [vars(x) for x in store.listings.values()]}


@control.get("/{site}")
async def inspect(site: str, state: Woo) -> dict[str, Any]:
    store = state.site(site)
    return {
        "stock": {sku: x.available for sku, x in store.listings.items()},
        "orders": {
            str(oid): {"status": o["status"], "notes": store.notes.get(oid, [])}
            for oid, o in store.orders.items()
        },
        "webhooks": [w.summary() for w in store.webhooks],
        "batch_calls": store.batch_calls,
    }


def order_payload(store: Site, order_id: int, body: PlaceOrder) -> dict[str, Any]:
    """An order in the shape of WooCommerce's REST API v3 Order (what order.created carries)."""
    b = body.buyer
    first, _, last = b.name.partition(" ")
    items: list[dict[str, Any]] = []
    subtotal = 0
    for line in body.lines:
        listing = store.listings.get(line.sku)
        if listing is None:
            raise HTTPException(422, detail=f"the store does not sell {line.sku}")
        line_total = listing.price_paise * line.quantity
        subtotal += line_total
        items.append(
            {
                "id": order_id * 10 + len(items),
                "name": listing.sku,
                "product_id": listing.product_id,
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": rupees(line_total),
                "subtotal_tax": "0.00",
                "total": rupees(line_total),
                "total_tax": "0.00",
                "sku": listing.sku,
                "price": listing.price_paise / 100,
            }
        )
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    address = {
        "first_name": first,
        "last_name": last,
        "company": "",
        "address_1": b.line1,
        "address_2": b.line2 or "",
        "city": b.city,
        "state": b.state_code,
        "postcode": b.pincode,
        "country": "IN",
    }
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{uuid.uuid4().hex[:13]}",
        "created_via": "checkout",
        "status": "processing",  # WooCommerce puts COD and paid checkouts in processing
        "currency": "INR",
        "date_created": now,
        "date_created_gmt": now,
        "date_modified": now,
        "date_modified_gmt": now,
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": rupees(body.shipping_paise),
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": rupees(subtotal + body.shipping_paise),
        "total_tax": "0.00",
        "prices_include_tax": True,
        "customer_id": 0,
        "customer_note": "",
        "billing": {**address, "email": b.email or "", "phone": b.phone},
        "shipping": {**address, "phone": b.phone},
        "payment_method": "cod" if body.cod else "razorpay",
        "payment_method_title": "Cash on delivery" if body.cod else "Credit Card/Debit Card/NetBanking/UPI",
        "transaction_id": "" if body.cod else f"pay_{uuid.uuid4().hex[:14]}",
        "date_paid": None if body.cod else now,
        "date_paid_gmt": None if body.cod else now,
        "line_items": items,
        "shipping_lines": [
            {
                "id": order_id * 10 + 9,
                "method_title": "Flat rate",
                "method_id": "flat_rate",
                "total": rupees(body.shipping_paise),
            }
        ],
    }


async def send(
    state: WooState, store: Site, topic: str, payload: dict[str, Any], delivery: str = "once"
) -> SentWebhook:
    body = json.dumps(payload).encode()
    resource, _, event = topic.partition(".")
    hook = SentWebhook(
        delivery_id=str(state.new_id()),
        topic=topic,
        body=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.0 Hookshot (WordPress/6.5)",
            "X-WC-Webhook-Source": f"https://{store.name}.example/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(store.webhook_secret, body),
            "X-WC-Webhook-ID": "1",
        },
    )
    hook.headers["X-WC-Webhook-Delivery-ID"] = hook.delivery_id
    return await send_webhook(state, store.webhook_url, store.webhooks, hook, delivery)


@control.post("/{site}/orders")
async def place_order(site: str, body: PlaceOrder, state: Woo) -> dict[str, Any]:
    """A buyer checks out: stock goes down on the store, and order.created goes to the webhook URL."""
    store = state.site(site)
    order_id = state.new_id()
    payload = order_payload(store, order_id, body)
    sell(store.listings, body.lines)
    store.orders[order_id] = payload
    hook = await send(state, store, "order.created", payload, body.delivery)
    return {"id": order_id, "webhook": hook.summary()}


@control.post("/{site}/orders/{order_id}/cancel")
async def cancel_order(site: str, order_id: int, state: Woo) -> dict[str, Any]:
    store = state.site(site)
    payload = store.orders.get(order_id)
    if payload is None:
        raise HTTPException(404, detail=f"no order {order_id}")
    payload["status"] = "cancelled"
    payload["date_modified"] = payload["date_modified_gmt"] = _now()
    hook = await send(state, store, "order.updated", payload)
    return {"id": order_id, "webhook": hook.summary()}


@control.post("/{site}/webhooks/{delivery_id}/redeliver")
async def redeliver(site: str, delivery_id: str, state: Woo) -> dict[str, Any]:
    store = state.site(site)
    return await redeliver_webhook(state, store.webhook_url, store.webhooks, delivery_id)


# --- REST API v3 ---------------------------------------------------------------------------------

_API = [Depends(basic_auth), Depends(fault_gate(Provider.WOOCOMMERCE, render_fault))]


def _batch(store: Site, body: dict[str, Any]) -> dict[str, Any]:
    by_id = {x.product_id: x for x in store.listings.values()}
    updated = []
    for item in body.get("update") or []:
        listing = by_id.get(int(item.get("id", 0)))
        if listing is None:
            updated.append(
                {
                    "id": item.get("id"),
                    "error": {
                        "code": "woocommerce_rest_product_invalid_id",
                        "message": "Invalid ID.",
                        "data": {"status": 400},
                    },
                }
            )
            continue
        if "stock_quantity" in item:
            listing.available = max(0, int(item["stock_quantity"]))
        updated.append(
            {
                "id": listing.product_id,
                "sku": listing.sku,
                "manage_stock": True,
                "stock_quantity": listing.available,
                "stock_status": "instock" if listing.available else "outofstock",
            }
        )
    store.batch_calls += 1
    return {"create": [], "update": updated, "delete": []}


@router.get("/products", dependencies=_API)
async def list_products(site: str, state: Woo, include: str = "", per_page: int = 10) -> list[dict[str, Any]]:
    """The products named in ``include`` (comma-separated ids), at most ``per_page`` of them."""
    wanted = {int(i) for i in include.split(",") if i.strip()}
    found = [x for x in state.site(site).listings.values() if not wanted or x.product_id in wanted]
    return [
        {
            "id": x.product_id,
            "sku": x.sku,
            "manage_stock": True,
            "stock_quantity": x.available,
            "stock_status": "instock" if x.available else "outofstock",
        }
        for x in found[: min(per_page, 100)]
    ]


@router.post("/products/batch", dependencies=_API)
async def products_batch(site: str, request: Request, state: Woo) -> dict[str, Any]:
    body = await request.json()
    if len(body.get("update") or []) > 100:
        raise ProviderError(
            413,
            {
                "code": "woocommerce_rest_request_entity_too_large",
                "message": "Unable to accept more than 100 items for this request.",
                "data": {"status": 413},
            },
        )
    return _batch(state.site(site), body)


@router.post("/products/{product_id}/variations/batch", dependencies=_API)
async def variations_batch(site: str, product_id: int, request: Request, state: Woo) -> dict[str, Any]:
    return _batch(state.site(site), await request.json())


def _order(store: Site, order_id: int) -> dict[str, Any]:
    order = store.orders.get(order_id)
    if order is None:
        raise ProviderError(
            404,
            {
                "code": "woocommerce_rest_shop_order_invalid_id",
                "message": "Invalid ID.",
                "data": {"status": 404},
            },
        )
    return order


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


@router.get("/orders", dependencies=_API)
async def list_orders(
    site: str,
    state: Woo,
    modified_after: str | None = None,
    dates_are_gmt: bool = False,
    orderby: str = "date",
    order: str = "desc",
    page: int = 1,
    per_page: int = 10,
) -> list[dict[str, Any]]:
    """GET /orders: modified_after compares with date_modified (date_modified_gmt when dates_are_gmt)."""
    field = "date_modified_gmt" if dates_are_gmt else "date_modified"
    after = datetime.fromisoformat(modified_after).replace(tzinfo=None) if modified_after else None
    found = [
        o
        for o in state.site(site).orders.values()
        if after is None or datetime.fromisoformat(o[field]) > after
    ]
    key = {"modified": field, "id": "id"}.get(orderby, "date_created_gmt")
    found.sort(key=lambda o: (o[key], o["id"]), reverse=order == "desc")
    per_page = max(1, min(per_page, 100))
    return found[(page - 1) * per_page : page * per_page]


@router.get("/orders/{order_id}/notes", dependencies=_API)
async def list_notes(site: str, order_id: int, state: Woo) -> list[dict[str, Any]]:
    _order(state.site(site), order_id)
    return state.site(site).notes.get(order_id, [])


@router.post("/orders/{order_id}/notes", status_code=201, dependencies=_API)
async def add_note(site: str, order_id: int, request: Request, state: Woo) -> dict[str, Any]:
    store = state.site(site)
    _order(store, order_id)
    body = await request.json()
    note = {
        "id": state.new_id(),
        "author": "WooCommerce",
        "date_created": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "note": str(body.get("note") or ""),
        "customer_note": bool(body.get("customer_note")),
    }
    store.notes.setdefault(order_id, []).append(note)
    return note


@router.get("/orders/{order_id}", dependencies=_API)
async def get_order(site: str, order_id: int, state: Woo) -> dict[str, Any]:
    return _order(state.site(site), order_id)


@router.put("/orders/{order_id}", dependencies=_API)
async def update_order(site: str, order_id: int, request: Request, state: Woo) -> dict[str, Any]:
    """A status change through the API fires order.updated, as WooCommerce's webhooks do."""
    store = state.site(site)
    order = _order(store, order_id)
    body = await request.json()
    if "status" in body and body["status"] != order["status"]:
        order["status"] = body["status"]
        order["date_modified"] = order["date_modified_gmt"] = _now()
        later(send(state, store, "order.updated", order))
    return order
