"""Kafka handlers of the orders service: parse, decide in domain, persist in store, emit.

Each runs inside the consumer's transaction, so the change and its events commit together.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts import (
    Channel,
    ChannelOrder,
    Customer,
    FieldProblem,
    InventoryReservationFailed,
    InventoryReserved,
    OrderConfirmed,
    OrderPlaced,
    OrderRejected,
    OrderStatus,
    OrderStatusChanged,
    Payment,
    ShipmentCreated,
)
from contracts.values import Address, OrderLine
from services.orders import domain, store
from services.orders.settings import OrdersSettings


async def change_status(ctx: HandlerContext, row: Any, to_status: OrderStatus, reason: str) -> bool:
    """Move a locked order to a new status if the machine allows it; record and announce it."""
    current = OrderStatus(row["status"])
    if not domain.can_transition(current, to_status):
        ctx.log.info("status change ignored", order_id=row["order_id"], current=current, target=to_status)
        return False
    await store.record_status(
        ctx.conn,
        order_id=row["order_id"],
        from_status=current,
        to_status=to_status,
        reason=reason,
        cause_event_id=ctx.event_id,
    )
    await ctx.emit(
        OrderStatusChanged(
            order_id=row["order_id"],
            channel=Channel(row["channel"]),
            channel_order_id=row["channel_order_id"],
            from_status=current,
            to_status=to_status,
            reason=reason,
            customer=Customer.model_validate_json(row["customer"]),
        )
    )
    return True


async def reject(
    ctx: HandlerContext,
    *,
    channel: str,
    channel_order_id: str,
    received: Any,
    problems: list[FieldProblem],
) -> None:
    """Keep a refused order visible with every reason, and announce it when it is identifiable."""
    order_id = domain.new_order_id()
    problems = domain.dedupe_problems(problems)
    if not await store.insert_rejected(
        ctx.conn,
        order_id=order_id,
        channel=channel,
        channel_order_id=channel_order_id,
        received=received,
        problems=problems,
    ):
        ctx.log.info("duplicate channel order ignored", channel=channel, channel_order_id=channel_order_id)
        return
    reason = "; ".join(f"{p.field}: {p.problem}" for p in problems)
    await store.record_status(
        ctx.conn,
        order_id=order_id,
        from_status=None,
        to_status=OrderStatus.REJECTED,
        reason=reason,
        cause_event_id=ctx.event_id,
    )
    ctx.log.warning("order rejected", order_id=order_id, problems=len(problems))
    if channel in Channel._value2member_map_:
        ids = {
            "order_id": order_id,
            "channel": Channel(channel),
            "channel_order_id": channel_order_id,
        }
        await ctx.emit(OrderRejected(**ids, problems=problems))
        await ctx.emit(
            OrderStatusChanged(**ids, from_status=None, to_status=OrderStatus.REJECTED, reason=reason)
        )


def register(service: Service, settings: OrdersSettings) -> None:
    """Subscribe the orders handlers."""

    async def on_unreadable_channel_order(ctx: HandlerContext, raw: bytes, error: ValidationError) -> None:
        try:
            received: Any = json.loads(raw)
        except ValueError:
            received = {"unparsed": raw.decode("utf-8", "replace")[:10_000]}
        fields = received if isinstance(received, dict) else {}
        channel = str(fields.get("channel") or "unknown")
        channel_order_id = str(fields.get("channel_order_id") or f"unidentified-{ctx.event_id}")
        await reject(
            ctx,
            channel=channel,
            channel_order_id=channel_order_id,
            received=received,
            problems=domain.schema_problems(error),
        )

    @service.handles(ChannelOrder, on_invalid=on_unreadable_channel_order)
    async def on_channel_order(ctx: HandlerContext, order: ChannelOrder) -> None:
        problems = domain.check_order(order, cod_limit_paise=settings.cod_limit_paise)
        if problems:
            await reject(
                ctx,
                channel=order.channel.value,
                channel_order_id=order.channel_order_id,
                received=order.model_dump(mode="json"),
                problems=problems,
            )
            return
        order_id = domain.new_order_id()
        phone = domain.normalise_phone(order.customer.phone)
        customer = order.customer.model_copy(update={"phone": phone})
        if not await store.insert_placed(
            ctx.conn, order_id=order_id, order=order, customer=customer.model_dump()
        ):
            ctx.log.info(
                "duplicate channel order ignored",
                channel=order.channel,
                channel_order_id=order.channel_order_id,
            )
            return
        reason = f"received from {order.channel}"
        await store.record_status(
            ctx.conn,
            order_id=order_id,
            from_status=None,
            to_status=OrderStatus.PLACED,
            reason=reason,
            cause_event_id=ctx.event_id,
        )
        ids = {
            "order_id": order_id,
            "channel": order.channel,
            "channel_order_id": order.channel_order_id,
        }
        await ctx.emit(
            OrderPlaced(
                **ids,
                placed_at=order.placed_at,
                customer=customer,
                shipping_address=order.shipping_address,
                lines=order.lines,
                shipping_fee_paise=order.shipping_fee_paise,
                discount_paise=order.discount_paise,
                total_paise=order.total_paise,
                payment=order.payment,
                delivery_speed=order.delivery_speed,
            )
        )
        await ctx.emit(
            OrderStatusChanged(
                **ids,
                from_status=None,
                to_status=OrderStatus.PLACED,
                reason=reason,
                customer=customer,
            )
        )
        ctx.log.info("order placed", order_id=order_id, channel=order.channel)

    @service.handles(InventoryReserved)
    async def on_reserved(ctx: HandlerContext, event: InventoryReserved) -> None:
        row = await store.lock_order(ctx.conn, event.order_id)
        if row is None or row["status"] != OrderStatus.PLACED:
            ctx.log.info("reservation for an order not waiting for one", order_id=event.order_id)
            return
        await store.set_reservation(
            ctx.conn,
            order_id=event.order_id,
            reservation_id=event.reservation_id,
            allocations=event.allocations,
        )
        payment = Payment.model_validate_json(row["payment"])
        target, reason = domain.status_after_reservation(payment.method, payment.status)
        if not await change_status(ctx, row, target, reason):
            return
        if target is OrderStatus.CONFIRMED:
            await ctx.emit(
                OrderConfirmed(
                    order_id=row["order_id"],
                    channel=Channel(row["channel"]),
                    channel_order_id=row["channel_order_id"],
                    customer=Customer.model_validate_json(row["customer"]),
                    shipping_address=Address.model_validate_json(row["shipping_address"]),
                    lines=[OrderLine.model_validate(x) for x in json.loads(row["lines"])],
                    payment=payment,
                    total_paise=row["total_paise"],
                    delivery_speed=row["delivery_speed"],
                    reservation_id=event.reservation_id,
                    allocations=event.allocations,
                )
            )

    @service.handles(InventoryReservationFailed)
    async def on_reservation_failed(ctx: HandlerContext, event: InventoryReservationFailed) -> None:
        row = await store.lock_order(ctx.conn, event.order_id)
        if row is not None:
            await change_status(ctx, row, OrderStatus.ON_HOLD, f"not reserved: {event.reason}")

    @service.handles(ShipmentCreated)
    async def on_shipment_created(ctx: HandlerContext, event: ShipmentCreated) -> None:
        if event.awb:
            await store.add_awb(ctx.conn, order_id=event.order_id, awb=event.awb)
