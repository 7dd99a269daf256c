"""Channels on the real PostgreSQL server with the sandbox's Flipkart seller in process: a shipment
Flipkart carries, once our invoice of it is issued, is packed on Flipkart with that invoice's number,
date and rate, and Flipkart's AWB goes to shipping's marketplace-awb route; what Flipkart reports
after dispatch (its courier collected it) goes to shipping once (ADR 370, 371)."""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import pytest

from chassis import db
from chassis.auth import parse_keys
from chassis.http import create_http_app
from chassis.outbox import emit
from chassis.ratelimit import Limit, RateLimiter
from chassis.service import Service
from contracts import Event, InvoicedLine, InvoiceIssued
from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.channels import api, handlers, poll, store, sync
from services.channels.settings import ChannelsSettings
from services.channels.stores.flipkart import FlipkartMarketplace
from services.channels.stores.interface import Account
from tests import infra
from tests.helpers import Handlers, unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "channels" / "migrations"


class Unlimited(RateLimiter):
    """Grants every token (the sandbox still counts its plans)."""

    def __init__(self) -> None:
        super().__init__(lambda: cast(asyncpg.Pool, None))

    async def acquire(self, bucket: str, limit: Limit) -> None:
        return None


class Shipping:
    """Shipping's HTTP API as channels calls it: every call kept, each answered 200."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.client = httpx.AsyncClient(
            transport=httpx.MockTransport(self.answer), base_url="http://shipping"
        )

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path, json.loads(request.content)))
        return httpx.Response(200, json={})


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="channels_labels_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=4,
    )  # fmt: skip
    yield p
    await p.close()


async def emit_all(conn: asyncpg.Connection, events: list[Event]) -> None:
    for event in events:
        await emit(conn, event, source="channels")


@dataclass
class Seller:
    """A sandbox Flipkart seller connected to channels on the real database, its parcels carried by
    Flipkart; each order placed there is polled in and linked to an order of ours."""

    app: Any
    http: httpx.AsyncClient
    name: str
    account: Account
    sku: str
    adapter: FlipkartMarketplace
    svc: Service
    settings: ChannelsSettings
    consumer: Handlers

    async def parcel(self) -> tuple[dict[str, Any], str]:
        """A Flipkart order placed, polled in and linked to an order of ours: (Flipkart's, our id)."""
        placed = (
            await self.http.post(
                f"/_sandbox/flipkart/{self.name}/orders", json={"lines": [{"sku": "FK-ASSAM"}]}
            )
        ).json()
        await poll.poll_marketplace(self.svc, self.settings, self.adapter, self.account)
        order_id = unique("ORD")
        async with self.svc.pool.acquire() as conn:
            await store.link_order(conn, "flipkart", f"{self.name}-{placed['shipment_id']}", order_id)
            origin = await store.channel_order_of(conn, order_id)
            assert origin is not None and origin.shipped_by_marketplace
        return placed, order_id


async def flipkart_seller(pool: asyncpg.Pool) -> Seller:
    app = create_app(SandboxSettings(http_port=8010, courier_token=None))
    ticks = itertools.count()
    name = unique("fk").lower()
    app.state.flipkart.seller(name).plans.clock = lambda: float(next(ticks))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
    seller = (await http.put(f"/_sandbox/flipkart/{name}", json={"products": [{"sku": "FK-ASSAM"}]})).json()
    account = Account(
        account=name, platform="flipkart", base_url=f"http://sandbox/flipkart/{name}", webhook_secret="",
        api_key="fk-app-id", api_secret="fk-app-secret", location_id=seller["location_id"],
        auth_url=f"http://sandbox/flipkart/{name}/oauth-service/oauth/token",
    )  # fmt: skip
    sku = unique("TEA")
    async with pool.acquire() as conn:
        await store.upsert_account(conn, account)
        await store.upsert_mappings(
            conn,
            name,
            [
                {
                    "channel_sku": "FK-ASSAM",
                    "sku": sku,
                    "product_id": seller["product_ids"]["FK-ASSAM"],
                }
            ],
        )
    # Flipkart's window ends at whole seconds: our clock a second ahead takes in what was just placed.
    adapter = FlipkartMarketplace(http, Unlimited(), clock=lambda: datetime.now(UTC) + timedelta(seconds=1))
    service = SimpleNamespace(
        pool=pool, emit=lambda conn, event: emit(conn, event, source="channels"), emit_many=emit_all
    )
    settings = ChannelsSettings(database_url="postgresql://unused")
    ours = Service("channels", settings=settings, migrations=MIGRATIONS)
    ours.include_handlers(handlers.subscriptions, None)
    return Seller(
        app, http, name, account, sku, adapter, cast(Service, service), settings, Handlers(ours, pool)
    )


def invoice_of(
    order_id: str, sku: str, *, status: str = "issued", invoice: InvoiceIssued | None = None
) -> InvoiceIssued:
    """Our invoice of the order's parcel as invoicing announces it (cancelled: the same invoice again)."""
    if invoice is not None:
        return invoice.model_copy(update={"status": status})
    return InvoiceIssued(
        order_id=order_id, invoice_id=unique("INV"), number="INV/26-27/000042", gstin="27AAPFU0939F1ZV",
        issued_at=datetime(2026, 12, 6, 20, 0, tzinfo=UTC), place_of_supply="08", supply="inter_state",
        taxable_paise=33238, cgst_paise=0, sgst_paise=0, igst_paise=1662, total_paise=34900,
        shipment_id=unique("SHP"), warehouse_code="GGN1",
        lines=[InvoicedLine(sku=sku, quantity=1, gst_rate="5")],
    )  # fmt: skip


async def test_a_flipkart_carried_parcel_is_labelled_with_our_invoice_and_its_pickup_reaches_shipping(
    pool: asyncpg.Pool,
) -> None:
    seller = await flipkart_seller(pool)
    app, http, name, account, sku = seller.app, seller.http, seller.name, seller.account, seller.sku
    adapter, svc, settings, consumer = seller.adapter, seller.svc, seller.settings, seller.consumer
    placed, order_id = await seller.parcel()
    shipment_id = placed["shipment_id"]

    # Packed in our warehouse: invoicing issued our invoice, and channels learns it from the event.
    invoice = invoice_of(order_id, sku)
    await consumer.apply(invoice)
    await consumer.apply(invoice)  # redelivered: owed once

    shipping = Shipping()
    assert await sync.fetch_labels(svc, settings, {"flipkart": adapter}, shipping.client) == 1
    assert await sync.fetch_labels(svc, settings, {"flipkart": adapter}, shipping.client) == 0
    [packed] = app.state.flipkart.seller(name).packed
    assert packed["request"]["taxItems"][0]["taxRate"] == 5.0
    assert packed["request"]["invoices"][0] == {
        "orderId": placed["order_id"],
        "invoiceDate": "2026-12-07T01:30:00+05:30",
        "invoiceNumber": "INV/26-27/000042",
    }
    assert shipping.calls == [
        ("PUT", f"/shipments/{invoice.shipment_id}/marketplace-awb", {"awb": packed["awb"]})
    ]

    # Flipkart's courier collected it: the next poll's news goes to shipping, once.
    await http.post(
        f"/_sandbox/flipkart/{name}/orders/{shipment_id}/progress", json={"state": "PICKUP_COMPLETE"}
    )
    for _ in range(2):
        await poll.poll_marketplace(svc, settings, adapter, account)
        await sync.push_news(svc, settings, shipping.client)
    [(method, path, news)] = shipping.calls[1:]
    assert (method, path) == ("POST", f"/shipments/{invoice.shipment_id}/marketplace-news")
    assert (news["status"], news["code"]) == ("PICKED_UP", "PICKUP_COMPLETE")
    await http.aclose()


async def test_a_refused_label_is_listed_and_retried_and_a_cancelled_invoice_cancels_one_still_owed(
    pool: asyncpg.Pool,
) -> None:
    # Flipkart's item is mapped to another SKU than the one we invoiced: no rate, so no label (ADR 370).
    invoiced_sku = unique("TEA")
    seller = await flipkart_seller(pool)
    placed, order_id = await seller.parcel()
    invoice = invoice_of(order_id, invoiced_sku)
    await seller.consumer.apply(invoice)
    shipping = Shipping()
    adapters: dict[str, Any] = {"flipkart": seller.adapter}
    assert await sync.fetch_labels(seller.svc, seller.settings, adapters, shipping.client) == 0
    channels = operators_api(seller.svc)

    refused = (await channels.get("/marketplace-labels", params={"state": "refused"})).json()["items"]
    [label] = [r for r in refused if r["shipment_id"] == invoice.shipment_id]
    assert (label["order_id"], label["store_order_id"]) == (order_id, placed["shipment_id"])
    assert "rate" in label["outcome"], label["outcome"]
    assert seller.app.state.flipkart.seller(seller.name).packed == [], "nothing packed without a rate"

    # The operator maps Flipkart's item to the invoiced SKU and asks again: the label comes.
    async with pool.acquire() as conn:
        await store.upsert_mappings(conn, seller.name, [{"channel_sku": "FK-ASSAM", "sku": invoiced_sku}])
    again = await channels.post(f"/marketplace-labels/{invoice.shipment_id}/retry")
    assert (again.status_code, again.json()["state"], again.json()["outcome"]) == (200, "owed", None)
    assert await sync.fetch_labels(seller.svc, seller.settings, adapters, shipping.client) == 1
    [packed] = seller.app.state.flipkart.seller(seller.name).packed
    assert shipping.calls == [
        ("PUT", f"/shipments/{invoice.shipment_id}/marketplace-awb", {"awb": packed["awb"]})
    ]
    done = await channels.post(f"/marketplace-labels/{invoice.shipment_id}/retry")
    assert (done.status_code, done.json()["error"]) == (409, "recorded")
    assert (await channels.post("/marketplace-labels/SHP-NONE/retry")).status_code == 404

    # Another parcel's shipment is cancelled after packing: its invoice is cancelled, and the label
    # still owed is never asked for; a retry cannot bring it back.
    _, second = await seller.parcel()
    invoice = invoice_of(second, invoiced_sku)
    await seller.consumer.apply(invoice)
    await seller.consumer.apply(invoice_of(second, invoiced_sku, status="cancelled", invoice=invoice))
    assert await sync.fetch_labels(seller.svc, seller.settings, adapters, shipping.client) == 0
    assert len(seller.app.state.flipkart.seller(seller.name).packed) == 1
    cancelled = (await channels.get("/marketplace-labels", params={"state": "cancelled"})).json()["items"]
    assert invoice.shipment_id in [r["shipment_id"] for r in cancelled]
    assert (await channels.post(f"/marketplace-labels/{invoice.shipment_id}/retry")).status_code == 409
    await seller.http.aclose()


def operators_api(svc: Service) -> httpx.AsyncClient:
    """Channels' own routes in process, on the real database, called with an ops key."""

    @contextlib.asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield

    async def ready() -> dict[str, bool]:
        return {}

    app = create_http_app(
        title="channels", version="test", lifespan=lifespan, readiness=ready,
        api_keys=parse_keys("ops-test:ops:an-ops-key-only-for-tests"),
    )  # fmt: skip
    app.include_router(api.router)
    app.state.service = svc
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://channels",
        headers={"X-API-Key": "an-ops-key-only-for-tests"},
    )


async def test_operators_page_through_the_store_orders_taken_in_and_see_the_account_without_its_secret(
    pool: asyncpg.Pool,
) -> None:
    seller = await flipkart_seller(pool)
    (first, first_id), (second, second_id) = await seller.parcel(), await seller.parcel()
    channels = operators_api(seller.svc)

    pages, cursor = [], None
    for _ in range(3):
        params = {"account": seller.name, "limit": "1"} | ({"cursor": cursor} if cursor else {})
        page = (await channels.get("/channel-orders", params=params)).json()
        pages += page["items"]
        if (cursor := page["next_cursor"]) is None:
            break
    assert [(o["store_order_id"], o["order_id"]) for o in pages] == [
        (second["shipment_id"], second_id),
        (first["shipment_id"], first_id),
    ], "newest first, one a page, none twice"
    assert (pages[0]["channel"], pages[0]["status"], pages[0]["problems"]) == ("flipkart", "sent", [])
    assert datetime.fromisoformat(pages[0]["received_at"]).tzinfo is not None

    listed, cursor = [], None
    while True:
        page = (await channels.get("/accounts", params={"cursor": cursor} if cursor else {})).json()
        listed += [a for a in page["items"] if a["account"] == seller.name]
        if (cursor := page["next_cursor"]) is None:
            break
    [account] = listed
    assert (account["platform"], account["enabled"], account["location_id"]) == (
        "flipkart",
        True,
        seller.account.location_id,
    )
    assert (account["webhook_secret_set"], account["api_secret_set"]) == (False, True)
    assert "api_secret" not in account
    await seller.http.aclose()
