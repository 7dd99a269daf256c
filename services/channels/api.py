"""HTTP routes of the channels service: channel accounts (secrets write-only), SKU mappings, the
orders each store sent (with why any is held), stock owed to each store, and CSV imports."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Request, Response
from pydantic import BaseModel, Field, field_validator

from chassis.auth import STAFF, Role, require
from chassis.http import created, errors, follow, text_answer, upload
from chassis.pages import Cursor, Limit, Page, after_key, next_cursor, next_key, position
from chassis.refusal import Refusal
from chassis.settings import DEVELOPMENT_VALUE
from contracts import Channel
from services.channels import domain, intake, levels, poll, records, store, sync
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import Account, LabelSource, StoreAdapter, StoreError

router = APIRouter(tags=["channels"])

ADMIN = require(Role.ADMIN)
OPERATORS = require(Role.OPS)


class AccountIn(BaseModel):
    """A store of the seller's. Secrets are accepted, stored and never returned."""

    platform: Literal["shopify", "woocommerce", "amazon", "flipkart"]
    base_url: str = Field(
        min_length=1,
        description="Shopify: https://<shop>.myshopify.com; WooCommerce: the site's root URL; Amazon: the "
        "SP-API endpoint (https://sellingpartnerapi-eu.amazon.com for Amazon.in); Flipkart: "
        "https://api.flipkart.net.",
    )
    webhook_secret: str = Field(
        default="",
        repr=False,
        description="Signs the store's webhooks (stores only; marketplaces are polled).",
    )
    api_key: str = Field(
        default="",
        repr=False,
        description="WooCommerce consumer key; Amazon LWA client id; Flipkart application id.",
    )
    api_secret: str = Field(
        default="",
        repr=False,
        description="Shopify Admin API access token; WooCommerce consumer secret; Amazon LWA client secret; "
        "Flipkart application secret.",
    )
    refresh_token: str = Field(default="", repr=False, description="Amazon: the LWA refresh token.")
    seller_id: str | None = Field(default=None, description="Amazon: the selling partner id.")
    marketplace_id: str | None = Field(
        default=None, description="Amazon: the marketplace (Amazon.in by default)."
    )
    auth_url: str | None = Field(
        default=None, description="Where access tokens come from; default the platform's."
    )
    orders_api: Literal["v0", "2026-01-01"] = Field(
        default="v0",
        description="Amazon: the Orders API its orders are read with: v0 (getOrders, getOrderItems) or "
        "2026-01-01 (searchOrders, each order's items inline).",
    )
    sqs_queue_url: str | None = Field(
        default=None,
        description="Amazon: the SQS queue its ORDER_CHANGE notifications are delivered to; each notice's "
        "order is fetched at once, and the poll stays on behind them. None: polled only.",
    )
    sqs_region: str | None = Field(
        default=None, description="The queue's AWS region; default the one its URL names."
    )
    sqs_access_key_id: str = Field(
        default="", description="An AWS access key allowed to receive from the queue and delete."
    )
    sqs_secret_access_key: str = Field(default="", repr=False, description="That access key's secret.")
    location_id: str | None = Field(
        default=None,
        description="Shopify: the location whose stock we set; Flipkart: the seller's dispatch location id.",
    )
    stock_buffer: int = Field(default=0, ge=0, description="Units held back from this store's stock number.")
    stock_share_pct: int | None = Field(
        default=None, ge=1, le=100, description="At most this share of what we can sell shows on this store."
    )
    low_stock_hide_below: int = Field(
        default=0,
        ge=0,
        description="Below this many units this store shows 0, so the last units sell on the stores "
        "left at 0 here (the seller's preferred store).",
    )
    enabled: bool = True

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("sqs_queue_url")
    @classmethod
    def _queue(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[^/\s]+(/[^/\s]+)*/[^/\s]+/[^/\s]+/?", value):
            raise ValueError("must be a queue URL: http(s)://<host>/<account id>/<queue name>")
        return value

    @property
    def queue_region(self) -> str | None:
        """The queue's region: given, or read from an AWS queue URL (sqs.<region>.amazonaws.com)."""
        found = re.match(r"https://sqs\.([a-z0-9-]+)\.amazonaws\.com/", self.sqs_queue_url or "")
        return self.sqs_region or (found.group(1) if found else None)

    def queue_problems(self) -> list[tuple[str, str]]:
        """What reading an ORDER_CHANGE queue needs that the body lacks."""
        if self.sqs_queue_url is None:
            return []
        if self.platform != "amazon":
            return [("sqs_queue_url", "only Amazon delivers order notifications to a queue")]
        needed = {
            "sqs_region": self.queue_region,
            "sqs_access_key_id": self.sqs_access_key_id,
            "sqs_secret_access_key": self.sqs_secret_access_key,
        }
        return [(n, "required with sqs_queue_url") for n, v in needed.items() if not v]

    def problems(self) -> list[tuple[str, str]]:
        """What the platform needs that the body lacks."""
        version = (
            []
            if self.platform == "amazon" or self.orders_api == "v0"
            else [("orders_api", "only Amazon has more than one Orders API")]
        )
        return self.platform_problems() + self.queue_problems() + version

    def platform_problems(self) -> list[tuple[str, str]]:
        """What the platform's API needs that the body lacks."""
        if self.platform in ("shopify", "woocommerce"):
            return [] if len(self.webhook_secret) >= 8 else [("webhook_secret", "at least 8 characters")]
        if self.platform == "flipkart":
            wanted = {"api_key": self.api_key, "api_secret": self.api_secret, "location_id": self.location_id}
            return [(n, "required for flipkart") for n, v in wanted.items() if not v]
        needed = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "refresh_token": self.refresh_token,
            "seller_id": self.seller_id,
        }
        return [(n, f"required for {self.platform}") for n, v in needed.items() if not v]


class AccountSaved(BaseModel):
    """An account saved, and the URL to give the store for its webhooks."""

    account: str
    platform: str
    webhook_url: str


class AccountView(BaseModel):
    """A channel account as shown: whether each secret is set, never the secret."""

    account: str
    platform: str
    base_url: str
    location_id: str | None
    stock_buffer: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    webhook_secret_set: bool
    api_secret_set: bool


class SentOrder(BaseModel):
    """A held store order that went out once its SKUs were mapped."""

    store_order_id: str
    channel_order_id: str


class Mapped(BaseModel):
    """Mappings saved, and the held orders that went out because of them."""

    mapped: int
    orders_sent: list[SentOrder]


class Mapping(BaseModel):
    """One store listing and the Dabba SKU it sells."""

    channel_sku: str
    sku: str
    product_id: str | None
    variant_id: str | None
    inventory_item_id: str | None


class ListingStock(BaseModel):
    """The number a listing should show, what the store confirmed, and whether a push is owed."""

    channel_sku: str
    sku: str
    quantity: int
    confirmed_quantity: int | None
    confirmed_at: datetime | None
    owed: bool
    attempts: int
    last_error: str | None


class ChannelOrder(BaseModel):
    """An order a store sent: sent to orders, or held with the problems that stop it."""

    account: str
    store_order_id: str
    channel: str
    channel_order_id: str
    status: str
    problems: list[dict[str, Any]]
    order_id: str | None
    cancelled_on_store_at: datetime | None
    cancel_outcome: str | None
    received_at: datetime
    updated_at: datetime


class CsvImported(BaseModel):
    """Channel order ids imported now, and those imported before."""

    imported: list[str]
    already_imported: list[str]


class FullPush(BaseModel):
    """The last full push of a store: when, how many listings, how many had drifted, any error."""

    pushed_at: datetime
    listings: int
    drifted: int
    error: str | None


class DriftFound(BaseModel):
    """A listing whose number on the store was not Dabba's (None: the store did not know it)."""

    channel_sku: str
    sku: str
    store_quantity: int | None
    dabba_quantity: int


class Drift(DriftFound):
    """Drift as the last full push recorded it."""

    found_at: datetime


class DriftReport(BaseModel):
    """What the last full push of a store found."""

    last_full_push: FullPush | None
    drift: list[Drift]


class FullPushDone(BaseModel):
    """A full push run now: listings pushed, the drift found before pushing, any error."""

    account: str
    listings: int
    error: str | None
    drift: list[DriftFound]


class Polled(BaseModel):
    """What a reconciliation poll found."""

    account: str
    listed: int
    taken_in: int
    error: str | None


def _settings(request: Request) -> ChannelsSettings:
    settings = request.app.state.service.settings
    assert isinstance(settings, ChannelsSettings)
    return settings


@router.put(
    "/accounts/{account}",
    summary="Create or change a channel account",
    dependencies=[ADMIN],
    response_model=AccountSaved,
    responses={
        200: created(
            "The account, and the webhook URL to give the store",
            Mappings=follow("GET", "/accounts/{account}/mappings", account="$response.body#/account"),
            Stock=follow("GET", "/accounts/{account}/stock", account="$response.body#/account"),
        )
    },
)
async def put_account(request: Request, account: str, body: AccountIn) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", account):
        raise Refusal("account", "use 2-63 lower-case letters, digits and dashes")
    if missing := body.problems():
        raise Refusal.of(missing)
    if _settings(request).dabba_mode != "development":
        dev = [
            n
            for n in ("webhook_secret", "api_secret", "refresh_token", "sqs_secret_access_key")
            if DEVELOPMENT_VALUE.match(getattr(body, n))
        ]
        if dev:
            raise Refusal.of(
                (n, "a local development secret (dev-…-local) is refused outside development mode")
                for n in dev
            )
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        await store.upsert_account(
            conn,
            Account(
                account=account,
                platform=body.platform,
                base_url=body.base_url,
                webhook_secret=body.webhook_secret,
                api_key=body.api_key,
                api_secret=body.api_secret,
                location_id=body.location_id,
                stock_buffer=body.stock_buffer,
                stock_share_pct=body.stock_share_pct,
                low_stock_hide_below=body.low_stock_hide_below,
                refresh_token=body.refresh_token,
                seller_id=body.seller_id,
                marketplace_id=body.marketplace_id,
                auth_url=body.auth_url,
                orders_api=body.orders_api,
                sqs_queue_url=body.sqs_queue_url,
                sqs_region=body.queue_region if body.sqs_queue_url else None,
                sqs_access_key_id=body.sqs_access_key_id,
                sqs_secret_access_key=body.sqs_secret_access_key,
            ),
            enabled=body.enabled,
        )
        await levels.owe_listings(conn, account=account)  # a changed rule shows at once
    return {
        "account": account,
        "platform": body.platform,
        "webhook_url": f"/webhooks/{body.platform}/{account}",
    }


@router.get(
    "/accounts",
    summary="Channel accounts (whether each secret is set, never the secret), a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[AccountView],
)
async def get_accounts(request: Request, cursor: Cursor = None, limit: Limit = 100) -> dict[str, Any]:
    rows = await store.list_accounts(request.app.state.service.pool, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.account)}


class MarketplaceLabel(BaseModel):
    """A marketplace's label of a parcel it carries: owed, recorded on the shipment with its AWB,
    refused for good (with why, for an operator to retry), or cancelled with our invoice."""

    shipment_id: str
    order_id: str
    account: str
    store_order_id: str
    invoice_number: str
    state: Literal["owed", "recorded", "refused", "cancelled"]
    awb: str | None
    carrier: str | None
    outcome: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


@router.get(
    "/marketplace-labels",
    summary="Marketplace labels of the parcels marketplaces carry, a page at a time (state=refused: "
    "those an operator has to look at)",
    dependencies=[OPERATORS],
    response_model=Page[MarketplaceLabel],
)
async def get_marketplace_labels(
    request: Request,
    state: Literal["owed", "recorded", "refused", "cancelled"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await store.list_labels(
        request.app.state.service.pool, state=state, after=after_key(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.shipment_id)}


@router.post(
    "/marketplace-labels/{shipment_id}/retry",
    summary="Ask the marketplace again for a label it refused (fixed in Seller Hub, a mapping added)",
    dependencies=[OPERATORS],
    response_model=MarketplaceLabel,
    responses=errors(404, 409),
)
async def retry_marketplace_label(
    request: Request, shipment_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> records.MarketplaceLabel:
    async with request.app.state.service.pool.acquire() as conn, conn.transaction():
        found = await store.retry_label(conn, shipment_id)
    if found is None:
        raise Refusal("shipment_id", f"no marketplace label for shipment {shipment_id}", status=404)
    was, label = found
    if was != "refused":
        why = {
            "owed": "it is owed already: the worker is still asking the marketplace",
            "recorded": "its AWB is recorded on the shipment already",
            "cancelled": "its invoice was cancelled with its shipment",
        }.get(was, was)
        raise Refusal("shipment_id", f"only a refused label is retried; {why}", status=409, error=was)
    return label


class MappingIn(BaseModel):
    """One listing on a store and the Dabba SKU it sells."""

    channel_sku: str = Field(min_length=1, max_length=200)
    sku: str = Field(min_length=1, max_length=64)
    product_id: str | None = None
    variant_id: str | None = None
    inventory_item_id: str | None = Field(
        default=None, description="Shopify: where the variant's stock lives."
    )


@router.put(
    "/accounts/{account}/mappings",
    summary="Map store listings to Dabba SKUs; orders held for these SKUs are sent at once",
    dependencies=[OPERATORS],
    response_model=Mapped,
    responses=errors(404),
)
async def put_mappings(
    request: Request, account: str, body: Annotated[list[MappingIn], Body(min_length=1, max_length=5000)]
) -> dict[str, Any]:
    service = request.app.state.service
    seen: dict[tuple[str, str], int] = {}
    twice = []  # the same listing or variant twice in one request cannot both be right
    for i, m in enumerate(body):
        for name, value in (("channel_sku", m.channel_sku), ("variant_id", m.variant_id)):
            if value is not None and seen.setdefault((name, value), i) != i:
                twice.append((f"{i}.{name}", f"{value!r} is already on row {seen[(name, value)]}"))
    if twice:
        raise Refusal.of(twice)
    async with service.pool.acquire() as conn, conn.transaction():
        found = await store.get_account(conn, account)
        if found is None:
            raise Refusal("account", f"no channel account {account!r}", status=404)
        await store.upsert_mappings(conn, account, [m.model_dump() for m in body])
        await levels.owe_listings(conn, account=account)
        sent = await intake.retry_unmapped(conn, service, account=account, channel=Channel(found.platform))
    return {"mapped": len(body), "orders_sent": sent}


@router.get(
    "/accounts/{account}/mappings",
    summary="An account's SKU mappings, by channel SKU, a page at a time",
    dependencies=[require(*STAFF)],
    response_model=Page[Mapping],
)
async def get_mappings(
    request: Request, account: str, cursor: Cursor = None, limit: Limit = 500
) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await store.list_mappings(pool, account, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.channel_sku)}


@router.get(
    "/accounts/{account}/stock",
    summary="The stock number each listing should show, what the store confirmed, and any error",
    dependencies=[require(*STAFF)],
    response_model=Page[ListingStock],
)
async def get_stock(
    request: Request, account: str, cursor: Cursor = None, limit: Limit = 500
) -> dict[str, Any]:
    pool = request.app.state.service.pool
    rows = await store.list_stock(pool, account, after=after_key(cursor), limit=limit)
    return {"items": rows, "next_cursor": next_key(rows, limit, lambda r: r.channel_sku)}


@router.get(
    "/accounts/{account}/stock/drift",
    summary="The last full push of a store (nightly) and the listings whose number had drifted",
    dependencies=[require(*STAFF)],
    response_model=DriftReport,
)
async def get_drift(request: Request, account: str) -> dict[str, Any]:
    last, rows = await store.drift_report(request.app.state.service.pool, account)
    return {"last_full_push": last, "drift": rows}


@router.get(
    "/channel-orders",
    summary="Orders the stores sent, newest first; status unmapped names the SKU to map",
    dependencies=[require(*STAFF)],
    response_model=Page[ChannelOrder],
)
async def list_channel_orders(
    request: Request,
    account: str | None = None,
    status: Literal["sent", "unmapped", "unreadable"] | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    rows = await store.list_channel_orders(
        request.app.state.service.pool, account=account, status=status, before=position(cursor), limit=limit
    )
    return {"items": rows, "next_cursor": next_cursor(rows, limit, lambda r: (r.received_at, r.page_key))}


@router.post(
    "/imports/orders.csv",
    summary="Import orders from a CSV (offline, Instagram, phone): all rows or none",
    dependencies=[OPERATORS],
    response_model=CsvImported,
    openapi_extra={
        "requestBody": {"content": {"text/csv": {"schema": {"type": "string"}}}, "required": True}
    },
)
@upload
async def import_csv(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal("body", "the CSV must be UTF-8 text") from None
    parsed = domain.parse_csv(text)
    if parsed.problems:
        raise Refusal.of((p.split(":", 1)[0], p.split(":", 1)[1].strip()) for p in parsed.problems)
    if not parsed.orders:
        raise Refusal("body", "the CSV holds no order rows")
    service = request.app.state.service
    created, duplicates = [], []
    async with service.pool.acquire() as conn, conn.transaction():
        for order in parsed.orders:
            inserted = await store.insert_channel_order(
                conn,
                account="csv",
                store_order_id=f"{order.channel.value}:{order.channel_order_id}",
                channel=order.channel.value,
                channel_order_id=order.channel_order_id,
                status="sent",
                problems=[],
                store_order=order.model_dump(mode="json"),
            )
            if inserted:
                await service.emit(conn, order)
                created.append(order.channel_order_id)
            else:
                duplicates.append(order.channel_order_id)
    return {"imported": created, "already_imported": duplicates}


def poll_router(adapters: dict[str, StoreAdapter]) -> APIRouter:
    """POST /accounts/{account}/poll: the reconciliation poll of one store, now (it also runs on its own);
    POST /accounts/{account}/stock/full-push: the nightly full push of one store, now;
    GET /marketplace-labels/{shipment_id}/label.pdf: a marketplace's label, from the marketplace."""
    routes = APIRouter(tags=["channels"])

    @routes.post(
        "/accounts/{account}/stock/full-push",
        summary="Read every listing's number on the store, report drift, and push every listing again",
        dependencies=[OPERATORS],
        response_model=FullPushDone,
        responses=errors(404),
    )
    async def full_push_now(request: Request, account: str) -> dict[str, Any]:
        result = await sync.full_push(request.app.state.service, adapters, account)
        if result is None:
            raise Refusal("account", f"no enabled channel account {account!r}", status=404)
        return {
            "account": account,
            "listings": result.listings,
            "error": result.error,
            "drift": [
                {"channel_sku": c, "sku": sku, "store_quantity": shown, "dabba_quantity": ours}
                for c, sku, shown, ours in result.drift
            ],
        }

    @routes.get(
        "/marketplace-labels/{shipment_id}/label.pdf",
        summary="The marketplace's own label of a parcel it carries, printed again from the marketplace",
        dependencies=[require(Role.OPS, Role.WAREHOUSE)],
        response_class=Response,
        responses={
            200: text_answer("application/pdf", "The label PDF", binary=True),
            **errors(404, 409, 502),
        },
    )
    async def marketplace_label(
        request: Request, shipment_id: Annotated[str, Path(min_length=1, max_length=64)]
    ) -> Response:
        service = request.app.state.service
        async with service.pool.acquire() as conn:
            label = await store.label_of(conn, shipment_id)
            account = await store.get_account(conn, label.account) if label else None
        if label is None or account is None:
            raise Refusal("shipment_id", f"no marketplace label owed for shipment {shipment_id}", status=404)
        adapter = adapters.get(account.platform)
        if label.awb is None or not isinstance(adapter, LabelSource):
            why = label.outcome or label.last_error or "the marketplace has not labelled it yet"
            raise Refusal("shipment_id", f"no label yet: {why}", status=409, error="not labelled")
        try:
            pdf = await adapter.label_pdf(account, label.store_order_id)
        except StoreError as exc:
            raise Refusal("shipment_id", str(exc)[:500], status=502, error="marketplace refused") from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f"inline; filename={shipment_id}.pdf"},
        )

    @routes.post(
        "/accounts/{account}/poll",
        summary="Ask the store now for orders changed since the last poll; take in any a webhook missed",
        dependencies=[OPERATORS],
        response_model=Polled,
        responses=errors(404),
    )
    async def poll_now(request: Request, account: str) -> dict[str, Any]:
        result = await poll.poll_account(request.app.state.service, _settings(request), adapters, account)
        if result.error == "no such enabled account":
            raise Refusal("account", f"no enabled channel account {account!r}", status=404)
        return {
            "account": account,
            "listed": result.listed,
            "taken_in": result.taken_in,
            "error": result.error,
        }

    return routes
