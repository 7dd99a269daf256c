"""Periodic sweeps: prepaid orders not paid in time, COD orders with no reply in time.

Each claims due orders with FOR UPDATE SKIP LOCKED, so two replicas never take the same order, and
changes them with their events in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chassis.service import Service
from contracts import OrderStatus
from services.orders import actions, lifecycle, store
from services.orders.lifecycle import Step
from services.orders.settings import OrdersSettings

BATCH = 100


def register(service: Service, settings: OrdersSettings) -> None:
    """Run both sweeps every `sweep_interval_seconds`."""

    @service.every(settings.sweep_interval_seconds, name="payment-expiry")
    async def expire_payments(svc: Service) -> None:
        await expire_unpaid(svc, settings, now=datetime.now(UTC))

    @service.every(settings.sweep_interval_seconds, name="cod-no-reply")
    async def cod_timeouts(svc: Service) -> None:
        await cod_unanswered(svc, settings, now=datetime.now(UTC))


async def expire_unpaid(service: Service, settings: OrdersSettings, *, now: datetime) -> int:
    """Cancel prepaid orders whose payment window closed; how many were cancelled."""
    async with service.pool.acquire() as conn, conn.transaction():
        step = Step.direct(conn, settings, cause="payment expiry sweep")
        due = await store.due(
            conn,
            deadline_column="payment_expires_at",
            statuses=[OrderStatus.PLACED.value, OrderStatus.PENDING_PAYMENT.value],
            now=now,
            limit=BATCH,
        )
        for order_id in due:
            await actions.expire_payment(step, await lifecycle.locked(step, order_id))
    return len(due)


async def cod_unanswered(service: Service, settings: OrdersSettings, *, now: datetime) -> int:
    """Hold (or cancel) COD orders whose customer did not answer in time; how many."""
    async with service.pool.acquire() as conn, conn.transaction():
        step = Step.direct(conn, settings, cause="COD reply timeout sweep")
        due = await store.due(
            conn,
            deadline_column="cod_confirm_by",
            statuses=[OrderStatus.PENDING_COD_CONFIRMATION.value],
            now=now,
            limit=BATCH,
        )
        for order_id in due:
            await actions.cod_no_reply(step, await lifecycle.locked(step, order_id))
    return len(due)
