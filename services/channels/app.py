"""Wiring of the channels service: settings, store adapters, migrations, handlers, routes, sweeps."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path

from chassis.logging import get_logger
from chassis.service import Service
from services.channels import api, handlers, intake, poll, store, sync, webhooks
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
    service = Service("channels", settings=settings, migrations=Path(__file__).parent / "migrations")
    adapters = build_adapters(service, settings)
    handlers.register(service)
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

    @service.every(0, name="intake")
    async def intake_worker(svc: Service) -> None:
        """Woken by each stored batch of receipts; a sweep every INTAKE_SWEEP_S finds any left by a
        crash or another replica. Receipts arriving while a batch is taken in go in the next one."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receipts.wake.wait(), timeout=settings.intake_sweep_s)
        await asyncio.sleep(settings.intake_linger_s)  # let a burst's next deliveries join the batch
        receipts.wake.clear()
        while await intake.process_pending(svc, adapters, limit=settings.intake_batch) > 0:
            pass

    @service.every(settings.push_every_s, name="stock_push")
    async def stock_push(svc: Service) -> None:
        await sync.push_stock(svc, settings, adapters)

    orders = service.http_client(base_url=settings.orders_url, timeout=settings.provider_timeout_s)

    @service.every(settings.push_every_s * 4, name="cancellations")
    async def cancellations(svc: Service) -> None:
        await sync.push_cancellations(svc, settings, orders)

    @service.every(settings.push_every_s * 4, name="store_cancellations")
    async def store_cancellations(svc: Service) -> None:
        await sync.push_store_cancellations(svc, settings, adapters)

    @service.every(300, name="nightly_full_push")
    async def nightly_full_push(svc: Service) -> None:
        await sync.nightly_full_push(svc, settings, adapters, now=datetime.now(UTC))

    @service.every(settings.poll_every_s, name="reconciliation_poll")
    async def reconciliation_poll(svc: Service) -> None:
        await poll.poll_all(svc, settings, adapters)

    @service.every(settings.push_every_s * 4, name="tracking_push")
    async def tracking_push(svc: Service) -> None:
        await sync.push_fulfilments(svc, settings, adapters)

    shipping = service.http_client(base_url=settings.shipping_url, timeout=settings.provider_timeout_s)

    @service.every(settings.push_every_s * 4, name="marketplace_labels")
    async def marketplace_labels(svc: Service) -> None:
        await sync.fetch_labels(svc, settings, adapters, shipping)

    @service.every(settings.push_every_s * 4, name="marketplace_news")
    async def marketplace_news(svc: Service) -> None:
        await sync.push_news(svc, settings, shipping)

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
