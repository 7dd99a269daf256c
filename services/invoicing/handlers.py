"""Kafka handlers of the invoicing service: keep the order and shipment read model, issue a
shipment's invoice once it is packed, cancel it if the shipment is cancelled after, and credit it
when the parcel comes back undelivered (RTO) or a return of it is refunded.

Each runs inside the consumer's transaction; the inbox drops a redelivered event, a shipment's
invoice state drops a second "packed" (PACKED, then MANIFESTED…) before it takes a number, and a
credit request is stored once per RTO parcel or return.
"""

from __future__ import annotations

from chassis.consumer import HandlerContext
from chassis.handlers import Handlers
from contracts import (
    OrderContactCorrected,
    OrderPlaced,
    ReturnRefunded,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
)
from contracts.values import SkuQuantity
from services.invoicing import crediting, issuing, store
from services.invoicing.settings import InvoicingSettings

S = ShipmentStatus
NOT_PACKED_YET = frozenset({S.CREATED, S.AWB_ASSIGNED, S.PICKED, S.CANCELLED})
"""A forward parcel in any other status has been packed (couriers may skip straight to PICKED_UP)."""


subscriptions: Handlers[InvoicingSettings] = Handlers()


@subscriptions.on(OrderPlaced)
async def on_placed(ctx: HandlerContext, event: OrderPlaced) -> None:
    await store.record_order(ctx.conn, event)


@subscriptions.on(OrderContactCorrected)
async def on_contact_corrected(ctx: HandlerContext, event: OrderContactCorrected) -> None:
    await store.correct_contact(
        ctx.conn, order_id=event.order_id, customer=event.customer, address=event.shipping_address
    )


@subscriptions.on(ShipmentCreated)
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
        ctx.conn,
        ctx.emit,
        shipment_id=event.shipment_id,
        now=event.occurred_at,
        settings=subscriptions.deps(ctx),
    )


@subscriptions.on(ShipmentUpdated)
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
                await store.cancel_einvoice(ctx.conn, invoice_id=cancelled.invoice_id)
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
            ctx.conn,
            ctx.emit,
            shipment_id=event.shipment_id,
            now=event.occurred_at,
            settings=subscriptions.deps(ctx),
        )
    if event.status is S.RTO_DELIVERED:
        source = f"rto:{event.shipment_id}"
        if await store.request_credit(
            ctx.conn,
            source=source,
            reason="rto",
            order_id=event.order_id,
            shipment_id=event.shipment_id,
            requested_at=event.occurred_at,
        ):
            await crediting.credit(ctx.conn, ctx.emit, source=source, now=event.occurred_at)


@subscriptions.on(ReturnRefunded)
async def on_refunded(ctx: HandlerContext, event: ReturnRefunded) -> None:
    # An RTO's refund is credited by the parcel's RTO_DELIVERED (whether or not money went back).
    if event.kind == "rto":
        return
    source = f"return:{event.return_id}"
    fee = event.shipping_fee_paise or 0
    if await store.request_credit(
        ctx.conn,
        source=source,
        reason="return",
        order_id=event.order_id,
        return_id=event.return_id,
        lines=[SkuQuantity(sku=x.sku, quantity=x.quantity) for x in event.lines],
        items_paise=max(event.amount_paise - fee, 0),
        shipping_fee_paise=fee,
        requested_at=event.occurred_at,
    ):
        await crediting.credit(ctx.conn, ctx.emit, source=source, now=event.occurred_at)
