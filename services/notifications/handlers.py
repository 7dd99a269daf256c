"""Kafka handlers of the notifications service: apply the policy and queue what it says to send.

Each runs inside the consumer's transaction, so a message row commits with the inbox entry of the
event that caused it: a redelivered event finds its message ids taken and queues nothing. Sending
is the dispatcher's job, outside any consumer transaction.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from chassis.consumer import HandlerContext
from chassis.handlers import Handlers
from contracts import (
    LowStock,
    OrderContactCorrected,
    OrderStatusChanged,
    ReturnRefunded,
    ReturnRequested,
    ReturnUpdated,
    ShipmentCreated,
    ShipmentStatus,
    ShipmentUpdated,
)
from services.notifications import store
from services.notifications.domain import policy
from services.notifications.domain.delivery import send_at
from services.notifications.domain.policy import PlannedMessage
from services.notifications.settings import NotificationsSettings

subscriptions: Handlers[NotificationsSettings] = Handlers()

DUE_NOW = "notifications.due_now"
"""Set in a consumer transaction's shared state when it queued a message to send at once: once it
commits, the dispatcher is nudged instead of finding the message at its next round."""


async def queue(ctx: HandlerContext, message: PlannedMessage, *, contact: policy.Facts | None = None) -> None:
    """Queue a message (saving ``contact`` in the same statement)."""
    suppressed = None
    if not message.transactional and await store.is_opted_out(ctx.conn, message.recipient):
        suppressed = "customer opted out"
    now = datetime.now(UTC)
    due = send_at(now, urgent=message.urgent, quiet=subscriptions.deps(ctx).quiet)
    queued = await store.queue(
        ctx.conn,
        message=message,
        cause_event_id=ctx.event_id,
        send_at=due,
        suppressed=suppressed,
        contact=contact,
    )
    if queued and suppressed is None and due <= now:
        ctx.shared[DUE_NOW] = True
    ctx.log.info(
        "message queued" if queued else "message already planned",
        order_id=message.order_id,
        template=message.template,
        channel=message.channel,
        suppressed=suppressed,
    )


@subscriptions.on(OrderStatusChanged)
async def on_status_changed(ctx: HandlerContext, event: OrderStatusChanged) -> None:
    facts = policy.facts_from(event)
    message = policy.message_for(event)
    if message is not None:
        await queue(ctx, message, contact=facts)
    elif facts is not None:
        await store.save_contact(ctx.conn, facts)


@subscriptions.on(OrderContactCorrected)
async def on_contact_corrected(ctx: HandlerContext, event: OrderContactCorrected) -> None:
    """An operator corrected the phone: the shipped, NDR and return messages go to the new one."""
    facts = policy.facts_from(event)
    if facts is not None:
        await store.save_contact(ctx.conn, facts)


async def booked(ctx: HandlerContext, event: ShipmentCreated | ShipmentUpdated) -> None:
    """A rehearsal's parcel got its AWB: the operator sees the shipped message now (ADR 0360)."""
    if event.status is not ShipmentStatus.AWB_ASSIGNED or not event.awb or event.return_id is not None:
        return
    facts = await store.contact(ctx.conn, event.order_id)
    if facts is None:
        return
    message = policy.rehearsal_booked_message(facts, shipment_id=event.shipment_id, awb=event.awb)
    if message is not None:
        await queue(ctx, message)


@subscriptions.on(ShipmentCreated)
async def on_shipment_created(ctx: HandlerContext, event: ShipmentCreated) -> None:
    await booked(ctx, event)


@subscriptions.on(ShipmentUpdated)
async def on_shipment_updated(ctx: HandlerContext, event: ShipmentUpdated) -> None:
    await booked(ctx, event)
    kind = policy.SHIPMENT_ALERTS.get(event.status)
    if kind is not None and event.return_id is None:
        await queue(
            ctx,
            policy.alert(
                kind,
                key=f"{event.shipment_id}:{event.status.value}:{event.attempt or 1}",
                order_id=event.order_id,
                shipment_id=event.shipment_id,
                awb=event.awb or "-",
                attempt=event.attempt or 1,
                ndr_reason=(event.ndr_reason or "unknown").replace("_", " "),
            ),
        )
    if event.status is not ShipmentStatus.NDR or event.return_id is not None:
        return
    facts = await store.contact(ctx.conn, event.order_id)
    if facts is None:
        ctx.log.warning("no customer known for an NDR", order_id=event.order_id)
        return
    facts = replace(facts, shipment_id=event.shipment_id, awb=event.awb)
    await queue(ctx, policy.ndr_message(facts, attempt=event.attempt, reason=event.ndr_reason))


@subscriptions.on(ReturnRequested, ReturnUpdated)
async def on_return(ctx: HandlerContext, event: ReturnRequested | ReturnUpdated) -> None:
    if isinstance(event, ReturnUpdated) and (overdue := policy.return_alert(event)) is not None:
        await queue(ctx, overdue)
    facts = await store.contact(ctx.conn, event.order_id)
    if facts is None and isinstance(event, ReturnRequested) and event.customer is not None:
        facts = policy.Facts(
            order_id=event.order_id,
            customer_name=event.customer.name,
            phone=event.customer.phone,
            language=event.customer.language,
        )
        await store.save_contact(ctx.conn, facts)  # the refund message needs it later
    if facts is None:
        return
    message = policy.return_message(replace(facts, return_id=event.return_id), event.status)
    if message is not None:
        await queue(ctx, message)


@subscriptions.on(ReturnRefunded)
async def on_refunded(ctx: HandlerContext, event: ReturnRefunded) -> None:
    facts = await store.contact(ctx.conn, event.order_id)
    if facts is None:
        return
    facts = replace(facts, return_id=event.return_id)
    await queue(ctx, policy.refund_message(facts, refund_id=event.refund_id, amount_paise=event.amount_paise))


@subscriptions.on(LowStock)
async def on_low_stock(ctx: HandlerContext, event: LowStock) -> None:
    await queue(
        ctx,
        policy.alert(
            "low_stock",
            key=f"{event.sku}:{event.warehouse_code}:{ctx.event_id}",
            sku=event.sku,
            warehouse_code=event.warehouse_code,
            available=event.available,
            reorder_point=event.reorder_point,
        ),
    )
