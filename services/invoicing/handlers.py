"""Kafka handlers of the invoicing service: keep the order and shipment read model, issue a
shipment's invoice once it is packed, and cancel it if the shipment is cancelled after.

Each runs inside the consumer's transaction; the inbox drops a redelivered event, and a shipment's
invoice state drops a second "packed" (PACKED, then MANIFESTED…) before it takes a number.
"""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts import OrderContactCorrected, OrderPlaced, ShipmentCreated, ShipmentStatus, ShipmentUpdated
from services.invoicing import issuing, store
from services.invoicing.settings import InvoicingSettings

S = ShipmentStatus
NOT_PACKED_YET = frozenset({S.CREATED, S.AWB_ASSIGNED, S.PICKED, S.CANCELLED})
"""A forward parcel in any other status has been packed (couriers may skip straight to PICKED_UP)."""


def register(service: Service, settings: InvoicingSettings) -> None:
    """Subscribe the invoicing handlers."""

    @service.handles(OrderPlaced)
    async def on_placed(ctx: HandlerContext, event: OrderPlaced) -> None:
        await store.record_order(ctx.conn, event)

    @service.handles(OrderContactCorrected)
    async def on_contact_corrected(ctx: HandlerContext, event: OrderContactCorrected) -> None:
        await store.correct_contact(
            ctx.conn, order_id=event.order_id, customer=event.customer, address=event.shipping_address
        )

    @service.handles(ShipmentCreated)
    async def on_shipment_created(ctx: HandlerContext, event: ShipmentCreated) -> None:
        if event.return_id is not None:
            return
        await store.record_shipment(
            ctx.conn,
            shipment_id=event.shipment_id,
            order_id=event.order_id,
            warehouse_code=event.warehouse_code,
            lines=event.lines,
        )
        # Packed before its lines arrived (two topics): issue now that they are here.
        await issuing.issue(
            ctx.conn, ctx.emit, shipment_id=event.shipment_id, now=event.occurred_at, settings=settings
        )

    @service.handles(ShipmentUpdated)
    async def on_shipment_updated(ctx: HandlerContext, event: ShipmentUpdated) -> None:
        if event.return_id is not None:
            return
        if event.status is S.CANCELLED:
            before = await store.void_shipment(
                ctx.conn,
                shipment_id=event.shipment_id,
                order_id=event.order_id,
                warehouse_code=event.warehouse_code,
            )
            if before == "issued":
                cancelled = await store.cancel_invoice(
                    ctx.conn, shipment_id=event.shipment_id, at=event.occurred_at
                )
                if cancelled is not None:
                    await ctx.emit(issuing.issued_event(cancelled, event.warehouse_code))
            return
        if event.status in NOT_PACKED_YET:
            return
        if await store.mark_packed(
            ctx.conn,
            shipment_id=event.shipment_id,
            order_id=event.order_id,
            warehouse_code=event.warehouse_code,
            at=event.occurred_at,
        ):
            await issuing.issue(
                ctx.conn, ctx.emit, shipment_id=event.shipment_id, now=event.occurred_at, settings=settings
            )
