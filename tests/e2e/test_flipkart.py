"""Flipkart orders polled in through the real stack: the sandbox's Flipkart seller answers the
shipments filter a page at a time; channels takes each shipment in exactly once even when it is
restarted mid-poll, lets a held shipment wait for its release, renews an expired token, cancels ours
(releasing the stock) when the buyer cancels on Flipkart before dispatch, pushes stock 10 SKUs a
call within the rate, a refused SKU tried alone and reported, and tells Flipkart of a self-ship parcel
picked up with our courier's AWB, while a shipment Flipkart carries books no courier of ours, takes
Flipkart's AWB and, once packed, is marked ready to dispatch for Flipkart's courier, whose pickup
(Flipkart's PICKUP_COMPLETE) moves our shipment on."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts import ShipmentStatus, ShipmentUpdated
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from sandbox.flipkart import RATES as FLIPKART_PLANS
from services.shipping.domain import shipment_id_for
from tests.conftest import Tap, body_has, publish_event
from tests.e2e import marketplace
from tests.e2e.marketplace import events
from tests.helpers import db_fetch, seed_stock, unique, url, wait_routing_knows, wait_until

pytestmark = pytest.mark.e2e


async def open_flipkart(
    skus: dict[str, str], *, page_size_cap: int = 20, refused: tuple[str, ...] = ()
) -> str:
    """A sandbox Flipkart seller listing these SKUs (Flipkart SKU → Dabba SKU), connected to channels."""
    account = unique("fk").lower()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.put(
            url("sandbox", f"/_sandbox/flipkart/{account}"),
            json={
                "products": [{"sku": c, "available": 50} for c in skus],
                "page_size_cap": page_size_cap,
                "refused_skus": list(refused),
            },
        )
        r.raise_for_status()
        seller = r.json()
        r = await http.put(
            url("channels", f"/accounts/{account}"),
            headers=dev_headers("admin"),
            json={
                "platform": "flipkart",
                "base_url": url("sandbox", f"/flipkart/{account}"),
                "auth_url": url("sandbox", f"/flipkart/{account}/oauth-service/oauth/token"),
                "api_key": "fk-application-id",
                "api_secret": "a-flipkart-application-secret",
                "location_id": seller["location_id"],
            },
        )
        r.raise_for_status()
        r = await http.put(
            url("channels", f"/accounts/{account}/mappings"),
            headers=dev_headers("ops"),
            json=[
                {"channel_sku": c, "sku": s, "product_id": seller["product_ids"][c]} for c, s in skus.items()
            ],
        )
        r.raise_for_status()
    return account


async def sell(account: str, channel_sku: str, **extra: Any) -> str:
    return str((await marketplace.place("flipkart", account, channel_sku, **extra))["shipment_id"])


async def seller_state(account: str) -> dict[str, Any]:
    return await marketplace.seller_state("flipkart", account)


async def poll(account: str) -> dict[str, Any]:
    return await marketplace.poll(account, timeout=120)


async def test_flipkart_orders_arrive_once_across_a_restart_mid_poll_and_a_held_one_waits(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 20})
    account = await open_flipkart({"FK-ASSAM": sku}, page_size_cap=2)
    ready = [await sell(account, "FK-ASSAM") for _ in range(4)]
    ready.append(await sell(account, "FK-ASSAM", self_ship=True))
    held = await sell(account, "FK-ASSAM", hold=True)

    await marketplace.poll_killed_on_page_2(
        stack,
        "flipkart",
        account,
        poll_timeout=120,
        what="the filter's page 2 asked for and held",
        timeout=120,
    )

    for shipment_id in ready:
        await tap.wait_for(
            "orders.placed.v1", body_has(channel_order_id=f"{account}-{shipment_id}"), timeout=120
        )
    for shipment_id in ready:
        sent = tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{shipment_id}"))
        # A relay killed between the broker's ack and marking its row sent sends the same event
        # (same ce_id) again; orders' inbox drops it. One event, one order.
        assert len(events(sent)) == 1, f"{shipment_id} sent as {len(events(sent))} events"
        assert json.loads(sent[0].value)["channel"] == "flipkart"
        placed = tap.find("orders.placed.v1", body_has(channel_order_id=f"{account}-{shipment_id}"))
        assert len(events(placed)) == 1, f"{shipment_id} placed {len(events(placed))} times"
    state = await seller_state(account)
    assert state["next_pages_used"] >= 1, "the restarted poll resumed with Flipkart's nextPageUrl"
    assert not tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{held}"))
    rows = await db_fetch(
        "channels",
        "SELECT store_order_id, shipped_by_marketplace FROM channel_orders WHERE account = $1",
        account,
    )
    carried = {r["store_order_id"]: r["shipped_by_marketplace"] for r in rows}
    assert carried == {**{s: True for s in ready[:4]}, ready[4]: False}, "who carries each one is kept"

    # The hold lifts: the shipment changes, and the next poll brings it, once, on a renewed token.
    async with httpx.AsyncClient(timeout=10) as http:
        await http.post(url("sandbox", f"/_sandbox/flipkart/{account}/orders/{held}/release-hold"))
        await http.post(url("sandbox", f"/_sandbox/flipkart/{account}/expire-tokens"))
    await poll(account)
    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=f"{account}-{held}"), timeout=120)
    assert len(events(tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-{held}")))) == 1
    state = await seller_state(account)
    assert state["tokens_issued"] >= 2, "the expired token was renewed"
    assert state["throttled"] == {}, "no call beyond the usage plans"


async def test_a_flipkart_cancellation_before_dispatch_cancels_ours_and_releases_the_stock(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 5})
    await wait_routing_knows(sku, 5)
    account = await open_flipkart({"FK-DARJ": sku})
    shipment = await sell(account, "FK-DARJ")
    await poll(account)
    [event] = await tap.wait_for(
        "orders.placed.v1", body_has(channel_order_id=f"{account}-{shipment}"), timeout=120
    )
    order_id = json.loads(event.value)["order_id"]
    await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id), timeout=90)

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            url("sandbox", f"/_sandbox/flipkart/{account}/orders/{shipment}/cancel"),
            json={"by": "buyerCancellation", "reason": "order_cancelled_by_buyer"},
        )
        r.raise_for_status()

    async def cancellation_taken_in() -> bool | None:
        polled = await poll(account)  # the periodic poll may be at it too: the lock lets one through
        rows = await db_fetch(
            "channels",
            "SELECT cancelled_on_store_at FROM channel_orders WHERE account = $1 AND store_order_id = $2",
            account,
            shipment,
        )
        busy = ("another replica is polling this account", "rate limit")
        assert polled["error"] is None or any(b in polled["error"] for b in busy), polled
        return True if rows[0]["cancelled_on_store_at"] else None

    await wait_until(cancellation_taken_in, what="Flipkart's cancellation taken in", timeout=180, every=5)
    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id), timeout=120)
    assert json.loads(cancelled.value)["reason_code"] == "customer_request"
    await tap.wait_for("inventory.released.v1", body_has(order_id=order_id), timeout=90)
    assert (await seller_state(account))["throttled"] == {}


async def test_stock_pushes_to_flipkart_go_ten_a_call_within_the_rate_and_a_refused_sku_is_reported_alone(
    stack: Stack,
) -> None:
    skus = {f"FK-{i:02d}": unique(f"MUG{i:02d}") for i in range(12)}
    account = await open_flipkart(skus, refused=("FK-07",))
    for n, sku in enumerate(skus.values()):
        await seed_stock(sku, {"GGN1": 3 + n})

    async def all_pushed() -> dict[str, Any] | None:
        state = await seller_state(account)
        wanted = {c: 3 + n for n, c in enumerate(skus) if c != "FK-07"}
        return state if all(state["stock"][c] == q for c, q in wanted.items()) else None

    state = await wait_until(all_pushed, what="every accepted listing shows its number", timeout=180)
    assert state["stock"]["FK-07"] == 50, "the refused SKU kept Flipkart's number"
    assert state["throttled"] == {}
    assert all(len(batch) <= 10 for batch in state["inventory_batches"])
    rate, burst = FLIPKART_PLANS["listings/update/inventory"]
    calls = sorted(state["calls"]["listings/update/inventory"])
    # In any stretch of time, at most the plan's burst + rate x its length, as Flipkart counts arrivals.
    for i, start in enumerate(calls):
        within = [t for t in calls[i:] if t - start <= 1.0]
        assert len(within) <= burst + rate * 1.0, f"{len(within)} pushes within a second"

    async def reported() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
            rows = (await http.get(url("channels", f"/accounts/{account}/stock"))).json()["items"]
        row = next(r for r in rows if r["channel_sku"] == "FK-07")
        return row if row["last_error"] and row["attempts"] >= 2 else None

    row = await wait_until(reported, what="the refused SKU tried alone and reported", timeout=120)
    assert "FAILURE" in row["last_error"]
    batches = (await seller_state(account))["inventory_batches"]
    assert ["FK-07"] in batches, "the refused SKU was pushed again on its own"


async def test_a_self_ship_parcel_books_our_courier_and_goes_back_with_its_awb_while_flipkarts_books_none(
    stack: Stack, tap: Tap, producer: AIOKafkaProducer
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 10})
    await wait_routing_knows(sku, 10)
    account = await open_flipkart({"FK-NILGIRI": sku})
    # Placed a moment ago: Flipkart's window ends on a whole second, and this poll's must hold them
    # (else they wait for the next poll, a minute on).
    ours = await sell(account, "FK-NILGIRI", self_ship=True, updated_seconds_ago=1.5)
    theirs = await sell(account, "FK-NILGIRI", updated_seconds_ago=1.5)
    await poll(account)
    order_ids = {}
    for shipment in (ours, theirs):
        [event] = await tap.wait_for(
            "orders.placed.v1", body_has(channel_order_id=f"{account}-{shipment}"), timeout=120
        )
        order_ids[shipment] = json.loads(event.value)["order_id"]
    # Flipkart's logistics carry "theirs": a shipment that says so, and no courier of ours (ADR 330).
    [created] = await tap.wait_for(
        "shipping.shipment_created.v1", body_has(order_id=order_ids[theirs]), timeout=120
    )
    carried = json.loads(created.value)
    assert (carried["courier"], carried.get("awb"), carried["status"]) == ("flipkart", None, "CREATED")
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            url("sandbox", "/_sandbox/couriers/simulation"),
            json={"step_delay_ms": 300, "auto_reattempt_ms": 300},
        )
        r.raise_for_status()
        r = await http.post(
            url("sandbox", "/_sandbox/couriers/scripts"),
            json={"reference": shipment_id_for(order_ids[ours], "GGN1"), "fail_attempts": 0},
        )
        r.raise_for_status()
    [picked] = await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(order_id=order_ids[ours], status="PICKED_UP"), timeout=180
    )
    awb = json.loads(picked.value)["awb"]

    async def told() -> dict[str, Any] | None:
        dispatched = {d["shipmentId"]: d for d in (await seller_state(account))["dispatched"]}
        return dispatched if ours in dispatched else None

    dispatched = await wait_until(told, what="Flipkart told of our parcel", timeout=120)
    assert dispatched[ours]["kind"] == "self_ship" and dispatched[ours]["trackingId"] == awb
    rows = await db_fetch(
        "shipping", "SELECT courier, awb, marketplace FROM shipments WHERE order_id = $1", order_ids[theirs]
    )
    assert [tuple(r) for r in rows] == [("flipkart", None, "flipkart")], "no courier of ours booked it"
    assert not tap.find("shipping.shipment_updated.v1", body_has(order_id=order_ids[theirs]))
    assert (await seller_state(account))["throttled"] == {}

    # The label Flipkart printed carries its own AWB: recorded on the shipment, Flipkart the carrier.
    carried_id = carried["shipment_id"]
    awb_theirs, awb_other = (f"FMPC{random.randrange(10**10):010d}" for _ in range(2))
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        path = url("shipping", f"/shipments/{carried_id}/marketplace-awb")
        r = await http.put(path, json={"awb": awb_theirs})
        assert r.status_code == 200, r.text
        assert (await http.put(path, json={"awb": awb_theirs})).status_code == 200, "a repeat is fine"
        r = await http.put(path, json={"awb": awb_other})
        assert r.status_code == 409 and r.json()["problems"][0]["field"] == "awb"
        ours_id = shipment_id_for(order_ids[ours], "GGN1")
        r = await http.put(url("shipping", f"/shipments/{ours_id}/marketplace-awb"), json={"awb": "FMPC44"})
        assert r.status_code == 409, "our courier's parcel takes no marketplace AWB"
    [assigned] = await tap.wait_for(
        "shipping.shipment_updated.v1",
        body_has(order_id=order_ids[theirs], status="AWB_ASSIGNED"),
        timeout=60,
    )
    event = json.loads(assigned.value)
    assert (event["courier"], event["awb"]) == ("flipkart", awb_theirs)

    # Packed under Flipkart's label: Flipkart is told it is ready to dispatch, for its courier to collect.
    await publish_event(
        producer,
        ShipmentUpdated(
            order_id=order_ids[theirs], shipment_id=carried_id, warehouse_code="GGN1", courier="flipkart",
            awb=awb_theirs, status=ShipmentStatus.PACKED,
        ),
        source="shipping",
    )  # fmt: skip

    async def ready() -> dict[str, Any] | None:
        dispatched = {d["shipmentId"]: d for d in (await seller_state(account))["dispatched"]}
        return dispatched if theirs in dispatched else None

    dispatched = await wait_until(ready, what="Flipkart told its parcel is ready to dispatch", timeout=120)
    assert dispatched[theirs]["kind"] == "rtd"

    # Flipkart's courier collects it: the next poll's news moves our shipment, as a scan would (ADR 371).
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            url("sandbox", f"/_sandbox/flipkart/{account}/orders/{theirs}/progress"),
            json={"state": "PICKUP_COMPLETE", "updated_seconds_ago": 1.5},
        )
        r.raise_for_status()
    await poll(account)
    [shipped] = await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(order_id=order_ids[theirs], status="PICKED_UP"), timeout=120
    )
    assert (json.loads(shipped.value)["courier"], json.loads(shipped.value)["awb"]) == (
        "flipkart",
        awb_theirs,
    )
