"""What the sandbox's Shopify and WooCommerce stores share: a catalogue entry, the Indian order a
test or the demo asks for, and webhook delivery (sent, sent twice, or dropped on request)."""

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from fastapi import HTTPException
from pydantic import BaseModel, Field


class ProductIn(BaseModel):
    """A listing the store sells, with its stock."""

    sku: str = Field(min_length=1)
    price_paise: int = Field(default=34900, ge=0)
    available: int = Field(default=100, ge=0)


class StoreSetup(BaseModel):
    """Where the store sends its webhooks, with which secret, and what it sells."""

    webhook_url: str
    webhook_secret: str = Field(min_length=1)
    products: list[ProductIn] = Field(default_factory=list)


class Buyer(BaseModel):
    name: str = "Asha Verma"
    phone: str = "+919812345678"
    email: str | None = "asha@example.com"
    line1: str = "12 MI Road"
    line2: str | None = None
    city: str = "Jaipur"
    state: str = "Rajasthan"
    state_code: str = "RJ"
    pincode: str = "302001"


class LineIn(BaseModel):
    sku: str
    quantity: int = Field(default=1, ge=1)


class PlaceOrder(BaseModel):
    """A buyer checks out on the store; the store then sends its order webhook."""

    buyer: Buyer = Field(default_factory=Buyer)
    lines: list[LineIn] = Field(min_length=1)
    cod: bool = True
    shipping_paise: int = Field(default=0, ge=0)
    delivery: Literal["once", "twice", "drop"] = Field(
        default="once", description="twice: the same delivery sent again (a retry); drop: never sent."
    )


@dataclass
class Listing:
    sku: str
    product_id: int
    variant_id: int
    inventory_item_id: int
    price_paise: int
    available: int


@dataclass
class SentWebhook:
    """One delivery as sent, kept so it can be sent again byte for byte."""

    delivery_id: str
    topic: str
    body: bytes
    headers: dict[str, str]
    status_codes: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "topic": self.topic, "status_codes": self.status_codes}


@dataclass
class StoreState:
    """Ids and the webhook client every store of one kind shares."""

    next_id: int
    client: httpx.AsyncClient | None = None

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def http(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=10)
        return self.client


def stock(
    listings: dict[str, Listing], products: list[ProductIn], ids: Callable[[], tuple[int, int, int]]
) -> None:
    """Stock the catalogue: a new SKU is listed under new ids (product, variant, inventory item), a
    listed one takes the new price and stock and keeps its ids."""
    for product in products:
        listing = listings.get(product.sku)
        if listing is None:
            product_id, variant_id, inventory_item_id = ids()
            listings[product.sku] = Listing(
                sku=product.sku,
                product_id=product_id,
                variant_id=variant_id,
                inventory_item_id=inventory_item_id,
                price_paise=product.price_paise,
                available=product.available,
            )
        else:
            listing.price_paise, listing.available = product.price_paise, product.available


def sell(listings: dict[str, Listing], lines: list[LineIn]) -> None:
    """A checkout takes its lines off the store's stock (never below nothing)."""
    for line in lines:
        listings[line.sku].available = max(0, listings[line.sku].available - line.quantity)


def sign(secret: str, body: bytes) -> str:
    """Base64 HMAC-SHA256 of the body: how both Shopify and WooCommerce sign their webhooks."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def rupees(paise: int) -> str:
    """Money as both stores write it in JSON: a string with two decimals."""
    return f"{paise // 100}.{paise % 100:02d}"


async def deliver(client: httpx.AsyncClient, url: str, hook: SentWebhook) -> None:
    """Send one delivery; the status (or 0 when unreachable) is recorded on it."""
    try:
        response = await client.post(url, content=hook.body, headers=hook.headers)
        hook.status_codes.append(response.status_code)
    except httpx.HTTPError:
        hook.status_codes.append(0)


async def send(
    state: StoreState, url: str, sent: list[SentWebhook], hook: SentWebhook, delivery: str = "once"
) -> SentWebhook:
    """Keep a delivery on the store, then send it once, twice (a retry) or not at all."""
    sent.append(hook)
    for _ in range({"once": 1, "twice": 2, "drop": 0}[delivery]):
        await deliver(state.http(), url, hook)
    return hook


async def redeliver(state: StoreState, url: str, sent: list[SentWebhook], delivery_id: str) -> dict[str, Any]:
    """Send a delivery again, byte for byte, as the stores' retries do (also one that was dropped)."""
    hook = next((w for w in sent if w.delivery_id == delivery_id), None)
    if hook is None:
        raise HTTPException(404, detail=f"no delivery {delivery_id}")
    await deliver(state.http(), url, hook)
    return hook.summary()


_sending: set[asyncio.Task[Any]] = set()


def later(webhook: Coroutine[Any, Any, Any]) -> None:
    """Send a webhook after the API call that caused it has answered, as the stores do (Shopify's
    cancellation runs as a job; WooCommerce queues its webhooks)."""
    task = asyncio.get_running_loop().create_task(webhook)
    _sending.add(task)
    task.add_done_callback(_sending.discard)
