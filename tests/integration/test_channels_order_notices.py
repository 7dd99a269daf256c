"""Channels on the real PostgreSQL server with the sandbox's Amazon seller in process: an
ORDER_CHANGE notice in the seller's SQS queue brings its order in at once, and the poll behind it
takes nothing twice; an unpaid order's notice fetches nothing, a cancellation's notice cancels ours,
and a notice of another seller or not of an order is set aside (ADR 420)."""

from __future__ import annotations

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
from contracts import Event
from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from sandbox.sqs import ACCESS_KEY_ID
from services.channels import notices, poll, store
from services.channels.settings import ChannelsSettings
from services.channels.stores.amazon import AmazonMarketplace
from services.channels.stores.interface import Account
from tests import infra
from tests.helpers import unique

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "channels" / "migrations"


class Unlimited(RateLimiter):
    """Grants every token (the sandbox still enforces and counts Amazon's usage plans)."""

    def __init__(self) -> None:
        super().__init__(lambda: cast(asyncpg.Pool, None))

    async def acquire(self, bucket: str, limit: Limit) -> None:
        return None


@pytest.fixture(scope="module")
async def pool(servers: infra.Servers) -> AsyncIterator[asyncpg.Pool]:
    p = await db.open_database(
        server_url=servers.database_url, service="channels_notices_test", migrations_dir=MIGRATIONS,
        min_size=1, max_size=4,
    )  # fmt: skip
    yield p
    await p.close()


async def emit_all(conn: asyncpg.Connection, events: list[Event]) -> None:
    for event in events:
        await emit(conn, event, source="channels")


async def sent(pool: asyncpg.Pool, account: str, order_id: str) -> int:
    """How many times channel.orders.v1 carried this Amazon order."""
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'channel.orders.v1' AND key = $1",
            f"amazon:{account}-{order_id}",
        )
    )


@pytest.mark.parametrize("orders_api", ["v0", "2026-01-01"])
async def test_an_order_change_notice_takes_its_order_in_at_once_and_the_poll_takes_it_once(
    pool: asyncpg.Pool, orders_api: str
) -> None:
    """Through either of Amazon's Orders APIs (ADR 421): getOrders/getOrder v0, or searchOrders and
    getOrder 2026-01-01 with each order's items inline."""
    listing = "getOrders" if orders_api == "v0" else "searchOrders"
    app = create_app(SandboxSettings(http_port=8010, courier_token=None))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
    name = unique("amz").lower()
    seller = (
        await http.put(
            f"/_sandbox/amazon/{name}", json={"products": [{"sku": "AMZ-ASSAM"}], "notifications": True}
        )
    ).json()
    account = Account(
        account=name, platform="amazon", base_url=f"http://sandbox/amazon/{name}", webhook_secret="",
        api_key="amzn1.application-oa2-client.test", api_secret="an-lwa-client-secret",
        refresh_token="Atzr|a-refresh-token", seller_id=seller["seller_id"], marketplace_id="A21TJRUUN4KGV",
        auth_url=f"http://sandbox/amazon/{name}/auth/o2/token",
        sqs_queue_url=f"http://sandbox{seller['sqs_queue_path']}", sqs_region="ap-south-1",
        sqs_access_key_id=ACCESS_KEY_ID, sqs_secret_access_key="a-sandbox-secret", orders_api=orders_api,
    )  # fmt: skip
    async with pool.acquire() as conn:
        await store.upsert_account(conn, account)
        await store.upsert_mappings(conn, name, [{"channel_sku": "AMZ-ASSAM", "sku": unique("TEA")}])
    adapter = AmazonMarketplace(http, Unlimited())
    service = SimpleNamespace(
        pool=pool, emit=lambda conn, event: emit(conn, event, source="channels"), emit_many=emit_all
    )
    svc = cast(Service, service)
    settings = ChannelsSettings(database_url="postgresql://unused", notice_wait_s=0)
    adapters: dict[str, Any] = {"amazon": adapter}
    amazon = app.state.amazon.seller(name)

    async def place(**extra: Any) -> str:
        body = {"lines": [{"sku": "AMZ-ASSAM", "quantity": 1}], **extra}
        return str((await http.post(f"/_sandbox/amazon/{name}/orders", json=body)).json()["id"])

    async def take() -> notices.NoticeResult:
        [result] = [r for r in await notices.take_all(svc, settings, adapters) if name in r.queue]
        return result

    # A buyer orders: Amazon's notice brings the order in now, not at the next poll.
    order = await place()
    result = await take()
    assert (result.notices, result.taken_in, result.error) == (1, 1, None)
    assert await sent(pool, name, order) == 1
    status = "SELECT status FROM channel_orders WHERE account = $1 AND store_order_id = $2"
    assert await pool.fetchval(status, name, order) == "sent", "its line read and mapped"
    assert app.state.sqs.queues[amazon.queue].messages == [], "the notice was deleted once handled"
    assert listing not in amazon.plans.calls, "fetched with getOrder, not by polling"

    # The poll runs on behind the notices: it lists the same order and takes nothing again.
    await poll.poll_marketplace(
        svc, settings, adapter, account, clock=lambda: datetime.now(UTC) + timedelta(seconds=1)
    )
    assert len(amazon.plans.calls[listing]) == 1
    assert await sent(pool, name, order) == 1

    # A change of an order we have that we take nothing from (Amazon restated its status) costs no call.
    before = len(amazon.plans.calls["getOrder"])
    await http.post(f"/_sandbox/amazon/{name}/orders/{order}", json={"status": "Unshipped"})
    assert ((await take()).notices, len(amazon.plans.calls["getOrder"])) == (1, before)

    # An unpaid order's notice fetches nothing (its authorisation is another notice); the notice goes.
    before = len(amazon.plans.calls["getOrder"])
    unpaid = await place(status="Pending")
    assert (await take()).taken_in == 0
    assert len(amazon.plans.calls["getOrder"]) == before
    assert await sent(pool, name, unpaid) == 0
    assert app.state.sqs.queues[amazon.queue].messages == []

    # The buyer asks Amazon to cancel: the notice surfaces it on our order; Amazon's cancellation
    # then cancels ours, once.
    await http.post(
        f"/_sandbox/amazon/{name}/orders/{order}", json={"buyer_cancel_reason": "ordered by mistake"}
    )
    assert (await take()).taken_in == 0
    asked = (
        "SELECT buyer_cancel_reason, cancelled_on_store_at FROM channel_orders"
        " WHERE account = $1 AND store_order_id = $2"
    )
    row = await pool.fetchrow(asked, name, order)
    assert row is not None and row["buyer_cancel_reason"] == "ordered by mistake"
    assert row["cancelled_on_store_at"] is None
    await http.post(f"/_sandbox/amazon/{name}/orders/{order}", json={"status": "Canceled"})
    assert (await take()).taken_in == 1
    row = await pool.fetchrow(asked, name, order)
    assert row is not None and row["cancelled_on_store_at"] is not None
    assert (await take()).notices == 0

    # Another seller's notice, or a message that is no ORDER_CHANGE, is set aside, never retried.
    foreign = json.loads(json.dumps(_notice("AOTHERSELLER", order)))
    app.state.sqs.send(amazon.queue, json.dumps(foreign))
    app.state.sqs.send(amazon.queue, json.dumps({"NotificationType": "ANY_OFFER_CHANGED"}))
    assert (await take()).notices == 2
    assert app.state.sqs.queues[amazon.queue].messages == []
    assert app.state.amazon.seller(name).plans.throttled == {}
    if orders_api == "2026-01-01":
        assert "getOrderItems" not in amazon.plans.calls and "getOrders" not in amazon.plans.calls
    await http.aclose()


def _notice(seller_id: str, order_id: str) -> dict[str, Any]:
    return {
        "NotificationType": "ORDER_CHANGE",
        "Payload": {
            "OrderChangeNotification": {
                "SellerId": seller_id,
                "AmazonOrderId": order_id,
                "Summary": {"MarketplaceId": "A21TJRUUN4KGV", "OrderStatus": "Unshipped"},
            }
        },
    }
