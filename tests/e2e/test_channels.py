"""Store orders in and stock out through the real stack: the sandbox's Shopify and WooCommerce
stores send signed webhooks to channels, orders places what channels publishes, a store's
cancellation cancels the order, a stock change in inventory reaches the store's own number, a parcel
picked up puts its AWB on the store's order, and a webhook the store never sent is found by the poll."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import uuid
from typing import Any

import httpx
import pytest

from deploy.local import demo_data, stores
from deploy.local.demo import STORE_OF_CHANNEL, Demo
from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from sandbox import shopify as sandbox_shopify
from sandbox.store_webhooks import Buyer, LineIn, Listing, PlaceOrder, sign
from services.channels import domain
from services.shipping.domain import shipment_id_for
from tests.conftest import Tap, body_has
from tests.helpers import (
    db_fetch,
    seed_stock,
    unique,
    url,
    wait_applied,
    wait_routing_knows,
    wait_until,
)

pytestmark = pytest.mark.e2e

SECRET = "a-store-webhook-secret"


async def open_store(
    platform: str, *, skus: dict[str, str], buffer: int = 0, **rules: Any
) -> tuple[str, dict[str, Any]]:
    """A new channel account on a new sandbox store selling these SKUs (channel SKU → Dabba SKU),
    with these stock rules (stock_share_pct, low_stock_hide_below)."""
    account = unique("t").lower()
    async with httpx.AsyncClient(timeout=10) as http:
        products = await stores.open_store(
            http, platform, account, secret=SECRET, skus=skus, stock_buffer=buffer, **rules
        )
    return account, products


async def buy(platform: str, account: str, channel_sku: str, **extra: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=20) as http:
        r = await http.post(
            url("sandbox", f"/_sandbox/{platform}/{account}/orders"),
            json={
                "lines": [{"sku": channel_sku, "quantity": 1}],
                "cod": True,
                "buyer": {"phone": f"+9197{random.randrange(10**8):08d}"},
                **extra,
            },
        )
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


async def channel_order(account: str, store_order_id: str) -> dict[str, Any] | None:
    rows = await db_fetch(
        "channels",
        "SELECT * FROM channel_orders WHERE account = $1 AND store_order_id = $2",
        account,
        store_order_id,
    )
    return dict(rows[0]) if rows else None


async def test_a_signed_shopify_order_delivered_three_times_is_one_order(stack: Stack, tap: Tap) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 20})
    account, _ = await open_store("shopify", skus={"ASSAM": sku})

    placed = await buy("shopify", account, "ASSAM", delivery="twice")
    async with httpx.AsyncClient(timeout=10) as http:  # Shopify retries the same delivery later
        r = await http.post(
            url(
                "sandbox",
                f"/_sandbox/shopify/{account}/webhooks/{placed['webhook']['delivery_id']}/redeliver",
            )
        )
        assert r.json()["status_codes"] == [200, 200, 200]

    coid = f"{account}-{placed['id']}"
    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)
    rows = await db_fetch("orders", "SELECT status FROM orders WHERE channel_order_id = $1", coid)
    assert len(rows) == 1
    assert len(tap.find("channel.orders.v1", body_has(channel_order_id=coid))) == 1
    receipts = await db_fetch("channels", "SELECT outcome FROM webhook_receipts WHERE account = $1", account)
    assert [r["outcome"] for r in receipts] == ["sent"]


async def test_a_forged_shopify_webhook_is_refused_and_nothing_is_written(stack: Stack, tap: Tap) -> None:
    sku = unique("TEA")
    account, _products = await open_store("shopify", skus={"ASSAM": sku})
    body = json.dumps(
        {"id": 777001, "line_items": [{"sku": "ASSAM", "quantity": 1, "price": "1.00"}]}
    ).encode()
    forged = base64.b64encode(hmac.new(b"guessed-secret", body, hashlib.sha256).digest()).decode()
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(
            url("channels", f"/webhooks/shopify/{account}"),
            content=body,
            headers={
                "X-Shopify-Hmac-Sha256": forged,
                "X-Shopify-Webhook-Id": "forged-1",
                "X-Shopify-Topic": "orders/create",
                "Content-Type": "application/json",
            },
        )
    assert r.status_code == 401
    assert r.json()["problems"][0]["field"] == "headers"
    assert await db_fetch("channels", "SELECT 1 FROM webhook_receipts WHERE account = $1", account) == []
    assert await channel_order(account, "777001") is None
    assert tap.find("channel.orders.v1", body_has(channel_order_id=f"{account}-777001")) == []


async def test_a_woocommerce_order_becomes_one_order(stack: Stack, tap: Tap) -> None:
    sku = unique("MUG")
    await seed_stock(sku, {"GGN1": 20})
    account, _ = await open_store("woocommerce", skus={"MUG-BLUE": sku})
    placed = await buy("woocommerce", account, "MUG-BLUE", delivery="twice")
    coid = f"{account}-{placed['id']}"
    [event] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)
    assert json.loads(event.value)["channel"] == "woocommerce"
    assert len(await db_fetch("orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", coid)) == 1


async def test_an_unmapped_sku_gives_a_rejected_order_naming_it_until_it_is_mapped(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 20})
    await wait_routing_knows(sku, 20)
    account, _products = await open_store("shopify", skus={"NEW-BLEND": ""})
    placed = await buy("shopify", account, "NEW-BLEND")
    coid = f"{account}-{placed['id']}"

    [rejected] = await tap.wait_for("orders.rejected.v1", body_has(channel_order_id=coid), timeout=60)
    reasons = json.loads(rejected.value)["problems"]
    assert any(p["field"] == "lines.0.sku" and "'NEW-BLEND'" in p["problem"] for p in reasons), reasons
    [row] = await db_fetch("orders", "SELECT order_id, status FROM orders WHERE channel_order_id = $1", coid)
    assert row["status"] == "REJECTED"
    held = await channel_order(account, str(placed["id"]))
    assert held is not None and held["status"] == "unmapped"

    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.put(
            url("channels", f"/accounts/{account}/mappings"), json=[{"channel_sku": "NEW-BLEND", "sku": sku}]
        )
    assert [o["store_order_id"] for o in r.json()["orders_sent"]] == [str(placed["id"])]
    [placed_event] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)
    assert json.loads(placed_event.value)["order_id"] == row["order_id"], "the rejected order is replaced"


async def test_a_shopify_cancellation_before_dispatch_cancels_the_order_and_releases_its_stock(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 5})
    await wait_routing_knows(sku, 5)
    account, _ = await open_store("shopify", skus={"ASSAM": sku})
    placed = await buy("shopify", account, "ASSAM")
    coid = f"{account}-{placed['id']}"
    [event] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)
    order_id = json.loads(event.value)["order_id"]
    await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id), timeout=60)

    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.post(url("sandbox", f"/_sandbox/shopify/{account}/orders/{placed['id']}/cancel"))
    assert r.json()["webhook"]["status_codes"] == [200]

    [cancelled] = await tap.wait_for("orders.cancelled.v1", body_has(order_id=order_id), timeout=60)
    assert json.loads(cancelled.value)["reason_code"] == "customer_request"
    await tap.wait_for("inventory.released.v1", body_has(order_id=order_id), timeout=60)
    await tap.wait_for("inventory.stock_changed.v1", body_has(sku=sku, available_total=5), timeout=60)
    row = await channel_order(account, str(placed["id"]))
    assert row is not None and row["cancel_outcome"] == "cancelled in Dabba"


async def test_a_sale_on_shopify_lowers_the_number_on_the_woocommerce_store(stack: Stack, tap: Tap) -> None:
    sku = unique("TEA")
    shop, _ = await open_store("shopify", skus={"ASSAM": sku})
    woo, _ = await open_store("woocommerce", skus={"ASSAM-WOO": sku})
    await seed_stock(sku, {"GGN1": 6})
    await wait_routing_knows(sku, 6)
    await wait_until(
        lambda: store_shows("woocommerce", woo, "ASSAM-WOO", 6), what="Woo to show 6", timeout=60
    )

    await buy("shopify", shop, "ASSAM")

    await wait_until(
        lambda: store_shows("woocommerce", woo, "ASSAM-WOO", 5), what="Woo to show 5", timeout=60
    )


async def test_a_parcel_picked_up_puts_its_awb_and_tracking_url_on_the_shopify_order(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 5})
    await wait_routing_knows(sku, 5)
    account, _ = await open_store("shopify", skus={"ASSAM": sku})
    placed = await buy("shopify", account, "ASSAM", cod=False)  # paid: confirmed without a COD call
    coid = f"{account}-{placed['id']}"
    [event] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)
    order_id = json.loads(event.value)["order_id"]
    async with httpx.AsyncClient(timeout=10) as http:
        for path, body in (
            ("/_sandbox/couriers/simulation", {"step_delay_ms": 300, "auto_reattempt_ms": 300}),
            (
                "/_sandbox/couriers/scripts",
                {"reference": shipment_id_for(order_id, "GGN1"), "fail_attempts": 0},
            ),
        ):
            (await http.post(url("sandbox", path), json=body)).raise_for_status()
    [picked] = await tap.wait_for(
        "shipping.shipment_updated.v1", body_has(order_id=order_id, status="PICKED_UP"), timeout=120
    )
    shipment = json.loads(picked.value)

    async def fulfilled() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10) as http:
            state = (await http.get(url("sandbox", f"/_sandbox/shopify/{account}"))).json()
        mine = [f for f in state["fulfillments"] if f["order_id"] == placed["id"]]
        return mine[0] if mine else None

    fulfilment = await wait_until(fulfilled, what="the Shopify order's fulfillment", timeout=60)
    [tracking] = fulfilment["trackingInfo"]
    assert tracking["number"] == shipment["awb"]
    assert tracking["url"] == domain.tracking_url(
        shipment["courier"], shipment["awb"], shipment["tracking_url"]
    )
    assert shipment["awb"] in tracking["url"]


@pytest.mark.parametrize("platform,channel_sku", [("shopify", "ASSAM"), ("woocommerce", "MUG-BLUE")])
async def test_a_webhook_the_store_never_sent_is_found_by_the_reconciliation_poll(
    stack: Stack, tap: Tap, platform: str, channel_sku: str
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 5})
    account, _ = await open_store(platform, skus={channel_sku: sku})
    placed = await buy(platform, account, channel_sku, delivery="drop")
    assert placed["webhook"]["status_codes"] == []
    coid = f"{account}-{placed['id']}"
    assert await channel_order(account, str(placed["id"])) is None

    async with httpx.AsyncClient(timeout=20, headers=dev_headers("ops")) as http:
        first = (await http.post(url("channels", f"/accounts/{account}/poll"))).json()
        again = (await http.post(url("channels", f"/accounts/{account}/poll"))).json()
    assert (first["listed"], first["taken_in"], first["error"]) == (1, 1, None)
    assert again["taken_in"] == 0, "an order taken in once is not taken in again"
    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)
    assert len(tap.find("channel.orders.v1", body_has(channel_order_id=coid))) == 1


async def store_shows(platform: str, account: str, channel_sku: str, wanted: int) -> bool | None:
    """True once the sandbox store's own stock number for a listing is ``wanted``."""
    async with httpx.AsyncClient(timeout=10) as http:
        stock = (await http.get(url("sandbox", f"/_sandbox/{platform}/{account}"))).json()["stock"]
    return True if stock[channel_sku] == wanted else None


async def test_a_stock_change_reaches_each_store_less_its_buffer(stack: Stack) -> None:
    sku = unique("TEA")
    shop, _ = await open_store("shopify", skus={"ASSAM": sku})
    woo, _ = await open_store("woocommerce", skus={"ASSAM-WOO": sku}, buffer=2)
    await seed_stock(sku, {"BOM1": 7, "GGN1": 5})

    await wait_until(lambda: store_shows("shopify", shop, "ASSAM", 12), what="Shopify to show 12", timeout=60)
    await wait_until(
        lambda: store_shows("woocommerce", woo, "ASSAM-WOO", 10), what="WooCommerce to show 10", timeout=60
    )
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        [row] = (await http.get(url("channels", f"/accounts/{shop}/stock"))).json()["items"]
    assert (row["quantity"], row["confirmed_quantity"], row["owed"]) == (12, 12, False)


async def test_a_store_with_a_share_shows_its_share_and_below_the_low_stock_mark_only_the_preferred_one_sells(
    stack: Stack,
) -> None:
    sku = unique("TEA")
    website, _ = await open_store("woocommerce", skus={"ASSAM-WOO": sku})  # preferred: no rules
    shared, _ = await open_store("shopify", skus={"ASSAM": sku}, stock_share_pct=50)
    marketplace, _ = await open_store("shopify", skus={"ASSAM": sku}, low_stock_hide_below=8)
    await seed_stock(sku, {"GGN1": 6})

    for platform, account, channel_sku, shown in (
        ("woocommerce", website, "ASSAM-WOO", 6),
        ("shopify", shared, "ASSAM", 3),  # half of 6
        ("shopify", marketplace, "ASSAM", 0),  # 6 is below its low-stock mark of 8
    ):
        await wait_until(
            lambda: store_shows(platform, account, channel_sku, shown),  # noqa: B023 (awaited at once)
            what=f"{account} to show {shown}",
            timeout=120,
        )

    # The seller lowers the mark: the store's number follows at once, without waiting for a sale.
    async with httpx.AsyncClient(timeout=10) as http:
        await stores.open_store(
            http, "shopify", marketplace, secret=SECRET, skus={"ASSAM": sku}, low_stock_hide_below=5
        )
    await wait_until(
        lambda: store_shows("shopify", marketplace, "ASSAM", 6), what="6 once the mark is 5", timeout=120
    )


def shopify_delivery(
    account: str, products: dict[str, Any], *, store_order_id: int, topic: str = "orders/create"
) -> tuple[bytes, dict[str, str]]:
    """One signed Shopify delivery of an order for one ASSAM, under a new webhook id."""
    p = products["ASSAM"]
    listing = Listing(
        sku="ASSAM",
        product_id=p["product_id"],
        variant_id=p["variant_id"],
        inventory_item_id=p["inventory_item_id"],
        price_paise=34900,
        available=50,
    )
    shop = sandbox_shopify.Shop(name=account, listings={"ASSAM": listing})
    order = PlaceOrder(lines=[LineIn(sku="ASSAM")], buyer=Buyer(phone=f"+9197{random.randrange(10**8):08d}"))
    body = json.dumps(sandbox_shopify.order_payload(shop, store_order_id, 1001, order)).encode()
    return body, {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(SECRET, body),
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }


async def test_one_order_delivered_a_dozen_times_at_once_under_new_ids_is_one_order(
    stack: Stack, tap: Tap
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 20})
    account, products = await open_store("shopify", skus={"ASSAM": sku})
    store_order_id = random.randrange(10**11, 10**12)
    body, headers = shopify_delivery(account, products, store_order_id=store_order_id)
    # Shopify sends orders/create and orders/updated, and retries either under a new id when an
    # answer is late; here all at once, so they share a receipt batch and an intake batch.
    deliveries = [(body, {**headers, "X-Shopify-Webhook-Id": str(uuid.uuid4())}) for _ in range(10)]
    deliveries += [(body, headers), (body, headers)]  # one delivery id twice, in the same commit
    async with httpx.AsyncClient(timeout=20) as http:
        answers = await asyncio.gather(
            *(
                http.post(url("channels", f"/webhooks/shopify/{account}"), content=b, headers=h)
                for b, h in deliveries
            )
        )
    assert [a.status_code for a in answers] == [200] * 12
    assert sorted(a.json()["duplicate"] for a in answers[10:]) == [False, True]
    assert not any(a.json()["duplicate"] for a in answers[:10])

    coid = f"{account}-{store_order_id}"
    await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)

    async def all_taken_in() -> list[Any] | None:
        rows = await db_fetch(
            "channels", "SELECT outcome FROM webhook_receipts WHERE account = $1 ORDER BY outcome", account
        )
        return rows if all(r["outcome"] for r in rows) else None

    receipts = await wait_until(all_taken_in, what="every receipt taken in", timeout=60)
    assert [r["outcome"] for r in receipts] == ["duplicate: order already received"] * 10 + ["sent"]
    assert len(tap.find("channel.orders.v1", body_has(channel_order_id=coid))) == 1
    assert len(await db_fetch("orders", "SELECT 1 FROM orders WHERE channel_order_id = $1", coid)) == 1


@pytest.mark.parametrize("platform,channel_sku", [("shopify", "ASSAM"), ("woocommerce", "MUG-BLUE")])
async def test_an_order_cancelled_in_dabba_is_cancelled_on_its_store_and_the_echo_is_not_sent_back(
    stack: Stack, tap: Tap, platform: str, channel_sku: str
) -> None:
    sku = unique("TEA")
    await seed_stock(sku, {"GGN1": 5})
    await wait_routing_knows(sku, 5)
    account, _ = await open_store(platform, skus={channel_sku: sku})
    placed = await buy(platform, account, channel_sku)
    coid = f"{account}-{placed['id']}"
    [event] = await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=120)
    order_id = json.loads(event.value)["order_id"]
    # A cancel that overtakes the reservation publishes a second orders.cancelled.v1 to release the
    # late stock; this test is about the store's echo, so it cancels once orders has applied the
    # reservation (the tap seeing it is not enough: orders' consumer may still be behind).
    [reserved] = await tap.wait_for("inventory.reserved.v1", body_has(order_id=order_id), timeout=120)
    await wait_applied("orders", dict(reserved.headers)["ce_id"].decode(), timeout=60)

    async with httpx.AsyncClient(timeout=10, headers=dev_headers("ops")) as http:
        r = await http.post(
            url("orders", f"/orders/{order_id}/cancel"),
            json={"reason_code": "operator", "note": "the buyer phoned to cancel"},
        )
    assert r.status_code == 200, r.text

    async def store_order() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=10) as http:
            state = (await http.get(url("sandbox", f"/_sandbox/{platform}/{account}"))).json()
        order = state["orders"][str(placed["id"])]
        cancelled = order.get("cancelled_at") if platform == "shopify" else order["status"] == "cancelled"
        return order if cancelled else None

    order = await wait_until(store_order, what=f"the {platform} order cancelled", timeout=120)
    if platform == "shopify":
        assert order["cancel_reason"] == "staff"
    else:
        assert any("Cancelled in Dabba (operator)" in n["note"] for n in order["notes"])

    async def echo_recognised() -> dict[str, Any] | None:
        row = await channel_order(account, str(placed["id"]))
        return row if row and row["cancelled_on_store_at"] and row["store_cancel_outcome"] else None

    row = await wait_until(echo_recognised, what="the store's cancellation webhook taken in", timeout=120)
    assert row["store_cancel_outcome"] == "cancelled on the store"
    assert row["cancel_outcome"] == "cancelled in Dabba first", "the store's echo is not sent back to orders"
    assert row["cancel_next_try_at"] is None
    assert len(tap.find("orders.cancelled.v1", body_has(order_id=order_id))) == 1


async def test_make_runs_shopify_website_flipkart_and_amazon_orders_arrive_through_the_demo_stores(
    stack: Stack, tap: Tap
) -> None:
    demo = Demo()
    await demo.open_stores()
    assert demo.stores == {
        "demo-shopify": "shopify",
        "demo-woo": "woocommerce",
        "demo-flipkart": "flipkart",
        "demo-amazon": "amazon",
    }
    rng = random.Random(7)
    # Amazon's order comes by its ORDER_CHANGE notice (ADR 420), read with searchOrders' shape (ADR 421).
    orders = {c: demo_data.make_order(0, rng) for c in ("shopify", "website", "flipkart", "amazon")}
    for channel, order in orders.items():
        order["channel"] = channel
        sku = order["lines"][0]["sku"]
        await seed_stock(sku, {"GGN1": 50})
    async with httpx.AsyncClient(timeout=20) as http:
        sent = {c: await demo.place_on_store(http, STORE_OF_CHANNEL[c], o) for c, o in orders.items()}
        # Flipkart's shipment comes in on a poll (the periodic one, or this one if it is first).
        r = await http.post(url("channels", "/accounts/demo-flipkart/poll"), headers=dev_headers("ops"))
        r.raise_for_status()

    for channel, order in sent.items():
        assert order["channel_order_id"].startswith(f"{STORE_OF_CHANNEL[channel]}-")
        [record, *_] = await tap.wait_for(
            "channel.orders.v1", body_has(channel_order_id=order["channel_order_id"]), timeout=120
        )
        published = json.loads(record.value)
        platform = {"shopify": "shopify", "website": "woocommerce"}.get(channel, channel)
        assert published["channel"] == order["channel"] == platform
        assert [(line["sku"], line["quantity"]) for line in published["lines"]] == [
            (line["sku"], line["quantity"]) for line in orders[channel]["lines"]
        ]
        assert published["shipping_address"]["pincode"] == orders[channel]["shipping_address"]["pincode"]
        assert published["customer"]["phone"] == orders[channel]["customer"]["phone"]
        coid = order["channel_order_id"]
        await tap.wait_for("orders.placed.v1", body_has(channel_order_id=coid), timeout=60)


async def test_the_full_push_reports_a_number_changed_on_the_store_and_puts_ours_back(stack: Stack) -> None:
    sku = unique("TEA")
    shop, _ = await open_store("shopify", skus={"ASSAM": sku})
    woo, _ = await open_store("woocommerce", skus={"ASSAM-WOO": sku}, buffer=1)
    await seed_stock(sku, {"GGN1": 6})
    await wait_until(lambda: store_shows("shopify", shop, "ASSAM", 6), what="Shopify to show 6", timeout=120)
    await wait_until(
        lambda: store_shows("woocommerce", woo, "ASSAM-WOO", 5), what="Woo to show 5", timeout=120
    )

    async with httpx.AsyncClient(timeout=20) as http:  # someone types 99 into the Shopify admin
        r = await http.put(
            url("sandbox", f"/_sandbox/shopify/{shop}"),
            json={
                "webhook_url": url("channels", f"/webhooks/shopify/{shop}"),
                "webhook_secret": SECRET,
                "products": [{"sku": "ASSAM", "price_paise": 34900, "available": 99}],
            },
        )
        r.raise_for_status()
        assert await store_shows("shopify", shop, "ASSAM", 99)

        ops = dev_headers("ops")
        drifted = (await http.post(url("channels", f"/accounts/{shop}/stock/full-push"), headers=ops)).json()
        steady = (await http.post(url("channels", f"/accounts/{woo}/stock/full-push"), headers=ops)).json()
        report = (await http.get(url("channels", f"/accounts/{shop}/stock/drift"), headers=ops)).json()

    assert (drifted["listings"], drifted["error"]) == (1, None)
    assert drifted["drift"] == [
        {"channel_sku": "ASSAM", "sku": sku, "store_quantity": 99, "dabba_quantity": 6}
    ]
    assert (steady["listings"], steady["drift"]) == (1, [])
    assert report["last_full_push"]["drifted"] == 1
    assert [(d["store_quantity"], d["dabba_quantity"]) for d in report["drift"]] == [(99, 6)]
    await wait_until(lambda: store_shows("shopify", shop, "ASSAM", 6), what="Shopify back at 6", timeout=120)


async def test_a_store_whose_variants_were_renumbered_is_mapped_again_and_a_doubled_row_is_refused(
    stack: Stack,
) -> None:
    account, products = await open_store("shopify", skus={"ASSAM": unique("TEA"), "DARJ": unique("TEA")})
    assam, darj = products["ASSAM"], products["DARJ"]
    mappings = url("channels", f"/accounts/{account}/mappings")
    async with httpx.AsyncClient(timeout=20, headers=dev_headers("ops")) as http:
        # The products were re-created on the store: each listing now has the other's variant id.
        swapped = [
            {"channel_sku": "ASSAM", "sku": "TEA-A", "variant_id": str(darj["variant_id"])},
            {"channel_sku": "DARJ", "sku": "TEA-D", "variant_id": str(assam["variant_id"])},
        ]
        r = await http.put(mappings, json=swapped)
        assert r.status_code == 200, r.text
        now = {m["channel_sku"]: m["variant_id"] for m in (await http.get(mappings)).json()["items"]}
        assert now == {"ASSAM": str(darj["variant_id"]), "DARJ": str(assam["variant_id"])}

        doubled = [{**swapped[0]}, {**swapped[1], "variant_id": swapped[0]["variant_id"]}]
        r = await http.put(mappings, json=doubled)
    assert r.status_code == 422
    assert r.json()["problems"] == [
        {"field": "1.variant_id", "problem": f"{swapped[0]['variant_id']!r} is already on row 0"}
    ]
