"""Periodic jobs of the inventory service: release reservations that expired unconfirmed, with their
events and the stock they give back announced, in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from chassis.logging import get_logger
from chassis.service import Service
from contracts import InventoryReleased
from contracts._base import Event
from services.inventory import store
from services.inventory.handlers import Pair, announce
from services.inventory.settings import InventorySettings

log = get_logger(__name__)


def register(service: Service, settings: InventorySettings) -> None:
    """Every periodic job of the service, on ``service``."""

    @service.every(settings.expiry_sweep_seconds, name="expire_reservations")
    async def expire(svc: Service) -> None:
        await expire_reservations(svc, settings, now=datetime.now(UTC))


async def expire_reservations(svc: Service, settings: InventorySettings, *, now: datetime) -> None:
    """Release every reservation past its expiry (a batch at a time) and say so."""
    async with svc.pool.acquire() as conn, conn.transaction():
        due = await store.expired(conn, now=now, limit=settings.expiry_sweep_batch)
        pairs: set[Pair] = set()
        for reservation in due:
            assert reservation.expires_at is not None  # store.expired reads only those that expire
            reason = f"reservation expired unconfirmed at {reservation.expires_at.isoformat()}"
            allocations = await store.release(conn, reservation=reservation, reason=reason, because="expired")
            await svc.emit(
                conn,
                InventoryReleased(
                    order_id=reservation.order_id,
                    reservation_id=reservation.reservation_id,
                    allocations=allocations,
                    reason=reason,
                ),
            )
            pairs.update((a.sku, a.warehouse_code) for a in allocations)

        async def emit(event: Event) -> None:
            await svc.emit(conn, event)

        await announce(conn, pairs, emit)
    if due:
        log.info("expired reservations released", count=len(due))
