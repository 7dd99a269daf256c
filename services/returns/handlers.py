"""Kafka handlers of the returns service: keep the order-status read model current.

Each runs inside the consumer's transaction.
"""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts import OrderStatusChanged
from services.returns import store
from services.returns.settings import ReturnsSettings


def register(service: Service, settings: ReturnsSettings) -> None:
    """Subscribe the returns handlers."""

    @service.handles(OrderStatusChanged)
    async def on_status_changed(ctx: HandlerContext, event: OrderStatusChanged) -> None:
        await store.record_order_status(
            ctx.conn, order_id=event.order_id, status=event.to_status, changed_at=event.changed_at
        )
