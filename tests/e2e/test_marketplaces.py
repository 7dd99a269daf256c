"""Amazon orders polled in through the real stack: the sandbox's Amazon seller answers getOrders a
page at a time; channels takes each order in exactly once even when it is restarted mid-poll, lets a
Pending order wait for its payment, renews an expired access token, takes an order and its
cancellation from Amazon's ORDER_CHANGE notices with the poll behind them, and cancels ours
(releasing the stock) when Amazon cancels before dispatch."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from sandbox.sqs import ACCESS_KEY_ID
from tests.conftest import Tap, body_has
from tests.e2e import marketplace
from tests.e2e.marketplace import events
from tests.helpers import db_fetch, seed_stock, unique, url, wait_routing_knows, wait_until

pytestmark = pytest.mark.e2e


async def open_amazon(
    skus: dict[str, str],
    *,
    page_size: int = 100,
    refused: tuple[str, ...] = (),
    notifications: bool = False,
    orders_api: str = "v0",
) -> str:
    """A sandbox Amazon seller listing these SKUs (Amazon SKU → Dabba SKU), connected to channels;
    with ``notifications``, its ORDER_CHANGE notices go to an SQS queue channels reads (ADR 420);
    its orders read with ``orders_api`` (v0 getOrders or 2026-01-01 searchOrders, ADR 421)."""
    account = unique("amz").lower()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.put(
            url("sandbox", f"/_sandbox/amazon/{account}"),
            json={
                "products": [{"sku": c, "available": 50} for c in skus],
                "page_size": page_size,
                "refused_skus": list(refused),
                "notifications": notifications,
            },
        )
        r.raise_for_status()
        seller_id = r.json()["seller_id"]
        queue = r.json()["sqs_queue_path"]
        r = await http.put(
            url("channels", f"/accounts/{account}"),
            headers=dev_headers("admin"),
            json={
                "platform": "amazon",
                "base_url": url("sandbox", f"/amazon/{account}"),
                "auth_url": url("sandbox", f"/amazon/{account}/auth/o2/token"),
                "api_key": "amzn1.application-oa2-client.test",
                "api_secret": "an-lwa-client-secret",
                "refresh_token": "Atzr|a-refresh-token",
                "seller_id": seller_id,
                "marketplace_id": "A21TJRUUN4KGV",
                "orders_api": orders_api,
                **(
                    {
                        "sqs_queue_url": url("sandbox", queue),
                        "sqs_region": "ap-south-1",
                        "sqs_access_key_id": ACCESS_KEY_ID,
                        "sqs_secret_access_key": "a-sandbox-queue-secret",
                    }
                    if notifications
                    else {}
                ),
            },
        )
        r.raise_for_status()
        r = await http.put(
            url("channels", f"/accounts/{account}/mappings"),
            headers=dev_headers("ops"),
            json=[{"channel_sku": c, "sku": s} for c, s in skus.items()],
        )
        r.raise_for_status()
    return account


async def sell(account: str, channel_sku: str, **extra: Any) -> str:
    return str((await marketplace.place("amazon", account, channel_sku, **extra))["id"])


async def seller_state(account: str) -> dict[str, Any]:
    return await marketplace.seller_state("amazon", account)


async def poll(account: str) -> dict[str, Any]:
    return await marketplace.poll(account, timeout=60)


async def test_amazon_orders_arrive_once_across_a_restart_mid_poll_and_a_pending_one_waits(
    stack: Stack, tap: Tap
) -> None:
    """Read with searchOrders (Orders API 2026-01-01, ADR 421): its pages resume the same way."""
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 20})
    account = await open_amazon({"AMZ-ASSAM": sku}, page_size=2, orders_api="2026-01-01")
    ready = [await sell(account, "AMZ-ASSAM") for _ in range(5)]
    pending = await sell(account, "AMZ-ASSAM", status="Pending")

    await marketplace.poll_killed_on_page_2(
        stack, "amazon", account, poll_timeout=60, what="page 2 asked for and held", timeout=90
    )

    for order_id in ready:
        await tap.wait_for("orders.placed.v1", body_has(channel_order_id=f"{account}-{order_id}"), timeout=90)
    for order_id in ready:
        sent = tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{order_id}"))
        # A relay killed between the broker's ack and marking its row sent sends the same event
        # (same ce_id) again; orders' inbox drops it. One event, one order.
        assert len(events(sent)) == 1, f"{order_id} sent as {len(events(sent))} events"
        placed = tap.find("orders.placed.v1", body_has(channel_order_id=f"{account}-{order_id}"))
        assert len(events(placed)) == 1, f"{order_id} placed {len(events(placed))} times"
    state = await seller_state(account)
    assert state["next_tokens_used"] >= 1, "the restarted poll resumed at the page it had reached"
    assert not tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{pending}"))

    # Payment authorised: the order changes, and the next poll brings it, once.
    async with httpx.AsyncClient(timeout=10) as http:
        await http.post(
            url("sandbox", f"/_sandbox/amazon/{account}/orders/{pending}"), json={"status": "Unshipped"}
        )
        await http.post(url("sandbox", f"/_sandbox/amazon/{account}/expire-tokens"))
    await poll(account)
    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=f"{account}-{pending}"), timeout=90)
    assert len(events(tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{pending}")))) == 1
    assert (await seller_state(account))["tokens_issued"] >= 2, "the expired access token was renewed"
    state = await seller_state(account)
    assert state["throttled"] == {}, "no call beyond Amazon's usage plans"
    assert "getOrders" not in state["calls"] and "getOrderItems" not in state["calls"]


async def test_an_amazon_order_and_its_cancellation_come_by_notice_and_cancel_ours_releasing_the_stock(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 5})
    await wait_routing_knows(sku, 5)
    account = await open_amazon({"AMZ-DARJ": sku}, notifications=True)
    order = await sell(account, "AMZ-DARJ")
    # No poll asked for: Amazon's ORDER_CHANGE notice brings the order in (ADR 420).
    [event] = await tap.wait_for(
        "orders.placed.v1", body_has(channel_order_id=f"{account}-{order}"), timeout=90
    )
    order_id = json.loads(event.value)["order_id"]
    await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id), timeout=60)
    # The poll stays on behind the notices; what it lists again is not taken again.
    polled = await poll(account)
    assert polled["taken_in"] == 0, polled

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            url("sandbox", f"/_sandbox/amazon/{account}/orders/{order}"),
            json={"status": "Canceled", "buyer_cancel_reason": "ordered by mistake"},
        )
        r.raise_for_status()
    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id), timeout=90)
    assert json.loads(cancelled.value)["reason_code"] == "customer_request"
    await tap.wait_for("inventory.released.v1", body_has(order_id=order_id), timeout=60)
    await wait_until(
        lambda: _row_outcome(account, order), what="the cancellation passed on to orders", timeout=60
    )
    sent = tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{order}"))
    assert len(events(sent)) == 1, "an order both a notice and the poll brought was sent once"
    state = await seller_state(account)
    assert state["notices_deleted"] == state["notices_sent"] == 2
    assert state["calls"]["getOrder"], "each notice's order was fetched"
    assert state["throttled"] == {}


async def _row_outcome(account: str, order: str) -> str | None:
    rows = await db_fetch(
        "channels",
        "SELECT cancel_outcome FROM channel_orders WHERE account = $1 AND store_order_id = $2",
        account,
        order,
    )
    return rows[0]["cancel_outcome"] if rows and rows[0]["cancel_outcome"] else None


async def test_stock_pushes_to_amazon_stay_within_its_rate_and_a_refused_listing_is_reported_alone(
    stack: Stack,
) -> None:
    skus = {f"AMZ-{i:02d}": unique(f"MUG{i:02d}") for i in range(12)}
    account = await open_amazon(skus, refused=("AMZ-07",))
    for n, sku in enumerate(skus.values()):
        await seed_stock(sku, {"GGN1": 3 + n})

    async def all_pushed() -> dict[str, Any] | None:
        state = await seller_state(account)
        wanted = {c: 3 + n for n, c in enumerate(skus) if c != "AMZ-07"}
        return state if all(state["stock"][c] == q for c, q in wanted.items()) else None

    state = await wait_until(all_pushed, what="every accepted listing shows its number", timeout=120)
    assert state["stock"]["AMZ-07"] == 50, "the refused listing kept Amazon's number"
    assert state["throttled"] == {}
    calls = sorted(state["calls"]["patchListingsItem"])
    # patchListingsItem: 5 requests/s, burst 5. In any stretch of time, at most burst + rate x length.
    for i, start in enumerate(calls):
        within = [t for t in calls[i:] if t - start <= 1.0]
        assert len(within) <= 5 + 5 * 1.0, f"{len(within)} pushes within a second"

    async def reported() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
            rows = (await http.get(url("channels", f"/accounts/{account}/stock"))).json()["items"]
        row = next(r for r in rows if r["channel_sku"] == "AMZ-07")
        return row if row["last_error"] and row["attempts"] >= 2 else None

    row = await wait_until(reported, what="the refused listing tried alone and reported", timeout=60)
    assert "INVALID" in row["last_error"]
