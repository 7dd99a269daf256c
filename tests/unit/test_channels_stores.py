"""The Shopify and WooCommerce adapters against the sandbox's stores, in process (ASGITransport):
stock set by compare-and-set and read back, throttling and 429s become retryable errors with a wait,
tracking lands once however often it is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from contracts import CancelReason
from sandbox.app import create_app
from services.channels.stores.interface import Account, Listing, StockLevel, StoreError, Tracking
from services.channels.stores.shopify import SET_QUANTITIES, ShopifyStore
from services.channels.stores.woocommerce import WooCommerceStore

SHOP = Account(
    account="demo-shopify",
    platform="shopify",
    base_url="http://sandbox/shopify/demo-shopify",
    webhook_secret="s3cret-s3cret",
    api_secret="shpat_token",
    location_id="1",
)
WOO = Account(
    account="demo-woo",
    platform="woocommerce",
    base_url="http://sandbox/woocommerce/demo-woo",
    webhook_secret="s3cret-s3cret",
    api_key="ck_1",
    api_secret="cs_1",
)


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
        yield app, client


async def stocked(client: httpx.AsyncClient, platform: str, store: str, **stock: int) -> dict[str, Any]:
    response = await client.put(
        f"/_sandbox/{platform}/{store}",
        json={
            "webhook_url": "http://nowhere.invalid/hook",
            "webhook_secret": "s3cret-s3cret",
            "products": [{"sku": sku, "available": n} for sku, n in stock.items()],
        },
    )
    response.raise_for_status()
    return {p["sku"]: p for p in response.json()["products"]}


async def an_order(client: httpx.AsyncClient, platform: str, store: str) -> str:
    """A store selling 40 of TEA takes an order of one (its webhook dropped): the order's id."""
    await stocked(client, platform, store, TEA=40)
    placed = await client.post(
        f"/_sandbox/{platform}/{store}/orders", json={"lines": [{"sku": "TEA"}], "delivery": "drop"}
    )
    return str(placed.json()["id"])


def shopify_level(product: dict[str, Any], quantity: int) -> StockLevel:
    return StockLevel(
        listing=Listing(channel_sku=product["sku"], inventory_item_id=str(product["inventory_item_id"])),
        quantity=quantity,
    )


async def test_shopify_stock_is_set_and_the_store_reads_back_the_new_number(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    products = await stocked(client, "shopify", "demo-shopify", TEA=40, MUG=5)
    shown = await ShopifyStore(client, api_version="2026-04").set_stock(
        SHOP, [shopify_level(products["TEA"], 37), shopify_level(products["MUG"], 0)]
    )
    assert shown == {"TEA": 37, "MUG": 0}
    state = (await client.get("/_sandbox/shopify/demo-shopify")).json()
    assert state["stock"] == {"TEA": 37, "MUG": 0} and state["set_quantities_calls"] == 1


async def test_shopify_refuses_a_stale_change_from_quantity_and_changes_nothing(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    products = await stocked(client, "shopify", "demo-shopify", TEA=40)
    answer = await client.post(
        "/shopify/demo-shopify/admin/api/2026-04/graphql.json",
        headers={"X-Shopify-Access-Token": "t"},
        json={
            "query": SET_QUANTITIES,
            "variables": {
                "key": "k-1",
                "input": {
                    "name": "available",
                    "reason": "correction",
                    "quantities": [
                        {
                            "inventoryItemId": f"gid://shopify/InventoryItem/{products['TEA']['inventory_item_id']}",
                            "locationId": "gid://shopify/Location/1",
                            "quantity": 10,
                            "changeFromQuantity": 39,  # a sale happened on the store meanwhile
                        }
                    ],
                },
            },
        },
    )
    errors = answer.json()["data"]["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert (await client.get("/_sandbox/shopify/demo-shopify")).json()["stock"] == {"TEA": 40}


async def test_a_throttled_shopify_call_is_retryable_after_the_time_the_bucket_needs(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = sandbox
    products = await stocked(client, "shopify", "demo-shopify", TEA=40)
    shop = app.state.shopify.shops["demo-shopify"]
    shop.clock, shop.bucket_at, shop.bucket = (lambda: 0.0), 0.0, 0.0  # empty, and no time passes
    with pytest.raises(StoreError) as failed:
        await ShopifyStore(client, api_version="2026-04").set_stock(SHOP, [shopify_level(products["TEA"], 1)])
    assert (
        failed.value.retryable and failed.value.retry_after_s is not None and failed.value.retry_after_s > 0
    )
    assert (await client.get("/_sandbox/shopify/demo-shopify")).json()["stock"] == {"TEA": 40}


async def test_a_429_from_the_store_is_retryable_after_its_retry_after(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    products = await stocked(client, "woocommerce", "demo-woo", TEA=40)
    await client.post("/_sandbox/faults", json={"provider": "woocommerce", "status_code": 429})
    level = StockLevel(
        listing=Listing(channel_sku="TEA", product_id=str(products["TEA"]["product_id"])), quantity=3
    )
    with pytest.raises(StoreError) as failed:
        await WooCommerceStore(client).set_stock(WOO, [level])
    assert failed.value.retryable and failed.value.retry_after_s == 1.0
    assert await WooCommerceStore(client).set_stock(WOO, [level]) == {"TEA": 3}


async def test_shopify_tracking_is_created_once_however_often_it_is_sent(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    order_id = await an_order(client, "shopify", "demo-shopify")
    store = ShopifyStore(client, api_version="2026-04")
    tracking = Tracking(courier="delhivery", awb="1234567890123", url="https://track.example/1234567890123")
    await store.fulfil(SHOP, order_id, tracking)
    await store.fulfil(SHOP, order_id, tracking)
    state = (await client.get("/_sandbox/shopify/demo-shopify")).json()
    assert [f["trackingInfo"][0]["number"] for f in state["fulfillments"]] == ["1234567890123"]
    assert state["orders"][order_id]["fulfillment_status"] == "fulfilled"


async def test_woocommerce_tracking_is_one_customer_note_and_a_completed_order(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    order_id = await an_order(client, "woocommerce", "demo-woo")
    tracking = Tracking(courier="xpressbees", awb="XB42", url="https://track.example/XB42")
    await WooCommerceStore(client).fulfil(WOO, order_id, tracking)
    await WooCommerceStore(client).fulfil(WOO, order_id, tracking)
    order = (await client.get("/_sandbox/woocommerce/demo-woo")).json()["orders"][order_id]
    assert order["status"] == "completed"
    assert [n["note"] for n in order["notes"]] == [
        "Shipped with xpressbees, AWB XB42. Track it at https://track.example/XB42"
    ]
    assert order["notes"][0]["customer_note"] is True


async def test_shopify_cancels_an_order_dabba_cancelled_once_with_its_reason_and_no_restock(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    order_id = await an_order(client, "shopify", "demo-shopify")
    store = ShopifyStore(client, api_version="2026-04")

    first = await store.cancel(SHOP, order_id, reason=CancelReason.COD_DECLINED, note="COD declined")
    again = await store.cancel(SHOP, order_id, reason=CancelReason.COD_DECLINED, note="COD declined")

    state = (await client.get("/_sandbox/shopify/demo-shopify")).json()
    assert (first, again) == ("cancelled on the store", "already cancelled on the store")
    assert state["orders"][order_id]["cancel_reason"] == "declined"
    assert state["stock"] == {"TEA": 39}, "the store does not restock: Dabba's push sets its number"


async def test_woocommerce_cancels_an_order_dabba_cancelled_with_a_private_note(
    sandbox: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = sandbox
    order_id = await an_order(client, "woocommerce", "demo-woo")
    store = WooCommerceStore(client)

    first = await store.cancel(WOO, order_id, reason=CancelReason.OPERATOR, note="buyer phoned")
    again = await store.cancel(WOO, order_id, reason=CancelReason.OPERATOR, note="buyer phoned")

    order = (await client.get("/_sandbox/woocommerce/demo-woo")).json()["orders"][order_id]
    assert (first, again) == ("cancelled on the store", "already cancelled on the store")
    assert order["status"] == "cancelled"
    assert [(n["note"], n["customer_note"]) for n in order["notes"]] == [
        ("Cancelled in Dabba (operator): buyer phoned", False)
    ]


@pytest.mark.parametrize("platform", ["shopify", "woocommerce"])
async def test_a_store_reads_back_what_each_listing_shows_and_leaves_out_what_it_does_not_know(
    sandbox: tuple[FastAPI, httpx.AsyncClient], platform: str
) -> None:
    _, client = sandbox
    account = SHOP if platform == "shopify" else WOO
    products = await stocked(client, platform, account.account, TEA=40, MUG=3)
    store = ShopifyStore(client, api_version="2026-04") if platform == "shopify" else WooCommerceStore(client)
    listings = [
        Listing(
            channel_sku=sku,
            product_id=str(p["product_id"]),
            variant_id=str(p["variant_id"]),
            inventory_item_id=str(p["inventory_item_id"]),
        )
        for sku, p in products.items()
    ]
    unknown = Listing(
        channel_sku="GONE", product_id="999999", variant_id="999999", inventory_item_id="999999"
    )

    assert await store.read_stock(account, [*listings, unknown]) == {"TEA": 40, "MUG": 3}
