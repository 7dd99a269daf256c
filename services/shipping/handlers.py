"""Kafka handlers of the shipping service: book confirmed orders, stop cancelled ones, act on NDR
replies, schedule reverse pickups. Each runs inside the consumer's transaction, so the shipment rows
and their events commit together.
"""

from __future__ import annotations

from dataclasses import dataclass

from chassis.consumer import HandlerContext
from chassis.handlers import Handlers
from chassis.refusal import Refusal
from contracts import (
    CustomerReplied,
    OrderCancelled,
    OrderConfirmed,
    OrderContactCorrected,
    ReplyChoice,
    ReturnRequested,
    ReturnStatus,
    ShipmentCreated,
    ShipmentStatus,
    SkuQuantity,
)
from services.shipping import booking, corrections, domain, store, updates
from services.shipping.couriers.interface import (
    Consignee,
    CourierAdapter,
    CourierError,
    NdrAction,
    NdrActionKind,
)
from services.shipping.settings import ShippingSettings


@dataclass(frozen=True, slots=True)
class Deps:
    """What shipping's handlers book and cancel with."""

    settings: ShippingSettings
    adapters: dict[str, CourierAdapter]


REPLY_ACTIONS = {
    ReplyChoice.NDR_REATTEMPT: NdrActionKind.REATTEMPT,
    ReplyChoice.NDR_NEW_ADDRESS: NdrActionKind.NEW_ADDRESS,
    ReplyChoice.NDR_NEW_PHONE: NdrActionKind.NEW_PHONE,
    ReplyChoice.NDR_RTO: NdrActionKind.RTO,
    ReplyChoice.NDR_CANCEL: NdrActionKind.RTO,
}
CANCELLABLE = frozenset(
    {
        ShipmentStatus.CREATED,
        ShipmentStatus.AWB_ASSIGNED,
        ShipmentStatus.PICKED,
        ShipmentStatus.PACKED,
        ShipmentStatus.MANIFESTED,
    }
)


subscriptions: Handlers[Deps] = Handlers()


@subscriptions.on(OrderConfirmed)
async def on_order_confirmed(ctx: HandlerContext, order: OrderConfirmed) -> None:
    deps = subscriptions.deps(ctx)
    await store.lock_order(ctx.conn, order.order_id)
    news = await store.early_news(ctx.conn, order.order_id)
    if news is not None and news.cancelled_at is not None:
        ctx.log.info("cancelled before its confirmation arrived; nothing booked", order_id=order.order_id)
        return
    if news is not None and news.consignee is not None:
        order = corrections.corrected_order(order, news.consignee)
    marketplace = domain.marketplace_carrier(order)
    for plan in domain.plan_shipments(order):
        shipment_id = domain.shipment_id_for(order.order_id, plan.warehouse_code)
        if not await store.insert_shipment(
            ctx.conn,
            shipment_id=shipment_id,
            order_id=order.order_id,
            plan=plan,
            cause_event_id=ctx.event_id,
            dispatch_by=order.promised_dispatch_by,
            marketplace=marketplace,
        ):
            ctx.log.info(
                "shipment already exists", order_id=order.order_id, warehouse_code=plan.warehouse_code
            )
            continue
        if marketplace is not None:
            # Booking one of our couriers too would send two couriers for one parcel; the
            # marketplace's AWB arrives through channels (ADR 330).
            ctx.log.info(
                "marketplace carries this shipment; no courier of ours booked",
                order_id=order.order_id,
                shipment_id=shipment_id,
                marketplace=marketplace,
            )
            await ctx.emit(
                ShipmentCreated(
                    order_id=order.order_id,
                    shipment_id=shipment_id,
                    warehouse_code=plan.warehouse_code,
                    courier=marketplace,
                    status=ShipmentStatus.CREATED,
                    lines=list(plan.lines),
                    cod_amount_paise=plan.cod_amount_paise,
                )
            )
            continue
        # The courier calls happen inside the transaction: a crash before commit redelivers
        # the event, and the same reference makes each courier answer with the same AWB.
        outcome = await booking.book(
            ctx.conn,
            order=order,
            plan=plan,
            shipment_id=shipment_id,
            settings=deps.settings,
            adapters=deps.adapters,
        )
        ctx.log.info(
            "shipment booked" if outcome.booking else "shipment not booked",
            order_id=order.order_id,
            shipment_id=shipment_id,
            courier=outcome.courier,
            awb=outcome.booking.awb if outcome.booking else None,
            error=outcome.error,
        )
        await ctx.emit(
            ShipmentCreated(
                order_id=order.order_id,
                shipment_id=shipment_id,
                warehouse_code=plan.warehouse_code,
                courier=outcome.courier,
                awb=outcome.booking.awb if outcome.booking else None,
                status=ShipmentStatus.AWB_ASSIGNED if outcome.booking else ShipmentStatus.CREATED,
                lines=list(plan.lines),
                cod_amount_paise=plan.cod_amount_paise,
                label_url=f"/shipments/{shipment_id}/label.pdf" if outcome.booking else None,
            )
        )


@subscriptions.on(OrderCancelled)
async def on_order_cancelled(ctx: HandlerContext, event: OrderCancelled) -> None:
    deps = subscriptions.deps(ctx)
    await store.lock_order(ctx.conn, event.order_id)
    rows = await store.lock_for_order(ctx.conn, event.order_id)
    if not any(row.return_id is None for row in rows):
        await store.remember_cancelled(ctx.conn, event.order_id, event.occurred_at)
    for row in rows:
        status = row.status
        if status not in CANCELLABLE:
            ctx.log.info(
                "shipment already on its way, not cancelled",
                shipment_id=row.shipment_id,
                status=status.value,
            )
            continue
        if row.awb and row.courier in deps.adapters:
            try:
                await deps.adapters[row.courier].cancel(row.awb)
            except CourierError as exc:
                ctx.log.warning("courier would not cancel", shipment_id=row.shipment_id, error=str(exc))
        await store.set_status(ctx.conn, row.shipment_id, ShipmentStatus.CANCELLED)
        await ctx.emit(updates.updated_event(row, ShipmentStatus.CANCELLED))


@subscriptions.on(CustomerReplied)
async def on_customer_replied(ctx: HandlerContext, reply: CustomerReplied) -> None:
    kind = REPLY_ACTIONS.get(reply.choice)
    if kind is None:
        return  # COD confirmations are the orders service's
    if not reply.shipment_id:
        ctx.log.warning("ndr reply without shipment_id", order_id=reply.order_id, choice=reply.choice.value)
        return
    action = NdrAction(
        kind=kind,
        reattempt_on=reply.reattempt_on,
        new_address=reply.new_address,
        new_phone=reply.new_phone,
        remark=f"customer replied {reply.choice.value} on {reply.channel.value}",
    )
    try:
        attempt = await updates.queue_ndr_action(
            ctx.conn, shipment_id=reply.shipment_id, action=action, actor="customer"
        )
    except Refusal as exc:
        ctx.log.info("ndr reply not applied", shipment_id=reply.shipment_id, problem=exc.problem)
        return
    ctx.log.info("ndr reply queued", shipment_id=reply.shipment_id, attempt=attempt, action=kind.value)


@subscriptions.on(ReturnRequested)
async def on_return_requested(ctx: HandlerContext, event: ReturnRequested) -> None:
    deps = subscriptions.deps(ctx)
    if event.status is ReturnStatus.REJECTED:
        return
    if not event.warehouse_code:
        ctx.log.warning("return without a warehouse: no pickup booked", return_id=event.return_id)
        return
    consignee = await store.forward_consignee(ctx.conn, event.order_id)
    if event.pickup_address is not None:
        consignee = Consignee(
            name=event.customer.name if event.customer else consignee.name if consignee else "Customer",
            phone=event.customer.phone if event.customer else consignee.phone if consignee else "",
            address=event.pickup_address,
        )
    if consignee is None:
        ctx.log.warning("return without a pickup address or a delivered parcel", return_id=event.return_id)
        return
    shipment_id = domain.reverse_pickup_id(event.return_id)
    lines = [(line.sku, line.quantity) for line in event.lines]
    if not await store.insert_reverse_pickup(
        ctx.conn,
        shipment_id=shipment_id,
        order_id=event.order_id,
        return_id=event.return_id,
        warehouse_code=event.warehouse_code,
        lines=[{"sku": sku, "quantity": qty} for sku, qty in lines],
        cause_event_id=ctx.event_id,
    ):
        ctx.log.info("reverse pickup already booked", return_id=event.return_id)
        return
    outcome = await booking.book_reverse(
        ctx.conn,
        shipment_id=shipment_id,
        warehouse_code=event.warehouse_code,
        consignee=consignee,
        lines=lines,
        settings=deps.settings,
        adapters=deps.adapters,
    )
    ctx.log.info(
        "reverse pickup booked" if outcome.booking else "reverse pickup not booked",
        return_id=event.return_id,
        shipment_id=shipment_id,
        courier=outcome.courier,
        error=outcome.error,
    )
    await ctx.emit(
        ShipmentCreated(
            order_id=event.order_id,
            shipment_id=shipment_id,
            warehouse_code=event.warehouse_code,
            courier=outcome.courier,
            awb=outcome.booking.awb if outcome.booking else None,
            status=ShipmentStatus.AWB_ASSIGNED if outcome.booking else ShipmentStatus.CREATED,
            lines=[SkuQuantity(sku=sku, quantity=qty) for sku, qty in lines],
            return_id=event.return_id,
        )
    )


@subscriptions.on(OrderContactCorrected)
async def on_contact_corrected(ctx: HandlerContext, event: OrderContactCorrected) -> None:
    deps = subscriptions.deps(ctx)
    done = await corrections.apply(
        ctx.conn, event, emit=ctx.emit, settings=deps.settings, adapters=deps.adapters
    )
    ctx.log.info("contact correction applied", order_id=event.order_id, shipments=[f.value for f in done])
