"""Periodic jobs of the channels service: take in stored webhook receipts, push stock, cancellations,
fulfilments and marketplace news out, fetch marketplace labels, poll each store for what a webhook
missed, and take in Amazon's order notices. Each job is one pass; the chassis runs it again after
its interval."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from chassis.service import Service
from services.channels import intake, notices, poll, sync
from services.channels.settings import ChannelsSettings
from services.channels.stores.interface import StoreAdapter


def register(
    service: Service,
    settings: ChannelsSettings,
    adapters: dict[str, StoreAdapter],
    receipts: intake.ReceiptWriter,
) -> None:
    """Every periodic job of the service, on ``service``."""

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

    @service.every(1.0, name="order_notices")
    async def order_notices(svc: Service) -> None:
        """Amazon's ORDER_CHANGE notices, each order fetched at once; the poll above stays on (ADR 420)."""
        await notices.take_all(svc, settings, adapters)

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
