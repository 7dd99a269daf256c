"""Kafka handlers of the returns service: keep the order and shipment read models current, follow
reverse pickups, and open an RTO record when an undelivered parcel comes back.

Each runs inside the consumer's transaction.
"""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.handlers import Handlers
from contracts import (
    OrderPlaced,
    OrderStatusChanged,
    PaymentEventStatus,
    PaymentUpdated,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
)
from services.returns import desk, store

subscriptions: Handlers[None] = Handlers()


@subscriptions.on(OrderStatusChanged)
async def on_status_changed(ctx: HandlerContext, event: OrderStatusChanged) -> None:
    await store.record_order_status(
        ctx.conn, order_id=event.order_id, status=event.to_status, changed_at=event.changed_at
    )


@subscriptions.on(OrderPlaced)
async def on_placed(ctx: HandlerContext, event: OrderPlaced) -> None:
    await store.record_order(ctx.conn, event)


@subscriptions.on(PaymentUpdated)
async def on_payment(ctx: HandlerContext, event: PaymentUpdated) -> None:
    # A prepaid refund goes back to this payment: returns must know it even when the order
    # was paid after it was placed (orders.placed.v1 then says "pending").
    if event.status is PaymentEventStatus.CAPTURED and event.gateway and event.gateway_payment_id:
        await store.record_captured_payment(ctx.conn, event)


@subscriptions.on(ShipmentCreated)
async def on_shipment_created(ctx: HandlerContext, event: ShipmentCreated) -> None:
    if event.return_id is None:
        await store.record_shipment(ctx.conn, event)
        return
    await desk.pickup_progress(
        ctx.conn,
        ctx.emit,
        return_id=event.return_id,
        status=ShipmentStatus.CREATED,
        awb=event.awb,
        shipment_id=event.shipment_id,
    )


@subscriptions.on(ShipmentUpdated)
async def on_shipment_updated(ctx: HandlerContext, event: ShipmentUpdated) -> None:
    if event.return_id is not None:
        await desk.pickup_progress(
            ctx.conn,
            ctx.emit,
            return_id=event.return_id,
            status=event.status,
            awb=event.awb,
            shipment_id=event.shipment_id,
        )
    elif event.status is ShipmentStatus.DELIVERED:
        await store.record_shipment_delivered(
            ctx.conn,
            shipment_id=event.shipment_id,
            order_id=event.order_id,
            warehouse_code=event.warehouse_code,
            delivered_at=event.occurred_at,
        )
    elif event.status is ShipmentStatus.RTO_DELIVERED:
        await desk.open_rto(
            ctx.conn,
            ctx.emit,
            order_id=event.order_id,
            shipment_id=event.shipment_id,
            warehouse_code=event.warehouse_code,
        )
