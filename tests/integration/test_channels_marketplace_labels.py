"""Channels on the real PostgreSQL server with the sandbox's Flipkart seller in process: a shipment
Flipkart carries, once our invoice of it is issued, is packed on Flipkart with that invoice's number,
date and rate, and Flipkart's AWB goes to shipping's marketplace-awb route; what Flipkart reports
after dispatch (its courier collected it) goes to shipping once (ADR 370, 371)."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import asyncpg
import httpx
import pytest

from chassis import db
from chassis.outbox import emit
from chassis.ratelimit import Limit, RateLimiter
from chassis.service import Service
from contracts import Event, InvoicedLine, InvoiceIssued
from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from services.channels import handlers, poll, store, sync
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


async def test_a_flipkart_carried_parcel_is_labelled_with_our_invoice_and_its_pickup_reaches_shipping(
    pool: asyncpg.Pool,
) -> None:
    app = create_app(SandboxSettings(http_port=8010, courier_token=None))
    ticks = itertools.count()
    name = unique("fk").lower()
    app.state.flipkart.seller(name).clock = lambda: float(next(ticks))
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
            [{"channel_sku": "FK-ASSAM", "sku": sku, "product_id": seller["product_ids"]["FK-ASSAM"]}],
        )
    placed = (
        await http.post(f"/_sandbox/flipkart/{name}/orders", json={"lines": [{"sku": "FK-ASSAM"}]})
    ).json()
    shipment_id = placed["shipment_id"]
    # Flipkart's window ends at whole seconds: our clock a second ahead takes in what was just placed.
    adapter = FlipkartMarketplace(http, Unlimited(), clock=lambda: datetime.now(UTC) + timedelta(seconds=1))
    service = SimpleNamespace(
        pool=pool, emit=lambda conn, event: emit(conn, event, source="channels"), emit_many=emit_all
    )
    settings = ChannelsSettings(database_url="postgresql://unused")
    svc = cast(Service, service)
    await poll.poll_marketplace(svc, settings, adapter, account)
    order_id = unique("ORD")
    async with pool.acquire() as conn:
        await store.link_order(conn, "flipkart", f"{name}-{shipment_id}", order_id)
        assert (await store.channel_order_of(conn, order_id))["shipped_by_marketplace"]  # type: ignore[index]

    # Packed in our warehouse: invoicing issued our invoice, and channels learns it from the event.
    ours = Service("channels", settings=settings, migrations=MIGRATIONS)
    handlers.register(ours)
    consumer = Handlers(ours, pool)
    invoice = InvoiceIssued(
        order_id=order_id, invoice_id=unique("INV"), number="INV/26-27/000042", gstin="27AAPFU0939F1ZV",
        issued_at=datetime(2026, 12, 6, 20, 0, tzinfo=UTC), place_of_supply="08", supply="inter_state",
        taxable_paise=33238, cgst_paise=0, sgst_paise=0, igst_paise=1662, total_paise=34900,
        shipment_id=unique("SHP"), warehouse_code="GGN1",
        lines=[InvoicedLine(sku=sku, quantity=1, gst_rate="5")],
    )  # fmt: skip
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
