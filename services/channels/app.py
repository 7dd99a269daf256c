"""Wiring of the channels service: settings, store adapters, migrations, handlers, routes, sweeps."""

from __future__ import annotations

from pathlib import Path

from chassis.logging import get_logger
from chassis.service import Service
from services.channels import api, handlers, intake, store, sweeps, webhooks
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import Account
from services.channels.stores.registry import MARKETPLACES, build_adapters

log = get_logger(__name__)

DEMO_ACCOUNTS = (
    ("demo-shopify", "shopify", "dev-shopify-secret-local"),
    ("demo-woo", "woocommerce", "dev-woocommerce-secret-local"),
)


def build(settings: ChannelsSettings | None = None) -> Service:
    """The channels service, ready to run."""
    settings = settings or ChannelsSettings()
    service = Service(
        "channels", settings=settings, migrations=Path(__file__).parent / "migrations", follower=True
    )
    adapters = build_adapters(service, settings)
    service.include_handlers(handlers.subscriptions, None)
    service.include_router(api.router)
    service.include_router(api.poll_router(adapters))
    receipts = intake.ReceiptWriter(service)
    service.include_router(
        webhooks.build_router(
            {p: a for p, a in adapters.items() if p not in MARKETPLACES},
            receipts,
            account_cache_s=settings.webhook_account_cache_s,
        )
    )
    if settings.dabba_mode == "development":
        service.on_start(lambda s: create_demo_accounts(s, settings))

    sweeps.register(service, settings, adapters, receipts)
    return service


async def create_demo_accounts(service: Service, settings: ChannelsSettings) -> None:
    """Local development: the sandbox's two stores, with the documented dev secrets."""
    async with service.pool.acquire() as conn:
        for name, platform, secret in DEMO_ACCOUNTS:
            if await store.get_account(conn, name) is not None:
                continue
            await store.upsert_account(
                conn,
                Account(
                    account=name,
                    platform=platform,
                    base_url=f"{settings.sandbox_url.rstrip('/')}/{platform}/{name}",
                    webhook_secret=secret,
                    api_key="ck_dev_local" if platform == "woocommerce" else "",
                    api_secret=f"dev-{platform}-token-local",
                    location_id="1" if platform == "shopify" else None,
                ),
            )
            log.info("demo channel account created", account=name, platform=platform)
