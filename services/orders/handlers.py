"""Kafka handlers of the orders service: parse, lock the order, let lifecycle decide and record.

Each runs inside the consumer's transaction, so the change and its events commit together.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from chassis import text
from chassis.consumer import HandlerContext
from chassis.handlers import Handlers
from chassis.refusal import Refusal
from contracts import (
    ChannelOrder,
    CustomerReplied,
    InventoryReservationFailed,
    InventoryReserved,
    ReplyChoice,
    ShipmentCreated,
    ShipmentUpdated,
    WarehouseChanged,
)
from contracts.returns import ReturnExchangeRequested, ReturnRefunded, ReturnRequested, ReturnUpdated
from services.orders import actions, domain, fulfilment, intake, lifecycle, payments, store
from services.orders.intake import Placed
from services.orders.lifecycle import Step
from services.orders.records import Order
from services.orders.settings import OrdersSettings

subscriptions: Handlers[OrdersSettings] = Handlers()


def step(ctx: HandlerContext) -> Step:
    """The unit of work of this event, under the settings the service included us with."""
    return Step.of_event(ctx, subscriptions.deps(ctx))


async def order_row(ctx: HandlerContext, order_id: str) -> Order | None:
    """The order an event is about, locked for this transaction; None (logged) if unknown."""
    row = await store.lock_order(ctx.conn, order_id)
    if row is None:
        ctx.log.warning("event about an order we do not know", order_id=order_id)
    return row


async def on_unreadable_channel_order(ctx: HandlerContext, raw: bytes, error: ValidationError) -> None:
    try:
        received: Any = text.parsed(raw)
    except text.MalformedJson:
        received = {"unparsed": raw.decode("utf-8", "replace")[:10_000]}
    fields = received if isinstance(received, dict) else {}
    await intake.reject(
        step(ctx),
        channel=str(fields.get("channel") or "unknown"),
        channel_order_id=str(fields.get("channel_order_id") or f"unidentified-{ctx.event_id}"),
        received=received,
        problems=domain.all_problems(error, fields),
    )


async def take_in(ctx: HandlerContext, order: ChannelOrder) -> None:
    outcome = await intake.place(step(ctx), order)
    if isinstance(outcome, Placed):
        ctx.log.info(
            "order placed" if outcome.created else "duplicate channel order ignored",
            order_id=outcome.order_id,
        )
        return
    order_id = await intake.reject(
        step(ctx),
        channel=order.channel.value,
        channel_order_id=order.channel_order_id,
        received=order.model_dump(mode="json"),
        problems=outcome,
    )
    ctx.log.warning("order rejected", order_id=order_id, problems=len(outcome))


@subscriptions.on(ChannelOrder, on_invalid=on_unreadable_channel_order)
async def on_channel_order(ctx: HandlerContext, order: ChannelOrder) -> None:
    await take_in(ctx, order)


@subscriptions.on(ReturnExchangeRequested)
async def on_exchange_requested(ctx: HandlerContext, event: ReturnExchangeRequested) -> None:
    """Returns settled a return with replacements: place the replacement order. Once per return:
    the return id is its channel order id, so a repeated request finds it placed (ADR 0231)."""
    await take_in(ctx, domain.exchange_order(event))


@subscriptions.on(InventoryReserved)
async def on_reserved(ctx: HandlerContext, event: InventoryReserved) -> None:
    if (row := await order_row(ctx, event.order_id)) is not None:
        await actions.reserved(
            step(ctx), row, reservation_id=event.reservation_id, allocations=event.allocations
        )


@subscriptions.on(InventoryReservationFailed)
async def on_reservation_failed(ctx: HandlerContext, event: InventoryReservationFailed) -> None:
    # Only the failure that ends routing's re-planning counts (absent `final` means final).
    if not getattr(event, "final", True):
        return
    if (row := await order_row(ctx, event.order_id)) is not None:
        await actions.unroutable(step(ctx), row, event.reason, no_courier=event.no_courier)


@subscriptions.on(CustomerReplied)
async def on_customer_replied(ctx: HandlerContext, event: CustomerReplied) -> None:
    if event.choice not in (ReplyChoice.COD_CONFIRM, ReplyChoice.COD_CANCEL):
        return
    if (row := await order_row(ctx, event.order_id)) is None:
        return
    try:
        if event.choice is ReplyChoice.COD_CONFIRM:
            await payments.cod_confirmed(step(ctx), row, by_hand=False)
        else:
            await payments.cod_declined(step(ctx), row, by_hand=False)
    except Refusal as refused:
        # A late or repeated button press: keep it on the timeline, change nothing.
        await lifecycle.note(step(ctx), row, f"customer replied {event.choice}: {refused.problem}")


@subscriptions.on(ShipmentCreated)
async def on_shipment_created(ctx: HandlerContext, event: ShipmentCreated) -> None:
    if (row := await order_row(ctx, event.order_id)) is not None:
        await fulfilment.shipment_changed(step(ctx), row, event)


@subscriptions.on(ShipmentUpdated)
async def on_shipment_updated(ctx: HandlerContext, event: ShipmentUpdated) -> None:
    if (row := await order_row(ctx, event.order_id)) is not None:
        await fulfilment.shipment_changed(step(ctx), row, event)


@subscriptions.on(WarehouseChanged)
async def on_warehouse_changed(ctx: HandlerContext, event: WarehouseChanged) -> None:
    """Routing changed a warehouse: its cut-off is where the next dispatch-by starts (ADR 0361)."""
    await store.save_cutoff(
        ctx.conn,
        warehouse_code=event.warehouse_code,
        cutoff=event.cutoff_time,
        changed_at=event.changed_at,
    )
    lifecycle.forget_cutoffs(ctx.shared)


@subscriptions.on(ReturnRequested)
async def on_return_requested(ctx: HandlerContext, event: ReturnRequested) -> None:
    if (row := await order_row(ctx, event.order_id)) is not None:
        await fulfilment.return_requested(step(ctx), row, event)


@subscriptions.on(ReturnUpdated)
async def on_return_updated(ctx: HandlerContext, event: ReturnUpdated) -> None:
    if (row := await order_row(ctx, event.order_id)) is not None:
        await fulfilment.return_updated(step(ctx), row, event)


@subscriptions.on(ReturnRefunded)
async def on_return_refunded(ctx: HandlerContext, event: ReturnRefunded) -> None:
    if (row := await order_row(ctx, event.order_id)) is not None:
        await fulfilment.return_refunded(step(ctx), row, event)
