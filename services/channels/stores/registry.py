"""The store platforms channels speaks, as adapters sharing one pooled HTTP client."""

from __future__ import annotations

from chassis.ratelimit import RateLimiter
from chassis.service import Service
from services.channels.settings import ChannelsSettings
from services.channels.stores.amazon import AmazonMarketplace
from services.channels.stores.flipkart import FlipkartMarketplace
from services.channels.stores.interface import StoreAdapter
from services.channels.stores.shopify import ShopifyStore
from services.channels.stores.woocommerce import WooCommerceStore

PLATFORMS = ("shopify", "woocommerce", "amazon", "flipkart")
MARKETPLACES = frozenset({"amazon", "flipkart"})
"""Platforms polled for orders (no webhooks), a page at a time within their rate limits."""


def build_adapters(service: Service, settings: ChannelsSettings) -> dict[str, StoreAdapter]:
    """One adapter per platform; each account's base URL and credentials come with every call."""
    client = service.http_client(base_url="", timeout=settings.provider_timeout_s)
    return {
        "shopify": ShopifyStore(client, api_version=settings.shopify_api_version),
        "woocommerce": WooCommerceStore(client),
        "amazon": AmazonMarketplace(client, RateLimiter(lambda: service.pool)),
        "flipkart": FlipkartMarketplace(client, RateLimiter(lambda: service.pool)),
    }
