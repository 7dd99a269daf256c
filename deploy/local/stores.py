"""A sandbox store connected to channels: the store set up in the sandbox (listings, where its
webhooks go, their secret), the channel account that receives them, and each listing mapped to a
Dabba SKU. One way to do it for the demo, the benchmark and the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from deploy.local.ports import PORTS, dev_headers
from sandbox.sqs import ACCESS_KEY_ID as SANDBOX_ACCESS_KEY_ID


def _url(service: str, path: str) -> str:
    return f"http://127.0.0.1:{PORTS[service]}{path}"


async def _put(
    http: httpx.AsyncClient, service: str, path: str, body: Any, *, role: str | None = None
) -> Any:
    """PUT ``body`` to a service (as a dev user of ``role``, if named); its answer, raised if refused."""
    r = await http.put(_url(service, path), headers=dev_headers(role) if role else None, json=body)
    r.raise_for_status()
    return r.json()


def _listings(
    skus: Mapping[str, object], available: int, price_paise: int, prices: Mapping[str, int] | None
) -> list[dict[str, Any]]:
    """The sandbox's products for these channel SKUs: ``price_paise`` unless ``prices`` names one."""
    prices = prices or {}
    return [{"sku": c, "price_paise": prices.get(c, price_paise), "available": available} for c in skus]


async def open_store(
    http: httpx.AsyncClient,
    platform: str,
    account: str,
    *,
    secret: str,
    skus: Mapping[str, str | None],
    available: int = 50,
    price_paise: int = 34900,
    prices: Mapping[str, int] | None = None,
    stock_buffer: int = 0,
    stock_share_pct: int | None = None,
    low_stock_hide_below: int = 0,
) -> dict[str, dict[str, Any]]:
    """A sandbox store selling these listings (channel SKU → Dabba SKU; None leaves a listing
    unmapped) at ``price_paise`` (or each its own, from ``prices``), connected to the channel
    account ``account``; the store's products by channel SKU."""
    store = await _put(
        http,
        "sandbox",
        f"/_sandbox/{platform}/{account}",
        {
            "webhook_url": _url("channels", f"/webhooks/{platform}/{account}"),
            "webhook_secret": secret,
            "products": _listings(skus, available, price_paise, prices),
        },
    )
    products: dict[str, dict[str, Any]] = {p["sku"]: p for p in store["products"]}
    await _put(
        http,
        "channels",
        f"/accounts/{account}",
        {
            "platform": platform,
            "base_url": _url("sandbox", f"/{platform}/{account}"),
            "webhook_secret": secret,
            "api_key": f"ck_{account.replace('-', '_')}",
            "api_secret": f"{account}-access-token",
            "location_id": "1" if platform == "shopify" else None,
            "stock_buffer": stock_buffer,
            "stock_share_pct": stock_share_pct,
            "low_stock_hide_below": low_stock_hide_below,
        },
        role="admin",
    )
    mapped = [
        {
            "channel_sku": channel_sku,
            "sku": sku,
            "product_id": str(products[channel_sku]["product_id"]),
            "variant_id": str(products[channel_sku]["variant_id"]),
            "inventory_item_id": str(products[channel_sku]["inventory_item_id"]),
        }
        for channel_sku, sku in skus.items()
        if sku
    ]
    if mapped:
        await _put(http, "channels", f"/accounts/{account}/mappings", mapped, role="ops")
    return products


async def open_flipkart_seller(
    http: httpx.AsyncClient,
    account: str,
    *,
    skus: Mapping[str, str],
    available: int = 50,
    price_paise: int = 34900,
    prices: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A sandbox Flipkart seller listing these SKUs (Flipkart SKU → Dabba SKU), connected to the channel
    account ``account``, which polls its shipments; the seller as the sandbox set it up."""
    listings = _listings(skus, available, price_paise, prices)
    seller: dict[str, Any] = await _put(
        http, "sandbox", f"/_sandbox/flipkart/{account}", {"products": listings}
    )
    await _put(
        http,
        "channels",
        f"/accounts/{account}",
        {
            "platform": "flipkart",
            "base_url": _url("sandbox", f"/flipkart/{account}"),
            "auth_url": _url("sandbox", f"/flipkart/{account}/oauth-service/oauth/token"),
            "api_key": f"{account}-application-id",
            "api_secret": "dev-flipkart-secret-local",
            "location_id": seller["location_id"],
        },
        role="admin",
    )
    mapped = [{"channel_sku": c, "sku": s, "product_id": seller["product_ids"][c]} for c, s in skus.items()]
    await _put(http, "channels", f"/accounts/{account}/mappings", mapped, role="ops")
    return seller


async def open_amazon_seller(
    http: httpx.AsyncClient,
    account: str,
    *,
    skus: Mapping[str, str],
    available: int = 50,
    price_paise: int = 34900,
    prices: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """A sandbox Amazon seller listing these SKUs (Amazon SKU → Dabba SKU), connected to the channel
    account ``account``: its orders read with searchOrders (ADR 421), each change announced by
    ORDER_CHANGE in the sandbox's SQS queue (ADR 420), the poll behind them."""
    listings = _listings(skus, available, price_paise, prices)
    seller: dict[str, Any] = await _put(
        http, "sandbox", f"/_sandbox/amazon/{account}", {"products": listings, "notifications": True}
    )
    await _put(
        http,
        "channels",
        f"/accounts/{account}",
        {
            "platform": "amazon",
            "base_url": _url("sandbox", f"/amazon/{account}"),
            "auth_url": _url("sandbox", f"/amazon/{account}/auth/o2/token"),
            "api_key": f"amzn1.application-oa2-client.{account}",
            "api_secret": "dev-amazon-secret-local",
            "refresh_token": "dev-amazon-refresh-token-local",
            "seller_id": seller["seller_id"],
            "marketplace_id": "A21TJRUUN4KGV",
            "orders_api": "2026-01-01",
            "sqs_queue_url": _url("sandbox", seller["sqs_queue_path"]),
            "sqs_region": "ap-south-1",
            "sqs_access_key_id": SANDBOX_ACCESS_KEY_ID,
            "sqs_secret_access_key": "dev-amazon-sqs-secret-local",
        },
        role="admin",
    )
    mapped = [{"channel_sku": c, "sku": s} for c, s in skus.items()]
    await _put(http, "channels", f"/accounts/{account}/mappings", mapped, role="ops")
    return seller
